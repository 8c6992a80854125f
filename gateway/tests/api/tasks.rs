//! The worker's periodic tasks: statistics roll-ups, window sweeps and retraining on real traffic,
//! with the models swapped into the running service.

use actix_web::http::StatusCode;
use chrono::{Duration, Utc};
use redflag_core::Module;
use redflag_service::models::{Retraining, retrain_on_decisions};
use redflag_service::tasks::{self, Outcome, Periodic};
use redflag_store::DecisionId;
use serde_json::{Value, json};

use crate::cli::{CLI_PASSWORD, create_user, redflag};
use crate::helpers::{Sandbox, TestApp, get, ordinary_transfers, post, send, transfer};
use crate::process::{Server, eventually};

fn periodic(test_app: &TestApp) -> Periodic {
    let state = &test_app.state;
    Periodic::new(
        state.db.clone(),
        Some(state.windows.clone()),
        &state.settings,
    )
}

/// The model version an AML decision's audit record names.
fn model_version_of(test_app: &TestApp, id: i64) -> String {
    let payloads = test_app
        .state
        .db
        .outbox_payloads(DecisionId(id))
        .expect("readable");
    let payload: Value = serde_json::from_str(&payloads[0]).expect("JSON");
    payload["model_version"]
        .as_str()
        .expect("a model version")
        .to_owned()
}

#[actix_web::test]
async fn statistics_read_the_same_before_and_after_the_worker_rolls_them_up() {
    let test_app = TestApp::spawn_with(|settings| settings.tasks.rollup_settle_seconds = 0);
    let client = test_app.login_as_analyst().await;
    for (i, amount) in [9800.0, 9900.0, 9700.0, 120.0, 25000.0]
        .into_iter()
        .enumerate()
    {
        let reply = send(
            &client.app,
            post(
                "/api/aml/detect/",
                Some(&client.token),
                &transfer(i, amount),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let mut before = send(&client.app, get("/api/statistics/", Some(&client.token)))
        .await
        .json();

    let outcome = periodic(&test_app)
        .run_task(&tasks::RollUpStatistics)
        .await
        .expect("rolled up");
    let Outcome::RolledUp(rollup) = outcome else {
        panic!("a roll-up reports a roll-up: {outcome:?}");
    };
    assert_eq!((rollup.decisions, rollup.watermark), (5, 5));
    let mut after = send(&client.app, get("/api/statistics/", Some(&client.token)))
        .await
        .json();
    before["generated_at"] = Value::Null;
    after["generated_at"] = Value::Null;
    assert_eq!(after, before);
    assert_eq!(after["total_detections"], 5);
    assert_eq!(
        outcome.to_string(),
        "rolled up 5 decisions, through decision 5"
    );
}

#[actix_web::test]
async fn the_window_sweep_reports_the_service_windows() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let reply = send(
        &client.app,
        post("/api/aml/detect/", Some(&client.token), &transfer(1, 500.0)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let outcome = periodic(&test_app)
        .run_task(&tasks::ExpireWindows)
        .await
        .expect("swept");
    // One small transfer records the sender's outflows and daily sums and the receiver's
    // inflows; none has outlived its horizon.
    assert_eq!(
        outcome.to_string(),
        "removed 0 windows, 3 live, 0 forgotten to stay within the bound"
    );
}

#[actix_web::test]
async fn a_service_past_its_window_bound_forgets_the_least_recent_and_says_so() {
    // One window per shard: 64 in all.
    let test_app = TestApp::spawn_with(|settings| settings.windows.max_windows = 64);
    let client = test_app.login_as_analyst().await;
    for i in 0..40 {
        let body = json!({"transaction_id": format!("TXN-{i}"), "user_id": "U-1",
                          "amount": 100.0, "sender_id": format!("S-{i}"),
                          "receiver_id": format!("R-{i}")});
        let reply = client.detect_aml(&body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let outcome = periodic(&test_app)
        .run_task(&tasks::ExpireWindows)
        .await
        .expect("swept");
    let Outcome::Swept(Some(sweep)) = outcome else {
        panic!("the service's windows are swept: {outcome:?}");
    };
    // Each small transfer between new parties opens three windows: 120, of which at most 64
    // are held.
    assert!(sweep.live <= 64, "{sweep:?}");
    assert_eq!(sweep.evicted, 120 - sweep.live as u64, "{sweep:?}");
    let metrics = send(&client.app, get("/api/prometheus/", None)).await;
    assert!(
        metrics.text.contains("redflag_windows_evicted_total"),
        "{}",
        metrics.text
    );
}

#[actix_web::test]
async fn retraining_on_decisions_installs_a_model_the_service_swaps_in() {
    let test_app = TestApp::spawn_with(|settings| {
        settings.tasks.retrain_hours = 24;
        settings.tasks.retrain_min_rows = 30;
    });
    let client = test_app.login_as_analyst().await;
    let state = &test_app.state;
    let (models, tasks, db) = (&state.settings.models, &state.settings.tasks, &state.db);

    // The artifacts written at start-up are younger than the interval: nothing to do yet.
    let fresh = retrain_on_decisions(models, tasks, db, Module::Aml, Utc::now());
    assert_eq!(fresh.expect("the database answers"), Retraining::Fresh);

    let first_id = ordinary_transfers(&client.app, &client.token, 40).await[0];
    test_app.embedded_worker_pass();
    let synthetic_version = model_version_of(&test_app, first_id);
    assert!(
        synthetic_version.contains("(3200 rows"),
        "{synthetic_version}"
    );

    let later = Utc::now() + Duration::hours(25);
    assert_eq!(
        retrain_on_decisions(models, tasks, db, Module::Aml, later).expect("the database answers"),
        (Retraining::Trained { rows: 40 })
    );
    assert_eq!(
        retrain_on_decisions(models, tasks, db, Module::Insurance, later)
            .expect("the database answers"),
        (Retraining::TooFewDecisions { rows: 0 })
    );
    assert_eq!(
        retrain_on_decisions(models, tasks, db, Module::Credit, later)
            .expect("the database answers"),
        (Retraining::NeedsLabels)
    );
    // The decisions' entries are in the log already; the training's record waits for the next.
    assert_eq!(
        db.outbox_counts().expect("counts").queued,
        1,
        "the training was audited too"
    );

    // The running service notices the new artifact and scores with it from the next request.
    assert!(state.reload_models().expect("the new artifact loads"));
    assert!(
        !state.reload_models().expect("unchanged"),
        "nothing new the second time"
    );
    let reply = send(
        &client.app,
        post(
            "/api/aml/detect/",
            Some(&client.token),
            &transfer(99, 450.0),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let retrained_version = model_version_of(&test_app, reply.json()["id"].as_i64().expect("id"));
    assert!(
        retrained_version.contains("(32 rows"),
        "80% of the 40 decisions train it: {retrained_version}"
    );
}

#[actix_web::test]
async fn an_artifact_that_does_not_load_leaves_the_models_in_use() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let state = &test_app.state;
    let before = state.detectors().versions.clone();
    let path = redflag_service::models::artifact_path(&state.settings.models, Module::Market);
    std::fs::write(&path, "{\"format_version\": 1").expect("overwritten");

    let error = state
        .reload_models()
        .expect_err("a truncated artifact is refused");
    assert!(error.to_string().contains("market.json"), "{error}");
    assert_eq!(state.detectors().versions, before);
    assert!(
        !state.reload_models().expect("not retried"),
        "the same broken file is not retried until it changes"
    );
    let event = json!({"symbol": "ACME", "price": 10.5, "volume": 1000, "trader_id": "T-1"});
    let reply = client.detect_market(&event).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

#[test]
fn redflag_task_runs_one_periodic_task_now() {
    let sandbox = Sandbox::new();
    let (ok, stdout, stderr) = redflag(&sandbox, &["task", "rollup-statistics"], "", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        "rollup-statistics: rolled up 0 decisions, through decision 0\n"
    );
    let (ok, stdout, stderr) = redflag(&sandbox, &["task", "expire-windows"], "", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "expire-windows: no windows in this process\n");
    let (ok, _, stderr) = redflag(&sandbox, &["task", "retrain-everything"], "", &[]);
    assert!(!ok);
    assert!(
        stderr.contains("invalid value 'retrain-everything'"),
        "{stderr}"
    );
}

#[test]
fn a_running_service_rolls_up_on_schedule_and_swaps_in_a_model_trained_beside_it() {
    let sandbox = Sandbox::new();
    create_user(&sandbox, "ops", &[]);
    let server = Server::start(
        &sandbox,
        &[
            ("REDFLAG__TASKS__ROLLUP_STATISTICS_SECONDS", "1"),
            ("REDFLAG__TASKS__ROLLUP_SETTLE_SECONDS", "0"),
            ("REDFLAG__MODELS__RELOAD_SECONDS", "1"),
        ],
    );
    let token = server.token("ops", CLI_PASSWORD);
    let detect = |i: usize| {
        let (status, body) = server.http(
            "POST",
            "/api/aml/detect/",
            Some(&token),
            &transfer(i, 700.0),
        );
        assert_eq!(status, 201, "{body}");
        serde_json::from_str::<Value>(&body).expect("JSON")["id"]
            .as_i64()
            .expect("an id")
    };
    let ids: Vec<i64> = (0..3).map(detect).collect();
    let last = ids[2];
    let db = redflag_store::Database::connect(sandbox.database.url(), 1)
        .expect("the service's database opens");
    eventually("the scheduled roll-up", || {
        db.rollup_watermark().expect("readable") == last
    });

    let (ok, stdout, stderr) = redflag(
        &sandbox,
        &["train", "aml", "--rows", "2000", "--seed", "9"],
        "",
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("swaps it in within models.reload_seconds"),
        "{stdout}"
    );
    let mut i = 100;
    eventually("the new model scoring", || {
        i += 1;
        let id = detect(i);
        let payloads = db.outbox_payloads(DecisionId(id)).expect("readable");
        payloads[0].contains("(1600 rows, seed 9)")
    });
}

#[actix_web::test]
async fn the_worker_learns_each_segments_peers_and_new_senders_are_judged_against_them() {
    let test_app = TestApp::spawn_with(|settings| settings.aml.peer_group_min_members = 3);
    let client = test_app.login_as_analyst().await;

    let report = client.get("/api/aml/peer-groups/").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let configured = json!({"transactions_1h": 5, "amount_1h": 20000.0,
                            "transactions_24h": 10, "amount_24h": 50000.0});
    assert_eq!(
        report.json(),
        json!({"learned_at": null, "learned_through": null, "window_days": 30, "quantile": 0.95,
               "min_members": 3, "configured_limits": configured, "groups": []})
    );

    established_customers(&client.app, &client.token).await;

    let outcome = periodic(&test_app)
        .run_task(&tasks::LearnPeerGroups)
        .await
        .expect("learned");
    assert_eq!(
        outcome.to_string(),
        "learned peer groups retail (3 senders)"
    );
    assert!(test_app.state.reload_models().expect("the detectors load"));
    assert!(
        !test_app.state.reload_models().expect("unchanged"),
        "nothing new to swap in"
    );
    let mut report = send(
        &client.app,
        get("/api/aml/peer-groups/", Some(&client.token)),
    )
    .await
    .json();
    assert!(report["learned_at"].is_string(), "{report}");
    report["learned_at"] = Value::Null;
    assert_eq!(
        report,
        json!({"learned_at": null, "learned_through": "2026-03-06T10:58:00.000Z",
               "window_days": 30, "quantile": 0.95, "min_members": 3,
               "configured_limits": configured,
               "groups": [{"segment": "retail", "members": 3, "transfers": 30,
                           "limits": {"transactions_1h": 1, "amount_1h": 100.0,
                                      "transactions_24h": 2, "amount_24h": 200.0},
                           "quiet_transfer": 100.0}]})
    );

    // A new retail customer paying 150 three times in a day: far under the configured limits,
    // over what its peers do in an hour and in a day.
    let mut decision = Value::Null;
    for (i, hour) in ["09", "11", "13"].into_iter().enumerate() {
        let body = json!({"transaction_id": format!("PEER-NEW-{i}"), "user_id": "U",
            "amount": 150, "sender_id": "NEW", "receiver_id": format!("SHOP-{i}"),
            "sender_segment": "retail", "timestamp": format!("2026-03-09T{hour}:00:00Z")});
        let reply = client.detect_aml(&body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        decision = reply.json();
    }
    let velocity = decision["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .find(|alert| alert["rule"] == "VelocityRule")
        .unwrap_or_else(|| panic!("velocity against the retail peers: {decision}"));
    let source = "the 95% quantile of the 3 established senders of segment retail:";
    assert_eq!(
        velocity["reason"],
        format!(
            "Velocity limits exceeded: $150.00 sent in 1 hour ({source} $100.00); 3 transfers in \
             24 hours ({source} 2); $450.00 sent in 24 hours ({source} $200.00)"
        )
    );
    assert_eq!(velocity["metadata"]["judged_against"], "peer group retail");
    assert_eq!(velocity["metadata"]["peer_group_members"], 3);
    assert_eq!(decision["flagged"], false, "a supporting signal alone");

    // The same payments from a customer naming no segment (none learned) meet the configured
    // limits: no velocity.
    for (i, hour) in ["09", "11", "13"].into_iter().enumerate() {
        let body = json!({"transaction_id": format!("PEER-UNSEGMENTED-{i}"), "user_id": "U",
            "amount": 150, "sender_id": "NEW-2", "receiver_id": format!("SHOP-{i}"),
            "timestamp": format!("2026-03-09T{hour}:00:00Z")});
        let reply = client.detect_aml(&body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let rules: Vec<Value> = reply.json()["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .map(|alert| alert["rule"].clone())
            .collect();
        assert!(!rules.contains(&json!("VelocityRule")), "{rules:?}");
    }
}

/// Three retail customers, each paying 100 twice a day for five days (a profile of their own:
/// five active days, ten transfers), and one customer naming no segment.
async fn established_customers<S, B>(app: &S, token: &str)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .expect("a fixed time")
        .with_timezone(&Utc);
    for (sender, segment) in [
        ("C1", Some("retail")),
        ("C2", Some("retail")),
        ("C3", Some("retail")),
        ("C4", None),
    ] {
        for day in 0..5 {
            for n in 0..2 {
                let sent = start + Duration::days(day) + Duration::minutes(90 * n + 7 * day);
                let mut body = json!({"transaction_id": format!("PEER-{sender}-{day}-{n}"),
                    "user_id": "U", "amount": 100, "sender_id": sender,
                    "receiver_id": format!("SHOP-{n}"),
                    "timestamp": sent.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
                if let Some(segment) = segment {
                    body["sender_segment"] = json!(segment);
                }
                let reply = send(app, post("/api/aml/detect/", Some(token), &body)).await;
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
            }
        }
    }
}

#[actix_web::test]
async fn an_admin_learns_the_peer_groups_at_once_and_a_change_is_audited() {
    let test_app = TestApp::spawn_with(|settings| settings.aml.peer_group_min_members = 3);
    let analyst = test_app.login_as_analyst().await;
    let admin = test_app.login_as_admin().await;
    established_customers(&analyst.app, &analyst.token).await;

    let refused = send(
        &analyst.app,
        post(
            "/api/aml/peer-groups/learn/",
            Some(&analyst.token),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let learned = send(
        &analyst.app,
        post(
            "/api/aml/peer-groups/learn/",
            Some(&admin.token),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(learned.status, StatusCode::OK, "{}", learned.text);
    let learned = learned.json();
    assert_eq!(learned["groups"][0]["segment"], "retail", "{learned}");
    assert_eq!(learned["groups"][0]["limits"]["amount_24h"], 200.0);

    // Swapped in at once: a new retail customer's second payment of 150 in a day is over its
    // peers' day.
    let mut reasons = Vec::new();
    for (i, hour) in ["09", "13"].into_iter().enumerate() {
        let body = json!({"transaction_id": format!("ADMIN-NEW-{i}"), "user_id": "U",
            "amount": 150, "sender_id": "NEW", "receiver_id": format!("SHOP-{i}"),
            "sender_segment": "retail", "timestamp": format!("2026-03-09T{hour}:00:00Z")});
        let reply = analyst.detect_aml(&body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let decision = reply.json();
        for alert in decision["alerts"].as_array().expect("alerts") {
            if alert["rule"] == "VelocityRule" {
                reasons.push(alert["metadata"]["judged_against"].clone());
            }
        }
    }
    assert_eq!(
        reasons,
        [json!("peer group retail"), json!("peer group retail")]
    );

    // Learning again on the same transfers changes nothing: one audit event, the admin's.
    let again = send(
        &analyst.app,
        post(
            "/api/aml/peer-groups/learn/",
            Some(&admin.token),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    test_app.embedded_worker_pass();
    let history = send(
        &analyst.app,
        get(
            "/api/audit/?entity_id=aml.peer_groups",
            Some(&analyst.token),
        ),
    )
    .await
    .json();
    assert_eq!(history["count"], 1, "{history}");
    let event = &history["results"][0];
    assert_eq!(event["kind"], "peer_groups.learned");
    assert_eq!(event["actor"], "admin");
    assert_eq!(event["payload"]["details"]["groups"][0]["members"], 3);
}
