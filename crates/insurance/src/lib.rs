#![doc = include_str!("../README.md")]

mod amounts;
mod claim;
mod config;
mod contacts;
mod detector;
mod duplicate;
mod excessive;
pub mod features;
mod inflation;
pub mod model;
mod provider;
mod repeat_claims;
mod rings;
mod timing;
mod valuation;
mod windows;

pub use amounts::{AuthorityLimitRule, RoundAmountRule};
pub use claim::{Claim, ClaimType};
pub use config::InsuranceConfig;
pub use contacts::{ContactHashes, IdentifierHasher, IdentifierKind};
pub use detector::{InsuranceAssessment, InsuranceDetector};
pub use duplicate::DuplicateClaimRule;
pub use excessive::ExcessiveClaimRule;
pub use inflation::PropertyInflationRule;
pub use provider::ProviderOutlierRule;
pub use repeat_claims::RepeatClaimsRule;
pub use rings::SharedIdentifierRule;
pub use timing::{EarlyClaimRule, LateReportingRule};
pub use valuation::{Valuation, ValuationError, ValuationTable};
