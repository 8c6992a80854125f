use chrono::Duration;
use redflag_core::{
    Activity, Detector, EntityKind, History, Module, Observation, Rule, RuleSet, Verdict, WindowKey,
};

use redflag_ml_core::IsolationForest;

use crate::{AmlConfig, StructuringRule, Transaction, model};

/// The AML engine: the transaction-monitoring rules over the sender's recent transfers.
pub struct AmlDetector {
    config: AmlConfig,
    rules: RuleSet<Transaction>,
    model: Option<IsolationForest>,
}

impl AmlDetector {
    pub fn new(config: AmlConfig) -> Self {
        let rules: Vec<Box<dyn Rule<Transaction>>> = vec![Box::new(StructuringRule::new(&config))];
        Self {
            config,
            rules: RuleSet::new(rules),
            model: None,
        }
    }

    /// Scores every transfer with this anomaly model too (its features: [`crate::model::FEATURES`]).
    pub fn with_model(mut self, model: IsolationForest) -> Self {
        self.model = Some(model);
        self
    }

    /// How far back any rule looks, so the window keeps exactly what the rules need.
    fn horizon(&self) -> Duration {
        Duration::hours(i64::from(self.config.structuring_window_hours))
    }
}

/// The window of transfers sent by the transaction's sender.
pub(crate) fn sender_window(transaction: &Transaction) -> WindowKey {
    WindowKey::new(Module::Aml, EntityKind::Sender, &transaction.sender_id)
}

/// The AML verdict on one transfer: `risk` is the contract's `risk_score`.
pub type AmlAssessment = Verdict;

impl Detector for AmlDetector {
    type Event = Transaction;
    type Assessment = AmlAssessment;

    const MODULE: Module = Module::Aml;

    fn observations(&self, transaction: &Transaction) -> Vec<Observation> {
        vec![Observation {
            key: sender_window(transaction),
            activity: Activity {
                at: transaction.at,
                reference: transaction.transaction_id.clone(),
                amount: transaction.amount,
                quantity: 0.0,
            },
            horizon: self.horizon(),
        }]
    }

    fn detect(&self, transaction: &Transaction, history: &History) -> AmlAssessment {
        let model_score = self
            .model
            .as_ref()
            .and_then(|model| model.score(&model::features(transaction, history)).ok());
        Verdict::from_alerts(
            self.rules.evaluate(transaction, history),
            self.config.flag_risk_score,
        )
        .with_model_score(model_score)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde_json::json;

    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-02-09T09:00:00Z")
            .expect("a valid time")
            .with_timezone(&Utc)
            + Duration::minutes(minutes)
    }

    fn transfer(id: &str, amount: f64, minutes: i64) -> Transaction {
        let body = json!({"transaction_id": id, "user_id": "U-1", "amount": amount,
                          "sender_id": "S-1", "receiver_id": "R-1"});
        Transaction::parse(&body, at(minutes)).expect("a valid transfer")
    }

    /// Runs a sequence through the detector the way the gateway does, returning the last verdict.
    fn run(detector: &AmlDetector, transfers: &[Transaction]) -> AmlAssessment {
        let mut past: Vec<Activity> = Vec::new();
        let mut last = None;
        for transfer in transfers {
            let observation = detector.observations(transfer).remove(0);
            let since = transfer.at - observation.horizon;
            let mut history = History::new();
            history.insert(
                observation.key.clone(),
                past.iter()
                    .filter(|a| a.at >= since && a.at <= transfer.at)
                    .cloned()
                    .collect(),
            );
            last = Some(detector.detect(transfer, &history));
            past.push(observation.activity);
        }
        last.expect("at least one transfer")
    }

    #[test]
    fn structuring_fires_on_the_third_deposit_below_threshold() {
        let detector = AmlDetector::new(AmlConfig::default());
        let transfers = [
            transfer("T1", 9800.0, 0),
            transfer("T2", 9900.0, 60),
            transfer("T3", 9800.0, 120),
        ];
        assert!(run(&detector, &transfers[..2]).alerts.is_empty());
        let verdict = run(&detector, &transfers);
        assert_eq!(verdict.alerts.len(), 1);
        let alert = &verdict.alerts[0];
        assert_eq!(alert.rule, "StructuringRule");
        assert_eq!(
            alert.reason,
            "Structuring detected: 3 transactions totaling $29500.00 in 24h, all below $10000.0 threshold"
        );
        assert_eq!(alert.metadata["num_transactions"], json!(3));
        assert_eq!(alert.metadata["total_amount"], json!(29500.0));
        assert_eq!(alert.severity, redflag_core::Severity::High);
        assert_eq!(alert.confidence, 0.8);
        assert_eq!(verdict.risk, 80.0);
        assert!(verdict.flagged);
    }

    #[test]
    fn transfers_spread_beyond_the_window_stay_quiet() {
        let detector = AmlDetector::new(AmlConfig::default());
        let transfers = [
            transfer("T1", 9800.0, 0),
            transfer("T2", 9900.0, 25 * 60),
            transfer("T3", 9800.0, 50 * 60),
        ];
        let verdict = run(&detector, &transfers);
        assert!(verdict.alerts.is_empty());
        assert_eq!(verdict.risk, 0.0);
        assert!(!verdict.flagged);
    }

    #[test]
    fn small_payments_whose_sum_stays_under_the_threshold_stay_quiet() {
        let detector = AmlDetector::new(AmlConfig::default());
        let transfers = [
            transfer("T1", 120.0, 0),
            transfer("T2", 80.0, 10),
            transfer("T3", 45.5, 20),
        ];
        assert!(run(&detector, &transfers).alerts.is_empty());
    }

    #[test]
    fn a_transfer_at_the_threshold_is_not_structuring() {
        let detector = AmlDetector::new(AmlConfig::default());
        let transfers = [
            transfer("T1", 9800.0, 0),
            transfer("T2", 9900.0, 10),
            transfer("T3", 10_000.0, 20),
        ];
        assert!(run(&detector, &transfers).alerts.is_empty());
    }

    #[test]
    fn many_small_transfers_adding_up_are_structuring_with_lower_confidence() {
        let detector = AmlDetector::new(AmlConfig::default());
        let transfers: Vec<_> = (0..4)
            .map(|i| transfer(&format!("T{i}"), 3000.0, i * 30))
            .collect();
        let verdict = run(&detector, &transfers);
        assert_eq!(verdict.alerts.len(), 1);
        assert_eq!(verdict.alerts[0].metadata["num_transactions"], json!(4));
        assert!(
            verdict.alerts[0].confidence < 0.8,
            "none is near the threshold"
        );
    }
}
