use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::funds_flow::{FundsFlow, when};
use crate::windows::{receiver_outflows, sender_inflows, since};
use crate::{AmlConfig, Transaction};

/// Round trips: funds come back to the account they left within a bounded time, directly (the
/// receiver paid the sender) or through one intermediary (the receiver paid someone who paid the
/// sender). Every leg is at least `pass_through_min_amount`.
#[derive(Debug, Clone)]
pub struct RoundTripRule {
    config: AmlConfig,
}

impl RoundTripRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            config: config.clone(),
        }
    }
}

impl Rule<Transaction> for RoundTripRule {
    fn name(&self) -> &'static str {
        "RoundTripRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        let flow = FundsFlow::of(transaction, history, &self.config)?;
        if flow.explained {
            return None;
        }
        let least = self.config.pass_through_min_amount;
        let from = transaction.at - Duration::hours(i64::from(self.config.round_trip_window_hours));
        let received: Vec<_> = since(history.get(&sender_inflows(transaction)), from)
            .iter()
            .filter(|inflow| inflow.amount >= least)
            .collect();
        let origin = &transaction.receiver_id;
        // Directly: the receiver paid the sender, who pays it back.
        let mut legs: Vec<String> = received
            .iter()
            .rev()
            .find(|inflow| inflow.counterparty() == *origin)
            .map(|inflow| {
                vec![format!(
                    "{origin} paid {} ${:.2} at {}",
                    transaction.sender_id,
                    inflow.amount,
                    when(inflow)
                )]
            })
            .unwrap_or_default();
        if legs.is_empty() {
            // Through one intermediary: the receiver paid X, X paid the sender.
            let sent = since(history.get(&receiver_outflows(transaction)), from);
            legs = sent
                .iter()
                .filter(|out| out.amount >= least && out.counterparty() != transaction.sender_id)
                .find_map(|out| {
                    received
                        .iter()
                        .find(|inflow| {
                            inflow.counterparty() == out.counterparty() && inflow.at >= out.at
                        })
                        .map(|inflow| {
                            vec![
                                format!(
                                    "{origin} paid {} ${:.2} at {}",
                                    out.counterparty(),
                                    out.amount,
                                    when(out)
                                ),
                                format!(
                                    "{} paid {} ${:.2} at {}",
                                    inflow.counterparty(),
                                    transaction.sender_id,
                                    inflow.amount,
                                    when(inflow)
                                ),
                            ]
                        })
                })
                .unwrap_or_default();
        }
        if legs.is_empty() {
            return None;
        }
        let hops = legs.len() + 1;
        let confidence = if hops >= 3 { 0.75 } else { 0.6 };
        let hours = self.config.round_trip_window_hours;
        let mut alert = Alert::new(
            self.name(),
            "round_trip",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Round trip: ${:.2} returns to {origin} after {hops} transfers within {hours}h",
                transaction.amount
            ),
        )
        .with_metadata("hops", hops)
        .with_metadata("origin", origin.clone())
        .with_metadata("window_hours", hours);
        for leg in legs {
            alert = alert.with_evidence(leg);
        }
        Some(alert.with_evidence(format!(
            "{} pays {origin} ${:.2} now",
            transaction.sender_id, transaction.amount
        )))
    }
}
