use chrono::Duration;
use redflag_core::{Alert, Fixed, History, Money, Rule, Severity};

use crate::session::Session;
use crate::windows::{since, symbol_trades};
use crate::{MarketConfig, MarketEvent};

/// Marking the close: trades in the session's last minutes that push the price away from the
/// session's volume-weighted average, setting a close that the day's trading does not support.
#[derive(Debug, Clone)]
pub struct MarkingTheClose {
    session: Session,
    window: Duration,
    min_move: f64,
    min_trades: usize,
}

impl MarkingTheClose {
    pub fn new(config: &MarketConfig, session: Session) -> Self {
        Self {
            session,
            window: Duration::minutes(i64::from(config.marking_window_minutes)),
            min_move: config.marking_price_move,
            min_trades: config.marking_min_session_trades.max(1) as usize,
        }
    }
}

impl Rule<MarketEvent> for MarkingTheClose {
    fn name(&self) -> &'static str {
        "Marking The Close"
    }

    fn evaluate(&self, event: &MarketEvent, history: &History) -> Option<Alert> {
        if !event.is_trade() {
            return None;
        }
        let (open, close) = self.session.around(event.at)?;
        let to_close = close - event.at;
        if to_close <= Duration::zero() || to_close > self.window {
            return None;
        }
        let (count, volume, value) = since(history.get(&symbol_trades(&event.symbol)), open)
            .iter()
            .filter(|past| past.at <= event.at)
            .fold((0, 0.0, 0.0), |(n, volume, value), past| {
                (
                    n + 1,
                    volume + past.quantity,
                    value + past.quantity * past.amount,
                )
            });
        if count < self.min_trades || volume <= 0.0 {
            return None;
        }
        let vwap = value / volume;
        let change = (event.price - vwap) / vwap;
        if change.abs() < self.min_move {
            return None;
        }
        let confidence = 0.5 + 0.4 * (change.abs() / (3.0 * self.min_move)).min(1.0);
        let zone = self.session.zone.name();
        let local = event.at.with_timezone(&self.session.zone);
        let direction = if change > 0.0 { "above" } else { "below" };
        let minutes = (to_close.num_seconds() as f64 / 60.0).ceil();
        Some(
            Alert::new(
                self.name(),
                "marking_the_close",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Marking the close suspected: {} traded {} {}% {direction} the session VWAP in the last {} minutes",
                    event.trader_id,
                    event.symbol,
                    Fixed(change.abs() * 100.0, 1),
                    self.window.num_minutes()
                ),
            )
            .with_metadata("session_vwap", (vwap * 10_000.0).round() / 10_000.0)
            .with_metadata("change_pct", (change * 1000.0).round() / 10.0)
            .with_metadata("session_trades", count)
            .with_metadata("minutes_to_close", minutes)
            .with_evidence(format!(
                "Trade at {} {zone}, {} minutes before the {} close",
                local.format("%H:%M"),
                Fixed(minutes, 0),
                self.session.close.format("%H:%M")
            ))
            .with_evidence(format!(
                "Price {} is {}% {direction} the session VWAP {} of {count} trades since {}",
                Money(event.price),
                Fixed(change.abs() * 100.0, 1),
                Money(vwap),
                self.session.open.format("%H:%M")
            )),
        )
    }
}
