use redflag_core::{Alert, History, Rule, Severity};

use crate::funds_flow::{FundsFlow, minutes_between, when};
use crate::windows::cents;
use crate::{AmlConfig, Transaction};

/// Pass-through (rapid movement): money received within hours is sent on, in an amount the
/// inflow could have funded and at least `pass_through_min_forwarded` of it (less: a supporting
/// signal only), by an account whose own activity does not explain it (it has never
/// sent amounts like this: a new, dormant or retail account acting as a mule). A broker or a
/// business moving money as it always does is not a pass-through.
#[derive(Debug, Clone)]
pub struct PassThroughRule {
    config: AmlConfig,
}

impl PassThroughRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            config: config.clone(),
        }
    }
}

/// A partial pass-through's confidence: it ranks, it does not flag.
const PARTIAL_CONFIDENCE: f64 = 0.3;

/// Forwarded this soon after the inflow, a pass-through is at its strongest.
const FAST_MINUTES: i64 = 120;

impl Rule<Transaction> for PassThroughRule {
    fn name(&self) -> &'static str {
        "PassThroughRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        let flow = FundsFlow::of(transaction, history, &self.config)?;
        let hop = flow.last_hop()?;
        if flow.explained {
            return None;
        }
        let received: f64 = flow.funding.iter().map(|inflow| inflow.amount).sum();
        // Sending on less than `pass_through_min_forwarded` of it (rent from the salary) is at
        // most a supporting signal.
        let partial = transaction.amount < self.config.pass_through_min_forwarded * received;
        let minutes = minutes_between(hop, transaction);
        let confidence = if partial {
            PARTIAL_CONFIDENCE
        } else {
            0.55 + if minutes <= FAST_MINUTES { 0.1 } else { 0.0 }
                + if flow.known_receiver { 0.0 } else { 0.1 }
        };
        let hours = self.config.pass_through_window_hours;
        let mut alert = Alert::new(
            self.name(),
            "pass_through",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Pass-through: {} received ${:.2} from {} and sent ${:.2} on to {} {minutes} minutes later",
                transaction.sender_id, hop.amount, hop.counterparty(), transaction.amount, transaction.receiver_id
            ),
        )
        .with_metadata("inflow_amount", cents(received))
        .with_metadata("outflow_amount", cents(transaction.amount))
        .with_metadata("ratio", ((transaction.amount / received) * 100.0).round() / 100.0)
        .with_metadata("inflow_senders", flow.funding.len())
        .with_metadata("minutes_since_inflow", minutes)
        .with_metadata("new_receiver", !flow.known_receiver)
        .with_metadata("window_hours", hours);
        for inflow in &flow.funding {
            alert = alert.with_evidence(format!(
                "received ${:.2} from {} at {}",
                inflow.amount,
                inflow.counterparty(),
                when(inflow)
            ));
        }
        alert = alert.with_evidence(format!(
            "sends ${:.2} to {}{}, an amount it has not ordinarily sent",
            transaction.amount,
            transaction.receiver_id,
            if flow.known_receiver {
                ""
            } else {
                " (a new counterparty)"
            }
        ));
        if partial {
            alert = alert.supporting();
        }
        Some(alert)
    }
}
