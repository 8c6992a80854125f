use serde::{Deserialize, Serialize};

/// The AML thresholds; every one is a documented setting (`[aml]` in config/default.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmlConfig {
    /// The cash reporting threshold that structuring stays under (US CTR: 10,000).
    pub reporting_threshold: f64,
    /// How far back structuring looks, in hours (FATF: "usually within 24 hours").
    pub structuring_window_hours: u32,
    /// How many sub-threshold transfers in the window make a pattern.
    pub structuring_min_transactions: u32,
    /// A transfer at or above this share of the threshold counts as "just under" it.
    pub near_threshold_ratio: f64,
    /// Risk score (0-100) from which a transfer is flagged.
    pub flag_risk_score: f64,
}

impl Default for AmlConfig {
    fn default() -> Self {
        Self {
            reporting_threshold: 10_000.0,
            structuring_window_hours: 24,
            structuring_min_transactions: 3,
            near_threshold_ratio: 0.8,
            flag_risk_score: 50.0,
        }
    }
}
