use chrono::Duration;
use redflag_core::{Alert, Fixed, History, Money, Rule, Severity};

use crate::tags::decode;
use crate::windows::{since, symbol_trades, trader_events};
use crate::{EventType, MarketConfig, MarketEvent, Side};

/// The dump: a sharp fall from a recent high that itself followed a surge, with a trader who
/// bought during the run-up now selling.
#[derive(Debug, Clone)]
pub struct DumpAfterPump {
    surge: f64,
    fall: f64,
    window: Duration,
}

impl DumpAfterPump {
    pub fn new(config: &MarketConfig) -> Self {
        Self {
            surge: config.pump_price_rise,
            fall: config.dump_price_fall,
            window: Duration::hours(i64::from(config.dump_window_hours)),
        }
    }
}

impl Rule<MarketEvent> for DumpAfterPump {
    fn name(&self) -> &'static str {
        "Dump After Pump"
    }

    fn evaluate(&self, event: &MarketEvent, history: &History) -> Option<Alert> {
        if !event.is_trade() || event.side != Some(Side::Sell) {
            return None;
        }
        let from = event.at - self.window;
        let trades = since(history.get(&symbol_trades(&event.symbol)), from);
        let peak = trades.iter().max_by(|a, b| a.amount.total_cmp(&b.amount))?;
        let low = trades
            .iter()
            .filter(|past| past.at <= peak.at)
            .map(|past| past.amount)
            .fold(f64::INFINITY, f64::min);
        let surge = (peak.amount - low) / low;
        let fall = (peak.amount - event.price) / peak.amount;
        if !(surge >= self.surge && fall >= self.fall) {
            return None;
        }
        // What this seller bought while the price rose.
        let (bought, cost) = since(
            history.get(&trader_events(&event.trader_id, &event.symbol)),
            from,
        )
        .iter()
        .filter(|past| past.at <= peak.at)
        .filter(|past| {
            decode(past.counterparty())
                .is_some_and(|tag| tag.kind == EventType::Trade && tag.side == Some(Side::Buy))
        })
        .fold((0.0, 0.0), |(volume, cost), past| {
            (volume + past.quantity, cost + past.quantity * past.amount)
        });
        if bought <= 0.0 {
            return None;
        }
        let confidence = 0.6 + 0.3 * (fall / (2.0 * self.fall)).min(1.0);
        let hours = self.window.num_hours();
        Some(
            Alert::new(
                self.name(),
                "dump",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Dump after a pump: {} sells {} shares {}% below the {hours}-hour high",
                    event.trader_id,
                    Fixed(event.volume, 0),
                    Fixed(fall * 100.0, 1)
                ),
            )
            .with_metadata("fall_pct", (fall * 1000.0).round() / 10.0)
            .with_metadata("surge_pct", (surge * 1000.0).round() / 10.0)
            .with_metadata("high", peak.amount)
            .with_metadata("bought_in_run_up", bought)
            .with_evidence(format!(
                "Price fell {}% from the {hours}-hour high {} to {}",
                Fixed(fall * 100.0, 1),
                Money(peak.amount),
                Money(event.price)
            ))
            .with_evidence(format!(
                "The high followed a {}% surge from {}",
                Fixed(surge * 100.0, 1),
                Money(low)
            ))
            .with_evidence(format!(
                "Seller {} bought {} shares in the run-up at an average {}",
                event.trader_id,
                Fixed(bought, 0),
                Money(cost / bought)
            )),
        )
    }
}
