use actix_web::http::StatusCode;
use redflag_core::Module;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_timestamp, login, post, rules_of, send, shape};

#[actix_web::test]
async fn the_seed_aml_request_gets_the_documented_shape_and_is_stored() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let request = json!({"transaction_id": "TXN-1001", "user_id": "U-1", "amount": 9800, "sender_id": "S-1", "receiver_id": "R-1"});
    let reply = client.detect_aml(&request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let body = reply.json();
    // No typology fires, and the anomaly alert is silent: the model is warming up (no decision
    // stored yet to calibrate it on), and the response says so.
    assert_eq!(body["alerts"], json!([]));
    assert_eq!(body["model_warming_up"], true);
    assert_eq!(
        shape(&body),
        json!({"id": "integer", "transaction_id": "string", "user_id": "string", "amount": "float",
               "sender_id": "string", "receiver_id": "string", "risk_score": "float", "flagged": "boolean",
               "timestamp": "string", "alerts": [], "model_score": "float", "ruleset_version": "integer", "model_warming_up": "boolean"})
    );
    assert_eq!(body["risk_score"], 0.0);
    assert_eq!(body["amount"], json!(9800.0));
    assert_eq!(body["transaction_id"], "TXN-1001");
    assert_timestamp(&body["timestamp"]);
    let stored = test_app
        .state
        .db
        .find_decision(Module::Aml, "TXN-1001")
        .expect("query")
        .expect("stored");
    assert_eq!(json!(stored.id.0), body["id"]);
}

#[actix_web::test]
async fn structuring_fires_on_the_third_transfer_below_the_threshold_with_the_seed_reason() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let amounts = [9800.0, 9900.0, 9800.0];
    let mut last = Value::Null;
    for (i, amount) in amounts.iter().enumerate() {
        let request = json!({"transaction_id": format!("TXN-{i}"), "user_id": "U-1", "amount": amount,
                             "sender_id": "S-1", "receiver_id": "R-1",
                             "timestamp": format!("2026-02-09T0{}:12:33.221Z", 7 + i)});
        let reply = client.detect_aml(&request).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        last = reply.json();
        if i < 2 {
            assert_eq!(
                last["alerts"],
                json!([]),
                "no typology before the third transfer"
            );
        }
    }
    assert_eq!(last["timestamp"], "2026-02-09T09:12:33.221Z");
    let structuring: Vec<&Value> = last["alerts"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|alert| alert["rule"] == "StructuringRule")
        .collect();
    assert_eq!(
        json!(structuring),
        json!([{
            "rule": "StructuringRule",
            "severity": "high",
            "confidence": 0.8,
            "reason": "Structuring detected: 3 transactions totaling $29500.00 in 24h, all below $10000.0 threshold",
            "metadata": {"num_transactions": 3, "total_amount": 29500.0, "threshold": 10000.0,
                         "window_hours": 24, "near_threshold_transactions": 3}
        }])
    );
    // risk_score is the noisy-OR of every alert's confidence, x 100, one decimal.
    let confidences: Vec<f64> = last["alerts"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|a| a["confidence"].as_f64())
        .collect();
    let expected =
        ((1.0 - confidences.iter().map(|c| 1.0 - c).product::<f64>()) * 1000.0).round() / 10.0;
    assert_eq!(last["risk_score"], json!(expected));
    assert!(expected >= 80.0);
    assert_eq!(last["flagged"], json!(true));
    let id = redflag_store::DecisionId(last["id"].as_i64().expect("id"));
    let stored: Vec<String> = test_app
        .state
        .db
        .alert_rules(id)
        .expect("query")
        .into_iter()
        .map(|(rule, _)| rule)
        .collect();
    assert_eq!(
        stored,
        rules_of(&last),
        "every alert of the answer is stored"
    );
    // The embedded default's writer appends each decision's audit entry in the decision's own
    // transaction (and the login's token event before them): on SQLite nothing waits for a
    // worker; on PostgreSQL one pass of the embedded worker applies them.
    let db = &test_app.state.db;
    let expected_pass = match db.backend() {
        redflag_store::Backend::Sqlite => 0,
        redflag_store::Backend::Postgres => 4,
    };
    assert_eq!(test_app.embedded_worker_pass(), expected_pass);
    assert_eq!(db.outbox_counts().expect("query").queued, 0);
    assert_eq!(
        db.audit_progress(chrono::Utc::now())
            .expect("query")
            .applied,
        4,
        "every decision has its audit entry, beside the login's token event"
    );
}

#[actix_web::test]
async fn a_resent_transaction_answers_the_stored_decision_and_different_data_is_a_conflict() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let request = json!({"transaction_id": "TXN-9", "user_id": "U-1", "amount": 500, "sender_id": "S-9", "receiver_id": "R-1"});
    let first = client.detect_aml(&request).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = client.detect_aml(&request).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        again.json(),
        first.json(),
        "the same decision, id and timestamp included"
    );

    let mut changed = request.clone();
    changed["amount"] = json!(501);
    let conflict = client.detect_aml(&changed).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(
        conflict.json(),
        json!({"detail": "transaction_id `TXN-9` was already assessed with different data."})
    );

    let stats = test_app
        .state
        .db
        .statistics(chrono::Utc::now(), 10)
        .expect("query");
    assert_eq!(stats.modules[0].total, 1, "the resend is not counted twice");
    // Near-threshold amounts: had a resend entered the sender's window twice, the next transfer
    // would already be the third and look like structuring.
    let transfer = |id: &str| json!({"transaction_id": id, "user_id": "U-1", "amount": 9800, "sender_id": "S-10", "receiver_id": "R-1"});
    client.detect_aml(&transfer("A")).await;
    client.detect_aml(&transfer("A")).await;
    let second = send(
        &client.app,
        post("/api/aml/detect/", Some(&client.token), &transfer("B")),
    )
    .await
    .json();
    assert_eq!(second["alerts"], json!([]), "the window holds A once");
    let third = send(
        &client.app,
        post("/api/aml/detect/", Some(&client.token), &transfer("C")),
    )
    .await
    .json();
    let structuring = third["alerts"]
        .as_array()
        .and_then(|alerts| {
            alerts
                .iter()
                .find(|alert| alert["rule"] == "StructuringRule")
        })
        .expect("the third is structuring");
    assert_eq!(structuring["metadata"]["num_transactions"], 3);
}

#[actix_web::test]
async fn the_seed_trade_gets_the_documented_shape_and_a_pump_is_caught_with_its_figures() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let trade = |price: f64, volume: f64, at: String| json!({"symbol": "MSFT", "price": price, "volume": volume, "trader_id": "TR-99", "timestamp": at});
    // Ten quiet days of 2,000 shares at about 340, then a day of rising price on heavy volume.
    let first_day = chrono::DateTime::parse_from_rfc3339("2026-01-29T15:00:00Z").expect("valid");
    for day in 0..10 {
        let at = (first_day + chrono::Duration::days(day)).to_rfc3339();
        let reply = send(
            &client.app,
            post(
                "/api/market/detect/",
                Some(&client.token),
                &trade(340.0, 2000.0, at),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        assert_eq!(reply.json()["alerts"], json!([]));
    }
    send(
        &client.app,
        post(
            "/api/market/detect/",
            Some(&client.token),
            &trade(340.4, 2000.0, "2026-02-08T13:00:00Z".into()),
        ),
    )
    .await;
    send(
        &client.app,
        post(
            "/api/market/detect/",
            Some(&client.token),
            &trade(380.0, 3400.0, "2026-02-09T04:00:00Z".into()),
        ),
    )
    .await;
    let reply = send(
        &client.app,
        post(
            "/api/market/detect/",
            Some(&client.token),
            &trade(425.5, 5000.0, "2026-02-09T09:18:20.112Z".into()),
        ),
    )
    .await;
    let body = reply.json();
    let mut first_alert_only = body.clone();
    first_alert_only["alerts"] = json!([body["alerts"][0].clone()]);
    assert_eq!(
        shape(&first_alert_only),
        json!({"id": "integer", "symbol": "string", "price": "float", "volume": "float", "trader_id": "string",
               "manipulation_risk": "float", "flagged": "boolean", "timestamp": "string",
               "alerts": [{"rule": "string", "alert_type": "string", "severity": "string", "confidence": "float",
                           "reason": "string", "evidence": ["string", "string"]}],
               "event_type": "string", "model_score": "float", "ruleset_version": "integer", "model_warming_up": "boolean"})
    );
    // A 25% move against ten days of a flat price is also unusual for the symbol; the model is
    // warming up (13 decisions stored), so its alert is silent.
    assert_eq!(rules_of(&body), ["Pump And Dump", "Unusual Activity"]);
    let alert = &body["alerts"][0];
    assert_eq!(alert["alert_type"], "pump_and_dump");
    assert_eq!(alert["severity"], "HIGH");
    assert_eq!(
        alert["evidence"],
        json!([
            "Trading volume 5.2x higher than 30-day average",
            "Price surged 25.0% in 24 hours"
        ])
    );
    assert_eq!(alert["confidence"], 0.71, "the seed's own figure");
    assert_eq!(
        alert["reason"],
        "Pump and dump pattern detected (score: 0.71)"
    );
    let none = body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter_map(|alert| alert["confidence"].as_f64())
        .fold(1.0, |product, confidence| product * (1.0 - confidence));
    assert_eq!(
        body["manipulation_risk"],
        json!(((1.0 - none) * 1000.0).round() / 10.0)
    );
    assert_eq!(body["event_type"], "trade");
    assert_eq!(body["timestamp"], "2026-02-09T09:18:20.112Z");
}

#[actix_web::test]
async fn orders_cancels_and_a_self_trade_flow_through_the_market_endpoint() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let (token, _) = login(&app, &test_app, "surveillance").await;
    let event = |fields: Value| {
        let mut body = json!({"symbol": "ACME", "price": 20.0, "volume": 4000, "trader_id": "TR-1",
                              "timestamp": "2026-02-10T15:00:00Z"});
        if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
            body.extend(fields);
        }
        body
    };
    let order = event(json!({"event_type": "order", "side": "sell", "order_id": "O-1"}));
    let reply = send(&app, post("/api/market/detect/", Some(&token), &order)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["event_type"], "order");
    assert_eq!(body["order_id"], "O-1");
    assert_eq!(body["side"], "sell");
    let resent = send(&app, post("/api/market/detect/", Some(&token), &order)).await;
    assert_eq!(
        resent.status,
        StatusCode::OK,
        "an order id makes a resend idempotent"
    );

    let self_trade = event(
        json!({"side": "buy", "counterparty_id": "TR-1", "volume": 500,
                                  "timestamp": "2026-02-10T15:00:05Z"}),
    );
    let body = send(&app, post("/api/market/detect/", Some(&token), &self_trade))
        .await
        .json();
    assert_eq!(body["alerts"][0]["rule"], "Wash Trade");
    assert_eq!(body["alerts"][0]["severity"], "CRITICAL");
    assert_eq!(body["flagged"], json!(true));

    let bad = event(json!({"event_type": "cancel", "side": "short"}));
    let reply = send(&app, post("/api/market/detect/", Some(&token), &bad)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"order_id": ["This field is required for a cancel."],
               "side": ["\"short\" is not a valid choice."]})
    );
}
