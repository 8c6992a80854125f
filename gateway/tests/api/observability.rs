use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{TestApp, get, post, send, shape};

#[actix_web::test]
async fn health_is_public_and_reports_the_database_and_redis() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let reply = send(&app, get("/api/health/", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let backend = test_app.sandbox.database.backend().as_str();
    assert_eq!(
        reply.json(),
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"),
               "database": {"status": "ok", "backend": backend},
               "redis": {"status": "not configured"}, "windows": "in-process"})
    );
}

#[actix_web::test]
async fn statistics_aggregate_what_was_decided() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let mut replies = Vec::new();
    for i in 0..3 {
        let request = json!({"transaction_id": format!("T{i}"), "user_id": "U", "amount": 9800 + i,
                             "sender_id": "S", "receiver_id": "R"});
        replies.push(
            send(
                &client.app,
                post("/api/aml/detect/", Some(&client.token), &request),
            )
            .await
            .json(),
        );
    }
    let claim = json!({"claim_id": "C1", "policy_id": "P", "claim_amount": 100, "estimated_value": 52000, "market_value": 32000});
    replies.push(
        send(
            &client.app,
            post("/api/insurance/detect/", Some(&client.token), &claim),
        )
        .await
        .json(),
    );

    // Sent at the current hour, so the anomaly model's view of them follows the clock: the
    // expected aggregates are computed from what the responses said.
    let aml_risks: Vec<f64> = replies[..3]
        .iter()
        .filter_map(|r| r["risk_score"].as_f64())
        .collect();
    let average_risk = (aml_risks.iter().sum::<f64>() / 3.0 * 10.0).round() / 10.0;
    let aml_flagged = replies[..3].iter().filter(|r| r["flagged"] == true).count();
    // (module, rule, severity) of every alert answered; the first three replies are AML's.
    let alerts: Vec<(&str, String, String)> = replies
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            let module = if i < 3 { "aml" } else { "insurance" };
            r["alerts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |a| (module, a))
        })
        .map(|(module, a)| {
            (
                module,
                a["rule"].as_str().unwrap_or_default().to_owned(),
                a["severity"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let count = |severity: &str| alerts.iter().filter(|(_, _, s)| s == severity).count();
    // Top rules count per module and rule, most frequent first, then by module and rule.
    let mut expected_rules: Vec<(usize, &str, String)> = Vec::new();
    for (module, rule, _) in &alerts {
        if !expected_rules
            .iter()
            .any(|(_, m, r)| m == module && r == rule)
        {
            let n = alerts
                .iter()
                .filter(|(m, r, _)| m == module && r == rule)
                .count();
            expected_rules.push((n, module, rule.clone()));
        }
    }
    expected_rules.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.2.cmp(&b.2))
            .then_with(|| a.1.cmp(b.1))
    });

    let reply = client.get("/api/statistics/").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["total_detections"], 4);
    assert_eq!(body["total_flagged"], aml_flagged + 1);
    assert_eq!(
        body["modules"]["aml"],
        json!({"total": 3, "flagged": aml_flagged, "flag_rate": ((aml_flagged as f64 / 3.0) * 10_000.0).round() / 10_000.0,
               "average_risk": average_risk})
    );
    assert_eq!(aml_flagged, 1, "the third transfer is structuring");
    assert_eq!(body["rule_precision"], json!([]), "no case closed yet");
    assert_eq!(
        body["modules"]["credit"],
        json!({"total": 0, "flagged": 0, "flag_rate": 0.0, "average_risk": null})
    );
    assert_eq!(
        body["alerts_by_severity"],
        json!({"low": count("low"), "medium": count("medium"), "high": count("high"), "critical": count("critical")})
    );
    assert!(count("high") >= 1 && count("medium") >= 1);
    let rules: Vec<String> = body["top_rules"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["rule"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        rules,
        expected_rules
            .into_iter()
            .map(|(_, _, rule)| rule)
            .collect::<Vec<_>>()
    );
    assert!(
        rules.contains(&"StructuringRule".to_owned())
            && rules.contains(&"PropertyInflationRule".to_owned())
    );
    let hourly = body["hourly"].as_array().expect("24 hours");
    assert_eq!(hourly.len(), 24);
    assert_eq!(hourly[23]["total"], 4, "all four happened this hour");
    let module_hour = |module: &str| json!({"total": body["modules"][module]["total"], "flagged": body["modules"][module]["flagged"]});
    assert_eq!(
        hourly[23]["modules"],
        json!({"aml": module_hour("aml"), "credit": {"total": 0, "flagged": 0},
               "insurance": module_hour("insurance"), "market": module_hour("market")}),
        "the dashboard's per-module series"
    );
    let quiet = json!({"total": 0, "flagged": 0});
    assert_eq!(
        shape(&hourly[0]),
        json!({"hour": "string", "total": "integer", "flagged": "integer",
               "modules": {"aml": {"total": "integer", "flagged": "integer"},
                           "credit": {"total": "integer", "flagged": "integer"},
                           "insurance": {"total": "integer", "flagged": "integer"},
                           "market": {"total": "integer", "flagged": "integer"}}})
    );
    assert_eq!(
        hourly[0]["modules"],
        json!({"aml": quiet, "credit": quiet, "insurance": quiet, "market": quiet})
    );
}

#[actix_web::test]
async fn the_metrics_snapshot_counts_windows_detections_and_queued_audits() {
    // With separate workers, records wait in the outbox until one applies them.
    let test_app = TestApp::spawn_with(|settings| {
        settings.statistics.cache_seconds = 60;
        settings.audit.embedded_worker = false;
    });
    let client = test_app.login_as_analyst().await;
    for i in 0..2 {
        let request = json!({"transaction_id": format!("T{i}"), "user_id": "U", "amount": 50, "sender_id": "S", "receiver_id": "R"});
        client.detect_aml(&request).await;
    }
    client.get("/api/statistics/").await;
    client.get("/api/statistics/").await;
    let reply = client.get("/api/metrics/").await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    // Each small transfer looks up three windows (the sender's outflows and daily sums, the
    // receiver's inflows); the second finds the first in all three.
    assert_eq!(
        body["cache"],
        json!({"backend": "in-process", "hits": 3, "misses": 3, "hit_rate": 0.5})
    );
    assert_eq!(body["statistics_cache"], json!({"hits": 1, "misses": 1}));
    assert_eq!(body["detections"]["aml"], json!({"total": 2, "flagged": 0}));
    assert_eq!(
        body["detections"]["market"],
        json!({"total": 0, "flagged": 0})
    );
    assert_eq!(
        body["audits"]["queued"], 3,
        "two decisions and the login's token"
    );
    assert_eq!(body["audits"]["applied"], 0);
    assert!(
        body["audits"]["lag_seconds"]
            .as_f64()
            .is_some_and(|lag| lag >= 0.0)
    );
    assert!(body["uptime_seconds"].is_u64());

    // The worker applies them; the metrics say so.
    let applied =
        redflag_service::worker::drain(&test_app.state.db, &test_app.state.settings.audit)
            .expect("applies");
    assert_eq!(applied, 3);
    let body = client.get("/api/metrics/").await.json();
    assert_eq!(
        body["audits"],
        json!({"queued": 0, "pending": 0, "delivered": 3, "applied": 3, "retried": 0,
               "dead_lettered": 0, "lag_seconds": 0.0})
    );
}

#[actix_web::test]
async fn prometheus_exposes_requests_latency_detections_and_alerts() {
    let test_app = TestApp::spawn();
    let client = test_app.login_as_analyst().await;
    let claim = json!({"claim_id": "C1", "policy_id": "P", "claim_amount": 100, "estimated_value": 52000, "market_value": 32000});
    client.detect_insurance(&claim).await;
    redflag_service::worker::drain(&test_app.state.db, &test_app.state.settings.audit)
        .expect("applies");
    let reply = send(&client.app, get("/api/prometheus/", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let content_type = reply
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    for expected in [
        "redflag_http_requests_total{route=\"/api/insurance/detect/\",method=\"POST\",status=\"201\"}",
        "redflag_http_request_duration_seconds_bucket{route=\"/api/insurance/detect/\",method=\"POST\",status=\"201\",le=\"0.005\"}",
        "redflag_detections_total{module=\"insurance\",flagged=\"true\"}",
        "redflag_alerts_total{module=\"insurance\",rule=\"PropertyInflationRule\",severity=\"medium\"}",
        "redflag_audit_records_total{outcome=\"applied\"}",
        "redflag_audit_queued 0",
        "redflag_audit_lag_seconds 0",
    ] {
        assert!(
            reply.text.contains(expected),
            "missing {expected} in:\n{}",
            reply.text
        );
    }
}

#[actix_web::test]
async fn cors_allows_the_dashboard_origin_only() {
    let test_app = TestApp::spawn();
    let app = test_app.service().await;
    let preflight = |origin: &str| {
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/aml/detect/")
            .insert_header(("Origin", origin.to_owned()))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header((
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ))
    };
    let reply = send(&app, preflight("http://localhost:3000")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply
            .headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("http://localhost:3000")
    );
    let reply = send(&app, preflight("http://evil.example")).await;
    assert!(reply.headers.get("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn the_echo_route_for_load_baselines_exists_only_when_configured() {
    let body = json!({"transaction_id": "TXN-1", "amount": 9800.5, "nested": {"a": [1, 2]}});
    let off = TestApp::spawn();
    let app = off.service().await;
    let reply = send(&app, post("/api/echo/", None, &body)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json(), json!({"detail": "Not found."}));

    let on = TestApp::spawn_with(|settings| settings.server.echo_route = true);
    let app = on.service().await;
    let reply = send(&app, post("/api/echo/", None, &body)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), body);
    let reply = send(
        &app,
        TestRequest::post()
            .uri("/api/echo/")
            .insert_header(("Content-Type", "application/json"))
            .set_payload("{not json"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}
