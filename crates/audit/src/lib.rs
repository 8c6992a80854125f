#![doc = include_str!("../README.md")]

mod chain;
mod decision_recorded;
mod event;

pub use chain::{EntryContent, GENESIS, digest, link};
pub use decision_recorded::{DecisionRecorded, Finding};
pub use event::AuditEvent;
