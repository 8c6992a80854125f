use redflag_core::ConfigError;
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
    /// Debt-to-income (existing debts plus the new instalment, over income) above which the
    /// application is declined (0.43: the qualified-mortgage ceiling).
    pub max_debt_to_income: f64,
    /// Monthly income below which the application is declined.
    pub min_monthly_income: f64,
    /// The largest loan, as a multiple of annual income (1.0 suits unsecured lending; a mortgage
    /// lender would set about 4.5).
    pub max_loan_to_annual_income: f64,
    /// Whether a bankruptcy on file declines the application.
    pub decline_on_bankruptcy: bool,
    /// The annual rate at which the new instalment is estimated (the contract carries no rate).
    pub assumed_annual_rate: f64,
    /// The term assumed for the new instalment when the application gives none, in months.
    pub default_loan_term_months: u32,
    /// How far back the applicant's own applications count as recent credit seeking, in days.
    pub inquiry_window_days: u32,
    /// The window of the application-velocity and income-consistency checks, in days.
    pub velocity_window_days: u32,
    /// Applications (this one included) within `velocity_window_days` that raise an
    /// application-velocity alert and refer the application.
    pub velocity_max_applications: u32,
    /// Relative change of stated monthly income, against an application within
    /// `velocity_window_days`, that raises an income-inconsistency alert and refers it.
    pub income_change_tolerance: f64,
    /// Probability of default from the model above which an otherwise approved application is
    /// referred.
    pub max_probability_of_default: f64,
}

impl Default for CreditConfig {
    fn default() -> Self {
        Self {
            approve_min_score: 680,
            review_min_score: 600,
            max_debt_to_income: 0.43,
            min_monthly_income: 1000.0,
            max_loan_to_annual_income: 1.0,
            decline_on_bankruptcy: true,
            assumed_annual_rate: 0.12,
            default_loan_term_months: 36,
            inquiry_window_days: 180,
            velocity_window_days: 30,
            velocity_max_applications: 3,
            income_change_tolerance: 0.25,
            max_probability_of_default: 0.30,
        }
    }
}

impl CreditConfig {
    /// Refuses settings that would make decisions meaningless, naming the setting.
    pub fn check(&self) -> Result<(), ConfigError> {
        let problems = [
            (
                self.review_min_score > self.approve_min_score,
                "review_min_score must not exceed approve_min_score",
            ),
            (
                !(300..=850).contains(&self.approve_min_score)
                    || !(300..=850).contains(&self.review_min_score),
                "approve_min_score and review_min_score must lie in 300..=850",
            ),
            (
                !(self.max_debt_to_income > 0.0 && self.max_debt_to_income.is_finite()),
                "max_debt_to_income must be above 0",
            ),
            (
                !(self.min_monthly_income >= 0.0 && self.min_monthly_income.is_finite()),
                "min_monthly_income must be 0 or more",
            ),
            (
                !(self.max_loan_to_annual_income > 0.0
                    && self.max_loan_to_annual_income.is_finite()),
                "max_loan_to_annual_income must be above 0",
            ),
            (
                !(0.0..=1.0).contains(&self.assumed_annual_rate),
                "assumed_annual_rate must lie in 0..=1",
            ),
            (
                !(1..=480).contains(&self.default_loan_term_months),
                "default_loan_term_months must lie in 1..=480",
            ),
            (
                self.inquiry_window_days == 0 || self.velocity_window_days == 0,
                "inquiry_window_days and velocity_window_days must be at least 1",
            ),
            (
                self.velocity_max_applications < 2,
                "velocity_max_applications must be at least 2",
            ),
            (
                !(self.income_change_tolerance > 0.0 && self.income_change_tolerance.is_finite()),
                "income_change_tolerance must be above 0",
            ),
            (
                !(0.0..=1.0).contains(&self.max_probability_of_default),
                "max_probability_of_default must lie in 0..=1",
            ),
        ];
        ConfigError::check("credit", &problems)
    }

    /// The longest window the detector reads: it keeps the applicant's applications that long.
    pub(crate) fn history_days(&self) -> u32 {
        self.inquiry_window_days.max(self.velocity_window_days)
    }
}
