#![doc = include_str!("../README.md")]

mod config;
mod detector;
pub mod model;
mod pump_and_dump;
mod trade;

pub use config::MarketConfig;
pub use detector::{MarketAssessment, MarketDetector};
pub use pump_and_dump::PumpAndDump;
pub use trade::Trade;
