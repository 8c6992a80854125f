use redflag_core::{Alert, Fixed, History, Money, Rule, Severity};

use crate::windows::{day_index, days};
use crate::{MarketConfig, MarketEvent};

/// Unusual activity against the symbol's own history: today's volume, or the move from the last
/// day's average price, several standard deviations from the last 30 days. A supporting signal
/// (low to medium), never a typology on its own.
#[derive(Debug, Clone)]
pub struct UnusualActivity {
    z_score: f64,
    baseline_days: i64,
    min_days: usize,
}

impl UnusualActivity {
    pub fn new(config: &MarketConfig) -> Self {
        Self {
            z_score: config.unusual_z_score,
            baseline_days: i64::from(config.baseline_days.max(1)),
            min_days: config.min_baseline_days.max(2) as usize,
        }
    }
}

/// Mean and population standard deviation.
fn spread(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

impl Rule<MarketEvent> for UnusualActivity {
    fn name(&self) -> &'static str {
        "Unusual Activity"
    }

    fn evaluate(&self, event: &MarketEvent, history: &History) -> Option<Alert> {
        if !event.is_trade() {
            return None;
        }
        let today = day_index(event.at);
        let all = days(history, &event.symbol);
        let past: Vec<_> = all
            .iter()
            .filter(|day| day.index < today && day.index >= today - self.baseline_days)
            .collect();
        if past.len() < self.min_days {
            return None;
        }
        let mut findings: Vec<(f64, String)> = Vec::new();

        // Volume: every calendar day since the first in the baseline, a day without trades
        // counting as zero.
        let span = (today - past[0].index) as usize;
        let mut volumes = vec![0.0; span];
        for day in &past {
            volumes[(day.index - past[0].index) as usize] = day.volume;
        }
        let (mean, sd) = spread(&volumes);
        let so_far = all
            .iter()
            .find(|day| day.index == today)
            .map_or(0.0, |day| day.volume);
        let volume_today = so_far + event.volume;
        if sd > 0.0 {
            let z = (volume_today - mean) / sd;
            if z >= self.z_score {
                findings.push((
                    z,
                    format!(
                        "Volume today {} is {} standard deviations above the {}-day daily mean {} (sd {})",
                        Fixed(volume_today, 0),
                        Fixed(z, 1),
                        span,
                        Fixed(mean, 0),
                        Fixed(sd, 0)
                    ),
                ));
            }
        }

        // Price: the move from the last trading day's VWAP against the day-to-day moves before.
        let vwaps: Vec<f64> = past.iter().filter_map(|day| day.vwap()).collect();
        let moves: Vec<f64> = vwaps
            .windows(2)
            .map(|pair| pair[1] / pair[0] - 1.0)
            .collect();
        if let (Some(last), true) = (vwaps.last(), moves.len() + 1 >= self.min_days) {
            let (mean, sd) = spread(&moves);
            let change = event.price / last - 1.0;
            if sd > 0.0 {
                let z = (change - mean) / sd;
                if z.abs() >= self.z_score {
                    findings.push((
                        z.abs(),
                        format!(
                            "Price {} is {}% from the last day's VWAP {}: {} standard deviations from the daily moves of {} trading days (sd {}%)",
                            Money(event.price),
                            Fixed(change * 100.0, 1),
                            Money(*last),
                            Fixed(z, 1),
                            moves.len(),
                            Fixed(sd * 100.0, 2)
                        ),
                    ));
                }
            }
        }
        let strongest = findings.iter().map(|(z, _)| *z).fold(f64::NAN, f64::max);
        if findings.is_empty() {
            return None;
        }
        let confidence = 0.35 + 0.05 * (strongest - self.z_score).min(4.0);
        let mut alert = Alert::new(
            self.name(),
            "unusual_activity",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Unusual activity in {}: {} standard deviations from its own history",
                event.symbol,
                Fixed(strongest, 1)
            ),
        )
        .with_metadata("z_score", (strongest * 100.0).round() / 100.0)
        .with_metadata("baseline_days", past.len())
        .supporting();
        for (_, line) in findings {
            alert = alert.with_evidence(line);
        }
        Some(alert)
    }
}
