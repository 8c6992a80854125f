use std::sync::Arc;

use redflag_core::{Alert, Fixed, History, Money, Rule, Severity};

use crate::valuation::ValuationTable;
use crate::{Claim, ClaimType, InsuranceConfig};

/// Property claim inflation: a loss valued well above what the property is worth.
///
/// The reference is the market (actual cash) value in the request, otherwise the valuation
/// table's value for the claim type and item category (depreciated by the item's age); without
/// either the rule cannot judge and stays quiet.
pub struct PropertyInflationRule {
    ratio: f64,
    valuations: Arc<ValuationTable>,
}

/// What the claimed value is compared with.
pub struct Reference {
    pub value: f64,
    /// Where the value comes from: the request, or the valuation table.
    pub source: ReferenceSource,
}

pub enum ReferenceSource {
    MarketValue,
    Table {
        claim_type: ClaimType,
        annual_depreciation: f64,
    },
}

impl Reference {
    /// The reference as evidence names it, e.g. "market value $32000.00".
    fn describe(&self, claim: &Claim) -> String {
        match self.source {
            ReferenceSource::MarketValue => format!("market value {}", Money(self.value)),
            ReferenceSource::Table {
                claim_type,
                annual_depreciation,
            } => {
                let age = match claim.item_age_years {
                    Some(age) => format!(
                        "{} years old at {}% a year",
                        Fixed(age, 1),
                        Fixed(annual_depreciation * 100.0, 0)
                    ),
                    None => "as new, no age given".to_owned(),
                };
                format!(
                    "the reference value {} for {} {} ({age})",
                    Money(self.value),
                    claim_type.as_str(),
                    claim.item_category.as_deref().unwrap_or_default()
                )
            }
        }
    }
}

impl PropertyInflationRule {
    pub fn new(config: &InsuranceConfig, valuations: Arc<ValuationTable>) -> Self {
        Self {
            ratio: config.inflation_ratio.max(1.0),
            valuations,
        }
    }
}

/// The claim's reference value: the request's market value, else the table's.
pub fn reference(claim: &Claim, valuations: &ValuationTable) -> Option<Reference> {
    if let Some(market) = claim.market_value {
        return Some(Reference {
            value: market,
            source: ReferenceSource::MarketValue,
        });
    }
    let claim_type = claim.claim_type?;
    let valuation = valuations.get(claim_type, claim.item_category.as_deref()?)?;
    Some(Reference {
        value: valuation.market_value(claim.item_age_years),
        source: ReferenceSource::Table {
            claim_type,
            annual_depreciation: valuation.annual_depreciation,
        },
    })
}

/// How sure a value ratio makes the inflation: 1.5x -> 0.53, 2x -> 0.7, 3x -> 0.87; it rises
/// quickly, then saturates below certainty.
pub fn ratio_confidence(ratio: f64) -> f64 {
    ((ratio - 1.0) / ratio + 0.2).min(0.95)
}

impl Rule<Claim> for PropertyInflationRule {
    /// It reads the event alone.
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "PropertyInflationRule"
    }

    fn evaluate(&self, claim: &Claim, _history: &History) -> Option<Alert> {
        let reference = reference(claim, &self.valuations)?;
        let (claimed, label) = match claim.estimated_value {
            Some(estimated) => (estimated, "Estimated value"),
            None => (claim.claim_amount, "Claim amount"),
        };
        let ratio = claimed / reference.value;
        if ratio < self.ratio {
            return None;
        }
        let confidence = ratio_confidence(ratio);
        Some(
            Alert::new(
                self.name(),
                "property_inflation",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Property claim inflation suspected (score: {})",
                    Fixed(confidence, 2)
                ),
            )
            .with_metadata("value_ratio", (ratio * 100.0).round() / 100.0)
            .with_metadata("reference_value", (reference.value * 100.0).round() / 100.0)
            .with_metadata("threshold_ratio", self.ratio)
            .with_evidence(format!(
                "{label} {} is {}x higher than {}",
                Money(claimed),
                Fixed(ratio, 1),
                reference.describe(claim)
            )),
        )
    }
}
