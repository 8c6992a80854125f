use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::windows::{cents, sender_outflows, since};
use crate::{AmlConfig, Transaction};

/// Repeated round amounts: whole multiples of a unit with no cents, again and again, which real
/// commerce rarely produces.
#[derive(Debug, Clone)]
pub struct RoundAmountRule {
    unit: f64,
    min_transactions: usize,
    window: Duration,
}

impl RoundAmountRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            unit: config.round_amount_unit.max(1.0),
            min_transactions: config.round_amount_min_transactions.max(2) as usize,
            window: Duration::days(i64::from(config.round_amount_window_days)),
        }
    }

    fn is_round(&self, amount: f64) -> bool {
        amount >= self.unit && (amount / self.unit).fract() == 0.0
    }
}

impl Rule<Transaction> for RoundAmountRule {
    fn name(&self) -> &'static str {
        "RoundAmountRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        if !self.is_round(transaction.amount) {
            return None;
        }
        let amounts: Vec<f64> = since(
            history.get(&sender_outflows(transaction)),
            transaction.at - self.window,
        )
        .iter()
        .map(|past| past.amount)
        .filter(|amount| self.is_round(*amount))
        .chain(std::iter::once(transaction.amount))
        .collect();
        let count = amounts.len();
        if count < self.min_transactions {
            return None;
        }
        let total: f64 = amounts.iter().sum();
        let confidence = (0.3 + 0.05 * (count - self.min_transactions) as f64).min(0.5);
        let days = self.window.num_days();
        Some(
            Alert::new(
                self.name(),
                "round_amounts",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Repeated round amounts: {count} transfers in whole multiples of ${:.0} in {days} days, totaling ${total:.2}",
                    self.unit
                ),
            )
            .with_metadata("num_transactions", count)
            .with_metadata("total_amount", cents(total))
            .with_metadata("unit", self.unit)
            .with_metadata("window_days", days)
            .supporting(),
        )
    }
}
