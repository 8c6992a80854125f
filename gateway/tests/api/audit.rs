//! The audit log end to end: every decision of every module reaches it once, the history
//! endpoint pages through it, and `redflag audit verify` catches an edit.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::cli::{create_user, redflag};
use crate::helpers::{Sandbox, TestApp, get, login, post, send};

#[actix_web::test]
async fn every_decision_of_every_module_reaches_the_audit_log_exactly_once() {
    // Separate `redflag worker` processes apply the outbox (the embedded default's writer keeps
    // the chain itself: see the detection tests).
    let test_app = TestApp::spawn_with(|settings| settings.audit.embedded_worker = false);
    let client = test_app.login_as_analyst().await;
    let requests = [
        (
            "/api/aml/detect/",
            json!({"transaction_id": "T-1", "user_id": "U", "amount": 9800, "sender_id": "S-9", "receiver_id": "R"}),
        ),
        (
            "/api/credit/assess/",
            json!({"applicant_id": "A-9", "monthly_income": 4200, "employment_length": 24}),
        ),
        (
            "/api/insurance/detect/",
            json!({"claim_id": "C-9", "policy_id": "P-9", "claim_amount": 1234}),
        ),
        (
            "/api/market/detect/",
            json!({"symbol": "ACME", "price": 10, "volume": 100, "trader_id": "TR-9"}),
        ),
    ];
    for (path, body) in &requests {
        let reply = client.post(path, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    // A resend is the same decision: no second audit record.
    client.post(requests[0].0, &requests[0].1).await;
    let settings = &test_app.state.settings.audit;
    assert_eq!(
        redflag_service::worker::drain(&test_app.state.db, settings).expect("applies"),
        5,
        "four decisions and the login's token"
    );
    assert_eq!(
        redflag_service::worker::drain(&test_app.state.db, settings).expect("applies"),
        0
    );

    for (module, entity) in [
        ("aml", "S-9"),
        ("credit", "A-9"),
        ("insurance", "P-9"),
        ("market", "ACME"),
    ] {
        let path = format!("/api/audit/?entity_id={entity}&module={module}");
        let body = client.get(&path).await.json();
        assert_eq!(body["count"], 1, "{module}: {body}");
        let entry = &body["results"][0];
        assert_eq!(entry["kind"], "decision.recorded");
        assert_eq!(entry["actor"], "analyst");
        assert_eq!(entry["payload"]["module"], module);
        assert_eq!(
            entry["payload"]["request_sha256"].as_str().map(str::len),
            Some(64)
        );
        assert_eq!(entry["hash"].as_str().map(str::len), Some(64));
        let model = entry["payload"]["model_version"]
            .as_str()
            .expect("a model version");
        assert!(model.contains("rows, seed 42)"), "{model}");
        assert!(
            entry["payload"]["latency_ms"]
                .as_f64()
                .is_some_and(|ms| ms > 0.0)
        );
    }
}

#[actix_web::test]
async fn tokens_issued_and_refreshed_are_audited_without_the_tokens() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let (_, refresh) = login(&app, &test_app, "auditor").await;
    let reply = send(
        &app,
        post("/api/token/refresh/", None, &json!({"refresh": refresh})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let access = reply.json()["access"].as_str().expect("a token").to_owned();
    redflag_service::worker::drain(&test_app.state.db, &test_app.state.settings.audit)
        .expect("applies");
    let body = send(
        &app,
        get("/api/audit/?entity_id=user:auditor", Some(&access)),
    )
    .await
    .json();
    let kinds: Vec<&str> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|entry| entry["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["token.refreshed", "token.issued"]);
    assert_eq!(body["results"][0]["actor"], "auditor");
    assert!(
        !body.to_string().contains(&refresh),
        "tokens are never logged"
    );
}

#[actix_web::test]
async fn the_history_pages_like_drf_and_refuses_bad_queries() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    for i in 0..3 {
        let body = json!({"transaction_id": format!("T-{i}"), "user_id": "U", "amount": 100 + i, "sender_id": "S-1", "receiver_id": "R"});
        client.detect_aml(&body).await;
    }
    redflag_service::worker::drain(&test_app.state.db, &test_app.state.settings.audit)
        .expect("applies");
    let first = send(
        &client.app,
        get("/api/audit/?entity_id=S-1&page_size=2", Some(&client.token)),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let first = first.json();
    assert_eq!(first["count"], 3);
    assert_eq!(first["previous"], Value::Null);
    assert_eq!(
        first["next"],
        "http://localhost:8080/api/audit/?entity_id=S-1&page=2&page_size=2"
    );
    assert_eq!(first["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        first["results"][0]["prev_hash"], first["results"][1]["hash"],
        "newest first, chained"
    );
    let second = send(
        &client.app,
        get(
            "/api/audit/?entity_id=S-1&page=2&page_size=2",
            Some(&client.token),
        ),
    )
    .await
    .json();
    assert_eq!(second["next"], Value::Null);
    assert_eq!(
        second["previous"],
        "http://localhost:8080/api/audit/?entity_id=S-1&page=1&page_size=2"
    );
    assert_eq!(second["results"].as_array().map(Vec::len), Some(1));

    let past_the_end = client.get("/api/audit/?entity_id=S-1&page=9").await;
    assert_eq!(past_the_end.status, StatusCode::NOT_FOUND);
    assert_eq!(past_the_end.json(), json!({"detail": "Invalid page."}));
    let bad = send(
        &client.app,
        get("/api/audit/?module=forex&page_size=0", Some(&client.token)),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json(),
        json!({"entity_id": ["This field is required."],
               "module": ["\"forex\" is not a valid choice."],
               "page_size": ["Ensure this value is greater than or equal to 1."]})
    );
    // As strictly as the document says: control characters anywhere (a newline or a tab at
    // either end included) and more than 100 characters as sent are refused, not trimmed away.
    for entity in ["%0AS-1", "S-1%09", "%01%02"] {
        let path = format!("/api/audit/?entity_id={entity}");
        let refused = client.get(&path).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{entity}");
        assert_eq!(
            refused.json(),
            json!({"entity_id": ["Control characters are not allowed."]}),
            "{entity}"
        );
    }
    let padded = format!("/api/audit/?entity_id={}S-1", "%20".repeat(98));
    let long = client.get(&padded).await;
    assert_eq!(
        long.json(),
        json!({"entity_id": ["Ensure this field has no more than 100 characters."]})
    );
    // A documented choice is taken as the document spells it: a filter never silently widens.
    let upper = send(
        &client.app,
        get("/api/audit/?entity_id=S-1&module=AML", Some(&client.token)),
    )
    .await;
    assert_eq!(
        upper.json(),
        json!({"module": ["\"AML\" is not a valid choice."]})
    );
    let lower = send(
        &client.app,
        get("/api/audit/?entity_id=S-1&module=aml", Some(&client.token)),
    )
    .await;
    assert_eq!(lower.json()["count"], 3);
    let spaced = client.get("/api/audit/?entity_id=%20S-1%20").await;
    assert_eq!(spaced.status, StatusCode::OK, "spaces around are trimmed");
    assert_eq!(spaced.json()["count"], 3);
    let anonymous = send(&client.app, get("/api/audit/?entity_id=S-1", None)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[test]
fn the_worker_applies_the_outbox_and_verify_names_the_edited_entry() {
    let sandbox = Sandbox::new();
    create_user(&sandbox, "a", &[]);
    let (ok, stdout, stderr) = redflag(&sandbox, &["audit", "verify"], "", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "audit log intact: 0 entries, every link holds"
    );
    // Decisions written as the service writes them: through the store.
    let db = redflag_store::Database::connect(sandbox.database.url(), 1).expect("opens");
    for i in 0..3 {
        let at = chrono::Utc::now();
        db.record_decision(&redflag_store::DecisionToRecord {
            module: redflag_core::Module::Aml,
            reference: Some(format!("T-{i}")),
            entity_id: "S-1".to_owned(),
            risk_score: 10.0,
            flagged: false,
            decision: None,
            request_json: "{}".to_owned(),
            response_json: "{}".to_owned(),
            event_time: at,
            recorded_at: at,
            created_by: None,
            actor: "a".to_owned(),
            alerts: Vec::new(),
            model_version: None,
            ruleset_version: None,
            latency: std::time::Duration::from_micros(1500),
            model_features: Vec::new(),
            skipped_rules: Vec::new(),
            shadow: None,
            parties: Vec::new(),
        })
        .expect("recorded");
    }
    let (ok, stdout, stderr) = redflag(&sandbox, &["worker", "--once"], "", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "applied 4 audit record(s)",
        "the user's creation and three decisions"
    );
    let (ok, stdout, _) = redflag(&sandbox, &["audit", "verify"], "", &[]);
    assert!(ok);
    assert_eq!(
        stdout.trim(),
        "audit log intact: 4 entries, every link holds"
    );

    sandbox
        .database
        .execute("UPDATE audit_log SET payload = replace(payload, 'false', 'true') WHERE id = 2");
    let (ok, _, stderr) = redflag(&sandbox, &["audit", "verify"], "", &[]);
    assert!(!ok, "an edited log must not verify");
    assert!(
        stderr.contains("audit log broken at entry 2 (outbox-2): its content does not match its hash (it was edited)"),
        "{stderr}"
    );
}
