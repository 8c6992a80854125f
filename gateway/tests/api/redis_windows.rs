//! The service with its windows in the real Redis on this machine, as replicas would share them.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, get, login, post, send};

fn redis_url() -> String {
    std::env::var("REDFLAG_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned())
}

#[actix_web::test]
async fn structuring_is_detected_across_two_replicas_sharing_redis() {
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    let configure = |settings: &mut redflag_gateway::settings::Settings| {
        settings.redis.url = redis_url();
        settings.redis.key_prefix = prefix.clone();
    };
    let replica_a = TestApp::spawn_with(configure);
    let replica_b = TestApp::spawn_with(configure);
    let app_a = replica_a.service().await;
    let app_b = replica_b.service().await;
    let (token_a, _) = login(&app_a, &replica_a, "analyst").await;
    let (token_b, _) = login(&app_b, &replica_b, "analyst").await;
    let transfer = |i: usize| json!({"transaction_id": format!("T{i}"), "user_id": "U", "amount": 9800, "sender_id": "S-shared", "receiver_id": "R"});
    send(
        &app_a,
        post("/api/aml/detect/", Some(&token_a), &transfer(1)),
    )
    .await;
    send(
        &app_b,
        post("/api/aml/detect/", Some(&token_b), &transfer(2)),
    )
    .await;
    let reply = send(
        &app_a,
        post("/api/aml/detect/", Some(&token_a), &transfer(3)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["alerts"][0]["rule"], "StructuringRule");
    assert_eq!(body["alerts"][0]["metadata"]["num_transactions"], 3);

    let health = send(&app_a, get("/api/health/", None)).await.json();
    assert_eq!(health["redis"], json!({"status": "ok"}));
    assert_eq!(health["windows"], "redis");
}

#[actix_web::test]
async fn an_unreachable_redis_is_a_503_and_nothing_is_recorded() {
    let test_app =
        TestApp::spawn_with(|settings| settings.redis.url = "redis://127.0.0.1:1/0".to_owned());
    let app = test_app.service().await;
    let (token, _) = login(&app, &test_app, "analyst").await;
    let request = json!({"transaction_id": "T", "user_id": "U", "amount": 10, "sender_id": "S", "receiver_id": "R"});
    let reply = send(&app, post("/api/aml/detect/", Some(&token), &request)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json(),
        json!({"detail": "Recent-activity store unavailable; the event was not recorded."})
    );
    assert_eq!(test_app.state.db.outbox_counts().expect("query").queued, 0);
    let health = send(&app, get("/api/health/", None)).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.json()["redis"], json!({"status": "unavailable"}));
}
