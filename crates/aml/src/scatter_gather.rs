use redflag_core::{Alert, History, Rule, Severity};
use rustc_hash::FxHashSet;

use crate::funds_flow::{FundsFlow, pass_through_window, when};
use crate::profile::Profile;
use crate::windows::{cents, receiver_inflows, sender_outflows, since};
use crate::{AmlConfig, Transaction};

/// Scatter-gather: money split across a few accounts converges again on one account within
/// hours. Seen at either end: at the source, it pays several new counterparties amounts it has
/// never ordinarily sent (the scatter); at the sink, each of several distinct senders is passing
/// on money it had itself just received (its inflow carries a funds-flow depth: the gather).
/// Width is relative: three hand-overs converging is the pattern, where fifty ordinary customers
/// paying a merchant is not.
#[derive(Debug, Clone)]
pub struct ScatterGatherRule {
    config: AmlConfig,
}

impl ScatterGatherRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            config: config.clone(),
        }
    }
}

impl Rule<Transaction> for ScatterGatherRule {
    fn name(&self) -> &'static str {
        "ScatterGatherRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        let flow = FundsFlow::of(transaction, history, &self.config)?;
        if flow.explained {
            return None;
        }
        self.gather(transaction, history, &flow)
            .or_else(|| self.scatter(transaction, history, &flow))
    }
}

impl ScatterGatherRule {
    fn minimum(&self) -> usize {
        self.config.scatter_gather_min_senders.max(2) as usize
    }

    /// The sink's view: several senders in a row passing on money they had just received.
    fn gather(
        &self,
        transaction: &Transaction,
        history: &History,
        flow: &FundsFlow,
    ) -> Option<Alert> {
        if flow.depth < 1.0 {
            return None;
        }
        let forwarded: Vec<_> = since(
            history.get(&receiver_inflows(transaction)),
            transaction.at - pass_through_window(&self.config),
        )
        .iter()
        .filter(|inflow| inflow.quantity >= 1.0 && inflow.counterparty != transaction.sender_id)
        .collect();
        let mut senders: FxHashSet<&str> = forwarded
            .iter()
            .map(|inflow| inflow.counterparty.as_str())
            .collect();
        senders.insert(&transaction.sender_id);
        let count = senders.len();
        let minimum = self.minimum();
        if count < minimum {
            return None;
        }
        let total = forwarded.iter().map(|inflow| inflow.amount).sum::<f64>() + transaction.amount;
        let confidence = (0.7 + 0.05 * (count - minimum) as f64).min(0.85);
        let hours = self.config.pass_through_window_hours;
        let mut alert = Alert::new(
            self.name(),
            "scatter_gather",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Scatter-gather: {count} accounts, each passing on money it had just received, paid {} ${total:.2} within {hours}h",
                transaction.receiver_id
            ),
        )
        .with_metadata("side", "gather")
        .with_metadata("converging_senders", count)
        .with_metadata("total_amount", cents(total))
        .with_metadata("window_hours", hours);
        for inflow in forwarded {
            alert = alert.with_evidence(format!(
                "{} paid ${:.2} at {}, {} hand-over(s) deep",
                inflow.counterparty,
                inflow.amount,
                when(inflow),
                inflow.quantity
            ));
        }
        Some(alert.with_evidence(format!(
            "{} pays ${:.2} now, {} hand-over(s) deep",
            transaction.sender_id, transaction.amount, flow.depth
        )))
    }

    /// The source's view: several new counterparties paid, within hours, amounts the sender has
    /// not ordinarily sent.
    fn scatter(
        &self,
        transaction: &Transaction,
        history: &History,
        flow: &FundsFlow,
    ) -> Option<Alert> {
        // Only a sender whose usual transfer is known to be far smaller: a business's first
        // payments look like a scatter too.
        let known = Profile::sender(
            transaction,
            history,
            &self.config,
            transaction.at - chrono::Duration::hours(24),
        )
        .usual_transfer()
        .is_some();
        if flow.known_receiver || !known {
            return None;
        }
        let outflows = history.get(&sender_outflows(transaction));
        let from = transaction.at - pass_through_window(&self.config);
        let earlier = &outflows[..outflows.partition_point(|past| past.at < from)];
        let scattered: Vec<_> = since(outflows, from)
            .iter()
            .filter(|past| {
                past.amount >= self.config.pass_through_min_amount
                    && past.counterparty != transaction.receiver_id
                    && !earlier
                        .iter()
                        .any(|old| old.counterparty == past.counterparty)
            })
            .collect();
        let mut receivers: FxHashSet<&str> = scattered
            .iter()
            .map(|past| past.counterparty.as_str())
            .collect();
        receivers.insert(&transaction.receiver_id);
        let count = receivers.len();
        if count < self.minimum() {
            return None;
        }
        let total = scattered.iter().map(|past| past.amount).sum::<f64>() + transaction.amount;
        let confidence = (0.6 + 0.05 * (count - self.minimum()) as f64).min(0.75);
        let hours = self.config.pass_through_window_hours;
        let mut alert = Alert::new(
            self.name(),
            "scatter_gather",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Scatter-gather: {} paid {count} new counterparties ${total:.2} within {hours}h, amounts it has not ordinarily sent",
                transaction.sender_id
            ),
        )
        .with_metadata("side", "scatter")
        .with_metadata("new_counterparties", count)
        .with_metadata("total_amount", cents(total))
        .with_metadata("window_hours", hours);
        for past in scattered {
            alert = alert.with_evidence(format!(
                "paid {} ${:.2} at {}",
                past.counterparty,
                past.amount,
                when(past)
            ));
        }
        Some(alert.with_evidence(format!(
            "pays {} ${:.2} now",
            transaction.receiver_id, transaction.amount
        )))
    }
}
