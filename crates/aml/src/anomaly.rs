use redflag_core::{Alert, Severity};
use redflag_ml_core::IsolationForest;
use serde_json::json;

use crate::model::FEATURES;

/// The anomaly model's alert: a transfer scoring at or above the threshold the model was trained
/// with (the score that flags the expected anomaly share of its training data).
///
/// It is a behavioural signal, not a typology, so its confidence stays in 0.30-0.45 (low to
/// medium): it draws an analyst's eye and adds to the risk, but alone it stays under the default
/// flagging score (50).
pub(crate) struct AnomalyAlert<'a> {
    pub model: &'a IsolationForest,
    pub threshold: f64,
}

impl AnomalyAlert<'_> {
    pub fn evaluate(&self, features: &[f64; 6], score: f64) -> Option<Alert> {
        if score < self.threshold {
            return None;
        }
        let excess = ((score - self.threshold) / (1.0 - self.threshold).max(0.01)).clamp(0.0, 1.0);
        let confidence = 0.3 + 0.15 * excess;
        let shares = self.model.explain(features).ok()?;
        let mut drivers: Vec<(&str, f64)> = FEATURES.iter().copied().zip(shares).collect();
        drivers.sort_by(|a, b| b.1.total_cmp(&a.1));
        drivers.truncate(3);
        let names: Vec<&str> = drivers.iter().map(|(name, _)| *name).collect();
        let mut alert = Alert::new(
            "AnomalyRule",
            "anomaly",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Unusual behaviour: anomaly score {score:.2} at or above the model's {:.2} threshold, driven by {}",
                self.threshold,
                names.join(", ")
            ),
        )
        .with_metadata("model_score", (score * 1000.0).round() / 1000.0)
        .with_metadata("threshold", (self.threshold * 1000.0).round() / 1000.0)
        .with_metadata(
            "features",
            FEATURES
                .iter()
                .zip(features)
                .map(|(name, value)| ((*name).to_owned(), json!((value * 1000.0).round() / 1000.0)))
                .collect::<serde_json::Map<_, _>>(),
        )
        .with_metadata(
            "drivers",
            drivers
                .iter()
                .map(|(name, share)| json!({"feature": name, "share": (share * 100.0).round() / 100.0}))
                .collect::<Vec<_>>(),
        );
        for (name, share) in &drivers {
            alert = alert.with_evidence(format!(
                "{name}: {:.0}% of the isolating splits",
                share * 100.0
            ));
        }
        Some(alert)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use redflag_core::{Detector, History};
    use redflag_ml_core::{IsolationForestParams, train_isolation_forest};

    use crate::{AmlConfig, AmlDetector, Transaction};

    fn detector() -> AmlDetector {
        let artifact = train_isolation_forest(
            &crate::model::synthetic(6000, 3),
            IsolationForestParams::default(),
        )
        .expect("trains");
        AmlDetector::new(AmlConfig::default())
            .with_model(artifact.model)
            .with_anomaly_threshold(artifact.metrics["threshold"])
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
}
