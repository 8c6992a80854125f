use serde::{Deserialize, Serialize};

/// The lender's risk appetite; every cut-off is a documented setting (`[credit]` in
/// config/default.toml). There is no regulatory cut-off: these are policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CreditConfig {
    /// Lowest score approved outright.
    pub approve_min_score: u32,
    /// Lowest score referred to an underwriter; below it the application is declined.
    pub review_min_score: u32,
    /// Debt-to-income above this caps the decision at REVIEW (0.43: the qualified-mortgage ceiling).
    pub max_debt_to_income: f64,
    /// How far back the applicant's own applications count as recent credit seeking, in days.
    pub inquiry_window_days: u32,
}

impl Default for CreditConfig {
    fn default() -> Self {
        Self {
            approve_min_score: 680,
            review_min_score: 600,
            max_debt_to_income: 0.43,
            inquiry_window_days: 180,
        }
    }
}
