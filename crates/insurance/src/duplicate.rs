use redflag_core::{Alert, History, Money, Rule, Severity};

use crate::Claim;
use crate::windows::{incident_day, policy_window};

/// A duplicate claim: the same loss claimed twice on one policy, as the same amount for the same
/// incident date under a new claim id.
pub struct DuplicateClaimRule;

impl Rule<Claim> for DuplicateClaimRule {
    fn name(&self) -> &'static str {
        "DuplicateClaimRule"
    }

    fn evaluate(&self, claim: &Claim, history: &History) -> Option<Alert> {
        let incident = claim.incident_date?;
        let day = incident_day(Some(incident));
        let earlier: Vec<_> = history
            .get(&policy_window(claim))
            .iter()
            .filter(|past| past.quantity == day && (past.amount - claim.claim_amount).abs() < 0.005)
            .collect();
        let first = earlier.first()?;
        let confidence = 0.8;
        let mut alert = Alert::new(
            self.name(),
            "duplicate_claim",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Duplicate claim: the same {} for the incident of {incident} was claimed as {} on policy {}",
                Money(claim.claim_amount),
                first.reference(),
                claim.policy_id
            ),
        )
        .with_metadata(
            "duplicates",
            earlier
                .iter()
                .map(|past| past.reference())
                .collect::<Vec<_>>(),
        );
        for past in &earlier {
            alert = alert.with_evidence(format!(
                "Claim {} filed {} claimed {} for the incident of {incident}",
                past.reference(),
                past.at.date_naive(),
                Money(past.amount)
            ));
        }
        Some(alert)
    }
}
