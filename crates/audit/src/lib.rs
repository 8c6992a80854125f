#![doc = include_str!("../README.md")]

mod decision_recorded;

pub use decision_recorded::{DecisionRecorded, Finding};
