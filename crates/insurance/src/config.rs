use serde::{Deserialize, Serialize};

/// The claims-fraud thresholds (`[insurance]` in config/default.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InsuranceConfig {
    /// Value ratio from which inflation is suspected (1.5x is the common flag).
    pub inflation_ratio: f64,
    /// Claims on one policy within the window that make a repeat pattern.
    pub repeat_claims_min: u32,
    /// How far back repeat claims are counted, in days (practice: 12-36 months).
    pub repeat_claims_window_days: u32,
    /// Fraud probability from which a claim is flagged for investigation.
    pub flag_probability: f64,
}

impl Default for InsuranceConfig {
    fn default() -> Self {
        Self {
            inflation_ratio: 1.5,
            repeat_claims_min: 3,
            repeat_claims_window_days: 365,
            flag_probability: 0.5,
        }
    }
}
