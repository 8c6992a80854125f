//! The anomaly model's alert on transfers, raised through `redflag_ml_core::anomaly_alert`.

use chrono::Utc;
use redflag_core::{Detector, History};
use redflag_ml_core::{IsolationForestParams, train_isolation_forest};

use redflag_aml::{AmlConfig, AmlDetector, Transaction};

fn detector() -> AmlDetector {
    let artifact = train_isolation_forest(
        &redflag_aml::model::synthetic(6000, 3),
        IsolationForestParams::default(),
    )
    .expect("trains");
    AmlDetector::new(AmlConfig::default())
        .expect("the default settings are valid")
        .with_model(artifact)
}

fn transfer(amount: f64, at: &str) -> Transaction {
    let body = serde_json::json!({"transaction_id": "T", "user_id": "U", "amount": amount,
                                  "sender_id": "S", "receiver_id": "R", "timestamp": at});
    Transaction::parse(&body, Utc::now()).expect("valid")
}

#[test]
fn an_outlier_raises_an_explained_low_to_medium_alert_that_does_not_flag_alone() {
    let detector = detector();
    // Below every typology's threshold, but large for a first transfer and in the small hours.
    let verdict = detector.detect(&transfer(8_700.5, "2026-02-09T03:00:00Z"), &History::new());
    let alert = verdict
        .alerts
        .iter()
        .find(|a| a.rule == "AnomalyRule")
        .expect("an anomaly");
    assert!(
        alert.confidence >= 0.3 && alert.confidence <= 0.45,
        "{}",
        alert.confidence
    );
    assert!(
        alert
            .reason
            .starts_with("Unusual behaviour: anomaly score "),
        "{}",
        alert.reason
    );
    assert_eq!(alert.metadata["drivers"].as_array().map(Vec::len), Some(3));
    assert!(
        alert.metadata["features"]["log_amount"]
            .as_f64()
            .is_some_and(|v| v > 9.0)
    );
    assert_eq!(verdict.alerts.len(), 1, "{:?}", verdict.alerts);
    assert!(
        !verdict.flagged,
        "the model alone does not flag: risk {}",
        verdict.risk
    );

    let ordinary = detector.detect(&transfer(245.3, "2026-02-09T14:00:00Z"), &History::new());
    assert!(ordinary.alerts.is_empty(), "{:?}", ordinary.alerts);
    assert!(ordinary.model_score.is_some_and(|score| score < 0.6));
}
