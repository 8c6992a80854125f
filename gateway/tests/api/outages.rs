//! Outages: Redis or the database gone while serving, and back. Fail open (degrade) or closed
//! (refuse) for Redis, a quick 503 for the database, and recovery without a restart.

use actix_web::http::StatusCode;
use redflag_core::Detector;
use redflag_service::settings::OnUnavailable;
use redflag_store::scratch::ScratchDatabase;
use serde_json::json;

use crate::helpers::{Sandbox, TestApp, decisions_recorded, get, post, rules_of, send};
use crate::process::Process;

#[actix_web::test]
async fn failing_closed_an_unreachable_redis_is_a_503_and_nothing_is_recorded() {
    let test_app = TestApp::spawn_with(|settings| {
        settings.redis.url = "redis://127.0.0.1:1/0".to_owned();
        settings.windows.on_unavailable = OnUnavailable::Refuse;
    });
    let client = test_app.login_as_analyst().await;
    let request = json!({"transaction_id": "T", "user_id": "U", "amount": 10, "sender_id": "S", "receiver_id": "R"});
    let reply = client.detect_aml(&request).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json(),
        json!({"detail": "Recent-activity store unavailable; the event was not recorded."})
    );
    assert_eq!(decisions_recorded(&test_app), 0, "nothing was recorded");
    let health = send(&client.app, get("/api/health/", None)).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.json()["status"], "unavailable");
    assert_eq!(health.json()["redis"], json!({"status": "unavailable"}));
}

/// A Redis of the test's own on a free port, so that stopping it leaves the shared one up.
struct DedicatedRedis {
    port: u16,
    process: Option<Process>,
}

impl DedicatedRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self {
            port,
            process: None,
        };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn stop(&mut self) {
        self.process = None;
    }

    /// Starts it (again) on its port, empty, and waits until it answers.
    fn restart(&mut self) {
        let process = Process(
            std::process::Command::new("redis-server")
                .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                // The server keeps the real clock when the suite runs with a moved one (the
                // clock run of `cargo xtask test` preloads libfaketime, which Redis cannot load).
                .env_remove("LD_PRELOAD")
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("redis-server runs (Debian package redis-server)"),
        );
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "Redis did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.process = Some(process);
    }
}

#[actix_web::test]
async fn without_redis_detections_degrade_say_what_they_skipped_and_recover_by_themselves() {
    let mut redis = DedicatedRedis::start();
    let url = redis.url();
    let test_app = TestApp::spawn_with(|settings| settings.redis.url = url);
    let client = test_app.login_as_analyst().await;
    // Fixed event times: the anomaly model reads the hour of day, and this test asserts that no
    // alert is raised, whatever the hour it runs at.
    let transfer = |id: &str, amount: f64| {
        let minute: String = id.chars().filter(char::is_ascii_digit).collect();
        json!({"transaction_id": id, "user_id": "U", "amount": amount, "sender_id": "SMURF",
               "receiver_id": "BANK", "timestamp": format!("2026-02-09T14:{minute:0>2}:00Z")})
    };
    for (id, amount) in [("D1", 9800.0), ("D2", 9900.0)] {
        let reply = send(
            &client.app,
            post(
                "/api/aml/detect/",
                Some(&client.token),
                &transfer(id, amount),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        assert!(reply.json().get("degraded").is_none(), "{}", reply.text);
    }

    redis.stop();
    // The third structuring transfer cannot be seen as such without its history: it is decided
    // on its own, recorded, and says which rules it could not check.
    let third = send(
        &client.app,
        post(
            "/api/aml/detect/",
            Some(&client.token),
            &transfer("D3", 9700.0),
        ),
    )
    .await;
    assert_eq!(third.status, StatusCode::CREATED, "{}", third.text);
    let body = third.json();
    assert_eq!(body["degraded"], json!(true));
    let skipped: Vec<String> =
        serde_json::from_value(body["skipped_rules"].clone()).expect("a list");
    assert_eq!(skipped, test_app.state.detectors().aml.history_rules());
    assert!(
        skipped.contains(&"StructuringRule".to_owned()),
        "{skipped:?}"
    );
    for history_free in ["LargeTransactionRule", "HighRiskJurisdictionRule"] {
        assert!(
            !skipped.contains(&history_free.to_owned()),
            "{history_free} still runs"
        );
    }
    assert!(rules_of(&body).is_empty(), "{body}");
    // Rules that need no history still fire.
    let large = send(
        &client.app,
        post(
            "/api/aml/detect/",
            Some(&client.token),
            &transfer("D4", 15_000.0),
        ),
    )
    .await;
    assert_eq!(rules_of(&large.json()), ["LargeTransactionRule"]);
    // The stored record carries the mark: a resend answers it, and the audit record lists the
    // skipped rules.
    let resent = send(
        &client.app,
        post(
            "/api/aml/detect/",
            Some(&client.token),
            &transfer("D3", 9700.0),
        ),
    )
    .await;
    assert_eq!(resent.status, StatusCode::OK);
    assert_eq!(resent.json(), body);
    let id = redflag_store::DecisionId(body["id"].as_i64().expect("an id"));
    let payload = &test_app.state.db.outbox_payloads(id).expect("readable")[0];
    assert!(
        payload.contains("\"skipped_rules\":[\"StructuringRule\""),
        "{payload}"
    );
    let health = send(&client.app, get("/api/health/", None)).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "degraded");
    assert_eq!(health.json()["redis"], json!({"status": "unavailable"}));
    let metrics = send(&client.app, get("/api/prometheus/", None)).await;
    assert!(
        metrics
            .text
            .contains("redflag_degraded_decisions_total{module=\"aml\"}"),
        "{}",
        metrics.text
    );

    // Redis returns (empty): without a restart the service reads and records windows again.
    redis.restart();
    let mut recovered = false;
    for attempt in 0..50 {
        let id = format!("R{attempt}");
        let reply = send(
            &client.app,
            post(
                "/api/aml/detect/",
                Some(&client.token),
                &transfer(&id, 100.0),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        if reply.json().get("degraded").is_none() {
            recovered = true;
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "detections use Redis again");
    let health = send(&client.app, get("/api/health/", None)).await;
    assert_eq!(health.json()["status"], "ok");
}

#[actix_web::test]
async fn an_unreachable_database_is_a_503_without_a_hang_and_the_service_recovers() {
    let test_app = TestApp::spawn_in(Sandbox::on(ScratchDatabase::postgres()), |settings| {
        settings.database.checkout_timeout_ms = 300;
    });
    let client = test_app.login_as_analyst().await;
    let transfer = |id: &str| json!({"transaction_id": id, "user_id": "U", "amount": 120, "sender_id": "S", "receiver_id": "R"});
    let reply = send(
        &client.app,
        post("/api/aml/detect/", Some(&client.token), &transfer("B1")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    test_app.sandbox.database.set_reachable(false);
    let started = std::time::Instant::now();
    let reply = send(
        &client.app,
        post("/api/aml/detect/", Some(&client.token), &transfer("B2")),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text
    );
    let detail = reply.json()["detail"]
        .as_str()
        .expect("a detail")
        .to_owned();
    assert!(detail.starts_with("Database unavailable"), "{detail}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "answered, not hung: {:?}",
        started.elapsed()
    );
    let health = send(&client.app, get("/api/health/", None)).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.json()["database"]["status"], "unavailable");

    test_app.sandbox.database.set_reachable(true);
    let mut recovered = None;
    for _ in 0..50 {
        let reply = send(
            &client.app,
            post("/api/aml/detect/", Some(&client.token), &transfer("B2")),
        )
        .await;
        if reply.status == StatusCode::CREATED {
            recovered = Some(reply);
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        recovered.is_some(),
        "the service writes again once the database is back"
    );
    let health = send(&client.app, get("/api/health/", None)).await;
    assert_eq!(health.json()["database"]["status"], "ok");
}
