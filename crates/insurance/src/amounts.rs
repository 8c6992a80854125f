use redflag_core::{Alert, Fixed, History, Money, Rule, Severity};

use crate::{Claim, InsuranceConfig};

/// A round claim amount: an estimate rather than an invoice. A weak signal on its own.
pub struct RoundAmountRule {
    unit: f64,
    min: f64,
}

impl RoundAmountRule {
    pub fn new(config: &InsuranceConfig) -> Self {
        Self {
            unit: config.round_amount_unit,
            min: config.round_amount_min,
        }
    }
}

impl Rule<Claim> for RoundAmountRule {
    /// It reads the event alone.
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "RoundAmountRule"
    }

    fn evaluate(&self, claim: &Claim, _history: &History) -> Option<Alert> {
        let amount = claim.claim_amount;
        let round = self.unit > 0.0 && amount >= self.min && (amount / self.unit).fract() == 0.0;
        if !round {
            return None;
        }
        let confidence = 0.2;
        let reason = format!(
            "Round claim amount: {} is a whole multiple of {}",
            Money(amount),
            Money(self.unit)
        );
        Some(
            Alert::new(
                self.name(),
                "round_amount",
                Severity::from_confidence(confidence),
                confidence,
                reason.clone(),
            )
            .with_metadata("unit", self.unit)
            .with_evidence(reason),
        )
    }
}

/// An amount just under a claims handler's approval authority limit: sized to avoid a senior
/// review.
pub struct AuthorityLimitRule {
    limits: Vec<f64>,
    margin: f64,
}

impl AuthorityLimitRule {
    pub fn new(config: &InsuranceConfig) -> Self {
        Self {
            limits: config.authority_limits.clone(),
            margin: config.authority_margin.clamp(0.0, 1.0),
        }
    }
}

impl Rule<Claim> for AuthorityLimitRule {
    /// It reads the event alone.
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "AuthorityLimitRule"
    }

    fn evaluate(&self, claim: &Claim, _history: &History) -> Option<Alert> {
        let amount = claim.claim_amount;
        let limit = self
            .limits
            .iter()
            .copied()
            .find(|limit| amount < *limit && amount >= limit * (1.0 - self.margin))?;
        let below = (limit - amount) / limit;
        let confidence = 0.4;
        let reason = format!(
            "Amount just under an approval authority limit: {} is {}% below the {} limit",
            Money(amount),
            Fixed(below * 100.0, 1),
            Money(limit)
        );
        Some(
            Alert::new(
                self.name(),
                "authority_limit",
                Severity::from_confidence(confidence),
                confidence,
                reason.clone(),
            )
            .with_metadata("authority_limit", limit)
            .with_metadata("margin", self.margin)
            .with_evidence(reason),
        )
    }
}
