//! The windows an event is seen through: the symbol's recent trades and its daily volume and
//! value for the baseline, the trader's own recent events in the symbol, and the trades between
//! the trader and their counterparty.

use chrono::{DateTime, Duration, Utc};
use redflag_core::{Activity, EntityKind, History, Module, Observation, WindowKey, WindowMode};

use crate::run_up::RunUpParams;
use crate::{MarketConfig, MarketEvent, Side, tags};

pub fn symbol_trades(symbol: &str) -> WindowKey {
    WindowKey::new(Module::Market, EntityKind::Symbol, symbol)
}

pub fn daily_volume(symbol: &str) -> WindowKey {
    WindowKey::new(Module::Market, EntityKind::SymbolDailyVolume, symbol)
}

pub fn daily_notional(symbol: &str) -> WindowKey {
    WindowKey::new(Module::Market, EntityKind::SymbolDailyNotional, symbol)
}

pub fn trader_events(trader: &str, symbol: &str) -> WindowKey {
    WindowKey::new(
        Module::Market,
        EntityKind::Trader,
        format!("{trader}|{symbol}"),
    )
}

/// The pair's window, the same whichever of the two trades.
pub fn pair_trades(symbol: &str, a: &str, b: &str) -> WindowKey {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    WindowKey::new(
        Module::Market,
        EntityKind::TraderPair,
        format!("{symbol}|{first}|{second}"),
    )
}

/// The buyer of a trade, when its side is known.
pub fn buyer(event: &MarketEvent) -> Option<&str> {
    let counterparty = event.counterparty_id.as_deref()?;
    match event.side? {
        Side::Buy => Some(&event.trader_id),
        Side::Sell => Some(counterparty),
    }
}

/// How long the symbol's trades are kept in detail: long enough for the pump window, the dump
/// window and a trading session.
pub fn intraday_horizon(config: &MarketConfig) -> Duration {
    Duration::hours(i64::from(
        config
            .pump_window_hours
            .max(config.dump_window_hours)
            .max(24),
    ))
}

/// The id an event is remembered by in the windows (a resend is not counted twice).
fn window_reference(event: &MarketEvent) -> String {
    match (&event.reference, &event.order_id) {
        (Some(reference), _) => reference.clone(),
        (None, Some(order)) => format!(
            "{}:{order}@{}",
            event.event_type.as_str(),
            event.at.timestamp_micros()
        ),
        (None, None) => format!(
            "{}@{}:{}x{}",
            event.trader_id,
            event.at.timestamp_micros(),
            event.price,
            event.volume
        ),
    }
}

/// How long a trader's own events are kept: spoofing, wash trades and the dump window.
fn trader_horizon(config: &MarketConfig) -> Duration {
    Duration::seconds(i64::from(
        config.spoof_window_seconds.max(config.wash_window_seconds),
    ))
    .max(Duration::hours(i64::from(config.dump_window_hours)))
}

/// How long a symbol's daily volume and value are kept: the baseline and the run-ups.
fn baseline_horizon(config: &MarketConfig) -> Duration {
    (Duration::days(i64::from(config.baseline_days) + 2)
        + Duration::hours(i64::from(config.pump_window_hours)))
    .max(Duration::days(RunUpParams::horizon_days(config)))
}

/// The longest of the windows.
pub fn longest_horizon(config: &MarketConfig) -> Duration {
    trader_horizon(config)
        .max(baseline_horizon(config))
        .max(intraday_horizon(config))
        .max(Duration::seconds(i64::from(config.wash_window_seconds)))
}

/// Every window the event is recorded in.
pub fn observations(event: &MarketEvent, config: &MarketConfig) -> Vec<Observation> {
    let reference = window_reference(event);
    let activity = |amount: f64, counterparty: &str| {
        Activity::new(event.at, &reference, amount, event.volume, counterparty)
    };
    let trader_horizon = trader_horizon(config);
    let mut observations = vec![Observation {
        key: trader_events(&event.trader_id, &event.symbol),
        activity: activity(event.price, &tags::encode(event)),
        horizon: trader_horizon,
        mode: WindowMode::Record,
    }];
    if !event.is_trade() {
        return observations;
    }
    let baseline = baseline_horizon(config);
    let daily = WindowMode::Aggregate {
        bucket: Duration::days(1),
    };
    observations.extend([
        Observation {
            key: symbol_trades(&event.symbol),
            activity: activity(event.price, &event.trader_id),
            horizon: intraday_horizon(config),
            mode: WindowMode::Record,
        },
        Observation {
            key: daily_volume(&event.symbol),
            activity: activity(event.volume, ""),
            horizon: baseline,
            mode: daily,
        },
        Observation {
            key: daily_notional(&event.symbol),
            activity: activity(event.price * event.volume, ""),
            horizon: baseline,
            mode: daily,
        },
    ]);
    if let Some(counterparty) = event
        .counterparty_id
        .as_deref()
        .filter(|counterparty| *counterparty != event.trader_id)
    {
        observations.push(Observation {
            key: pair_trades(&event.symbol, &event.trader_id, counterparty),
            activity: activity(event.price, buyer(event).unwrap_or_default()),
            horizon: Duration::seconds(i64::from(config.wash_window_seconds)),
            mode: WindowMode::Record,
        });
    }
    observations
}

/// The entries at or after `from`: windows are oldest first, so this is a binary search, not a
/// scan (a busy symbol's window holds thousands of trades).
pub fn since(entries: &[Activity], from: DateTime<Utc>) -> &[Activity] {
    &entries[entries.partition_point(|entry| entry.at < from)..]
}

/// One day of a symbol's trading, from the daily windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Day {
    /// Days since the Unix epoch (UTC).
    pub index: i64,
    pub volume: f64,
    pub trades: f64,
    pub notional: f64,
}

impl Day {
    /// The day's volume-weighted average price.
    pub fn vwap(&self) -> Option<f64> {
        (self.volume > 0.0).then(|| self.notional / self.volume)
    }
}

/// The day index of a time (UTC days since the epoch), as the daily windows number them.
pub fn day_index(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis().div_euclid(86_400_000)
}

/// The symbol's days with trading, oldest first (the current day as it was before this event).
pub fn days(history: &History, symbol: &str) -> Vec<Day> {
    let notional = history.get(&daily_notional(symbol));
    // Both daily windows are fed by the same trades, so they hold the same days in the same
    // order; the value is matched by day rather than trusted by position all the same.
    let mut values = notional.iter().peekable();
    history
        .get(&daily_volume(symbol))
        .iter()
        .filter_map(|bucket| {
            let index = bucket.reference().parse::<i64>().ok()?;
            let mut value = 0.0;
            while let Some(other) = values.peek() {
                match other.reference().parse::<i64>() {
                    Ok(other_index) if other_index < index => {
                        values.next();
                    }
                    Ok(other_index) if other_index == index => {
                        value = other.amount;
                        values.next();
                        break;
                    }
                    Ok(_) => break,
                    Err(_) => {
                        values.next();
                    }
                }
            }
            Some(Day {
                index,
                volume: bucket.amount,
                trades: bucket.quantity,
                notional: value,
            })
        })
        .collect()
}
