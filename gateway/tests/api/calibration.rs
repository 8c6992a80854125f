//! Anomaly alerts calibrated to the deployment's own traffic: silent while the model warms up
//! (and the responses say so), then retrained on that traffic and fired from the score a set
//! share of it reaches, with each feature's drift; admins calibrate at once, and it is audited.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, get, post, send, shape};

/// An ordinary transfer of the test's population: seven senders paying five receivers 100 to
/// 1,000 during business hours, one an hour from 2026-03-02 (the event time is fixed: the
/// model reads the hour of day).
fn ordinary(i: usize) -> Value {
    let day = 2 + i / 9;
    let hour = 9 + i % 9;
    json!({"transaction_id": format!("CAL-{i}"), "user_id": "U-1",
           "amount": 100.0 + (i as f64 * 37.0) % 900.0,
           "sender_id": format!("S-{}", i % 7), "receiver_id": format!("R-{}", i % 5),
           "timestamp": format!("2026-03-{day:02}T{hour:02}:15:00Z")})
}

fn calibrate(token: &str) -> actix_web::test::TestRequest {
    post("/api/models/calibrate/", Some(token), &json!({}))
}

#[actix_web::test]
async fn the_anomaly_alert_warms_up_then_fires_from_the_deployments_own_traffic() {
    let test_app = TestApp::spawn_with(|settings| {
        settings.models.calibration_min_events = 60;
        settings.models.anomaly_alert_rate = 0.02;
    });
    let analyst = test_app.login_as_analyst().await;
    let admin = test_app.login_as_admin().await;
    for i in 0..59 {
        let reply = analyst.detect_aml(&ordinary(i)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let body = reply.json();
        assert_eq!(body["model_warming_up"], true, "{body}");
        assert_eq!(body["alerts"], json!([]), "nothing fires while warming up");
    }

    // Analysts may not calibrate; admins may, and 59 stored decisions are still a warm-up.
    let refused = send(&analyst.app, calibrate(&analyst.token)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let warming = send(&analyst.app, calibrate(&admin.token)).await;
    assert_eq!(warming.status, StatusCode::OK, "{}", warming.text);
    let aml = &warming.json()["aml"];
    assert_eq!(aml["source"], "synthetic defaults");
    assert_eq!(aml["anomaly_alert"]["status"], "warming_up");
    assert_eq!(aml["anomaly_alert"]["events"], 59);
    assert_eq!(aml["anomaly_alert"]["min_events"], 60);
    assert!(aml["anomaly_alert"].get("threshold").is_none());
    // Drift is measured all the same: business hours in one week are not the synthetic world.
    let drift = aml["anomaly_alert"]["drift"].as_array().expect("a list");
    let features: Vec<&str> = drift
        .iter()
        .filter_map(|feature| feature["feature"].as_str())
        .collect();
    assert_eq!(
        features,
        [
            "log_amount",
            "hour_of_day",
            "sender_transfers_24h",
            "sender_log_amount_24h",
            "amount_to_sender_mean",
            "sender_distinct_receivers_24h"
        ]
    );
    let hour = drift[1]["psi"].as_f64().expect("a number");
    assert!(hour > 0.25, "hours 9-17 only against a whole day: {hour}");

    // The 60th decision ends the warm-up: the synthetic model is retrained on the traffic and
    // the threshold is the score 2% of it reaches.
    send(
        &analyst.app,
        post("/api/aml/detect/", Some(&analyst.token), &ordinary(59)),
    )
    .await;
    let calibrated = send(&analyst.app, calibrate(&admin.token)).await;
    assert_eq!(calibrated.status, StatusCode::OK, "{}", calibrated.text);
    let aml = calibrated.json()["aml"].clone();
    assert_eq!(aml["source"], "the 60 most recent aml decisions");
    assert_eq!(
        aml["training_rows"], 48,
        "80% of them; the rest is held out"
    );
    let alert = &aml["anomaly_alert"];
    assert_eq!(
        shape(alert),
        json!({"status": "string", "threshold": "float", "alert_rate": "float", "events": "integer",
               "min_events": "integer", "calibrated_at": "string",
               "drift": vec![json!({"feature": "string", "psi": "float"}); 6]})
    );
    assert_eq!(
        (alert["status"].clone(), alert["events"].clone()),
        (json!("calibrated"), json!(60))
    );
    let threshold = alert["threshold"].as_f64().expect("a threshold");
    let retrained_hour = alert["drift"][1]["psi"].as_f64().expect("a number");
    assert!(
        retrained_hour < 0.1,
        "trained on this traffic, the hours are its own: {retrained_hour}"
    );
    // Prometheus has the calibration too (the recorder is shared by the tests of this process,
    // so only the series are checked, not their values).
    let metrics = send(&analyst.app, get("/api/prometheus/", None)).await.text;
    for series in [
        "redflag_anomaly_threshold{module=\"aml\"}",
        "redflag_anomaly_warming_up{module=\"insurance\"}",
        "redflag_model_feature_psi{module=\"aml\",feature=\"hour_of_day\"}",
    ] {
        assert!(metrics.contains(series), "{series} in {metrics}");
    }
    // Everyone sees the same on GET.
    let listed = analyst.get("/api/models/").await.json();
    assert_eq!(listed["aml"]["anomaly_alert"], *alert);
    // Still warming up elsewhere: nothing stored for insurance.
    assert_eq!(listed["insurance"]["anomaly_alert"]["status"], "warming_up");

    // An ordinary transfer like the others: no warm-up flag, no anomaly.
    let usual = send(
        &analyst.app,
        post("/api/aml/detect/", Some(&analyst.token), &ordinary(61)),
    )
    .await
    .json();
    assert!(usual.get("model_warming_up").is_none(), "{usual}");
    assert_eq!(usual["alerts"], json!([]));
    // A transfer unlike the deployment's: the calibrated alert fires, a supporting signal.
    let odd = json!({"transaction_id": "CAL-ODD", "user_id": "U-9", "amount": 4_321.0,
                     "sender_id": "S-NEW", "receiver_id": "R-NEW", "timestamp": "2026-03-12T03:40:00Z"});
    let body = send(
        &analyst.app,
        post("/api/aml/detect/", Some(&analyst.token), &odd),
    )
    .await
    .json();
    let anomaly = body["alerts"]
        .as_array()
        .and_then(|alerts| alerts.iter().find(|alert| alert["rule"] == "AnomalyRule"))
        .unwrap_or_else(|| panic!("the anomaly alert: {body}"));
    assert_eq!(anomaly["metadata"]["supporting"], true);
    assert_eq!(
        anomaly["metadata"]["threshold"],
        (threshold * 1000.0).round() / 1000.0
    );
    assert!(
        body["model_score"].as_f64().expect("a score") >= threshold,
        "{body}"
    );

    // The calibration that changed where the alert fires is audited as the admin's.
    test_app.embedded_worker_pass();
    let history = send(
        &analyst.app,
        get("/api/audit/?entity_id=aml.anomaly", Some(&analyst.token)),
    )
    .await
    .json();
    assert_eq!(
        history["count"], 1,
        "the warm-up changed nothing: {history}"
    );
    assert_eq!(history["results"][0]["kind"], "anomaly.calibrated");
    assert_eq!(history["results"][0]["actor"], "admin");
    // So is the retraining that ended the warm-up, with what it learned.
    let trained = send(
        &analyst.app,
        get("/api/audit/?entity_id=model:aml", Some(&analyst.token)),
    )
    .await
    .json();
    assert_eq!(trained["results"][0]["kind"], "model.trained");
    assert_eq!(trained["results"][0]["actor"], "admin");
    assert_eq!(
        trained["results"][0]["payload"]["details"]["source"],
        "the 60 most recent aml decisions"
    );
}

#[actix_web::test]
async fn without_calibration_the_training_threshold_applies_from_the_first_event() {
    let test_app = TestApp::spawn_with(|settings| settings.models.anomaly_alert_rate = 0.0);
    let analyst = test_app.login_as_analyst().await;
    let admin = test_app.login_as_admin().await;
    let body = send(
        &analyst.app,
        post("/api/aml/detect/", Some(&analyst.token), &ordinary(0)),
    )
    .await
    .json();
    assert!(body.get("model_warming_up").is_none(), "{body}");
    let models = send(&analyst.app, calibrate(&admin.token)).await.json();
    let alert = &models["market"]["anomaly_alert"];
    assert_eq!(alert["status"], "training_threshold");
    assert_eq!(alert["threshold"], models["market"]["metrics"]["threshold"]);
    assert!(alert.get("calibrated_at").is_none(), "nothing was stored");
}
