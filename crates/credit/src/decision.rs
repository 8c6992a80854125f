use std::fmt;

use redflag_core::{Alert, Severity};
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

/// One principal reason for an adverse decision, as the adverse-action notice lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonCode {
    /// Stable code: a scorecard characteristic (`utilization`, `inquiries`, ...), a policy rule
    /// (`debt_to_income_limit`, ...) or a referral signal (`income_inconsistency`, ...).
    pub code: &'static str,
    /// The specific reason with its figures, as the applicant is told it.
    pub message: String,
    /// Score points lost against the best attainable value of the characteristic; `None` for
    /// policy rules and referral signals, which decide without costing points.
    pub points_lost: Option<f64>,
}

/// A finding that changes the decision: the alert kept with the decision and the principal reason
/// the applicant is given.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding {
    pub code: &'static str,
    pub alert: Alert,
}

impl Finding {
    fn new(
        rule: &str,
        code: &'static str,
        kind: &str,
        severity: Severity,
        confidence: f64,
        message: String,
    ) -> Self {
        Self {
            code,
            alert: Alert::new(rule, kind, severity, confidence, message),
        }
    }

    pub(crate) fn with_metadata(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.alert = self.alert.with_metadata(key, value);
        self
    }

    pub(crate) fn policy(rule: &str, code: &'static str, message: String) -> Self {
        Self::new(rule, code, "policy_rule", Severity::High, 1.0, message)
    }

    pub(crate) fn referral(
        rule: &str,
        code: &'static str,
        severity: Severity,
        confidence: f64,
        message: String,
    ) -> Self {
        Self::new(rule, code, code, severity, confidence, message)
    }

    /// A team's own rule that fired (its alert kept as the rule set wrote it).
    pub(crate) fn custom(alert: Alert) -> Self {
        Self {
            code: "custom_rule",
            alert,
        }
    }

    pub(crate) fn reason(&self) -> ReasonCode {
        ReasonCode {
            code: self.code,
            message: self.alert.reason.clone(),
            points_lost: None,
        }
    }
}
