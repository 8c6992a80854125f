#![doc = include_str!("../README.md")]

#[cfg(test)]
mod anomaly;
mod clustering;
mod config;
mod detector;
mod fan;
mod jurisdictions;
mod large_transaction;
pub mod model;
mod pass_through;
mod round_amounts;
mod structuring;
mod transaction;
mod velocity;
mod watchlist;
mod windows;

pub use clustering::NearThresholdClusteringRule;
pub use config::AmlConfig;
pub use detector::{AmlAssessment, AmlDetector};
pub use fan::{FanInRule, FanOutRule};
pub use jurisdictions::HighRiskJurisdictionRule;
pub use large_transaction::LargeTransactionRule;
pub use pass_through::PassThroughRule;
pub use round_amounts::RoundAmountRule;
pub use structuring::StructuringRule;
pub use transaction::{Transaction, TransactionType};
pub use velocity::VelocityRule;
pub use watchlist::{Watchlist, WatchlistEntry, WatchlistError, WatchlistRule};
