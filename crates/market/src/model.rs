//! The market anomaly model's inputs, and the synthetic events it is trained on by default.

use redflag_core::History;
use redflag_ml_core::TrainingSet;

use crate::run_up::{DailySeries, RunUpParams};
use crate::tags::kind_of;
use crate::windows::{day_index, days, trader_events};
use crate::{EventType, MarketConfig, MarketEvent};

/// The features, in the order the model takes them. Besides the trade itself, each one is
/// measured against the symbol's (or the trader's) own history: a 20% week is ordinary for one
/// stock and a pump for another, and the model is trained on the deployment's own traffic.
pub const FEATURES: [&str; 6] = [
    "log_volume",
    "volume_to_mean",
    "move_sigmas_5d",
    "day_volume_to_median",
    "day_trades_to_mean",
    "trader_cancel_ratio",
];

/// Trading days the recent move spans: a week, the span of a typical pump.
pub const MOVE_DAYS: usize = 5;

/// The features of one event given its windows:
/// - ln(1 + volume);
/// - the volume over the symbol's average trade size in its daily history (1 without history);
/// - the move of the daily price (VWAP) over the last [`MOVE_DAYS`] trading days in standard
///   deviations of the symbol's daily moves before them, signed (0 without a baseline);
/// - today's volume so far over the symbol's median day before that move (1 without);
/// - the symbol's trades today so far, this one included, over its mean trades a day before today
///   (1 without history);
/// - the share of the trader's orders in the symbol (in their window) that they cancelled.
pub fn features(event: &MarketEvent, history: &History, config: &MarketConfig) -> [f64; 6] {
    let days = days(history, &event.symbol);
    let (volume, trades) = days
        .iter()
        .fold((0.0, 0.0), |(v, n), day| (v + day.volume, n + day.trades));
    let volume_to_mean = if volume > 0.0 && trades > 0.0 {
        event.volume / (volume / trades)
    } else {
        1.0
    };
    let recent_move = RunUpParams::new(config)
        .recent_move(&mut DailySeries::of_days(event, &days), MOVE_DAYS)
        .filter(|recent| recent.sigmas.is_finite() && recent.volume_multiple.is_finite());
    let today = day_index(event.at);
    let (mut past_days, mut past_trades, mut trades_today) = (0.0, 0.0, 1.0);
    for day in &days {
        if day.index == today {
            trades_today += day.trades;
        } else if day.index < today {
            past_days += 1.0;
            past_trades += day.trades;
        }
    }
    let (orders, cancels) = history
        .get(&trader_events(&event.trader_id, &event.symbol))
        .iter()
        .fold((0.0, 0.0), |(orders, cancels), past| {
            match kind_of(past.counterparty()) {
                Some(EventType::Order) => (orders + 1.0, cancels),
                Some(EventType::Cancel) => (orders, cancels + 1.0),
                _ => (orders, cancels),
            }
        });
    let cancels = cancels + f64::from(u8::from(event.event_type == EventType::Cancel));
    [
        event.volume.ln_1p(),
        volume_to_mean,
        recent_move.map_or(0.0, |recent| recent.sigmas),
        recent_move.map_or(1.0, |recent| recent.volume_multiple),
        if past_trades > 0.0 {
            trades_today / (past_trades / past_days)
        } else {
            1.0
        },
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
/// 1 (sigma 0.5); the week's move normal (0, 1) standard deviations; the day's volume over its
/// median log-normal around 1 (sigma 0.4); trades over the daily mean log-normal around 1 (sigma
/// 0.3); the trader's cancel ratio Beta(2, 8) (mean 0.2). Planted, in equal shares: pumps (volume
/// ~4.5x the mean, the week up 5 +- 1.5 standard deviations on ~3x the day's volume and ~2.5x the
/// trades) and spoofers (cancel ratio Beta(18, 2), mean 0.9).
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
                s.normal(5.0, 1.5)
            } else {
                s.normal(0.0, 1.0)
            },
            if pump {
                s.log_normal(1.1, 0.4)
            } else {
                s.log_normal(0.0, 0.4)
            },
            if pump {
                s.log_normal(0.9, 0.3)
            } else {
                s.log_normal(0.0, 0.3)
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
            features(&event, &History::new(), &MarketConfig::default()),
            [500f64.ln_1p(), 1.0, 0.0, 1.0, 1.0, 0.0]
        );
    }
}
