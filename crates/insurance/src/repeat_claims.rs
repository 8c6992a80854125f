use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::detector::policy_window;
use crate::{Claim, InsuranceConfig};

/// Repeat claims: many claims on one policy within a year is a classic red flag of staged or
/// padded losses.
#[derive(Debug, Clone)]
pub struct RepeatClaimsRule {
    min_claims: usize,
    window: Duration,
}

impl RepeatClaimsRule {
    pub fn new(config: &InsuranceConfig) -> Self {
        Self {
            min_claims: config.repeat_claims_min.max(2) as usize,
            window: Duration::days(i64::from(config.repeat_claims_window_days)),
        }
    }
}

impl Rule<Claim> for RepeatClaimsRule {
    fn name(&self) -> &'static str {
        "RepeatClaimsRule"
    }

    fn evaluate(&self, claim: &Claim, history: &History) -> Option<Alert> {
        let since = claim.at - self.window;
        let prior: Vec<_> = history
            .get(&policy_window(claim))
            .iter()
            .filter(|past| past.at >= since)
            .collect();
        let count = prior.len() + 1;
        if count < self.min_claims {
            return None;
        }
        let total: f64 = prior.iter().map(|past| past.amount).sum::<f64>() + claim.claim_amount;
        let extra = (count - self.min_claims).min(4) as f64;
        let confidence = 0.5 + 0.1 * extra;
        let days = self.window.num_days();
        Some(
            Alert::new(
                self.name(),
                "repeat_claims",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Repeat claims: {count} claims totaling ${total:.2} on policy {} in {days} days",
                    claim.policy_id
                ),
            )
            .with_metadata("num_claims", count)
            .with_metadata("total_claimed", (total * 100.0).round() / 100.0)
            .with_metadata("window_days", days)
            .with_evidence(format!("{} earlier claims on this policy in the last {days} days", count - 1)),
        )
    }
}
