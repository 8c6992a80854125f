use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::windows::{cents, sender_outflows, since};
use crate::{AmlConfig, Transaction};

/// Just-below-threshold clustering: amounts repeatedly kept within a narrow band under the
/// reporting threshold, over days rather than the hours of classic structuring. When every
/// clustered transfer falls inside the structuring window, the pattern is structuring's to report,
/// so the two rules never alert on the same burst twice.
#[derive(Debug, Clone)]
pub struct NearThresholdClusteringRule {
    threshold: f64,
    floor: f64,
    min_transactions: usize,
    window: Duration,
    structuring_window: Duration,
}

impl NearThresholdClusteringRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            threshold: config.reporting_threshold,
            floor: config.reporting_threshold * (1.0 - config.clustering_band),
            min_transactions: config.clustering_min_transactions.max(2) as usize,
            window: Duration::days(i64::from(config.clustering_window_days)),
            structuring_window: Duration::hours(i64::from(config.structuring_window_hours)),
        }
    }

    fn in_band(&self, amount: f64) -> bool {
        amount >= self.floor && amount < self.threshold
    }
}

impl Rule<Transaction> for NearThresholdClusteringRule {
    fn name(&self) -> &'static str {
        "NearThresholdClusteringRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        if !self.in_band(transaction.amount) {
            return None;
        }
        let recent = since(
            history.get(&sender_outflows(transaction)),
            transaction.at - self.window,
        );
        // A sender that also moves amounts above the threshold is not keeping under it.
        if recent.iter().any(|past| past.amount >= self.threshold) {
            return None;
        }
        let clustered: Vec<_> = recent
            .iter()
            .filter(|past| self.in_band(past.amount))
            .collect();
        let count = clustered.len() + 1;
        let within_hours = clustered
            .iter()
            .all(|past| past.at >= transaction.at - self.structuring_window);
        if count < self.min_transactions || within_hours {
            return None;
        }
        let amounts: Vec<f64> = clustered
            .iter()
            .map(|past| past.amount)
            .chain(std::iter::once(transaction.amount))
            .collect();
        let total: f64 = amounts.iter().sum();
        let confidence = (0.45 + 0.1 * (count - self.min_transactions) as f64).min(0.85);
        let days = self.window.num_days();
        Some(
            Alert::new(
                self.name(),
                "near_threshold_clustering",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Just-below-threshold clustering: {count} transactions between ${:.2} and ${:.1} in {days} days, totaling ${total:.2}",
                    self.floor, self.threshold
                ),
            )
            .with_metadata("num_transactions", count)
            .with_metadata("total_amount", cents(total))
            .with_metadata("band_floor", cents(self.floor))
            .with_metadata("threshold", self.threshold)
            .with_metadata("window_days", days),
        )
    }
}
