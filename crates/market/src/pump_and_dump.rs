use chrono::Duration;
use redflag_core::{Alert, History, Rule, Severity};

use crate::detector::symbol_window;
use crate::{MarketConfig, Trade};

/// Pump and dump: the price pushed up sharply on abnormal volume.
#[derive(Debug, Clone)]
pub struct PumpAndDump {
    price_rise: f64,
    window: Duration,
    volume_multiple: f64,
    baseline: Duration,
}

impl PumpAndDump {
    pub fn new(config: &MarketConfig) -> Self {
        Self {
            price_rise: config.pump_price_rise,
            window: Duration::hours(i64::from(config.pump_window_hours)),
            volume_multiple: config.pump_volume_multiple,
            baseline: Duration::days(i64::from(config.baseline_days)),
        }
    }
}

impl Rule<Trade> for PumpAndDump {
    fn name(&self) -> &'static str {
        "Pump And Dump"
    }

    fn evaluate(&self, trade: &Trade, history: &History) -> Option<Alert> {
        let window_start = trade.at - self.window;
        let baseline_start = window_start - self.baseline;
        let trades = history.get(&symbol_window(trade));
        let (recent, earlier): (Vec<_>, Vec<_>) = trades
            .iter()
            .filter(|past| past.at >= baseline_start)
            .partition(|past| past.at >= window_start);
        let first_in_window = recent.first()?;
        let oldest = earlier.first()?;
        let baseline_days = ((window_start - oldest.at).num_seconds() as f64 / 86_400.0)
            .ceil()
            .max(1.0);
        let average_daily_volume =
            earlier.iter().map(|past| past.quantity).sum::<f64>() / baseline_days;
        let window_volume = recent.iter().map(|past| past.quantity).sum::<f64>() + trade.volume;
        if average_daily_volume <= 0.0 || first_in_window.amount <= 0.0 {
            return None;
        }
        let volume_ratio = window_volume / average_daily_volume;
        let price_change = (trade.price - first_in_window.amount) / first_in_window.amount;
        if price_change < self.price_rise || volume_ratio < self.volume_multiple {
            return None;
        }
        let price_strength = (price_change / (3.0 * self.price_rise)).min(1.0);
        let volume_strength = (volume_ratio / (3.0 * self.volume_multiple)).min(1.0);
        let confidence = 0.4 + 0.3 * price_strength + 0.3 * volume_strength;
        let score = (confidence * 100.0).round() / 100.0;
        let hours = self.window.num_hours();
        Some(
            Alert::new(
                self.name(),
                "pump_and_dump",
                Severity::from_confidence(confidence),
                confidence,
                format!("Pump and dump pattern detected (score: {score:.2})"),
            )
            .with_metadata("volume_ratio", (volume_ratio * 10.0).round() / 10.0)
            .with_metadata("price_change_pct", (price_change * 1000.0).round() / 10.0)
            .with_metadata("window_volume", window_volume)
            .with_metadata(
                "average_daily_volume",
                (average_daily_volume * 100.0).round() / 100.0,
            )
            .with_metadata("reference_price", first_in_window.amount)
            .with_evidence(format!(
                "Trading volume {volume_ratio:.1}x higher than {}-day average",
                self.baseline.num_days()
            ))
            .with_evidence(format!(
                "Price surged {:.1}% in {hours} hours",
                price_change * 100.0
            )),
        )
    }
}
