use redflag_core::{Alert, History, Rule, Severity};

use crate::{AmlConfig, Transaction};

/// A transfer at or above the reporting threshold: for cash, the currency-transaction-report
/// trigger; otherwise a supporting signal only (brokers, escrow and businesses move such amounts
/// every day).
#[derive(Debug, Clone)]
pub struct LargeTransactionRule {
    threshold: f64,
}

impl LargeTransactionRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            threshold: config.reporting_threshold,
        }
    }
}

impl Rule<Transaction> for LargeTransactionRule {
    /// It reads the event alone.
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "LargeTransactionRule"
    }

    fn evaluate(&self, transaction: &Transaction, _history: &History) -> Option<Alert> {
        if transaction.amount < self.threshold {
            return None;
        }
        let cash = transaction
            .transaction_type
            .is_some_and(|kind| kind.is_cash());
        let excess = ((transaction.amount / self.threshold - 1.0) / 4.0).min(1.0);
        let confidence = if cash { 0.6 } else { 0.4 } + 0.2 * excess;
        let kind = if cash {
            "Large cash transaction"
        } else {
            "Large transaction"
        };
        let mut alert = Alert::new(
            self.name(),
            "large_transaction",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "{kind}: ${:.2} at or above the ${:.1} reporting threshold",
                transaction.amount, self.threshold
            ),
        )
        .with_metadata("amount", transaction.amount)
        .with_metadata("threshold", self.threshold)
        .with_metadata("cash", cash);
        if cash {
            alert = alert.with_evidence(
                "Cash at or above the threshold requires a currency transaction report",
            );
        } else {
            alert = alert.supporting();
        }
        Some(alert)
    }
}
