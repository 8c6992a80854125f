use redflag_core::{Alert, History, Rule, Severity};

use crate::{Claim, InsuranceConfig};

/// An early claim: a loss shortly after the policy started (insurance bought for a loss already
/// happened or planned), or before it started at all.
pub struct EarlyClaimRule {
    days: i64,
}

impl EarlyClaimRule {
    pub fn new(config: &InsuranceConfig) -> Self {
        Self {
            days: i64::from(config.early_claim_days.max(1)),
        }
    }
}

impl Rule<Claim> for EarlyClaimRule {
    /// It reads the event alone.
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "EarlyClaimRule"
    }

    fn evaluate(&self, claim: &Claim, _history: &History) -> Option<Alert> {
        let (start, incident) = (claim.policy_start_date?, claim.incident_date?);
        let days = (incident - start).num_days();
        let (confidence, reason) = if days < 0 {
            (
                0.85,
                format!(
                    "Loss before inception: incident on {incident}, {} days before the policy started on {start}",
                    -days
                ),
            )
        } else if days < self.days {
            (
                0.45 + 0.3 * (1.0 - days as f64 / self.days as f64),
                format!(
                    "Early claim: incident on {incident}, {days} days after the policy started on {start} (threshold {} days)",
                    self.days
                ),
            )
        } else {
            return None;
        };
        Some(
            Alert::new(
                self.name(),
                "early_claim",
                Severity::from_confidence(confidence),
                confidence,
                reason.clone(),
            )
            .with_metadata("days_after_inception", days)
            .with_metadata("threshold_days", self.days)
            .with_evidence(reason),
        )
    }
}

/// Late reporting: a loss reported long after it happened, when evidence is gone.
pub struct LateReportingRule {
    days: i64,
}

impl LateReportingRule {
    pub fn new(config: &InsuranceConfig) -> Self {
        Self {
            days: i64::from(config.late_report_days.max(1)),
        }
    }
}

impl Rule<Claim> for LateReportingRule {
    /// It reads the event alone.
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "LateReportingRule"
    }

    fn evaluate(&self, claim: &Claim, _history: &History) -> Option<Alert> {
        let incident = claim.incident_date?;
        let reported = claim.reported_on();
        let delay = (reported - incident).num_days();
        if delay <= self.days {
            return None;
        }
        let excess = (delay - self.days) as f64 / (2 * self.days) as f64;
        let confidence = 0.35 + 0.25 * excess.min(1.0);
        let verb = if claim.report_date.is_some() {
            "reported"
        } else {
            "claimed"
        };
        let reason = format!(
            "Late reporting: {verb} on {reported}, {delay} days after the incident on {incident} (threshold {} days)",
            self.days
        );
        Some(
            Alert::new(
                self.name(),
                "late_reporting",
                Severity::from_confidence(confidence),
                confidence,
                reason.clone(),
            )
            .with_metadata("report_delay_days", delay)
            .with_metadata("threshold_days", self.days)
            .with_evidence(reason),
        )
    }
}
