use redflag_core::{Activity, Alert, History, Rule, Severity};
use rustc_hash::FxHashSet;

use crate::funds_flow::{FundsFlow, pass_through_window, when};
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
        .filter(|inflow| inflow.quantity >= 1.0 && inflow.counterparty() != transaction.sender_id)
        .collect();
        let (count, total) =
            self.converging(&forwarded, &transaction.sender_id, transaction.amount)?;
        let hours = self.config.pass_through_window_hours;
        let mut evidence: Vec<String> = forwarded
            .iter()
            .map(|inflow| {
                format!(
                    "{} paid ${:.2} at {}, {} hand-over(s) deep",
                    inflow.counterparty(),
                    inflow.amount,
                    when(inflow),
                    inflow.quantity
                )
            })
            .collect();
        evidence.push(format!(
            "{} pays ${:.2} now, {} hand-over(s) deep",
            transaction.sender_id, transaction.amount, flow.depth
        ));
        Some(self.alert(
            Side::Gather,
            count,
            total,
            format!(
                "Scatter-gather: {count} accounts, each passing on money it had just received, paid {} ${total:.2} within {hours}h",
                transaction.receiver_id
            ),
            evidence,
        ))
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
        if flow.known_receiver || flow.sender_usual.is_none() {
            return None;
        }
        let outflows = history.get(&sender_outflows(transaction));
        let from = transaction.at - pass_through_window(&self.config);
        let earlier = &outflows[..outflows.partition_point(|past| past.at < from)];
        let scattered: Vec<_> = since(outflows, from)
            .iter()
            .filter(|past| {
                past.amount >= self.config.pass_through_min_amount
                    && past.counterparty() != transaction.receiver_id
                    && !earlier
                        .iter()
                        .any(|old| old.counterparty() == past.counterparty())
            })
            .collect();
        let (count, total) =
            self.converging(&scattered, &transaction.receiver_id, transaction.amount)?;
        let hours = self.config.pass_through_window_hours;
        let mut evidence: Vec<String> = scattered
            .iter()
            .map(|past| {
                format!(
                    "paid {} ${:.2} at {}",
                    past.counterparty(),
                    past.amount,
                    when(past)
                )
            })
            .collect();
        evidence.push(format!(
            "pays {} ${:.2} now",
            transaction.receiver_id, transaction.amount
        ));
        Some(self.alert(
            Side::Scatter,
            count,
            total,
            format!(
                "Scatter-gather: {} paid {count} new counterparties ${total:.2} within {hours}h, amounts it has not ordinarily sent",
                transaction.sender_id
            ),
            evidence,
        ))
    }

    /// How many distinct accounts `entries` and this transfer's `party` name, and what they
    /// moved with this transfer's `amount`; nothing below the minimum width.
    fn converging(&self, entries: &[&Activity], party: &str, amount: f64) -> Option<(usize, f64)> {
        let mut parties: FxHashSet<&str> =
            entries.iter().map(|entry| entry.counterparty()).collect();
        parties.insert(party);
        let count = parties.len();
        let total = entries.iter().map(|entry| entry.amount).sum::<f64>() + amount;
        (count >= self.minimum()).then_some((count, total))
    }

    /// The alert of either side: a gather (money converging on the sink) is the stronger, as
    /// each of its senders was itself passing money on.
    fn alert(
        &self,
        side: Side,
        count: usize,
        total: f64,
        reason: String,
        evidence: Vec<String>,
    ) -> Alert {
        let (base, side_name, count_name) = match side {
            Side::Gather => (0.7, "gather", "converging_senders"),
            Side::Scatter => (0.6, "scatter", "new_counterparties"),
        };
        let confidence = (base + 0.05 * (count - self.minimum()) as f64).min(base + 0.15);
        let mut alert = Alert::new(
            self.name(),
            "scatter_gather",
            Severity::from_confidence(confidence),
            confidence,
            reason,
        )
        .with_metadata("side", side_name)
        .with_metadata(count_name, count)
        .with_metadata("total_amount", cents(total))
        .with_metadata("window_hours", self.config.pass_through_window_hours);
        for line in evidence {
            alert = alert.with_evidence(line);
        }
        alert
    }
}

/// Which end of a scatter-gather a transfer is seen at.
#[derive(Debug, Clone, Copy)]
enum Side {
    Scatter,
    Gather,
}
