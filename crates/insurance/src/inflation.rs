use redflag_core::{Alert, History, Rule, Severity};

use crate::{Claim, InsuranceConfig};

/// Property claim inflation: a loss valued well above what the property is worth, or a claim well
/// above the estimated loss.
#[derive(Debug, Clone)]
pub struct PropertyInflationRule {
    ratio: f64,
}

impl PropertyInflationRule {
    pub fn new(config: &InsuranceConfig) -> Self {
        Self {
            ratio: config.inflation_ratio.max(1.0),
        }
    }
}

impl Rule<Claim> for PropertyInflationRule {
    fn name(&self) -> &'static str {
        "PropertyInflationRule"
    }

    fn evaluate(&self, claim: &Claim, _history: &History) -> Option<Alert> {
        let mut evidence = Vec::new();
        let mut worst: f64 = 0.0;
        if let (Some(estimated), Some(market)) = (claim.estimated_value, claim.market_value) {
            let ratio = estimated / market;
            if ratio >= self.ratio {
                evidence.push(format!(
                    "Estimated value ${estimated:.2} is {ratio:.1}x higher than market value ${market:.2}"
                ));
                worst = worst.max(ratio);
            }
        }
        if let Some(estimated) = claim.estimated_value {
            let ratio = claim.claim_amount / estimated;
            if ratio >= self.ratio {
                evidence.push(format!(
                    "Claim amount ${:.2} is {ratio:.1}x the estimated value ${estimated:.2}",
                    claim.claim_amount
                ));
                worst = worst.max(ratio);
            }
        }
        if evidence.is_empty() {
            return None;
        }
        // 1.5x -> 0.53, 2x -> 0.7, 3x -> 0.87: rises quickly then saturates below certainty.
        let confidence = ((worst - 1.0) / worst + 0.2).min(0.95);
        let score = (confidence * 100.0).round() / 100.0;
        let mut alert = Alert::new(
            self.name(),
            "property_inflation",
            Severity::from_confidence(confidence),
            confidence,
            format!("Property claim inflation suspected (score: {score:.2})"),
        )
        .with_metadata("value_ratio", (worst * 100.0).round() / 100.0)
        .with_metadata("threshold_ratio", self.ratio);
        for line in evidence {
            alert = alert.with_evidence(line);
        }
        Some(alert)
    }
}
