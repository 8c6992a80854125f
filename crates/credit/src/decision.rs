use std::fmt;

use redflag_core::Severity;
use serde::Serialize;

/// The lending decision, spelt as the contract spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Decision {
    Approved,
    Review,
    Declined,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "APPROVED",
            Self::Review => "REVIEW",
            Self::Declined => "DECLINED",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The band of risk a score falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskTier {
    Low,
    Medium,
    High,
    VeryHigh,
}

impl RiskTier {
    /// LOW from 740, MEDIUM from 670, HIGH from 580, VERY_HIGH below.
    pub fn of(score: u32) -> Self {
        match score {
            740.. => Self::Low,
            670..=739 => Self::Medium,
            580..=669 => Self::High,
            _ => Self::VeryHigh,
        }
    }

    /// The alert severity an applicant of this tier carries.
    pub fn severity(self) -> Severity {
        match self {
            Self::Low => Severity::Low,
            Self::Medium => Severity::Medium,
            Self::High => Severity::High,
            Self::VeryHigh => Severity::Critical,
        }
    }
}

/// One principal reason for an adverse decision, ranked by the points it cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonCode {
    /// Stable code, e.g. `payment_history`, `debt_to_income`.
    pub code: &'static str,
    /// The specific reason with its figures, as the applicant is told it.
    pub message: String,
    /// Score points lost against the best attainable value of this characteristic.
    pub points_lost: f64,
}
