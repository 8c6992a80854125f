use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::windows::{cents, distinct_counterparties, sender_inflows, sender_outflows, since};
use crate::{AmlConfig, Transaction};

/// Rapid movement (pass-through, layering): an account sends on most of what it received within
/// hours, keeping little: the signature of mule and layering accounts.
#[derive(Debug, Clone)]
pub struct PassThroughRule {
    ratio: f64,
    window: Duration,
    min_amount: f64,
}

impl PassThroughRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            ratio: config.pass_through_ratio,
            window: Duration::hours(i64::from(config.pass_through_window_hours)),
            min_amount: config.pass_through_min_amount,
        }
    }
}

impl Rule<Transaction> for PassThroughRule {
    fn name(&self) -> &'static str {
        "RapidMovementRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        let from = transaction.at - self.window;
        let inflows = since(history.get(&sender_inflows(transaction)), from);
        let received: f64 = inflows.iter().map(|inflow| inflow.amount).sum();
        // Nothing received is never pass-through, whatever the configured minimum.
        if received <= 0.0 || received < self.min_amount {
            return None;
        }
        let sent = since(history.get(&sender_outflows(transaction)), from)
            .iter()
            .map(|past| past.amount)
            .sum::<f64>()
            + transaction.amount;
        let ratio = sent / received;
        if ratio < self.ratio {
            return None;
        }
        let senders = distinct_counterparties(inflows, None);
        let strength = ((ratio - self.ratio) / (1.0 - self.ratio).max(0.01)).clamp(0.0, 1.0);
        let confidence = 0.5 + 0.35 * strength;
        let hours = self.window.num_hours();
        Some(
            Alert::new(
                self.name(),
                "rapid_movement",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Rapid movement: ${sent:.2} of ${received:.2} received in {hours}h sent on again ({:.0}%)",
                    ratio * 100.0
                ),
            )
            .with_metadata("inflow_amount", cents(received))
            .with_metadata("outflow_amount", cents(sent))
            .with_metadata("ratio", (ratio * 100.0).round() / 100.0)
            .with_metadata("inflow_senders", senders)
            .with_metadata("window_hours", hours),
        )
    }
}
