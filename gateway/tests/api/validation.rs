use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::helpers::{TestApp, decisions_recorded, get, send};

const AML: &str = "/api/aml/detect/";

fn transaction() -> Value {
    json!({"transaction_id": "TXN-1", "user_id": "U-1", "amount": 9800, "sender_id": "S-1", "receiver_id": "R-1"})
}

fn with(field: &str, value: Value) -> Value {
    let mut body = transaction();
    body[field] = value;
    body
}

#[actix_web::test]
async fn bad_fields_get_drf_field_errors_and_nothing_is_recorded() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let cases: Vec<(Value, Value)> = vec![
        (
            json!({}),
            json!({
            "amount": ["This field is required."], "receiver_id": ["This field is required."],
            "sender_id": ["This field is required."], "transaction_id": ["This field is required."],
            "user_id": ["This field is required."]}),
        ),
        (
            with("amount", json!("lots")),
            json!({"amount": ["A valid number is required."]}),
        ),
        (
            with("amount", json!("NaN")),
            json!({"amount": ["A valid number is required."]}),
        ),
        (
            with("amount", json!(-5)),
            json!({"amount": ["Ensure this value is greater than 0."]}),
        ),
        (
            with("amount", json!(0)),
            json!({"amount": ["Ensure this value is greater than 0."]}),
        ),
        (
            with("amount", json!(1e300)),
            json!({"amount": ["Ensure this value is less than or equal to 1000000000000."]}),
        ),
        (
            with("amount", json!(true)),
            json!({"amount": ["A valid number is required."]}),
        ),
        (
            with("amount", Value::Null),
            json!({"amount": ["This field may not be null."]}),
        ),
        (
            with("transaction_id", json!("")),
            json!({"transaction_id": ["This field may not be blank."]}),
        ),
        (
            with("transaction_id", json!("   ")),
            json!({"transaction_id": ["This field may not be blank."]}),
        ),
        (
            with("transaction_id", json!("x".repeat(1000))),
            json!({"transaction_id": ["Ensure this field has no more than 100 characters."]}),
        ),
        (
            with("sender_id", json!({"nested": 1})),
            json!({"sender_id": ["Not a valid string."]}),
        ),
        (
            with("sender_id", json!("S\u{0}1")),
            json!({"sender_id": ["Control characters are not allowed."]}),
        ),
        (
            with("timestamp", json!("yesterday")),
            json!({"timestamp": [redflag_core::messages::DATETIME_FORMAT]}),
        ),
        (
            with("timestamp", json!("9999-12-31T23:59:59Z")),
            json!({"timestamp": [redflag_core::messages::FUTURE_TIMESTAMP]}),
        ),
        (
            json!([1, 2]),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary."]}),
        ),
    ];
    for (body, expected) in cases {
        let reply = client.post(AML, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.json(), expected, "{body}");
    }
    let credit = json!({"applicant_id": "A", "monthly_income": 100, "employment_length": 2.5, "credit_utilization": 1.5});
    let reply = client.assess_credit(&credit).await;
    assert_eq!(
        reply.json(),
        json!({"credit_utilization": ["Ensure this value is less than or equal to 1."],
               "employment_length": ["A valid integer is required."]})
    );
    let market = json!({"symbol": "X".repeat(21), "price": -1, "volume": 10, "trader_id": "T"});
    let reply = client.detect_market(&market).await;
    assert_eq!(
        reply.json(),
        json!({"price": ["Ensure this value is greater than 0."],
               "symbol": ["Ensure this field has no more than 20 characters."]})
    );
    let claim = json!({"claim_id": "C", "policy_id": "P"});
    let reply = client.detect_insurance(&claim).await;
    assert_eq!(
        reply.json(),
        json!({"claim_amount": ["This field is required."]})
    );
    assert_eq!(
        decisions_recorded(&test_app),
        0,
        "no invalid event was recorded"
    );
}

#[actix_web::test]
async fn malformed_bodies_get_a_parse_error_not_a_server_error() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    for raw in [
        "{not json",
        "{\"amount\": 1e400}",
        "[",
        "\u{feff}{}",
        "{\"a\":1}{\"b\":2}",
    ] {
        let request = TestRequest::post()
            .uri(AML)
            .insert_header(("Authorization", format!("Bearer {}", client.token)))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(raw);
        let reply = send(&client.app, request).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{raw}: {}",
            reply.text
        );
        let detail = reply.json()["detail"].as_str().expect("detail").to_owned();
        assert!(detail.starts_with("JSON parse error - "), "{detail}");
    }
}

#[actix_web::test]
async fn oversized_bodies_are_413_and_other_media_types_415() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let huge = with("description", json!("x".repeat(70 * 1024)));
    let reply = client.post(AML, &huge).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply.json(),
        json!({"detail": "Request body exceeds 65536 bytes."})
    );

    let form = TestRequest::post()
        .uri(AML)
        .insert_header(("Authorization", format!("Bearer {}", client.token)))
        .insert_header(("Content-Type", "text/plain"))
        .set_payload(transaction().to_string());
    let reply = send(&client.app, form).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        reply.json(),
        json!({"detail": "Unsupported media type \"text/plain\" in request."})
    );
}

#[actix_web::test]
async fn unknown_paths_and_wrong_methods_answer_json() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let reply = send(&app, get("/api/nothing-here/", None)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json(), json!({"detail": "Not found."}));
    let reply = send(&app, get(AML, None)).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        reply.json(),
        json!({"detail": "Method \"GET\" not allowed."})
    );
}

#[actix_web::test]
async fn requests_for_hosts_not_allowed_are_refused() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let reply = send(
        &app,
        get("/api/health/", None).insert_header(("Host", "evil.example")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"detail": "Invalid HTTP_HOST header: 'evil.example'."})
    );
    let reply = send(
        &app,
        get("/api/health/", None).insert_header(("Host", "localhost:8000")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}
