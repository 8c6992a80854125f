use chrono::Duration;
use redflag_core::{Alert, Fixed, History, Rule, Severity};

use crate::windows::{day_index, days, since, symbol_trades};
use crate::{MarketConfig, MarketEvent};

/// The pump: a price surge on volume far above the symbol's own 30-day average. The dump that
/// follows is [`crate::DumpAfterPump`].
#[derive(Debug, Clone)]
pub struct PumpAndDump {
    price_rise: f64,
    window: Duration,
    volume_multiple: f64,
    baseline_days: i64,
    min_baseline_days: usize,
}

impl PumpAndDump {
    pub fn new(config: &MarketConfig) -> Self {
        Self {
            price_rise: config.pump_price_rise,
            window: Duration::hours(i64::from(config.pump_window_hours)),
            volume_multiple: config.pump_volume_multiple,
            baseline_days: i64::from(config.baseline_days.max(1)),
            min_baseline_days: config.min_baseline_days.max(1) as usize,
        }
    }
}

impl Rule<MarketEvent> for PumpAndDump {
    fn name(&self) -> &'static str {
        "Pump And Dump"
    }

    fn evaluate(&self, event: &MarketEvent, history: &History) -> Option<Alert> {
        if !event.is_trade() {
            return None;
        }
        let window_start = event.at - self.window;
        let recent = since(history.get(&symbol_trades(&event.symbol)), window_start);
        let first_in_window = recent.first()?;
        // The baseline: whole days before the window's first day. Days without trading count as
        // days of zero volume: an illiquid name's average is low, as it should be.
        let first_day = day_index(window_start);
        let oldest_allowed = first_day - self.baseline_days;
        let baseline: Vec<_> = days(history, &event.symbol)
            .into_iter()
            .filter(|day| day.index < first_day && day.index >= oldest_allowed)
            .collect();
        if baseline.len() < self.min_baseline_days {
            return None;
        }
        let span = (first_day - baseline[0].index).clamp(1, self.baseline_days) as f64;
        let average_daily_volume = baseline.iter().map(|day| day.volume).sum::<f64>() / span;
        let window_volume = recent.iter().map(|past| past.quantity).sum::<f64>() + event.volume;
        if average_daily_volume <= 0.0 || first_in_window.amount <= 0.0 {
            return None;
        }
        let volume_ratio = window_volume / average_daily_volume;
        let price_change = (event.price - first_in_window.amount) / first_in_window.amount;
        if price_change < self.price_rise || volume_ratio < self.volume_multiple {
            return None;
        }
        // 0.55 at both thresholds; up to +0.2 as the surge doubles its threshold and up to +0.2
        // as the volume triples its own (the seed's 25% on 5.2x gives 0.71).
        let price_strength = (price_change / self.price_rise).log2().clamp(0.0, 1.0);
        let volume_strength = (volume_ratio / self.volume_multiple)
            .log(3.0)
            .clamp(0.0, 1.0);
        let confidence = 0.55 + 0.2 * price_strength + 0.2 * volume_strength;
        let hours = self.window.num_hours();
        Some(
            Alert::new(
                self.name(),
                "pump_and_dump",
                Severity::from_confidence(confidence),
                confidence,
                format!(
                    "Pump and dump pattern detected (score: {})",
                    Fixed(confidence, 2)
                ),
            )
            .with_metadata("volume_ratio", (volume_ratio * 10.0).round() / 10.0)
            .with_metadata("price_change_pct", (price_change * 1000.0).round() / 10.0)
            .with_metadata("window_volume", window_volume)
            .with_metadata(
                "average_daily_volume",
                (average_daily_volume * 100.0).round() / 100.0,
            )
            .with_metadata("baseline_days", baseline.len())
            .with_metadata("reference_price", first_in_window.amount)
            .with_evidence(format!(
                "Trading volume {}x higher than {}-day average",
                Fixed(volume_ratio, 1),
                self.baseline_days
            ))
            .with_evidence(format!(
                "Price surged {}% in {hours} hours",
                Fixed(price_change * 100.0, 1)
            )),
        )
    }
}
