use actix_web::http::StatusCode;
use redflag_gateway::auth::{Claims, Role, TokenKind, TokenService};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, decisions_recorded, get, login, post, send};

const AML: &str = "/api/aml/detect/";

fn seed_transaction() -> serde_json::Value {
    json!({"transaction_id": "TXN-1001", "user_id": "U-1", "amount": 9800, "sender_id": "S-1", "receiver_id": "R-1"})
}

#[actix_web::test]
async fn a_user_obtains_simplejwt_tokens_and_refreshes_the_access_token() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let (access, refresh) = login(&app, &test_app, "analyst").await;

    let claims = test_app
        .state
        .tokens
        .verify(&access, TokenKind::Access)
        .expect("a valid access token");
    assert_eq!(claims.username, "analyst");
    assert_eq!(claims.exp - claims.iat, 300, "access tokens last 5 minutes");
    assert!(!claims.jti.is_empty());
    let refresh_claims: Claims = test_app
        .state
        .tokens
        .verify(&refresh, TokenKind::Refresh)
        .expect("a valid refresh token");
    assert_eq!(
        refresh_claims.exp - refresh_claims.iat,
        86_400,
        "refresh tokens last a day"
    );
    assert_eq!(refresh_claims.user_id, claims.user_id);

    let reply = send(
        &app,
        post("/api/token/refresh/", None, &json!({"refresh": refresh})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(1),
        "only `access`: {body}"
    );
    let renewed = body["access"].as_str().expect("access");
    assert_ne!(renewed, access);
    let reply = send(&app, post(AML, Some(renewed), &seed_transaction())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    test_app.create_user("analyst");
    let wrong_password = send(
        &app,
        post(
            "/api/token/",
            None,
            &json!({"username": "analyst", "password": "nope-nope-nope"}),
        ),
    )
    .await;
    let unknown_user = send(
        &app,
        post(
            "/api/token/",
            None,
            &json!({"username": "ghost", "password": PASSWORD}),
        ),
    )
    .await;
    for reply in [&wrong_password, &unknown_user] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            reply.json(),
            json!({"detail": "No active account found with the given credentials"})
        );
    }
}

#[actix_web::test]
async fn token_requests_with_missing_fields_name_each_field() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let reply = send(&app, post("/api/token/", None, &json!({}))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"password": ["This field is required."], "username": ["This field is required."]})
    );
    let reply = send(
        &app,
        post("/api/token/refresh/", None, &json!({"refresh": ""})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"refresh": ["This field may not be blank."]})
    );
}

#[actix_web::test]
async fn protected_endpoints_without_credentials_say_so() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    for request in [
        post(AML, None, &seed_transaction()),
        get("/api/statistics/", None),
        get("/api/metrics/", None),
    ] {
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            reply.json(),
            json!({"detail": "Authentication credentials were not provided."})
        );
        assert_eq!(
            reply
                .headers
                .get("www-authenticate")
                .map(|h| h.to_str().unwrap_or_default()),
            Some("Bearer realm=\"api\"")
        );
    }
    assert_eq!(decisions_recorded(&test_app), 0, "nothing was recorded");
}

#[actix_web::test]
async fn expired_tampered_foreign_unsigned_and_refresh_tokens_are_refused() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let (access, refresh) = login(&app, &test_app, "analyst").await;
    let secret = test_app.state.settings.secret_key.expose();

    let expired = TokenService::new(secret, -120, 86_400)
        .issue(TokenKind::Access, 1, "analyst", Role::Analyst)
        .expect("signed");
    let foreign = TokenService::new("another-secret-key-of-sufficient-length-000", 300, 86_400)
        .issue(TokenKind::Access, 1, "analyst", Role::Analyst)
        .expect("signed");
    let parts: Vec<&str> = access.split('.').collect();
    let refresh_parts: Vec<&str> = refresh.split('.').collect();
    // The refresh token's claims under the access token's signature.
    let tampered = format!("{}.{}.{}", parts[0], refresh_parts[1], parts[2]);
    // {"alg":"none","typ":"JWT"} with the genuine claims and no signature.
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);

    let invalid = json!({"detail": "Token is invalid or expired", "code": "token_not_valid"});
    for token in [
        expired.as_str(),
        foreign.as_str(),
        tampered.as_str(),
        unsigned.as_str(),
        "garbage",
    ] {
        let reply = send(&app, post(AML, Some(token), &seed_transaction())).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(reply.json(), invalid, "{token}");
    }
    let reply = send(&app, post(AML, Some(&refresh), &seed_transaction())).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.json(),
        json!({"detail": "Given token not valid for any token type", "code": "token_not_valid"})
    );
    let reply = send(
        &app,
        post("/api/token/refresh/", None, &json!({"refresh": access})),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "an access token cannot refresh"
    );
    let reply = send(
        &app,
        actix_web::test::TestRequest::post()
            .uri(AML)
            .insert_header(("Authorization", "Basic YWxpY2U6c2VjcmV0"))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(seed_transaction().to_string()),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "Basic is not a bearer token"
    );
    assert_eq!(
        reply.json(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    let reply = send(
        &app,
        actix_web::test::TestRequest::post()
            .uri(AML)
            .insert_header(("Authorization", "Bearer"))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(seed_transaction().to_string()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.json(),
        json!({"detail": "Authorization header must contain two space-delimited values",
               "code": "bad_authorization_header"})
    );
    assert_eq!(decisions_recorded(&test_app), 0, "nothing was recorded");
}

#[actix_web::test]
async fn tokens_of_another_algorithm_or_not_yet_valid_are_refused() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let (access, _) = login(&app, &test_app, "analyst").await;
    let key = EncodingKey::from_secret(test_app.state.settings.secret_key.expose().as_bytes());
    let now = chrono::Utc::now().timestamp();
    let claims = |extra: serde_json::Value| {
        let mut claims = json!({"token_type": "access", "exp": now + 300, "iat": now,
                                "jti": "j", "user_id": 1, "username": "analyst"});
        if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            claims.extend(extra.clone());
        }
        claims
    };
    let sign = |algorithm, claims: &serde_json::Value| {
        encode(&Header::new(algorithm), claims, &key).expect("signed")
    };
    // The control: the same claims, HS256, the service's key, are accepted.
    let genuine = sign(Algorithm::HS256, &claims(json!({})));
    let reply = send(&app, post(AML, Some(&genuine), &seed_transaction())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    // Right key, other HMAC: the algorithm is pinned, not read from the header.
    let hs512 = sign(Algorithm::HS512, &claims(json!({})));
    // HS/RS confusion: a header claiming RS256 over an HMAC signature made with the key.
    let parts: Vec<&str> = access.split('.').collect();
    let rs256 = format!(
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
        parts[1], parts[2]
    );
    // Not valid before an hour from now, and issued with no expiry at all.
    let not_yet = sign(Algorithm::HS256, &claims(json!({"nbf": now + 3600})));
    let mut no_expiry = claims(json!({}));
    no_expiry.as_object_mut().map(|claims| claims.remove("exp"));
    let no_expiry = sign(Algorithm::HS256, &no_expiry);
    let before = decisions_recorded(&test_app);
    for (what, token) in [
        ("HS512", &hs512),
        ("RS256 header", &rs256),
        ("nbf in the future", &not_yet),
        ("no exp", &no_expiry),
    ] {
        let reply = send(&app, post(AML, Some(token), &seed_transaction())).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(
            reply.json(),
            json!({"detail": "Token is invalid or expired", "code": "token_not_valid"}),
            "{what}"
        );
    }
    assert_eq!(decisions_recorded(&test_app), before, "nothing recorded");
}
