//! POST /api/insurance/detect/ end to end: the contract's shape, rings across requests, DRF
//! errors, and contact details that never reach the database or the logs in clear.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::cli::{CLI_PASSWORD, create_user};
use crate::helpers::{Sandbox, TestApp, login, post, send, shape};
use crate::process::Server;

const PATH: &str = "/api/insurance/detect/";

#[actix_web::test]
async fn the_seed_claim_has_the_documented_shape_and_inflation_needs_a_reference() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let request = json!({"claim_id": "CLM-001", "policy_id": "POL-9", "claim_amount": 45000, "estimated_value": 52000});
    let reply = client.post(PATH, &request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let body = reply.json();
    assert_eq!(
        shape(&body),
        json!({"id": "integer", "claim_id": "string", "policy_id": "string", "claim_amount": "float",
               "fraud_risk": "float", "timestamp": "string",
               "alerts": [{"rule": "string", "severity": "string", "confidence": "float", "reason": "string",
                           "evidence": ["string"]}],
               "fraud_probability": "float", "flagged": "boolean", "model_score": "float", "ruleset_version": "integer",
               "model_warming_up": "boolean"})
    );
    assert_eq!(
        body["alerts"][0]["rule"], "RoundAmountRule",
        "no reference value, no inflation"
    );
    assert_eq!(body["flagged"], json!(false));

    let request = json!({"claim_id": "CLM-002", "policy_id": "POL-9", "claim_amount": 45000,
                         "estimated_value": 52000, "market_value": 32000});
    let body = client.post(PATH, &request).await.json();
    assert_eq!(
        body["alerts"][0],
        json!({"rule": "PropertyInflationRule", "severity": "medium", "confidence": 0.58,
               "reason": "Property claim inflation suspected (score: 0.58)",
               "evidence": ["Estimated value $52000.00 is 1.6x higher than market value $32000.00"]})
    );
    // The fraud probability is the noisy-OR of every alert's confidence (the round 45,000 adds to
    // the inflation; the model is warming up, its alert silent).
    let alerts = body["alerts"].as_array().expect("alerts");
    let rules: Vec<&str> = alerts
        .iter()
        .filter_map(|alert| alert["rule"].as_str())
        .collect();
    assert_eq!(rules, ["PropertyInflationRule", "RoundAmountRule"]);
    let none = alerts
        .iter()
        .filter_map(|alert| alert["confidence"].as_f64())
        .fold(1.0, |product, confidence| product * (1.0 - confidence));
    let probability = 1.0 - none;
    assert_eq!(
        body["fraud_probability"],
        json!((probability * 100.0).round() / 100.0)
    );
    assert_eq!(
        body["fraud_risk"],
        json!((probability * 1000.0).round() / 10.0)
    );
    assert_eq!(body["flagged"], json!(true));
}

#[actix_web::test]
async fn three_claimants_sharing_a_bank_account_are_a_ring_on_the_third_claim() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let (token, _) = login(&app, &test_app, "handler").await;
    let claim = |id: &str, claimant: &str| {
        json!({"claim_id": id, "policy_id": format!("POL-{claimant}"), "claim_amount": 2345.67,
               "claim_type": "auto", "claimant_id": claimant,
               "claimant_bank_account": "DE89 3704 0044 0532 0130 00"})
    };
    for (id, claimant) in [("RING-1", "ANNA"), ("RING-2", "BORIS")] {
        let body = send(&app, post(PATH, Some(&token), &claim(id, claimant)))
            .await
            .json();
        assert_eq!(body["alerts"], json!([]), "{body}");
    }
    let body = send(&app, post(PATH, Some(&token), &claim("RING-3", "CARLA")))
        .await
        .json();
    assert_eq!(
        body["alerts"][0],
        json!({"rule": "SharedIdentifierRule", "severity": "high", "confidence": 0.7,
               "reason": "Possible fraud ring: bank account shared by 3 different claimants in 180 days",
               "evidence": ["Bank account shared by 3 claimants across 3 claims in 180 days"]})
    );
    assert_eq!(body["flagged"], json!(true));
}

#[actix_web::test]
async fn bad_claims_are_refused_in_drf_words() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let request = json!({"claim_id": "C-1", "policy_id": "P-1", "claim_amount": -100,
                         "claim_type": "spaceship", "incident_date": "2026-03-10",
                         "report_date": "2026-03-02", "claimant_email": "not an email"});
    let reply = client.post(PATH, &request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"claim_amount": ["Ensure this value is greater than 0."],
               "claim_type": ["\"spaceship\" is not a valid choice."],
               "report_date": ["Ensure this date is not before incident_date."],
               "claimant_email": ["Enter a valid email address."]})
    );
    assert!(!reply.text.contains("not an email"));
}

/// A contact detail of each kind, and fragments of each that must never be stored or logged.
const CONTACTS: [(&str, &str, &str); 4] = [
    ("claimant_phone", "+44 (20) 7946-0958", "79460958"),
    (
        "claimant_email",
        "Olivia.Privacy@Example.net",
        "olivia.privacy",
    ),
    (
        "claimant_bank_account",
        "FR14 2004 1010 0505 0001 3M02 606",
        "20041010050500013",
    ),
    (
        "claimant_address",
        "742 Evergreen Terrace, Springfield",
        "evergreen",
    ),
];

#[test]
fn contact_details_reach_neither_the_database_nor_the_logs_in_clear() {
    let sandbox = Sandbox::new();
    create_user(&sandbox, "handler", &[]);
    let server = Server::start(&sandbox, &[("RUST_LOG", "trace")]);
    let token = server.token("handler", CLI_PASSWORD);
    let token = token.as_str();
    for (i, claimant) in ["P-1", "P-2", "P-3"].iter().enumerate() {
        let mut claim = json!({"claim_id": format!("PRIV-{i}"), "policy_id": format!("POL-{i}"),
                               "claim_amount": 1234.5, "claimant_id": claimant,
                               "description": "water damage in the kitchen"});
        for (field, value, _) in CONTACTS {
            claim[field] = json!(value);
        }
        let (status, body) = server.http("POST", PATH, Some(token), &claim);
        assert_eq!(status, 201, "{body}");
        if i == 2 {
            assert!(body.contains("SharedIdentifierRule"), "{body}");
        }
    }
    // A malformed identifier is refused without being echoed.
    let (status, body) = server.http(
        "POST",
        PATH,
        Some(token),
        &json!({"claim_id": "PRIV-X", "policy_id": "P", "claim_amount": 5, "claimant_phone": "79460958-x-79460958-x-79460958-x"}),
    );
    assert_eq!(status, 400);
    assert!(!body.contains("79460958"), "{body}");
    let log = server.log.clone();
    drop(server);

    let logs = std::fs::read_to_string(&log).expect("the log");
    assert!(
        logs.contains("/api/insurance/detect/"),
        "trace logging was on: {logs}"
    );
    let stored = sandbox.database.contents().to_lowercase();
    assert!(stored.contains("priv-2"), "the claims were stored");
    assert!(stored.contains("claimant_bank_account_hash"), "as hashes");
    for (field, value, fragment) in CONTACTS {
        for haystack in [&stored, &logs.to_lowercase()] {
            assert!(
                !haystack.contains(&value.to_lowercase()) && !haystack.contains(fragment),
                "{field} leaked"
            );
        }
    }
}
