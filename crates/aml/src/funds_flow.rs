//! The short-horizon funds-flow view the laundering typologies share: which recent inflows could
//! have funded a transfer, how deep the money's path of quick hand-overs is, and whether the
//! sender's own activity explains the transfer.

use chrono::Duration;
use redflag_core::{Activity, History, funding_depth};

use crate::profile::{Profile, recurring_payment};
use crate::windows::{payee, sender_inflows, since};
use crate::{AmlConfig, Transaction};

/// One transfer seen as a step in a flow of funds.
pub(crate) struct FundsFlow<'a> {
    /// The sender's inflows within the pass-through window that could have funded this transfer
    /// (at least `pass_through_min_share` of it), oldest first.
    pub funding: Vec<&'a Activity>,
    /// How many accounts in a row, the sender included, passed this money on within the window
    /// (0: the sender's own money).
    pub depth: f64,
    /// Whether the sender ordinarily sends amounts like this one (a broker, a business), or this
    /// is a recurring payment to this receiver (the rent).
    pub explained: bool,
    /// Whether the sender has paid the receiver before (a recurring payee).
    pub known_receiver: bool,
    /// What the sender usually sends, once it has sent a few transfers.
    pub sender_usual: Option<f64>,
}

impl<'a> FundsFlow<'a> {
    /// The flow of `transaction`, or `None` when it is too small to follow.
    pub fn of(transaction: &Transaction, history: &'a History, config: &AmlConfig) -> Option<Self> {
        if transaction.amount < config.pass_through_min_amount {
            return None;
        }
        let window = pass_through_window(config);
        let inflows = since(
            history.get(&sender_inflows(transaction)),
            transaction.at - window,
        );
        let funding: Vec<&Activity> = inflows
            .iter()
            .filter(|inflow| inflow.amount >= config.pass_through_min_share * transaction.amount)
            .collect();
        let profile = Profile::sender(transaction, history, config);
        Some(Self {
            depth: funding_depth(
                inflows,
                transaction.at,
                transaction.amount,
                window,
                config.pass_through_min_share,
            ),
            funding,
            explained: profile.explains(transaction.amount, config)
                || recurring_payment(transaction, history),
            known_receiver: !history.get(&payee(transaction)).is_empty(),
            sender_usual: profile.usual_transfer(),
        })
    }

    /// The most recent funding inflow: the hop this transfer continues.
    pub fn last_hop(&self) -> Option<&'a Activity> {
        self.funding.last().copied()
    }
}

/// How long after an inflow sending money on counts as passing it through.
pub(crate) fn pass_through_window(config: &AmlConfig) -> Duration {
    Duration::hours(i64::from(config.pass_through_window_hours))
}

/// "YYYY-MM-DD HH:MM UTC", for evidence.
pub(crate) fn when(activity: &Activity) -> String {
    activity.at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Minutes between two times, for evidence.
pub(crate) fn minutes_between(earlier: &Activity, transaction: &Transaction) -> i64 {
    (transaction.at - earlier.at).num_minutes()
}
