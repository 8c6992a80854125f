//! The market anomaly model's inputs, and the synthetic events it is trained on by default.

use chrono::Duration;
use redflag_core::History;
use redflag_ml_core::TrainingSet;

use crate::tags::kind_of;
use crate::windows::{days, since, symbol_trades, trader_events};
use crate::{EventType, MarketEvent};

/// The features, in the order the model takes them.
pub const FEATURES: [&str; 5] = [
    "log_volume",
    "volume_to_mean",
    "price_change_24h",
    "trades_24h",
    "trader_cancel_ratio",
];

/// The features of one event given its windows: ln(1 + volume); the volume over the symbol's
/// average trade size in its daily history (1 without history); the price change from the first
/// trade in the last 24 hours; the symbol's trades in the last 24 hours; and the share of the
/// trader's orders in the symbol (in their window) that they cancelled.
pub fn features(event: &MarketEvent, history: &History) -> [f64; 5] {
    let (volume, trades) = days(history, &event.symbol)
        .iter()
        .fold((0.0, 0.0), |(v, n), day| (v + day.volume, n + day.trades));
    let volume_to_mean = if volume > 0.0 && trades > 0.0 {
        event.volume / (volume / trades)
    } else {
        1.0
    };
    let recent = since(
        history.get(&symbol_trades(&event.symbol)),
        event.at - Duration::hours(24),
    );
    let price_change = recent
        .first()
        .filter(|first| first.amount > 0.0)
        .map_or(0.0, |first| (event.price - first.amount) / first.amount);
    let (orders, cancels) = history
        .get(&trader_events(&event.trader_id, &event.symbol))
        .iter()
        .fold((0.0, 0.0), |(orders, cancels), past| {
            match kind_of(&past.counterparty) {
                Some(EventType::Order) => (orders + 1.0, cancels),
                Some(EventType::Cancel) => (orders, cancels + 1.0),
                _ => (orders, cancels),
            }
        });
    let cancels = cancels + f64::from(u8::from(event.event_type == EventType::Cancel));
    [
        event.volume.ln_1p(),
        volume_to_mean,
        price_change,
        recent.len() as f64,
        if orders > 0.0 {
            (cancels / orders).min(1.0)
        } else {
            0.0
        },
    ]
}

/// `rows` synthetic events, 3% of them planted manipulation (labelled true).
///
/// Ordinary: volume log-normal (median ~400, sigma 1); volume over the mean trade log-normal around
/// 1 (sigma 0.5); 24-hour price change normal (0, 2%); trades in 24 hours Poisson(20); the
/// trader's cancel ratio Beta(2, 8) (mean 0.2). Planted, in equal shares: pumps (volume ~4.5x the
/// mean, price +25% +- 8%, Poisson(60) trades) and spoofers (cancel ratio Beta(18, 2), mean 0.9).
pub fn synthetic(rows: usize, seed: u64) -> TrainingSet {
    TrainingSet::generate(&FEATURES, rows, seed, |s| {
        let planted = s.chance(0.03);
        let pump = planted && s.chance(0.5);
        let spoof = planted && !pump;
        let row = [
            if pump {
                s.log_normal(7.0, 1.0).ln_1p()
            } else {
                s.log_normal(6.0, 1.0).ln_1p()
            },
            if pump {
                s.log_normal(1.5, 0.4)
            } else {
                s.log_normal(0.0, 0.5)
            },
            if pump {
                s.normal(0.25, 0.08)
            } else {
                s.normal(0.0, 0.02)
            },
            if pump {
                s.poisson(60.0)
            } else {
                s.poisson(20.0)
            },
            if spoof {
                s.beta(18.0, 2.0)
            } else {
                s.beta(2.0, 8.0)
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
    fn an_event_without_history_has_neutral_features() {
        let event = MarketEvent::trade("X", 10.0, 500.0, "T");
        assert_eq!(
            features(&event, &History::new()),
            [500f64.ln_1p(), 1.0, 0.0, 0.0, 0.0]
        );
    }
}
