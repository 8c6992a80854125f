//! What custom rules can read of a market event: its validated fields and the figures of its
//! windows (published at GET /api/rules/market/features/).

use chrono::Duration;
use redflag_core::{Activity, History};
use redflag_rules::{FeatureKind, FeatureSpec, FeatureValue};

use crate::run_up::median;
use crate::windows::{day_index, days, pair_trades, since, symbol_trades, trader_events};
use crate::{EventType, MarketConfig, MarketEvent, tags};

use FeatureKind::{Count, Number, Text};

const SHARES: &str = "shares";

/// The market features, in index order. Symbol figures are of the trades *before* this one, by
/// event time, and are read for trades only (missing for orders, cancels and modifies, which
/// the symbol's windows do not see).
pub const CATALOGUE: &[FeatureSpec] = &[
    FeatureSpec::new("event.symbol", Text, "", "The instrument."),
    FeatureSpec::new("event.price", Number, "price", "The price."),
    FeatureSpec::new("event.volume", Number, SHARES, "The quantity."),
    FeatureSpec::new(
        "event.notional",
        Number,
        "currency units",
        "Price times volume.",
    ),
    FeatureSpec::new("event.trader_id", Text, "", "The trader."),
    FeatureSpec::new(
        "event.event_type",
        Text,
        "",
        "order, cancel, modify or trade.",
    ),
    FeatureSpec::new("event.side", Text, "", "buy or sell (optional)."),
    FeatureSpec::new(
        "event.counterparty_id",
        Text,
        "",
        "The other party of a trade (optional).",
    ),
    FeatureSpec::new(
        "event.account_id",
        Text,
        "",
        "The account traded for (optional).",
    ),
    FeatureSpec::new("event.venue", Text, "", "The trading venue (optional)."),
    FeatureSpec::new(
        "hour_of_day",
        Number,
        "hours, UTC",
        "The event time's hour, minutes as a fraction (13.5 is 13:30).",
    ),
    FeatureSpec::new(
        "symbol_trades_1h",
        Count,
        "trades",
        "The symbol's trades in the hour before.",
    ),
    FeatureSpec::new("symbol_volume_1h", Number, SHARES, "Their volume."),
    FeatureSpec::new(
        "symbol_trades_24h",
        Count,
        "trades",
        "The symbol's trades in the 24 hours before.",
    ),
    FeatureSpec::new("symbol_volume_24h", Number, SHARES, "Their volume."),
    FeatureSpec::new(
        "symbol_price_change_1h",
        Number,
        "ratio",
        "This price over the first trade's in the hour before, less 1 (0.2: 20% up); missing without one.",
    ),
    FeatureSpec::new(
        "symbol_price_change_24h",
        Number,
        "ratio",
        "The same over the 24 hours before.",
    ),
    FeatureSpec::new(
        "symbol_days_traded",
        Count,
        "days",
        "Days the symbol traded in the market.baseline_days before today.",
    ),
    FeatureSpec::new(
        "symbol_median_daily_volume",
        Number,
        SHARES,
        "The median of those days' volumes; missing without any.",
    ),
    FeatureSpec::new(
        "volume_to_median_daily",
        Number,
        "ratio",
        "Today's volume so far, this trade included, over that median; missing without it.",
    ),
    FeatureSpec::new(
        "trader_events_1h",
        Count,
        "events",
        "The trader's orders, cancels, modifies and trades in this symbol in the hour before.",
    ),
    FeatureSpec::new("trader_orders_1h", Count, "orders", "Of them, orders."),
    FeatureSpec::new("trader_cancels_1h", Count, "cancels", "Of them, cancels."),
    FeatureSpec::new(
        "trader_traded_volume_1h",
        Number,
        SHARES,
        "The volume of the trader's trades among them.",
    ),
    FeatureSpec::new(
        "pair_trades_recent",
        Count,
        "trades",
        "Trades between this trader and the counterparty in the symbol within market.wash_window_seconds before; missing without a counterparty.",
    ),
    FeatureSpec::new(
        "model_score",
        Number,
        "0..1",
        "The anomaly model's score (near 1: anomalous); missing without a model.",
    ),
];

/// Reads the features of one event for custom rules; made once per detector.
pub(crate) struct FeatureReader {
    baseline_days: i64,
    wash_window: Duration,
}

impl FeatureReader {
    pub(crate) fn new(config: &MarketConfig) -> Self {
        Self {
            baseline_days: i64::from(config.baseline_days.max(1)),
            wash_window: Duration::seconds(i64::from(config.wash_window_seconds)),
        }
    }

    /// Feature `index` of [`CATALOGUE`] for `event`, seen through `history`; `model_score` is
    /// asked only when a rule reads it.
    pub(crate) fn value(
        &self,
        index: usize,
        event: &MarketEvent,
        history: &History,
        model_score: &dyn Fn() -> Option<f64>,
    ) -> FeatureValue {
        let trades = |hours: i64| {
            event.is_trade().then(|| {
                since(
                    history.get(&symbol_trades(&event.symbol)),
                    event.at - Duration::hours(hours),
                )
            })
        };
        let trader = || {
            since(
                history.get(&trader_events(&event.trader_id, &event.symbol)),
                event.at - Duration::hours(1),
            )
        };
        let counted = |kind: EventType| {
            FeatureValue::count(
                trader()
                    .iter()
                    .filter(|entry| tags::kind_of(entry.counterparty()) == Some(kind))
                    .count(),
            )
        };
        match CATALOGUE.get(index).map(|feature| feature.name) {
            Some("event.symbol") => FeatureValue::Text(event.symbol.clone()),
            Some("event.price") => FeatureValue::Number(event.price),
            Some("event.volume") => FeatureValue::Number(event.volume),
            Some("event.notional") => FeatureValue::Number(event.price * event.volume),
            Some("event.trader_id") => FeatureValue::Text(event.trader_id.clone()),
            Some("event.event_type") => FeatureValue::text(Some(event.event_type.as_str())),
            Some("event.side") => FeatureValue::text(event.side.map(|side| side.as_str())),
            Some("event.counterparty_id") => FeatureValue::text(event.counterparty_id.as_deref()),
            Some("event.account_id") => FeatureValue::text(event.account_id.as_deref()),
            Some("event.venue") => FeatureValue::text(event.venue.as_deref()),
            Some("hour_of_day") => FeatureValue::Number(redflag_core::hour_of_day(event.at)),
            Some("symbol_trades_1h") => trades(1).map_or(FeatureValue::Missing, count),
            Some("symbol_volume_1h") => trades(1).map_or(FeatureValue::Missing, volume),
            Some("symbol_trades_24h") => trades(24).map_or(FeatureValue::Missing, count),
            Some("symbol_volume_24h") => trades(24).map_or(FeatureValue::Missing, volume),
            Some("symbol_price_change_1h") => price_change(event, trades(1)),
            Some("symbol_price_change_24h") => price_change(event, trades(24)),
            Some("symbol_days_traded") => self
                .baseline(event, history)
                .map_or(FeatureValue::Missing, |(past, _)| {
                    FeatureValue::count(past.len())
                }),
            Some("symbol_median_daily_volume") => self
                .baseline(event, history)
                .filter(|(past, _)| !past.is_empty())
                .map(|(mut past, _)| median(&mut past))
                .map_or(FeatureValue::Missing, FeatureValue::Number),
            Some("volume_to_median_daily") => self
                .baseline(event, history)
                .and_then(|(mut past, today)| {
                    let median = median(&mut past);
                    (median > 0.0).then(|| (today + event.volume) / median)
                })
                .map_or(FeatureValue::Missing, FeatureValue::Number),
            Some("trader_events_1h") => FeatureValue::count(trader().len()),
            Some("trader_orders_1h") => counted(EventType::Order),
            Some("trader_cancels_1h") => counted(EventType::Cancel),
            Some("trader_traded_volume_1h") => FeatureValue::Number(
                trader()
                    .iter()
                    .filter(|entry| tags::kind_of(entry.counterparty()) == Some(EventType::Trade))
                    .map(|entry| entry.quantity)
                    .sum(),
            ),
            Some("pair_trades_recent") => match (event.is_trade(), &event.counterparty_id) {
                (true, Some(counterparty)) if *counterparty != event.trader_id => {
                    let pair = pair_trades(&event.symbol, &event.trader_id, counterparty);
                    FeatureValue::count(
                        since(history.get(&pair), event.at - self.wash_window).len(),
                    )
                }
                _ => FeatureValue::Missing,
            },
            Some("model_score") => FeatureValue::number(model_score()),
            _ => FeatureValue::Missing,
        }
    }

    /// The daily volumes of the baseline days before today, and today's volume so far; `None`
    /// for an event that is not a trade.
    fn baseline(&self, event: &MarketEvent, history: &History) -> Option<(Vec<f64>, f64)> {
        if !event.is_trade() {
            return None;
        }
        let today = day_index(event.at);
        let all = days(history, &event.symbol);
        let past = all
            .iter()
            .filter(|day| day.index < today && day.index >= today - self.baseline_days)
            .map(|day| day.volume)
            .collect();
        let so_far = all
            .iter()
            .filter(|day| day.index == today)
            .map(|day| day.volume)
            .sum();
        Some((past, so_far))
    }
}

fn count(trades: &[Activity]) -> FeatureValue {
    FeatureValue::count(trades.len())
}

fn volume(trades: &[Activity]) -> FeatureValue {
    FeatureValue::Number(trades.iter().map(|trade| trade.quantity).sum())
}

/// This price over the first trade's of the window, less 1.
fn price_change(event: &MarketEvent, trades: Option<&[Activity]>) -> FeatureValue {
    trades
        .and_then(<[Activity]>::first)
        .filter(|first| first.amount > 0.0)
        .map_or(FeatureValue::Missing, |first| {
            FeatureValue::Number(event.price / first.amount - 1.0)
        })
}
