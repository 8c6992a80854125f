//! The windows an AML event uses, and reading them by time.

use chrono::{DateTime, Utc};
use redflag_core::{Activity, EntityKind, Module, WindowKey};

use crate::Transaction;

/// What the sender has sent (each entry's counterparty is its receiver).
pub(crate) fn sender_outflows(transaction: &Transaction) -> WindowKey {
    WindowKey::new(Module::Aml, EntityKind::Sender, &transaction.sender_id)
}

/// What the receiver has received (each entry's counterparty is its sender).
pub(crate) fn receiver_inflows(transaction: &Transaction) -> WindowKey {
    WindowKey::new(Module::Aml, EntityKind::Receiver, &transaction.receiver_id)
}

/// What the sender itself has received: the funds a pass-through would be moving on.
pub(crate) fn sender_inflows(transaction: &Transaction) -> WindowKey {
    WindowKey::new(Module::Aml, EntityKind::Receiver, &transaction.sender_id)
}

/// The activities at or after `from` (a window's history never holds later ones).
pub(crate) fn since(
    activities: &[Activity],
    from: DateTime<Utc>,
) -> impl Iterator<Item = &Activity> {
    activities
        .iter()
        .filter(move |activity| activity.at >= from)
}

/// Rounds money to cents for metadata.
pub(crate) fn cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
