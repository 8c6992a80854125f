#![doc = include_str!("../README.md")]

mod application;
mod config;
mod decision;
mod detector;
mod factors;
pub mod model;

pub use application::Application;
pub use config::CreditConfig;
pub use decision::{Decision, ReasonCode, RiskTier};
pub use detector::{CreditAssessment, CreditDetector};
pub use factors::Factors;
