use chrono::Duration;
use redflag_core::{Alert, Fixed, History, Money, Rule, Severity};

use crate::windows::{claim_type_window, peer_compared};
use crate::{Claim, InsuranceConfig};

/// A provider outlier: a claim far above what other providers charge for the same type of claim
/// (upcoding and inflated bills in health insurance).
pub struct ProviderOutlierRule {
    config: InsuranceConfig,
    window: Duration,
}

impl ProviderOutlierRule {
    pub fn new(config: &InsuranceConfig) -> Self {
        Self {
            config: config.clone(),
            window: Duration::days(i64::from(config.provider_peer_window_days)),
        }
    }
}

impl Rule<Claim> for ProviderOutlierRule {
    fn name(&self) -> &'static str {
        "ProviderOutlierRule"
    }

    fn evaluate(&self, claim: &Claim, history: &History) -> Option<Alert> {
        let claim_type = peer_compared(claim, &self.config)?;
        let provider = claim.provider_id.as_deref()?;
        let since = claim.at - self.window;
        let mut peers: Vec<f64> = history
            .get(&claim_type_window(claim_type))
            .iter()
            .filter(|past| past.at >= since && past.counterparty() != provider)
            .map(|past| past.amount)
            .collect();
        if peers.len() < self.config.provider_min_peer_claims.max(1) as usize {
            return None;
        }
        let median = median(&mut peers);
        let ratio = claim.claim_amount / median;
        let threshold = self.config.provider_outlier_ratio;
        if ratio < threshold {
            return None;
        }
        let confidence = (0.45 + 0.1 * (ratio - threshold)).min(0.85);
        let reason = format!(
            "Provider outlier: claim amount {} from provider {provider} is {}x the median {} of {} {} claims by other providers",
            Money(claim.claim_amount),
            Fixed(ratio, 1),
            Money(median),
            peers.len(),
            claim_type.as_str()
        );
        Some(
            Alert::new(
                self.name(),
                "provider_outlier",
                Severity::from_confidence(confidence),
                confidence,
                reason.clone(),
            )
            .with_metadata("peer_median", (median * 100.0).round() / 100.0)
            .with_metadata("peer_claims", peers.len())
            .with_metadata("ratio", (ratio * 100.0).round() / 100.0)
            .with_metadata("threshold_ratio", threshold)
            .with_evidence(reason),
        )
    }
}

/// The median of a non-empty sample (reordered in place, in linear time).
fn median(values: &mut [f64]) -> f64 {
    let odd = values.len() % 2 == 1;
    let middle = values.len() / 2;
    let (below, upper, _) = values.select_nth_unstable_by(middle, f64::total_cmp);
    let upper = *upper;
    if odd {
        upper
    } else {
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_of_odd_and_even_samples() {
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut [7.0]), 7.0);
    }
}
