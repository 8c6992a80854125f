//! The insurance anomaly model's inputs, and the synthetic claims it is trained on by default.

use redflag_core::History;
use redflag_ml_core::TrainingSet;

use crate::Claim;
use crate::detector::policy_window;

/// The features, in the order the model takes them.
pub const FEATURES: [&str; 4] = [
    "log_claim_amount",
    "claim_to_estimate",
    "estimate_to_market",
    "policy_claims_in_window",
];

/// The features of one claim given its policy's window: ln(1 + claim amount), the claim over
/// the estimated value and the estimate over the market value (each 1 when a value is missing),
/// and the policy's earlier claims in the window.
pub fn features(claim: &Claim, history: &History) -> [f64; 4] {
    let claim_to_estimate = claim
        .estimated_value
        .map_or(1.0, |estimate| claim.claim_amount / estimate);
    let estimate_to_market = match (claim.estimated_value, claim.market_value) {
        (Some(estimate), Some(market)) => estimate / market,
        _ => 1.0,
    };
    [
        claim.claim_amount.ln_1p(),
        claim_to_estimate,
        estimate_to_market,
        history.get(&policy_window(claim)).len() as f64,
    ]
}

/// `rows` synthetic claims, 3% of them planted fraud (labelled true).
///
/// Ordinary: claim amount log-normal (median ~3,000, sigma 1.1); claim over estimate log-normal
/// around 0.9 (sigma 0.12); estimate over market value log-normal around 1 (sigma 0.12); earlier
/// claims on the policy Poisson(0.3). Planted, in equal shares: inflation (estimate ~1.8x market,
/// claim ~1.3x estimate) and repeat claims (2 + Poisson(2) earlier claims).
pub fn synthetic(rows: usize, seed: u64) -> TrainingSet {
    TrainingSet::generate(&FEATURES, rows, seed, |s| {
        let planted = s.chance(0.03);
        let inflation = planted && s.chance(0.5);
        let repeat = planted && !inflation;
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
            if repeat {
                2.0 + s.poisson(2.0)
            } else {
                s.poisson(0.3)
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
}
