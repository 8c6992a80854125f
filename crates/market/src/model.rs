//! The market anomaly model's inputs, and the synthetic trades it is trained on by default.

use chrono::Duration;
use redflag_core::History;
use redflag_ml_core::TrainingSet;

use crate::Trade;
use crate::detector::symbol_window;

/// The features, in the order the model takes them.
pub const FEATURES: [&str; 4] = [
    "log_volume",
    "volume_to_mean",
    "price_change_24h",
    "trades_24h",
];

/// The features of one trade given its symbol's window: ln(1 + volume), the volume over the mean
/// volume of the symbol's earlier trades (1 without), the relative price change since the first
/// trade of the last 24 hours (0 without) and the number of those trades.
pub fn features(trade: &Trade, history: &History) -> [f64; 4] {
    let past = history.get(&symbol_window(trade));
    let mean_volume = if past.is_empty() {
        trade.volume
    } else {
        past.iter().map(|activity| activity.quantity).sum::<f64>() / past.len() as f64
    };
    let since = trade.at - Duration::hours(24);
    let recent: Vec<_> = past
        .iter()
        .filter(|activity| activity.at >= since)
        .collect();
    let price_change = recent
        .first()
        .filter(|first| first.amount > 0.0)
        .map_or(0.0, |first| (trade.price - first.amount) / first.amount);
    [
        trade.volume.ln_1p(),
        if mean_volume > 0.0 {
            trade.volume / mean_volume
        } else {
            1.0
        },
        price_change,
        recent.len() as f64,
    ]
}

/// `rows` synthetic trades, 2% of them planted pumps (labelled true).
///
/// Ordinary: volume log-normal (median ~400, sigma 1.0); volume over the symbol's mean
/// log-normal around 1 (sigma 0.5); 24-hour price change normal (mean 0, sd 2%); trades in the
/// last 24 hours Poisson(20). Planted pumps: price up ~25% (sd 8%), volume ~4.5x the mean,
/// Poisson(60) trades.
pub fn synthetic(rows: usize, seed: u64) -> TrainingSet {
    TrainingSet::generate(&FEATURES, rows, seed, |s| {
        let planted = s.chance(0.02);
        let row = if planted {
            [
                s.log_normal(7.0, 1.0).ln_1p(),
                s.log_normal(1.5, 0.4),
                s.normal(0.25, 0.08),
                s.poisson(60.0),
            ]
        } else {
            [
                s.log_normal(6.0, 1.0).ln_1p(),
                s.log_normal(0.0, 0.5),
                s.normal(0.0, 0.02),
                s.poisson(20.0),
            ]
        };
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
