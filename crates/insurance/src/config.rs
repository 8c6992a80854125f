use redflag_core::{ConfigError, Secret};
use serde::{Deserialize, Serialize};

use crate::ClaimType;

/// The claims-fraud thresholds (`[insurance]` in config/default.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InsuranceConfig {
    /// Estimated over market (or reference) value from which inflation is suspected (1.5x is the
    /// common flag).
    pub inflation_ratio: f64,
    /// Claim amount over the estimated value from which the claim is excessive.
    pub excessive_claim_ratio: f64,
    /// The valuation table (CSV: claim_type, item_category, replacement_value,
    /// annual_depreciation); empty: the bundled copy of config/valuations.csv.
    pub valuation_file: String,
    /// An incident within this many days of the policy's start is an early claim.
    pub early_claim_days: u32,
    /// A report more than this many days after the incident is late.
    pub late_report_days: u32,
    /// Claims per policy, or per claimant, within the window that make a frequent-claims pattern.
    pub repeat_claims_min: u32,
    /// How far back claims are counted, in days (practice: 12-36 months); duplicates are looked
    /// for over the same window.
    pub repeat_claims_window_days: u32,
    /// A claim amount that is a whole multiple of this is round.
    pub round_amount_unit: f64,
    /// Round amounts below this are not remarked on (small claims are often round).
    pub round_amount_min: f64,
    /// The approval authority limits claims handlers work under.
    pub authority_limits: Vec<f64>,
    /// How far below an authority limit (as a fraction of it) an amount is "just under".
    pub authority_margin: f64,
    /// Distinct claimants sharing one contact identifier that make a ring.
    pub ring_min_claimants: u32,
    /// How far back shared identifiers are looked for, in days.
    pub ring_window_days: u32,
    /// The claim types whose providers are compared with their peers.
    pub provider_outlier_claim_types: Vec<String>,
    /// Claim amount over the peers' median from which a provider's claim is an outlier.
    pub provider_outlier_ratio: f64,
    /// Claims by other providers needed before the peers' median means anything.
    pub provider_min_peer_claims: u32,
    /// The most recent claims of a type kept as the peer sample.
    pub provider_peer_sample: u32,
    /// How far back the peer sample reaches, in days.
    pub provider_peer_window_days: u32,
    /// Fraud probability from which a claim is flagged for investigation.
    pub flag_probability: f64,
    /// The secret that keys the contact-identifier hashes; empty: the service's SECRET_KEY.
    pub identifier_key: Secret,
}

impl Default for InsuranceConfig {
    fn default() -> Self {
        Self {
            inflation_ratio: 1.5,
            excessive_claim_ratio: 1.5,
            valuation_file: String::new(),
            early_claim_days: 30,
            late_report_days: 30,
            repeat_claims_min: 3,
            repeat_claims_window_days: 365,
            round_amount_unit: 1000.0,
            round_amount_min: 5000.0,
            authority_limits: vec![5_000.0, 10_000.0, 25_000.0, 50_000.0],
            authority_margin: 0.05,
            ring_min_claimants: 3,
            ring_window_days: 180,
            provider_outlier_claim_types: vec!["health".to_owned()],
            provider_outlier_ratio: 3.0,
            provider_min_peer_claims: 20,
            provider_peer_sample: 200,
            provider_peer_window_days: 90,
            flag_probability: 0.5,
            identifier_key: Secret::default(),
        }
    }
}

impl InsuranceConfig {
    /// Refuses settings that would make the claims rules meaningless, naming each setting.
    pub fn check(&self) -> Result<(), ConfigError> {
        let finite_at_least = |value: f64, least: f64| value >= least && value.is_finite();
        let unknown_types = self
            .provider_outlier_claim_types
            .iter()
            .any(|name| ClaimType::from_name(name).is_none());
        ConfigError::check(
            "insurance",
            &[
                (
                    !finite_at_least(self.inflation_ratio, 1.0)
                        || !finite_at_least(self.excessive_claim_ratio, 1.0)
                        || !finite_at_least(self.provider_outlier_ratio, 1.0),
                    "inflation_ratio, excessive_claim_ratio and provider_outlier_ratio must be at \
                     least 1",
                ),
                (
                    !(self.round_amount_unit > 0.0
                        && self.round_amount_unit.is_finite()
                        && finite_at_least(self.round_amount_min, 0.0)),
                    "round_amount_unit must be above 0 and round_amount_min 0 or more",
                ),
                (
                    self.authority_limits
                        .iter()
                        .any(|limit| !(*limit > 0.0 && limit.is_finite())),
                    "authority_limits must all be above 0",
                ),
                (
                    !(0.0..1.0).contains(&self.authority_margin),
                    "authority_margin must be at least 0 and below 1",
                ),
                (
                    self.repeat_claims_min < 2 || self.ring_min_claimants < 2,
                    "repeat_claims_min and ring_min_claimants must be at least 2",
                ),
                (
                    self.repeat_claims_window_days == 0
                        || self.ring_window_days == 0
                        || self.provider_peer_window_days == 0,
                    "repeat_claims_window_days, ring_window_days and provider_peer_window_days \
                     must be at least 1",
                ),
                (
                    self.provider_min_peer_claims == 0
                        || self.provider_peer_sample < self.provider_min_peer_claims,
                    "provider_min_peer_claims must be at least 1 and provider_peer_sample at \
                     least provider_min_peer_claims",
                ),
                (
                    unknown_types,
                    "provider_outlier_claim_types must name claim types (auto, property, health, \
                     travel, life, other)",
                ),
                (
                    !(0.0..=1.0).contains(&self.flag_probability),
                    "flag_probability must lie in 0..=1",
                ),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InsuranceDetector;

    #[test]
    fn the_defaults_pass_and_the_engine_refuses_every_meaningless_setting_by_name() {
        assert_eq!(InsuranceConfig::default().check(), Ok(()));
        let wrong = InsuranceConfig {
            round_amount_unit: 0.0,
            ring_min_claimants: 1,
            provider_outlier_claim_types: vec!["dental".to_owned()],
            flag_probability: 50.0,
            ..InsuranceConfig::default()
        };
        let Err(refused) = InsuranceDetector::new(wrong) else {
            panic!("the engine started on meaningless settings");
        };
        assert_eq!(
            refused.problems,
            [
                "insurance.round_amount_unit must be above 0 and round_amount_min 0 or more",
                "insurance.repeat_claims_min and ring_min_claimants must be at least 2",
                "insurance.provider_outlier_claim_types must name claim types (auto, property, \
                 health, travel, life, other)",
                "insurance.flag_probability must lie in 0..=1",
            ]
        );
        let unreadable = InsuranceConfig {
            valuation_file: "/nonexistent/valuations.csv".to_owned(),
            ..InsuranceConfig::default()
        };
        let Err(refused) = InsuranceDetector::new(unreadable) else {
            panic!("the engine started without its valuation table");
        };
        assert!(
            refused.problems[0].starts_with(
                "insurance.valuation_file: cannot read the valuation table \
                 /nonexistent/valuations.csv"
            ),
            "{refused}"
        );
    }
}
