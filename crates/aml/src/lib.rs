#![doc = include_str!("../README.md")]

mod config;
mod detector;
pub mod model;
mod structuring;
mod transaction;

pub use config::AmlConfig;
pub use detector::{AmlAssessment, AmlDetector};
pub use structuring::StructuringRule;
pub use transaction::Transaction;
