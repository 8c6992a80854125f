//! Abuse limits and hardening: failed sign-ins, per-user detection rate, JSON depth, the request
//! time limit and the headers every response carries.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, TestApp, decisions_recorded, get, login, post, send};

fn sign_in(username: &str, password: &str, from: &str) -> actix_web::test::TestRequest {
    post(
        "/api/token/",
        None,
        &json!({"username": username, "password": password}),
    )
    .peer_addr(from.parse().expect("a socket address"))
}

/// The 429 of a throttle: DRF's words, and a Retry-After within `most` seconds.
fn assert_throttled(reply: &Reply, most: u64) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.text
    );
    let retry_after: u64 = reply
        .headers
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=most).contains(&retry_after), "{retry_after}");
    let unit = if retry_after == 1 {
        "second"
    } else {
        "seconds"
    };
    assert_eq!(
        reply.json(),
        json!({"detail": format!("Request was throttled. Expected available in {retry_after} {unit}.")})
    );
}

#[actix_web::test]
async fn failed_sign_ins_lock_the_username_even_against_the_right_password() {
    let test_app = TestApp::spawn_with(|settings| {
        settings.limits.login_failures_per_username = 3;
        settings.limits.login_lockout_seconds = 600;
    });
    let app = test_app.service().await;
    test_app.create_user("alice");
    test_app.create_user("bob");
    // A success clears the count: two failures, a success, then three more are needed.
    for _ in 0..2 {
        let reply = send(&app, sign_in("alice", "wrong-password", "10.0.0.1:5000")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = send(&app, sign_in("alice", PASSWORD, "10.0.0.1:5000")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    for _ in 0..3 {
        let reply = send(&app, sign_in("alice", "wrong-password", "10.0.0.1:5000")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: the right password from another address is refused before it is checked.
    let reply = send(&app, sign_in("alice", PASSWORD, "10.0.0.9:5000")).await;
    assert_throttled(&reply, 600);
    // Another user from the same address is not affected.
    let reply = send(&app, sign_in("bob", PASSWORD, "10.0.0.1:5000")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[actix_web::test]
async fn one_address_guessing_many_usernames_is_locked_out() {
    let test_app = TestApp::spawn_with(|settings| {
        settings.limits.login_failures_per_address = 3;
        settings.limits.login_lockout_seconds = 60;
    });
    let app = test_app.service().await;
    test_app.create_user("carol");
    for username in ["u1", "u2", "u3"] {
        let reply = send(&app, sign_in(username, "guess-guess", "192.0.2.7:4000")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = send(&app, sign_in("carol", PASSWORD, "192.0.2.7:4001")).await;
    assert_throttled(&reply, 60);
    let reply = send(&app, sign_in("carol", PASSWORD, "192.0.2.8:4000")).await;
    assert_eq!(reply.status, StatusCode::OK, "another address signs in");
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let test_app = TestApp::spawn_with(|settings| {
        settings.server.trust_forwarded_for = true;
        settings.limits.login_failures_per_address = 1;
    });
    let app = test_app.service().await;
    test_app.create_user("dave");
    let via_proxy = |client: &str, password: &str| {
        sign_in("dave", password, "10.1.1.1:80")
            .insert_header(("X-Forwarded-For", client.to_owned()))
    };
    let reply = send(&app, via_proxy("203.0.113.5", "wrong-password")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = send(&app, via_proxy("203.0.113.5", PASSWORD)).await;
    assert_throttled(&reply, 900);
    let reply = send(&app, via_proxy("203.0.113.6", PASSWORD)).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the same proxy, another client: {}",
        reply.text
    );
}

#[actix_web::test]
async fn detections_beyond_a_users_rate_are_429_and_not_recorded() {
    let test_app = TestApp::spawn_with(|settings| {
        settings.limits.detections_per_second = 1;
        settings.limits.detections_burst = 2;
    });
    let app = test_app.service().await;
    let (first, _) = login(&app, &test_app, "first").await;
    let (second, _) = login(&app, &test_app, "second").await;
    let transfer = |i: u32| {
        json!({"transaction_id": format!("RL-{i}"), "user_id": "U", "amount": 100,
               "sender_id": "S", "receiver_id": "R"})
    };
    for i in 0..2 {
        let reply = send(&app, post("/api/aml/detect/", Some(&first), &transfer(i))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let reply = send(&app, post("/api/aml/detect/", Some(&first), &transfer(2))).await;
    assert_throttled(&reply, 1);
    assert_eq!(
        decisions_recorded(&test_app),
        2,
        "the refused one is not recorded"
    );
    let reply = send(&app, post("/api/aml/detect/", Some(&second), &transfer(3))).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "another user has their own allowance"
    );
}

#[actix_web::test]
async fn deeply_nested_json_is_a_parse_error() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let mut nested = json!(1);
    for _ in 0..40 {
        nested = json!([nested]);
    }
    let body = json!({"transaction_id": "T", "user_id": "U", "amount": 1, "sender_id": "S",
                      "receiver_id": "R", "extra": nested});
    let reply = client.detect_aml(&body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"detail": "JSON parse error - nesting deeper than 32 levels"})
    );
    assert_eq!(decisions_recorded(&test_app), 0);
}

#[actix_web::test]
async fn a_request_over_the_time_limit_is_503() {
    // Verifying a password with Argon2 takes milliseconds: far more than a 1 ms limit.
    let test_app = TestApp::spawn_with(|settings| settings.server.request_timeout_ms = 1);
    let app = test_app.service().await;
    test_app.create_user("slow");
    // The time limit answers with an error that the server turns into the response.
    let error = actix_web::test::try_call_service(
        &app,
        sign_in("slow", PASSWORD, "10.0.0.1:1").to_request(),
    )
    .await
    .err()
    .expect("the request timed out");
    let response = error.error_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Rendered outside the middleware, it still carries the security headers.
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        header("content-security-policy").as_deref(),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .expect("a body");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("JSON"),
        json!({"detail": "Request timed out."})
    );
}

#[actix_web::test]
async fn every_response_carries_the_security_headers_and_no_server_banner() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    for reply in [
        send(&app, get("/api/health/", None)).await,
        send(&app, get("/api/statistics/", None)).await,
        send(&app, get("/no/such/path/", None)).await,
    ] {
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .map(|value| value.to_str().expect("ASCII").to_owned())
        };
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"));
        assert_eq!(
            header("content-security-policy").as_deref(),
            Some("default-src 'none'; frame-ancestors 'none'")
        );
        assert_eq!(header("server"), None, "no version banner");
        let _: Value = reply.json();
    }
}
