#![doc = include_str!("../README.md")]

mod claim;
mod config;
mod detector;
mod inflation;
pub mod model;
mod repeat_claims;

pub use claim::Claim;
pub use config::InsuranceConfig;
pub use detector::{InsuranceAssessment, InsuranceDetector};
pub use inflation::PropertyInflationRule;
pub use repeat_claims::RepeatClaimsRule;
