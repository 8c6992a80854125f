#![doc = include_str!("../README.md")]

#[cfg(test)]
mod anomaly;
mod chain;
mod clustering;
mod config;
mod detector;
mod fan;
mod funds_flow;
mod jurisdictions;
mod large_transaction;
#[cfg(test)]
mod laundering;
pub mod model;
mod pass_through;
mod peer_group;
mod profile;
mod profile_break;
mod round_amounts;
mod round_trip;
mod scatter_gather;
#[cfg(test)]
mod scenario;
mod structuring;
mod transaction;
mod velocity;
mod watchlist;
mod windows;

pub use chain::ChainRule;
pub use clustering::NearThresholdClusteringRule;
pub use config::AmlConfig;
pub use detector::{AmlAssessment, AmlDetector};
pub use fan::{FanInRule, FanOutRule};
pub use jurisdictions::HighRiskJurisdictionRule;
pub use large_transaction::LargeTransactionRule;
pub use pass_through::PassThroughRule;
pub use peer_group::{PastTransfer, PeerGroup, PeerGroups, PeerLearning, PeerLimits, UNSEGMENTED};
pub use profile_break::ProfileBreakRule;
pub use round_amounts::RoundAmountRule;
pub use round_trip::RoundTripRule;
pub use scatter_gather::ScatterGatherRule;
pub use structuring::StructuringRule;
pub use transaction::{Transaction, TransactionType};
pub use velocity::VelocityRule;
pub use watchlist::{Watchlist, WatchlistEntry, WatchlistError, WatchlistRule};
