use redflag_core::{Alert, History, Rule, Severity};

use crate::funds_flow::{FundsFlow, minutes_between, when};
use crate::{AmlConfig, Transaction};

/// Chains (layering through mules): the money of this transfer has passed through several
/// accounts in a row, each sending it on within hours of receiving it. Each account's inflows
/// carry their funds-flow depth, so the sender sees how many hand-overs came before its own.
#[derive(Debug, Clone)]
pub struct ChainRule {
    config: AmlConfig,
}

impl ChainRule {
    pub fn new(config: &AmlConfig) -> Self {
        Self {
            config: config.clone(),
        }
    }
}

impl Rule<Transaction> for ChainRule {
    fn name(&self) -> &'static str {
        "ChainRule"
    }

    fn evaluate(&self, transaction: &Transaction, history: &History) -> Option<Alert> {
        let flow = FundsFlow::of(transaction, history, &self.config)?;
        if flow.explained || flow.depth < f64::from(self.config.chain_min_hops.max(2)) {
            return None;
        }
        // The deepest inflow that funds the transfer (the one the depth came from): the hop this
        // one continues.
        let hop = flow
            .funding
            .iter()
            .rfind(|inflow| inflow.quantity + 1.0 >= flow.depth)
            .copied()?;
        let depth = flow.depth as u32;
        let confidence = (0.7 + 0.05 * f64::from(depth - 2)).min(0.85);
        let hours = self.config.pass_through_window_hours;
        Some(
            Alert::new(
                self.name(),
                "chain",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Chain: {} is account {depth} in a row to pass this money on within {hours}h, \
                     ${:.2} from {} sent on as ${:.2} to {}",
                    transaction.sender_id,
                    hop.amount,
                    hop.counterparty(),
                    transaction.amount,
                    transaction.receiver_id
                ),
            )
            .with_metadata("hops", depth)
            .with_metadata("previous_account", hop.counterparty())
            .with_metadata("inflow_amount", hop.amount)
            .with_metadata("outflow_amount", transaction.amount)
            .with_metadata("minutes_since_inflow", minutes_between(hop, transaction))
            .with_metadata("window_hours", hours)
            .with_evidence(format!(
                "{} received ${:.2} from {} at {}; {} had itself passed on money it had just received ({} hand-over(s) before it)",
                transaction.sender_id,
                hop.amount,
                hop.counterparty(),
                when(hop),
                hop.counterparty(),
                hop.quantity
            ))
            .with_evidence(format!(
                "{} sends ${:.2} to {} {} minutes later",
                transaction.sender_id,
                transaction.amount,
                transaction.receiver_id,
                minutes_between(hop, transaction)
            )),
        )
    }
}
