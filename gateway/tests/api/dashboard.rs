//! The built-in dashboard's files, served from the binary with a policy that lets only them run.
//! (Its behaviour in a browser is `gateway/e2e/dashboard.mjs`, run by `cargo xtask test`.)

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, get, post, send};

fn header<'a>(reply: &'a crate::helpers::Reply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

#[actix_web::test]
async fn the_dashboard_is_served_at_the_root_without_a_token() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let page = send(&app, get("/", None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        header(&page, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&page, "cache-control"), Some("no-cache"));
    assert_eq!(
        header(&page, "content-security-policy"),
        Some("default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        "only the dashboard's own files run: no inline script, nothing from elsewhere"
    );
    assert!(
        page.text
            .contains(r#"<script src="/dashboard/app.js" defer></script>"#)
    );
    assert!(!page.text.contains("<script>"), "no inline script");

    for (file, content_type, sample) in [
        (
            "app.js",
            "text/javascript; charset=utf-8",
            "async function api(",
        ),
        (
            "rules.js",
            "text/javascript; charset=utf-8",
            "async function draftPage(",
        ),
        (
            "screening.js",
            "text/javascript; charset=utf-8",
            "async function screeningPage(",
        ),
        ("app.css", "text/css; charset=utf-8", ".chart"),
        ("icon.svg", "image/svg+xml", "<svg"),
    ] {
        let asset = send(&app, get(&format!("/dashboard/{file}"), None)).await;
        assert_eq!(asset.status, StatusCode::OK, "{file}");
        assert_eq!(header(&asset, "content-type"), Some(content_type), "{file}");
        assert!(asset.text.contains(sample), "{file}");
    }
}

#[actix_web::test]
async fn unknown_dashboard_files_and_other_methods_answer_in_the_api_shape() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let missing = send(&app, get("/dashboard/secrets.txt", None)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json(), json!({"detail": "Not found."}));
    let posted = send(&app, post("/", None, &json!({}))).await;
    assert_eq!(posted.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&posted, "allow"), Some("GET"));
    assert_eq!(
        posted.json(),
        json!({"detail": "Method \"POST\" not allowed."})
    );
}
