use actix_web::http::StatusCode;
use redflag_core::Module;
use serde_json::{Value, json};

use crate::helpers::{TestApp, decisions_recorded, post, rules_of, send};

fn transfer(id: &str, amount: f64, hour: u32) -> Value {
    json!({"transaction_id": id, "user_id": "U-B", "amount": amount, "sender_id": "S-BATCH",
           "receiver_id": "R-1", "timestamp": format!("2026-02-09T{hour:02}:12:33.221Z")})
}

#[actix_web::test]
async fn a_batch_answers_each_event_in_order_with_errors_in_their_slots() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let batch = json!([
        transfer("B-1", 9800.0, 7),
        {"transaction_id": "B-BAD", "user_id": "U-B", "amount": "lots", "sender_id": "S-BATCH"},
        transfer("B-2", 9900.0, 8),
        transfer("B-3", 9800.0, 9),
        transfer("B-1", 9800.0, 7),
        transfer("B-2", 1.0, 8),
    ]);
    let reply = client.post("/api/aml/batch/", &batch).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let answers = reply.json();
    let answers = answers.as_array().expect("an array");
    assert_eq!(answers.len(), 6);
    assert_eq!(answers[0]["transaction_id"], "B-1");
    assert_eq!(answers[0]["alerts"], json!([]));
    assert_eq!(
        answers[1],
        json!({"amount": ["A valid number is required."], "receiver_id": ["This field is required."]})
    );
    // The windows counted the batch in its order: structuring on the third transfer only.
    assert_eq!(rules_of(&answers[2]), Vec::<String>::new());
    assert!(
        rules_of(&answers[3]).contains(&"StructuringRule".to_owned()),
        "{}",
        answers[3]
    );
    // A resend within the batch answers the first decision; other data under its id is 409.
    assert_eq!(answers[4], answers[0]);
    assert_eq!(
        answers[5],
        json!({"detail": "transaction_id `B-2` was already assessed with different data."})
    );
    // Three decisions, each stored and answered with its id; the resend was not counted twice.
    assert_eq!(decisions_recorded(&test_app), 3);
    for (slot, id) in [(0, "B-1"), (2, "B-2"), (3, "B-3")] {
        let stored = test_app
            .state
            .db
            .find_decision(Module::Aml, id)
            .expect("query")
            .expect("stored");
        assert_eq!(json!(stored.id.0), answers[slot]["id"]);
    }

    // The whole batch sent again: every event answers its stored decision, nothing new.
    let again = client.post("/api/aml/batch/", &batch).await;
    assert_eq!(again.status, StatusCode::OK);
    let again = again.json();
    assert_eq!(again[0], answers[0]);
    assert_eq!(again[3], answers[3]);
    assert_eq!(again[1], answers[1]);
    assert_eq!(decisions_recorded(&test_app), 3);
    // Each decision has its audit record, once.
    test_app.embedded_worker_pass();
    let audit = client.get("/api/audit/?entity_id=S-BATCH").await;
    assert_eq!(audit.json()["count"], 3, "{}", audit.text);
}

#[actix_web::test]
async fn a_body_that_is_not_a_batch_is_refused_whole() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let single = client
        .post("/api/credit/batch/", &json!({"applicant_id": "A-1"}))
        .await;
    assert_eq!(single.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        single.json(),
        json!({"non_field_errors": ["Expected a list of events but got type \"dict\"."]})
    );
    let empty = client.post("/api/market/batch/", &json!([])).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        empty.json(),
        json!({"non_field_errors": ["This list may not be empty."]})
    );
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({"claim_id": format!("C-{i}"), "policy_id": "P", "claim_amount": 10}))
        .collect();
    let reply = client
        .post("/api/insurance/batch/", &Value::Array(too_many))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"non_field_errors": ["Ensure this list has no more than 1000 events (it has 1001)."]})
    );
    assert_eq!(decisions_recorded(&test_app), 0);
    let anonymous = send(
        &client.app,
        post("/api/aml/batch/", None, &json!([transfer("X", 1.0, 7)])),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn every_module_decides_a_full_batch_as_its_single_path_does() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let claims: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"claim_id": format!("CLM-{i}"), "policy_id": format!("POL-{}", i % 50),
                   "claim_amount": 1000 + i, "timestamp": "2026-02-09T10:00:00Z"})
        })
        .collect();
    let reply = client
        .post("/api/insurance/batch/", &Value::Array(claims.clone()))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let answers = reply.json();
    let answers = answers.as_array().expect("an array");
    assert_eq!(answers.len(), 1000);
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer["claim_id"], format!("CLM-{i}"));
        assert!(answer["id"].is_i64(), "{answer}");
    }
    assert_eq!(decisions_recorded(&test_app), 1000);

    let single = client
        .detect_market(&json!({"symbol": "BATCH", "price": 10.0, "volume": 100,
                               "timestamp": "2026-02-09T10:00:00Z"}))
        .await;
    let batched = client
        .post(
            "/api/market/batch/",
            &json!([{"symbol": "BATCH2", "price": 10.0, "volume": 100,
                     "timestamp": "2026-02-09T10:00:00Z"}]),
        )
        .await;
    let mut single = single.json();
    let mut batched = batched.json()[0].take();
    for body in [&mut single, &mut batched] {
        let object = body.as_object_mut().expect("an object");
        object.remove("id");
        object.remove("symbol");
    }
    assert_eq!(single, batched);
}
