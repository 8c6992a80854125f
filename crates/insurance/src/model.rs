//! The insurance anomaly model's inputs, and the synthetic claims it is trained on by default.

use redflag_core::History;
use redflag_ml_core::TrainingSet;

use crate::Claim;
use crate::inflation::reference;
use crate::valuation::ValuationTable;
use crate::windows::{claimant_window, policy_window};

/// The features, in the order the model takes them.
pub const FEATURES: [&str; 7] = [
    "log_claim_amount",
    "claim_to_estimate",
    "estimate_to_market",
    "policy_claims_in_window",
    "claimant_claims_in_window",
    "days_since_policy_start",
    "report_delay_days",
];

/// The typical values taken when a claim does not give a figure, so that a missing figure does
/// not look unusual by itself.
pub mod assumed {
    /// A policy in force about two years.
    pub const DAYS_SINCE_POLICY_START: f64 = 700.0;
    /// Reported a few days after the loss.
    pub const REPORT_DELAY_DAYS: f64 = 3.0;
}

/// Policy ages beyond ten years look alike.
const MAX_POLICY_AGE_DAYS: f64 = 3650.0;

/// The features of one claim given its windows: ln(1 + claim amount); the claim over the
/// estimated value and the estimate (or the claim) over the market or reference value (each 1
/// when a value is missing); the policy's and the claimant's earlier claims in the window; days
/// from the policy's start to the incident (capped at ten years, negative before inception); days
/// from the incident to the report.
pub fn features(claim: &Claim, history: &History, valuations: &ValuationTable) -> [f64; 7] {
    let claim_to_estimate = claim
        .estimated_value
        .map_or(1.0, |estimate| claim.claim_amount / estimate);
    let estimate_to_market = reference(claim, valuations).map_or(1.0, |reference| {
        claim.estimated_value.unwrap_or(claim.claim_amount) / reference.value
    });
    let claimant_claims = claim
        .claimant_id
        .as_deref()
        .map_or(0, |claimant| history.get(&claimant_window(claimant)).len());
    let policy_age = match (claim.policy_start_date, claim.incident_date) {
        (Some(start), Some(incident)) => {
            ((incident - start).num_days() as f64).min(MAX_POLICY_AGE_DAYS)
        }
        _ => assumed::DAYS_SINCE_POLICY_START,
    };
    let delay = claim
        .incident_date
        .map_or(assumed::REPORT_DELAY_DAYS, |incident| {
            (claim.reported_on() - incident).num_days() as f64
        });
    [
        claim.claim_amount.ln_1p(),
        claim_to_estimate,
        estimate_to_market,
        history.get(&policy_window(claim)).len() as f64,
        claimant_claims as f64,
        policy_age,
        delay,
    ]
}

/// `rows` synthetic claims, 4% of them planted fraud (labelled true).
///
/// Ordinary: claim amount log-normal (median ~3,000, sigma 1.1); claim over estimate log-normal
/// around 0.9 (sigma 0.12); estimate over market value log-normal around 1 (sigma 0.12); earlier
/// claims on the policy Poisson(0.3), by the claimant Poisson(0.4); policy age exponential (mean
/// 700 days, capped at ten years); report delay exponential (mean 3 days). Planted, in equal
/// shares: inflation (estimate ~1.8x market, claim ~1.3x estimate), repeat claims (2 + Poisson(2)
/// earlier claims on the policy and by the claimant), early claims (policy age uniform 0-30 days)
/// and late reports (delay uniform 45-180 days).
pub fn synthetic(rows: usize, seed: u64) -> TrainingSet {
    TrainingSet::generate(&FEATURES, rows, seed, |s| {
        let planted = s.chance(0.04);
        let kind = if planted { s.below(4) } else { 4 };
        let (inflation, repeat, early, late) = (kind == 0, kind == 1, kind == 2, kind == 3);
        let repeats = 2.0 + s.poisson(2.0);
        let row = [
            s.log_normal(8.0, 1.1).ln_1p(),
            if inflation {
                s.log_normal(0.26, 0.15)
            } else {
                s.log_normal(-0.1, 0.12)
            },
            if inflation {
                s.log_normal(0.6, 0.15)
            } else {
                s.log_normal(0.0, 0.12)
            },
            if repeat { repeats } else { s.poisson(0.3) },
            if repeat { repeats } else { s.poisson(0.4) },
            if early {
                s.uniform(0.0, 30.0).floor()
            } else {
                s.exponential(700.0).round().min(MAX_POLICY_AGE_DAYS)
            },
            if late {
                s.uniform(45.0, 180.0).floor()
            } else {
                s.exponential(3.0).round()
            },
        ];
        (row, planted)
    })
}

#[cfg(test)]
mod tests {
    use redflag_ml_core::{IsolationForestParams, train_isolation_forest};

    use super::*;

    #[test]
    fn the_planted_cases_are_what_the_default_model_learns_to_isolate() {
        let artifact =
            train_isolation_forest(&synthetic(4000, 1), IsolationForestParams::default())
                .expect("trains");
        assert!(artifact.metrics["roc_auc"] > 0.85, "{:?}", artifact.metrics);
    }

    #[test]
    fn missing_dates_and_values_take_typical_figures() {
        let claim = Claim::new("C", "P", 2000.0);
        assert_eq!(
            features(&claim, &History::new(), &ValuationTable::default()),
            [
                2000f64.ln_1p(),
                1.0,
                1.0,
                0.0,
                0.0,
                assumed::DAYS_SINCE_POLICY_START,
                assumed::REPORT_DELAY_DAYS
            ]
        );
    }
}
