use redflag_core::Secret;
use serde::{Deserialize, Serialize};

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
