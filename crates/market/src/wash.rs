use chrono::{DateTime, Duration, Utc};
use redflag_core::{Activity, Alert, Fixed, History, Money, Rule, Severity};

use crate::tags::decode;
use crate::windows::{buyer, pair_trades, trader_events};
use crate::{EventType, MarketConfig, MarketEvent};

/// Wash trading: no change in beneficial ownership. A trader on both sides of one trade always;
/// otherwise a buy and a sell of the same symbol at nearly the same price and quantity within
/// minutes, by one trader or back and forth between two.
#[derive(Debug, Clone)]
pub struct WashTradeRule {
    window: Duration,
    price_tolerance: f64,
    volume_tolerance: f64,
}

impl WashTradeRule {
    pub fn new(config: &MarketConfig) -> Self {
        Self {
            window: Duration::seconds(i64::from(config.wash_window_seconds)),
            price_tolerance: config.wash_price_tolerance,
            volume_tolerance: config.wash_volume_tolerance,
        }
    }

    /// Whether an earlier leg (at or after `since`) matches this trade in price and quantity.
    fn matches(&self, event: &MarketEvent, since: DateTime<Utc>, leg: &Activity) -> bool {
        leg.at >= since
            && (leg.amount - event.price).abs() <= self.price_tolerance * event.price
            && (leg.quantity - event.volume).abs() <= self.volume_tolerance * event.volume
    }

    fn alert(&self, confidence: f64, reason: String, evidence: String) -> Alert {
        Alert::new(
            "Wash Trade",
            "wash_trade",
            Severity::from_confidence(confidence),
            confidence,
            reason,
        )
        .with_metadata("window_seconds", self.window.num_seconds())
        .with_metadata("price_tolerance", self.price_tolerance)
        .with_metadata("volume_tolerance", self.volume_tolerance)
        .with_evidence(evidence)
    }
}

impl Rule<MarketEvent> for WashTradeRule {
    fn name(&self) -> &'static str {
        "Wash Trade"
    }

    fn evaluate(&self, event: &MarketEvent, history: &History) -> Option<Alert> {
        if !event.is_trade() {
            return None;
        }
        let trader = &event.trader_id;
        let what = format!(
            "{} {} at {}",
            Fixed(event.volume, 0),
            event.symbol,
            Money(event.price)
        );
        if event.counterparty_id.as_deref() == Some(trader.as_str()) {
            return Some(self.alert(
                0.9,
                format!("Self-trade: {trader} is both buyer and seller of {what}"),
                format!("Trade of {what} with {trader} on both sides"),
            ));
        }
        let side = event.side?;
        let since = event.at - self.window;
        let minutes = |leg: &Activity| (event.at - leg.at).num_seconds() as f64 / 60.0;
        // Back and forth with one counterparty: an earlier trade between the two the other way.
        if let (Some(counterparty), Some(this_buyer)) =
            (event.counterparty_id.as_deref(), buyer(event))
            && let Some(leg) = history
                .get(&pair_trades(&event.symbol, trader, counterparty))
                .iter()
                .rev()
                .find(|leg| {
                    self.matches(event, since, leg)
                        && !leg.counterparty().is_empty()
                        && leg.counterparty() != this_buyer
                })
        {
            return Some(self.alert(
            0.8,
            format!(
                "Wash trades: {trader} and {counterparty} traded {} back and forth at {} and {} within {} minutes",
                event.symbol,
                Money(leg.amount),
                Money(event.price),
                Fixed(minutes(leg), 1)
            ),
            format!(
                "{} bought {} from {} at {}, then {this_buyer} bought {what} back",
                leg.counterparty(),
                Fixed(leg.quantity, 0),
                this_buyer,
                Money(leg.amount)
            ),
        ));
        }
        // A round trip by this trader alone.
        let round_trip = history
            .get(&trader_events(trader, &event.symbol))
            .iter()
            .rev()
            .find(|leg| {
                self.matches(event, since, leg)
                    && decode(leg.counterparty()).is_some_and(|tag| {
                        tag.kind == EventType::Trade && tag.side == Some(side.opposite())
                    })
            });
        round_trip.map(|leg| {
            self.alert(
                0.7,
                format!(
                    "Wash trade: {trader} {} and {} the same quantity of {} at nearly the same price within {} minutes",
                    side.opposite().verb(),
                    side.verb(),
                    event.symbol,
                    Fixed(minutes(leg), 1)
                ),
                format!(
                    "{trader} {} {} at {} then {} {what}",
                    side.opposite().verb(),
                    Fixed(leg.quantity, 0),
                    Money(leg.amount),
                    side.verb()
                ),
            )
        })
    }
}
