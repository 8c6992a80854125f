//! The OpenAPI document and its interactive page; schemathesis checks live responses against it
//! in `cargo xtask test`.

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, get, send};

#[actix_web::test]
async fn the_served_document_is_the_checked_in_one_and_covers_every_endpoint() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let reply = send(&app, get("/api/schema/", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let served = reply.json();
    let checked_in: Value =
        serde_json::from_str(include_str!("../../openapi.json")).expect("gateway/openapi.json");
    assert!(
        served == checked_in,
        "gateway/openapi.json is stale: run `cargo xtask openapi` and commit it"
    );
    assert_eq!(served["openapi"], "3.1.0");
    let paths: Vec<&str> = served["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        paths,
        [
            "/api/token/",
            "/api/token/refresh/",
            "/api/aml/detect/",
            "/api/credit/assess/",
            "/api/insurance/detect/",
            "/api/market/detect/",
            "/api/aml/batch/",
            "/api/credit/batch/",
            "/api/insurance/batch/",
            "/api/market/batch/",
            "/api/statistics/",
            "/api/audit/",
            "/api/alerts/",
            "/api/{module}/{id}/",
            "/api/cases/",
            "/api/cases/{id}/",
            "/api/users/",
            "/api/models/",
            "/api/models/calibrate/",
            "/api/models/{module}/train/",
            "/api/aml/peer-groups/",
            "/api/aml/peer-groups/learn/",
            "/api/metrics/",
            "/api/prometheus/",
            "/api/health/",
            "/api/rules/lists/",
            "/api/rules/lists/{name}/",
            "/api/rules/lists/{name}/import/",
            "/api/rules/{module}/",
            "/api/rules/{module}/versions/",
            "/api/rules/{module}/features/",
            "/api/rules/{module}/drafts/",
            "/api/rules/{module}/drafts/{id}/",
            "/api/rules/{module}/drafts/{id}/publish/",
            "/api/rules/{module}/drafts/{id}/backtest/",
            "/api/rules/{module}/drafts/{id}/shadow/",
            "/api/rules/{module}/versions/{version}/restore/",
            "/api/screening/",
            "/api/screening/lists/",
            "/api/screening/lists/{name}/versions/",
            "/api/screening/suppressions/",
            "/api/webhooks/",
            "/api/webhooks/{id}/",
            "/api/webhooks/{id}/rotate-secret/",
            "/api/webhooks/{id}/deliveries/",
            "/api/webhooks/{id}/deliveries/{delivery_id}/resend/",
        ]
    );
    // Every reference resolves to a schema of the document.
    let text = served.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().expect("a name");
        assert!(
            served["components"]["schemas"].get(name).is_some(),
            "{name} is referenced but not defined"
        );
    }
    // The request schemas are the parsers' own: the AML transfer's required fields.
    assert_eq!(
        served["components"]["schemas"]["AmlTransaction"]["required"],
        serde_json::json!([
            "transaction_id",
            "user_id",
            "amount",
            "sender_id",
            "receiver_id"
        ])
    );
}

#[actix_web::test]
async fn swagger_ui_is_served_from_the_binary_with_a_policy_that_lets_it_run() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let page = send(&app, get("/api/docs/", None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    assert_eq!(
        page.headers
            .get("content-security-policy")
            .and_then(|value| value.to_str().ok()),
        Some(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
        )
    );
    let script = send(&app, get("/api/docs/swagger-ui-bundle.js", None)).await;
    assert_eq!(script.status, StatusCode::OK);
    let initializer = send(&app, get("/api/docs/swagger-initializer.js", None)).await;
    assert!(
        initializer.text.contains("/api/schema/"),
        "{}",
        initializer.text
    );
}
