//! The service with its windows in the real Redis on this machine, as replicas would share them.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, get, login, post, send};

fn redis_url() -> String {
    std::env::var("REDFLAG_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned())
}

/// Two services sharing the real Redis under a prefix of their own, as replicas would.
fn two_replicas() -> (TestApp, TestApp) {
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    let configure = |settings: &mut redflag_service::settings::Settings| {
        settings.redis.url = redis_url();
        settings.redis.key_prefix = prefix.clone();
    };
    (
        TestApp::spawn_with(configure),
        TestApp::spawn_with(configure),
    )
}

#[actix_web::test]
async fn structuring_is_detected_across_two_replicas_sharing_redis() {
    let (replica_a, replica_b) = two_replicas();
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

/// A morning of transfers that trips several typologies: structuring, a pass-through, fan-in, a
/// chain and a round trip, with one resend.
fn scenario() -> Vec<serde_json::Value> {
    let transfer = |id: &str, sender: &str, receiver: &str, amount: f64, minute: u32| {
        json!({"transaction_id": id, "user_id": "U", "amount": amount, "sender_id": sender,
               "receiver_id": receiver, "timestamp": format!("2026-02-09T{:02}:{:02}:00Z", 8 + minute / 60, minute % 60)})
    };
    let mut transfers = vec![
        transfer("S1", "SMURF", "BANK", 9800.0, 0),
        transfer("S2", "SMURF", "BANK", 9900.0, 30),
        transfer("S3", "SMURF", "BANK", 9700.0, 60),
        transfer("IN", "PAYER", "MULE", 12_000.0, 70),
        transfer("OUT", "MULE", "ONWARD", 11_500.0, 90),
        transfer("IN", "PAYER", "MULE", 12_000.0, 70),
    ];
    for i in 0..5u32 {
        transfers.push(transfer(
            &format!("F{i}"),
            &format!("PAYER-{i}"),
            "COLLECTOR",
            3000.0,
            100 + i * 10,
        ));
    }
    // The money ONWARD received from MULE moves on again (a chain: the inflow's funds-flow depth
    // comes from the windows' store), then comes back to MULE (a round trip through ONWARD).
    transfers.push(transfer("HOP", "ONWARD", "THIRD", 11_000.0, 150));
    transfers.push(transfer("BACK", "THIRD", "MULE", 10_500.0, 160));
    transfers
}

async fn run_scenario(app: &TestApp) -> Vec<serde_json::Value> {
    let service = app.service().await;
    let (token, _) = login(&service, app, "analyst").await;
    let mut replies = Vec::new();
    for transfer in scenario() {
        let reply = send(&service, post("/api/aml/detect/", Some(&token), &transfer)).await;
        assert!(reply.status.is_success(), "{}", reply.text);
        replies.push(reply.json());
    }
    replies
}

#[actix_web::test]
async fn the_same_scenario_gives_the_same_decisions_with_redis_and_in_process_windows() {
    let in_process = run_scenario(&TestApp::spawn()).await;
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    let with_redis = run_scenario(&TestApp::spawn_with(|settings| {
        settings.redis.url = redis_url();
        settings.redis.key_prefix = prefix.clone();
    }))
    .await;
    assert_eq!(in_process, with_redis);
    // The typologies each transfer raised (the model's own opinion is covered by the equality above).
    let fired: Vec<Vec<&str>> = in_process
        .iter()
        .map(|reply| {
            reply["alerts"].as_array().map_or(vec![], |alerts| {
                alerts
                    .iter()
                    .filter_map(|a| a["rule"].as_str())
                    .filter(|rule| *rule != "AnomalyRule")
                    .collect()
            })
        })
        .collect();
    // 29,400 within the hour also breaks the hourly amount limit.
    assert_eq!(fired[2], ["StructuringRule", "VelocityRule"]);
    assert_eq!(fired[4], ["LargeTransactionRule", "PassThroughRule"]);
    assert_eq!(
        in_process[5], in_process[3],
        "the resend answers the stored decision"
    );
    assert!(
        fired[9].is_empty(),
        "four distinct payers are not yet fan-in"
    );
    assert_eq!(fired[10], ["FanInRule"]);
    assert_eq!(
        fired[11],
        ["LargeTransactionRule", "PassThroughRule", "ChainRule"]
    );
    assert!(fired[12].contains(&"RoundTripRule"), "{:?}", fired[12]);
    assert!(fired[12].contains(&"ChainRule"), "{:?}", fired[12]);
}

#[actix_web::test]
async fn an_applicants_earlier_incomes_are_shared_by_replicas_through_redis() {
    let (replica_a, replica_b) = two_replicas();
    let app_a = replica_a.service().await;
    let app_b = replica_b.service().await;
    let (token_a, _) = login(&app_a, &replica_a, "analyst").await;
    let (token_b, _) = login(&app_b, &replica_b, "analyst").await;
    let application = |id: &str, income: u32| {
        json!({"applicant_id": "SHARED-APPLICANT", "application_id": id, "monthly_income": income,
               "employment_length": 60, "credit_history_months": 120, "late_payments_12m": 0})
    };
    let first = send(
        &app_a,
        post(
            "/api/credit/assess/",
            Some(&token_a),
            &application("R-1", 5000),
        ),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = send(
        &app_b,
        post(
            "/api/credit/assess/",
            Some(&token_b),
            &application("R-2", 8000),
        ),
    )
    .await
    .json();
    assert_eq!(second["decision"], "REVIEW");
    assert_eq!(second["alerts"][1]["type"], "income_inconsistency");
    assert!(
        second["alerts"][1]["message"]
            .as_str()
            .expect("a message")
            .starts_with("Stated monthly income $8000.00 differs by 60% from $5000.00"),
        "{second}"
    );
}
