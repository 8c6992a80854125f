use redflag_core::{Alert, Fixed, History, Money, Rule, Severity};

use crate::inflation::ratio_confidence;
use crate::{Claim, InsuranceConfig};

/// A claim for more than the loss supports: above the policy's coverage limit, or far above the
/// estimated value of the loss.
pub struct ExcessiveClaimRule {
    ratio: f64,
}

impl ExcessiveClaimRule {
    pub fn new(config: &InsuranceConfig) -> Self {
        Self {
            ratio: config.excessive_claim_ratio.max(1.0),
        }
    }
}

impl Rule<Claim> for ExcessiveClaimRule {
    /// It reads the event alone.
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "ExcessiveClaimRule"
    }

    fn evaluate(&self, claim: &Claim, _history: &History) -> Option<Alert> {
        let amount = claim.claim_amount;
        let mut findings: Vec<(f64, String)> = Vec::new();
        if let Some(limit) = claim.coverage_limit.filter(|limit| amount > *limit) {
            let over = amount / limit - 1.0;
            findings.push((
                0.5 + 0.4 * over.min(1.0),
                format!(
                    "Claim amount {} exceeds the coverage limit {} by {}%",
                    Money(amount),
                    Money(limit),
                    Fixed(over * 100.0, 0)
                ),
            ));
        }
        if let Some(estimated) = claim.estimated_value {
            let ratio = amount / estimated;
            if ratio >= self.ratio {
                findings.push((
                    ratio_confidence(ratio),
                    format!(
                        "Claim amount {} is {}x the estimated value {}",
                        Money(amount),
                        Fixed(ratio, 1),
                        Money(estimated)
                    ),
                ));
            }
        }
        let (confidence, strongest) =
            findings
                .iter()
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(confidence, line)| {
                    (
                        *confidence,
                        line.replacen("Claim amount", "claim amount", 1),
                    )
                })?;
        let mut alert = Alert::new(
            self.name(),
            "excessive_claim",
            Severity::from_confidence(confidence),
            confidence,
            format!("Excessive claim: {strongest}"),
        );
        if let Some(limit) = claim.coverage_limit {
            alert = alert.with_metadata("coverage_limit", limit);
        }
        if let Some(estimated) = claim.estimated_value {
            alert = alert.with_metadata("estimated_value", estimated);
        }
        for (_, line) in findings {
            alert = alert.with_evidence(line);
        }
        Some(alert)
    }
}
