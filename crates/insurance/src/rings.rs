use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};
use rustc_hash::FxHashSet;
use serde_json::{Map, Value};

use crate::contacts::IdentifierKind;
use crate::windows::identifier_window;
use crate::{Claim, InsuranceConfig};

/// A fraud ring: one phone, e-mail, bank account or address used by several different claimants.
/// The evidence says how many claimants share which kind of identifier, never the identifier.
pub struct SharedIdentifierRule {
    min_claimants: usize,
    window: Duration,
}

impl SharedIdentifierRule {
    pub fn new(config: &InsuranceConfig) -> Self {
        Self {
            min_claimants: config.ring_min_claimants.max(2) as usize,
            window: Duration::days(i64::from(config.ring_window_days)),
        }
    }
}

impl Rule<Claim> for SharedIdentifierRule {
    fn name(&self) -> &'static str {
        "SharedIdentifierRule"
    }

    fn evaluate(&self, claim: &Claim, history: &History) -> Option<Alert> {
        let since = claim.at - self.window;
        let claimant = claim.claimant();
        let days = self.window.num_days();
        let mut shared: Vec<(IdentifierKind, usize, usize)> = Vec::new();
        for kind in IdentifierKind::ALL {
            let Some(hash) = claim.contacts.get(kind) else {
                continue;
            };
            let earlier: Vec<_> = history
                .get(&identifier_window(kind, hash))
                .iter()
                .filter(|past| past.at >= since)
                .collect();
            let claimants: FxHashSet<&str> = earlier
                .iter()
                .map(|past| past.counterparty())
                .chain([claimant.as_str()])
                .collect();
            if claimants.len() >= self.min_claimants {
                shared.push((kind, claimants.len(), earlier.len() + 1));
            }
        }
        let widest = shared.iter().map(|(_, claimants, _)| *claimants).max()?;
        let extra = (widest - self.min_claimants) as f64;
        let confidence = (0.7 + 0.05 * extra + 0.05 * (shared.len() - 1) as f64).min(0.95);
        let kinds: Vec<&str> = shared.iter().map(|(kind, _, _)| kind.label()).collect();
        let mut alert = Alert::new(
            self.name(),
            "shared_identifier",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Possible fraud ring: {} shared by {widest} different claimants in {days} days",
                kinds.join(" and ")
            ),
        )
        .with_metadata(
            "claimants_sharing",
            shared
                .iter()
                .map(|(kind, claimants, _)| (kind.code().to_owned(), Value::from(*claimants)))
                .collect::<Map<_, _>>(),
        )
        .with_metadata("window_days", days);
        for (kind, claimants, claims) in &shared {
            let label = kind.label();
            let mut sentence = format!(
                "{label} shared by {claimants} claimants across {claims} claims in {days} days"
            );
            sentence.replace_range(..1, &label[..1].to_uppercase());
            alert = alert.with_evidence(sentence);
        }
        Some(alert)
    }
}
