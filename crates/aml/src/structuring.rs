use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::windows::{sender_outflows, since};
use crate::{AmlConfig, Transaction};

/// Structuring ("smurfing"): several transfers kept just under the reporting threshold (in the
/// band from `near_threshold_ratio` of it) whose sum exceeds it, from one sender within a short
/// window, none of them at or above it. Ordinary payments below the band are not structuring,
/// and a sender that also moves amounts above the threshold in the window is not avoiding it.
#[derive(Debug, Clone)]
pub struct StructuringRule {
    threshold: f64,
    window: Duration,
    min_transactions: usize,
    near_ratio: f64,
}

impl StructuringRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            threshold: config.reporting_threshold,
            window: Duration::hours(i64::from(config.structuring_window_hours)),
            min_transactions: config.structuring_min_transactions.max(2) as usize,
            near_ratio: config.near_threshold_ratio,
        }
    }
}

impl Rule<Transaction> for StructuringRule {
    fn name(&self) -> &'static str {
        "StructuringRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        if transaction.amount >= self.threshold {
            return None;
        }
        let band = self.near_ratio * self.threshold;
        if transaction.amount < band {
            return None;
        }
        let recent = since(
            history.get(&sender_outflows(transaction)),
            transaction.at - self.window,
        );
        if recent.iter().any(|past| past.amount >= self.threshold) {
            return None;
        }
        let amounts: Vec<f64> = recent
            .iter()
            .filter(|past| past.amount >= band)
            .map(|past| past.amount)
            .chain(std::iter::once(transaction.amount))
            .collect();
        let count = amounts.len();
        let total: f64 = amounts.iter().sum();
        if count < self.min_transactions || total <= self.threshold {
            return None;
        }
        let near = count;
        let extra = (count - self.min_transactions).min(5) as f64;
        let confidence = (0.8 + 0.03 * extra).min(0.95);
        let hours = self.window.num_hours();
        Some(
            Alert::new(
                self.name(),
                "structuring",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Structuring detected: {count} transactions totaling ${total:.2} in {hours}h, \
                     all below ${:.1} threshold",
                    self.threshold
                ),
            )
            .with_metadata("num_transactions", count)
            .with_metadata("total_amount", round_cents(total))
            .with_metadata("threshold", self.threshold)
            .with_metadata("window_hours", hours)
            .with_metadata("near_threshold_transactions", near)
            .with_evidence(format!(
                "{near} of {count} transactions are at or above {:.0}% of the threshold",
                self.near_ratio * 100.0
            )),
        )
    }
}

fn round_cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
