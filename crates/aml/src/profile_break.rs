use redflag_core::{Alert, History, Rule, Severity};

use crate::funds_flow::FundsFlow;
use crate::profile::Profile;
use crate::windows::cents;
use crate::{AmlConfig, Transaction};

/// A break of pattern on both sides: a first transfer to a new counterparty, far above what the
/// sender ordinarily sends (or from a sender with no history), to an account that moves far
/// smaller sums on its quieter days (the lower quartile of its days, so that a mule that has
/// already passed large sums on still shows its ordinary scale). The first hand-over to a mule looks like this; a customer paying a
/// broker does not (the broker moves such sums every day), nor does a broker paying a customer.
#[derive(Debug, Clone)]
pub struct ProfileBreakRule {
    config: AmlConfig,
}

impl ProfileBreakRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            config: config.clone(),
        }
    }
}

impl Rule<Transaction> for ProfileBreakRule {
    fn name(&self) -> &'static str {
        "ProfileBreakRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        let flow = FundsFlow::of(transaction, history, &self.config)?;
        if flow.explained || flow.known_receiver {
            return None;
        }
        let multiple = self.config.unusual_amount_multiple;
        let receiver_usual = Profile::receiver(transaction, history, &self.config)
            .quiet_transfer()
            .filter(|usual| transaction.amount >= multiple * usual)?;
        let sender_usual = flow.sender_usual;
        let confidence = if sender_usual.is_some() { 0.6 } else { 0.55 };
        let sender_line = match sender_usual {
            Some(usual) => format!(
                "{} usually sends about ${usual:.2} a transfer: this is {:.0}x that",
                transaction.sender_id,
                transaction.amount / usual
            ),
            None => format!("{} has no history of sending", transaction.sender_id),
        };
        let mut alert = Alert::new(
            self.name(),
            "profile_break",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Break of pattern: ${:.2} to a new counterparty {}, {:.0}x what it usually moves",
                transaction.amount,
                transaction.receiver_id,
                transaction.amount / receiver_usual
            ),
        )
        .with_metadata("amount", cents(transaction.amount))
        .with_metadata("receiver_usual_transfer", cents(receiver_usual))
        .with_metadata("new_counterparty", true)
        .with_evidence(sender_line)
        .with_evidence(format!(
            "{} sends about ${receiver_usual:.2} a transfer on its quieter days",
            transaction.receiver_id
        ));
        if let Some(usual) = sender_usual {
            alert = alert.with_metadata("sender_usual_transfer", cents(usual));
        }
        Some(alert)
    }
}
