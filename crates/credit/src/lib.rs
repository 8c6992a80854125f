#![doc = include_str!("../README.md")]

mod affordability;
mod application;
mod config;
mod decision;
mod detector;
mod factors;
pub mod features;
pub mod model;
mod policy;
mod reasons;
mod referrals;
mod scaling;
pub mod scorecard;

pub use affordability::{Affordability, instalment};
pub use application::{AccountTypes, Application, ApplicationBuilder};
pub use config::CreditConfig;
pub use decision::{Decision, ReasonCode, RiskTier};
pub use detector::{CreditAssessment, CreditDetector};
pub use factors::{Factor, Factors};
pub use scaling::OddsScaling;
pub use scorecard::{Characteristic, Scored};

/// The workspace README's embedding example is compiled and run with this crate's doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;
