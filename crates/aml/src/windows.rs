//! The windows an AML event uses, and reading them by time.

use chrono::{DateTime, Utc};
use redflag_core::{Activity, EntityKind, Module, WindowKey};
use rustc_hash::FxHashSet;

use crate::Transaction;

/// What the sender has sent (each entry's counterparty is its receiver).
pub(crate) fn sender_outflows(transaction: &Transaction) -> WindowKey {
    WindowKey::new(Module::Aml, EntityKind::Sender, &transaction.sender_id)
}

/// What the sender has sent, summed per UTC day: the velocity baseline.
pub(crate) fn sender_daily(transaction: &Transaction) -> WindowKey {
    WindowKey::new(Module::Aml, EntityKind::SenderDaily, &transaction.sender_id)
}

/// What the receiver has received (each entry's counterparty is its sender).
pub(crate) fn receiver_inflows(transaction: &Transaction) -> WindowKey {
    WindowKey::new(Module::Aml, EntityKind::Receiver, &transaction.receiver_id)
}

/// What the sender itself has received: the funds a pass-through would be moving on. Each
/// entry's `quantity` is its funds-flow depth (see `redflag_core::funding_depth`).
pub(crate) fn sender_inflows(transaction: &Transaction) -> WindowKey {
    WindowKey::new(Module::Aml, EntityKind::Receiver, &transaction.sender_id)
}

/// The sender's earlier payments to this receiver: a recurring payee (rent, payroll, a
/// supplier) is paid again on its cadence, and that is not a new counterparty. The id is the
/// sender's length, the sender and the receiver, so no two pairs share one.
pub(crate) fn payee(transaction: &Transaction) -> WindowKey {
    WindowKey::new(
        Module::Aml,
        EntityKind::Payee,
        format!(
            "{}:{}|{}",
            transaction.sender_id.len(),
            transaction.sender_id,
            transaction.receiver_id
        ),
    )
}

/// What the receiver itself sends, summed per UTC day: the scale of money it ordinarily moves.
pub(crate) fn receiver_daily(transaction: &Transaction) -> WindowKey {
    WindowKey::new(
        Module::Aml,
        EntityKind::SenderDaily,
        &transaction.receiver_id,
    )
}

/// What the receiver itself has sent: where money that now comes back to it went (round trips).
pub(crate) fn receiver_outflows(transaction: &Transaction) -> WindowKey {
    WindowKey::new(Module::Aml, EntityKind::Sender, &transaction.receiver_id)
}

/// The activities at or after `from`, found by binary search: a window's history is sorted by
/// time (oldest first) and never holds events later than the one being scored.
pub(crate) fn since(activities: &[Activity], from: DateTime<Utc>) -> &[Activity] {
    &activities[activities.partition_point(|activity| activity.at < from)..]
}

/// How many distinct counterparties the activities (and `current`, when given) name; a fast
/// non-cryptographic hash, as the names come from the institution's own records.
pub(crate) fn distinct_counterparties(activities: &[Activity], current: Option<&str>) -> usize {
    let mut parties: FxHashSet<&str> = FxHashSet::default();
    parties.extend(activities.iter().map(|a| a.counterparty()));
    parties.extend(current);
    parties.len()
}

/// Rounds money to cents for metadata.
pub(crate) fn cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
