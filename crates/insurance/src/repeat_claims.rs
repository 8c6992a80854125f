use chrono::Duration;
use redflag_core::{Activity, Alert, History, Money, Rule, Severity};

use crate::windows::{claimant_window, policy_window};
use crate::{Claim, InsuranceConfig};

/// Frequent claims: many claims on one policy, or by one claimant across policies, within a year
/// is a classic red flag of staged or padded losses.
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

    /// The window's claims within the period, this one included: (count, total).
    fn tally(&self, claim: &Claim, earlier: &[Activity]) -> (usize, f64) {
        let since = claim.at - self.window;
        let recent = earlier.iter().filter(|past| past.at >= since);
        let (count, total) = recent.fold((0, 0.0), |(n, sum), past| (n + 1, sum + past.amount));
        (count + 1, total + claim.claim_amount)
    }
}

impl Rule<Claim> for RepeatClaimsRule {
    fn name(&self) -> &'static str {
        "RepeatClaimsRule"
    }

    fn evaluate(&self, claim: &Claim, history: &History) -> Option<Alert> {
        let days = self.window.num_days();
        let mut findings = Vec::new();
        let (on_policy, policy_total) = self.tally(claim, history.get(&policy_window(claim)));
        if on_policy >= self.min_claims {
            findings.push((
                on_policy,
                policy_total,
                format!("on policy {}", claim.policy_id),
            ));
        }
        if let Some(claimant) = &claim.claimant_id {
            let earlier = history.get(&claimant_window(claimant));
            let (by_claimant, claimant_total) = self.tally(claim, earlier);
            if by_claimant >= self.min_claims {
                let mut policies: Vec<&str> = earlier
                    .iter()
                    .map(|past| past.counterparty())
                    .chain([claim.policy_id.as_str()])
                    .collect();
                policies.sort_unstable();
                policies.dedup();
                findings.push((
                    by_claimant,
                    claimant_total,
                    format!("by claimant {claimant} across {} policies", policies.len()),
                ));
            }
        }
        let (count, total, _) = findings.iter().max_by_key(|(count, _, _)| *count)?.clone();
        let extra = (count - self.min_claims).min(4) as f64;
        let confidence = 0.5 + 0.1 * extra;
        let mut alert = Alert::new(
            self.name(),
            "repeat_claims",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Repeat claims: {count} claims totaling {} {} in {days} days",
                Money(total),
                findings
                    .iter()
                    .find(|(n, _, _)| *n == count)
                    .map_or("", |(_, _, whose)| whose.as_str())
            ),
        )
        .with_metadata("num_claims", count)
        .with_metadata("total_claimed", (total * 100.0).round() / 100.0)
        .with_metadata("window_days", days);
        for (n, sum, whose) in &findings {
            alert = alert.with_evidence(format!(
                "{n} claims totaling {} {whose} in the last {days} days",
                Money(*sum)
            ));
        }
        Some(alert)
    }
}
