//! Webhooks end to end: subscriptions through the API, deliveries made by the worker's passes to
//! a real HTTP receiver on 127.0.0.1, signatures checked with the Standard Webhooks library.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::Utc;
use redflag_service::webhooks::Dispatcher;
use serde_json::{Value, json};

use crate::helpers::{TestApp, structuring_run_by};

/// One request the receiver took.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    id: String,
    signature: String,
    headers: http::HeaderMap,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Verifies the message with `secret` as a receiver would (the timestamp included).
    fn verifies_with(&self, secret: &str) -> bool {
        standardwebhooks::Webhook::new(secret)
            .expect("a whsec_ secret")
            .verify(self.body.as_bytes(), &self.headers)
            .is_ok()
    }
}

/// A webhook receiver on 127.0.0.1: records every request and answers the scripted statuses in
/// turn (200 once the script is used up); a scripted 302 redirects to `/followed`, and a scripted
/// [`SLOW`] answers 200 after three seconds.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start() -> (Self, String) {
        let receiver = Self::default();
        let state = receiver.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .default_service(web::to(take))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("binds");
        let address = server.addrs()[0];
        actix_web::rt::spawn(server.run());
        (receiver, format!("http://{address}/hook"))
    }

    fn answer_next(&self, statuses: &[u16]) {
        self.script
            .lock()
            .expect("not poisoned")
            .extend(statuses.iter().copied());
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }
}

async fn take(receiver: web::Data<Receiver>, request: HttpRequest, body: String) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut headers = http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(name, header(name).parse().expect("a header value"));
    }
    receiver
        .received
        .lock()
        .expect("not poisoned")
        .push(Received {
            path: request.path().to_owned(),
            id: header("webhook-id"),
            signature: header("webhook-signature"),
            headers,
            body,
        });
    let status = receiver
        .script
        .lock()
        .expect("not poisoned")
        .pop_front()
        .unwrap_or(200);
    if status == SLOW {
        actix_web::rt::time::sleep(Duration::from_secs(3)).await;
        return HttpResponse::Ok().finish();
    }
    let mut response = HttpResponse::build(StatusCode::from_u16(status).expect("a status"));
    if status == 302 {
        response.insert_header(("Location", "/followed"));
    }
    response.finish()
}

/// In a receiver's script: answer 200, three seconds late.
const SLOW: u16 = 0;

fn allow_loopback(test_app_settings: &mut redflag_service::settings::Settings) {
    test_app_settings.webhooks.allow_private_addresses = true;
}

/// The worker's passes until nothing is left to send now (the outbox applied first, as the
/// embedded worker does on PostgreSQL).
async fn deliver(test_app: &TestApp) {
    deliver_at(test_app, Utc::now()).await;
}

async fn deliver_at(test_app: &TestApp, now: chrono::DateTime<Utc>) {
    test_app.embedded_worker_pass();
    let dispatcher = Dispatcher::new(test_app.state.db.clone(), &test_app.state.settings.webhooks)
        .expect("a client");
    for _ in 0..20 {
        let pass = dispatcher.pass_at(now).await.expect("the store answers");
        if pass.fanned_out == 0 && pass.attempted == 0 {
            return;
        }
    }
    panic!("deliveries kept coming");
}

#[actix_web::test]
async fn flagged_decisions_and_case_changes_reach_the_endpoint_signed_once_each() {
    let test_app = TestApp::spawn_with(allow_loopback);
    let (receiver, url) = Receiver::start().await;
    let admin = test_app.login_as_admin().await;
    let created = admin
        .post(
            "/api/webhooks/",
            &json!({"url": url, "event_types": ["decision.flagged", "case.opened", "case.closed"],
                    "description": "case system"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let subscription = created.json();
    let secret = subscription["secret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(subscription["active"], true);
    assert_eq!(subscription["created_by"], "admin");

    let analyst = test_app.login_as_analyst().await;
    let answers = structuring_run_by(&analyst.app, &analyst.token, "WH-", "WH").await;
    assert_eq!(answers[0]["flagged"], false);
    assert_eq!(answers[2]["flagged"], true, "{}", answers[2]);
    let queue = analyst.get("/api/alerts/?module=aml").await.json();
    let alert_id = queue["results"][0]["id"].clone();
    let case = analyst
        .post(
            "/api/cases/",
            &json!({"alert_ids": [alert_id], "title": "Smurfing"}),
        )
        .await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.text);
    let case_id = case.json()["id"].as_i64().expect("an id");
    let closed = analyst
        .send_json(
            actix_web::http::Method::PATCH,
            &format!("/api/cases/{case_id}/"),
            &json!({"status": "closed", "resolution": "confirmed_fraud"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);

    deliver(&test_app).await;
    // One pass sends its deliveries at once: they may arrive in any order. Put in the log's.
    let order = ["decision.flagged", "case.opened", "case.closed"];
    let mut received = receiver.received();
    received.sort_by_key(|r| order.iter().position(|t| r.json()["type"] == *t));
    let types: Vec<Value> = received.iter().map(|r| r.json()["type"].clone()).collect();
    // Only the flagged transfer, the opening and the closing: not the unflagged transfers, nor
    // the resolution's own `case.updated` (not subscribed).
    assert_eq!(types, order.map(Value::from));
    for message in &received {
        assert!(message.verifies_with(&secret), "{message:?}");
        assert!(message.id.starts_with("msg_"), "{}", message.id);
        assert!(!message.verifies_with("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"));
    }
    let flagged = received[0].json();
    assert_eq!(flagged["data"]["module"], "aml");
    assert_eq!(flagged["data"]["decision"], answers[2]);
    assert!(flagged["timestamp"].as_str().is_some());
    let closing = received[2].json();
    assert_eq!(closing["data"]["case_id"], case_id);
    assert_eq!(closing["data"]["actor"], "analyst");
    assert_eq!(closing["data"]["case"]["status"], "closed");
    assert_eq!(closing["data"]["case"]["resolution"], "confirmed_fraud");

    // Nothing is sent twice, however often the workers pass.
    deliver(&test_app).await;
    assert_eq!(receiver.received().len(), 3);
    let id = subscription["id"].as_i64().expect("an id");
    let log = admin.get(&format!("/api/webhooks/{id}/deliveries/")).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let log = log.json();
    assert_eq!(log["count"], 3);
    let newest = &log["results"][0];
    assert_eq!(newest["event_type"], "case.closed");
    assert_eq!(newest["status"], "delivered");
    assert_eq!(newest["attempts"], 1);
    assert_eq!(newest["last_status_code"], 200);
    assert_eq!(newest["message_id"], json!(received[2].id));
    assert_eq!(newest["payload"], received[2].json());
}

#[actix_web::test]
async fn a_failed_delivery_is_retried_with_the_same_id_and_a_dead_worker_loses_nothing() {
    let test_app = TestApp::spawn_with(allow_loopback);
    let (receiver, url) = Receiver::start().await;
    let admin = test_app.login_as_admin().await;
    let created = admin
        .post(
            "/api/webhooks/",
            &json!({"url": url, "event_types": ["decision.flagged"]}),
        )
        .await
        .json();
    let (id, secret) = (
        created["id"].as_i64().expect("an id"),
        created["secret"].clone(),
    );
    receiver.answer_next(&[500, 503]);
    let analyst = test_app.login_as_analyst().await;
    structuring_run_by(&analyst.app, &analyst.token, "RETRY-", "RETRY").await;

    deliver(&test_app).await;
    let log = admin
        .get(&format!("/api/webhooks/{id}/deliveries/"))
        .await
        .json();
    let delivery = &log["results"][0];
    assert_eq!(delivery["status"], "pending");
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["last_status_code"], 500);
    assert_eq!(delivery["last_error"], "the endpoint answered 500");
    assert!(delivery["next_attempt_at"].is_string());
    // Not due yet: the back-off holds it for about five seconds.
    deliver(&test_app).await;
    assert_eq!(receiver.received().len(), 1);

    // A minute later it is due: 503, then, two minutes on, delivered; one id throughout.
    deliver_at(&test_app, Utc::now() + Duration::from_secs(60)).await;
    deliver_at(&test_app, Utc::now() + Duration::from_secs(300)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|message| message.id == received[0].id));
    assert!(
        received
            .iter()
            .all(|message| message.body == received[0].body)
    );
    assert!(received[2].verifies_with(secret.as_str().expect("a secret")));
    let delivery = admin
        .get(&format!("/api/webhooks/{id}/deliveries/"))
        .await
        .json()["results"][0]
        .clone();
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"], 3);

    // A worker that claims a delivery and dies before recording it: the delivery is due again
    // once the claim's lease has run out, and goes out under the same id.
    structuring_run_by(&analyst.app, &analyst.token, "DEAD-", "DEAD").await;
    test_app.embedded_worker_pass();
    let db = &test_app.state.db;
    db.fan_out_webhooks(100, Utc::now()).expect("fans out");
    let now = Utc::now();
    let claimed = db
        .claim_webhook_deliveries(10, now, now + Duration::from_secs(45))
        .expect("claims");
    assert_eq!(claimed.len(), 1);
    let lost_id = claimed[0].0.message_id.clone();
    drop(claimed);
    deliver(&test_app).await;
    assert_eq!(
        receiver.received().len(),
        3,
        "held by the dead worker's lease"
    );
    deliver_at(&test_app, now + Duration::from_secs(46)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 4);
    assert_eq!(received[3].id, lost_id);

    // An admin resends a delivered message: same id, same body.
    let delivery_id = admin
        .get(&format!("/api/webhooks/{id}/deliveries/"))
        .await
        .json()["results"][1]["id"]
        .clone();
    let resent = admin
        .post(
            &format!("/api/webhooks/{id}/deliveries/{delivery_id}/resend/"),
            &json!({}),
        )
        .await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.text);
    assert_eq!(resent.json()["status"], "pending");
    deliver(&test_app).await;
    let received = receiver.received();
    assert_eq!(received.len(), 5);
    assert_eq!(received[4].id, received[0].id);
    assert_eq!(received[4].body, received[0].body);
}

#[actix_web::test]
async fn a_redirect_is_not_followed_and_a_slow_endpoint_times_out() {
    let test_app = TestApp::spawn_with(|settings| {
        allow_loopback(settings);
        settings.webhooks.timeout_seconds = 1;
    });
    let (receiver, url) = Receiver::start().await;
    let admin = test_app.login_as_admin().await;
    let id = admin
        .post(
            "/api/webhooks/",
            &json!({"url": url, "event_types": ["decision.flagged"]}),
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("an id");
    receiver.answer_next(&[302, SLOW]);
    let analyst = test_app.login_as_analyst().await;
    structuring_run_by(&analyst.app, &analyst.token, "REDIR-", "REDIR").await;
    let delivery = || async {
        admin
            .get(&format!("/api/webhooks/{id}/deliveries/"))
            .await
            .json()["results"][0]
            .clone()
    };

    // A redirect is an answer that is not 2xx: retried later, never followed.
    deliver(&test_app).await;
    let attempt = delivery().await;
    assert_eq!(attempt["status"], "pending");
    assert_eq!(attempt["last_status_code"], 302);
    assert_eq!(attempt["last_error"], "the endpoint answered 302");
    let paths: Vec<String> = receiver.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/hook"]);

    // An endpoint slower than webhooks.timeout_seconds: the attempt is given up and retried
    // (one pass, when the retry is due).
    let dispatcher = Dispatcher::new(test_app.state.db.clone(), &test_app.state.settings.webhooks)
        .expect("a client");
    let pass = dispatcher
        .pass_at(Utc::now() + Duration::from_secs(60))
        .await
        .expect("the store answers");
    assert_eq!(pass.attempted, 1);
    let attempt = delivery().await;
    assert_eq!(attempt["status"], "pending");
    assert_eq!(attempt["attempts"], 2);
    assert_eq!(attempt["last_status_code"], Value::Null);
    assert!(
        attempt["last_error"]
            .as_str()
            .is_some_and(|error| error.starts_with("timed out")),
        "{attempt}"
    );
    deliver_at(&test_app, Utc::now() + Duration::from_secs(600)).await;
    let attempt = delivery().await;
    assert_eq!(attempt["status"], "delivered", "{attempt}");
    assert_eq!(attempt["attempts"], 3);
    assert!(
        receiver
            .received()
            .iter()
            .all(|message| message.path == "/hook")
    );
}

#[actix_web::test]
async fn gone_disables_the_subscription_and_a_rotation_signs_with_both_secrets() {
    let test_app = TestApp::spawn_with(allow_loopback);
    let (receiver, url) = Receiver::start().await;
    let admin = test_app.login_as_admin().await;
    let created = admin
        .post(
            "/api/webhooks/",
            &json!({"url": url, "event_types": ["decision.flagged"]}),
        )
        .await
        .json();
    let id = created["id"].as_i64().expect("an id");
    let old_secret = created["secret"].as_str().expect("a secret").to_owned();
    let rotated = admin
        .post(&format!("/api/webhooks/{id}/rotate-secret/"), &json!({}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let new_secret = rotated.json()["secret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    assert_ne!(new_secret, old_secret);

    let analyst = test_app.login_as_analyst().await;
    structuring_run_by(&analyst.app, &analyst.token, "ROT-", "ROT").await;
    deliver(&test_app).await;
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].signature.split(' ').count(), 2);
    assert!(received[0].verifies_with(&new_secret));
    assert!(received[0].verifies_with(&old_secret));

    receiver.answer_next(&[410]);
    structuring_run_by(&analyst.app, &analyst.token, "GONE-", "GONE").await;
    deliver(&test_app).await;
    let subscription = admin.get(&format!("/api/webhooks/{id}/")).await.json();
    assert_eq!(subscription["active"], false);
    assert!(
        subscription["disabled_reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("410")),
        "{subscription}"
    );
    assert!(subscription.get("secret").is_none());
    let log = admin
        .get(&format!("/api/webhooks/{id}/deliveries/"))
        .await
        .json();
    assert_eq!(log["results"][0]["status"], "failed");
    assert_eq!(log["results"][0]["last_status_code"], 410);

    // Disabled: nothing more is sent, nor queued for it.
    structuring_run_by(&analyst.app, &analyst.token, "AFTER-", "AFTER").await;
    deliver(&test_app).await;
    assert_eq!(receiver.received().len(), 2);
    assert_eq!(
        admin
            .get(&format!("/api/webhooks/{id}/deliveries/"))
            .await
            .json()["count"],
        2
    );
    // Re-enabled by an admin: the reason is cleared, and new events flow again.
    let enabled = admin
        .send_json(
            actix_web::http::Method::PATCH,
            &format!("/api/webhooks/{id}/"),
            &json!({"active": true}),
        )
        .await
        .json();
    assert_eq!(enabled["active"], true);
    assert_eq!(enabled["disabled_reason"], Value::Null);
    structuring_run_by(&analyst.app, &analyst.token, "BACK-", "BACK").await;
    deliver(&test_app).await;
    assert_eq!(receiver.received().len(), 3);

    let removed = admin.delete(&format!("/api/webhooks/{id}/")).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let gone = admin.get(&format!("/api/webhooks/{id}/deliveries/")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn subscriptions_are_checked_and_admins_only() {
    let test_app = TestApp::spawn();
    let admin = test_app.login_as_admin().await;
    let private = admin
        .post(
            "/api/webhooks/",
            &json!({"url": "http://127.0.0.1:9/hook", "event_types": ["model.trained"]}),
        )
        .await;
    assert_eq!(private.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        private.json(),
        json!({"url": ["The host `127.0.0.1` resolves to a loopback, private or link-local address; set webhooks.allow_private_addresses to allow it."]})
    );
    let metadata = admin
        .post(
            "/api/webhooks/",
            &json!({"url": "http://169.254.169.254/latest/meta-data/", "event_types": ["model.trained"]}),
        )
        .await;
    assert_eq!(metadata.status, StatusCode::BAD_REQUEST);
    let bad = admin
        .post(
            "/api/webhooks/",
            &json!({"url": "ftp://example.com/", "event_types": ["decision.flagged", "decision.made"], "active": "yes"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json(),
        json!({"event_types": ["\"decision.made\" is not a valid choice: decision.flagged, case.opened, case.updated, case.closed, screening.match, ruleset.published, model.trained."],
               "active": ["Must be a valid boolean."]})
    );
    let scheme = admin
        .post(
            "/api/webhooks/",
            &json!({"url": "ftp://example.com/", "event_types": ["decision.flagged"]}),
        )
        .await;
    assert_eq!(
        scheme.json(),
        json!({"url": ["Only http and https URLs can receive webhooks."]})
    );
    let missing = admin.post("/api/webhooks/", &json!({})).await;
    assert_eq!(
        missing.json(),
        json!({"url": ["This field is required."], "event_types": ["This field is required."]})
    );
    assert_eq!(
        admin.get("/api/webhooks/").await.json(),
        json!([]),
        "nothing was made"
    );
    let analyst = test_app.login_as_analyst().await;
    let refused = analyst.get("/api/webhooks/").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let missing = admin.get("/api/webhooks/999/").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn workers_fanning_out_side_by_side_make_each_delivery_once() {
    let test_app = TestApp::spawn_with(allow_loopback);
    let admin = test_app.login_as_admin().await;
    for url in ["http://127.0.0.1:9/one", "http://127.0.0.1:9/two"] {
        let created = admin
            .post(
                "/api/webhooks/",
                &json!({"url": url, "event_types": ["decision.flagged"]}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    let analyst = test_app.login_as_analyst().await;
    // Ten structuring runs: ten flagged transfers among thirty decisions.
    for run in 0..10 {
        structuring_run_by(
            &analyst.app,
            &analyst.token,
            &format!("SIDE-{run}-"),
            &format!("SIDE-{run}"),
        )
        .await;
    }
    test_app.embedded_worker_pass();
    // Three workers, each turning over one entry at a time, as fast as they can.
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let db = test_app.state.db.clone();
            std::thread::spawn(move || {
                let (mut turned_over, mut idle) = (0, 0);
                // 0 is "caught up", or "another worker took these": stop after a few in a row.
                while idle < 3 {
                    match db.fan_out_webhooks(1, Utc::now()) {
                        Ok(0) => idle += 1,
                        Ok(entries) => (turned_over, idle) = (turned_over + entries, 0),
                        Err(error) if error.is_unavailable() => {}
                        Err(error) => panic!("{error}"),
                    }
                }
                turned_over
            })
        })
        .collect();
    let turned_over: usize = workers
        .into_iter()
        .map(|worker| worker.join().expect("the worker ran"))
        .sum();
    assert!(turned_over >= 30, "the workers turned the log over");
    let db = &test_app.state.db;
    while db.fan_out_webhooks(500, Utc::now()).expect("fans out") > 0 {}
    let counts = test_app.state.db.webhook_delivery_counts().expect("counts");
    assert_eq!(
        counts.pending, 20,
        "each flagged decision once per subscription"
    );
}
