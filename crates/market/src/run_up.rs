//! Run-ups over days, on the symbol's daily series (each trading day's VWAP and volume): a pump
//! that builds over 2-10 trading days rather than hours, measured against the symbol's own daily
//! volatility and volume, and told apart from a news jump by its shape.
//!
//! A daily bar (one trade a day at the close, for the day's volume) and an intraday trade flow
//! give the same series: the day's VWAP is the close of a bar.

use chrono::{DateTime, NaiveDate};
use redflag_core::History;

use crate::MarketConfig;
use crate::windows::{day_index, days};

/// One trading day of the symbol: its price (the day's VWAP, or the current trade's price for
/// today) and volume.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Days since the Unix epoch (UTC).
    pub index: i64,
    pub price: f64,
    pub volume: f64,
}

impl Bar {
    pub fn date(&self) -> NaiveDate {
        DateTime::from_timestamp(self.index * 86_400, 0)
            .map_or(NaiveDate::MIN, |at| at.date_naive())
    }
}

/// The symbol's trading days before this event, oldest first, then today with the event
/// counted: today's price is the day's VWAP so far (the close of a daily bar; on an intraday flow,
/// not one trade at the day's extreme), its volume the day's so far.
pub fn bars(event: &crate::MarketEvent, history: &History) -> Vec<Bar> {
    let today = day_index(event.at);
    let mut bars: Vec<Bar> = Vec::new();
    let (mut volume_today, mut notional_today) = (event.volume, event.volume * event.price);
    for day in days(history, &event.symbol) {
        if day.index == today {
            volume_today += day.volume;
            notional_today += day.notional;
        } else if day.index < today
            && let Some(price) = day.vwap()
        {
            bars.push(Bar {
                index: day.index,
                price,
                volume: day.volume,
            });
        }
    }
    bars.push(Bar {
        index: today,
        price: notional_today / volume_today,
        volume: volume_today,
    });
    bars
}

/// What makes a run-up (`[market]` `run_up_*` settings).
#[derive(Debug, Clone, PartialEq)]
pub struct RunUpParams {
    min_days: usize,
    max_days: usize,
    /// Standard deviations of a move of the run-up's length from which it counts.
    pub sigmas: f64,
    /// Run-up volume over the baseline median from which it counts.
    pub volume_multiple: f64,
    max_jump_share: f64,
    baseline_days: i64,
    min_baseline_days: usize,
}

/// The least daily volatility a baseline is given: a series that never moved would make any move
/// infinitely many standard deviations.
const MIN_VOLATILITY: f64 = 0.005;

impl RunUpParams {
    pub fn new(config: &MarketConfig) -> Self {
        let min_days = config.run_up_min_days.max(1) as usize;
        Self {
            min_days,
            max_days: (config.run_up_max_days as usize).max(min_days),
            sigmas: config.run_up_sigmas,
            volume_multiple: config.run_up_volume_multiple,
            max_jump_share: config.run_up_max_jump_share,
            baseline_days: i64::from(config.baseline_days.max(1)),
            // Two prices make one move: a volatility needs at least three days.
            min_baseline_days: (config.min_baseline_days as usize).max(3),
        }
    }

    /// The run-up a dump reverses: the reversal is evidence too, so it may be weaker than a
    /// pump alert's (`reversal_run_up_sigmas`, `reversal_run_up_volume_multiple`).
    pub fn for_reversal(config: &MarketConfig) -> Self {
        Self {
            sigmas: config.reversal_run_up_sigmas,
            volume_multiple: config.reversal_run_up_volume_multiple,
            ..Self::new(config)
        }
    }

    /// A run-up that has begun: half the pump's standard deviations, on half its extra volume.
    pub fn building(config: &MarketConfig) -> Self {
        let pump = Self::new(config);
        Self {
            sigmas: pump.sigmas / 2.0,
            volume_multiple: 1.0 + (pump.volume_multiple - 1.0).max(0.0) / 2.0,
            ..pump
        }
    }

    /// Calendar days of daily history the run-up rules read: the baseline before the longest
    /// run-up, the run-up, and `reversal_days` after its high, with weekends and holidays.
    pub fn horizon_days(config: &MarketConfig) -> i64 {
        let trading = i64::from(config.run_up_max_days) + i64::from(config.reversal_within_days);
        i64::from(config.baseline_days) + 2 * trading + 3
    }
}

/// A build-up found on the daily series: where it started and ended, how far it went against the
/// symbol's own volatility, on how much volume, and its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct RunUp {
    /// The last day before the run-up (its price is the base).
    pub base: Bar,
    /// The run-up's last day (its price is the high).
    pub high: Bar,
    /// Trading days from the base to the high.
    pub days: usize,
    /// ln(high / base).
    pub log_gain: f64,
    /// The gain in standard deviations of a move over that many days: log gain / (sd x sqrt(days)).
    pub sigmas: f64,
    /// The standard deviation of the daily log moves in the baseline.
    pub volatility: f64,
    /// The median daily volume of the baseline.
    pub baseline_volume: f64,
    /// Trading days in the baseline.
    pub baseline_days: usize,
    /// The run-up days' mean volume over the baseline median.
    pub volume_multiple: f64,
    /// Run-up days that closed higher than the day before.
    pub up_days: usize,
    /// The largest one-day move's share of the whole gain (near 1 for a one-day jump).
    pub largest_day_share: f64,
}

impl RunUp {
    /// The gain as a fraction (0.5 = +50%).
    pub fn gain(&self) -> f64 {
        self.log_gain.exp_m1()
    }
}

impl RunUpParams {
    /// The strongest build-up ending on `bars[end]` that reaches the thresholds: of every length
    /// from `min_days` to `max_days`, the one most standard deviations from the base. A rise
    /// carried by one day (its largest one-day move over `max_jump_share` of the gain, or fewer
    /// than two up days) is what a news jump looks like, and is none.
    pub fn build_up_ending(&self, bars: &[Bar], end: usize) -> Option<RunUp> {
        (self.min_days..=self.max_days.min(end))
            .filter_map(|length| self.measure(bars, end - length, end))
            .filter(|run_up| {
                run_up.sigmas >= self.sigmas
                    && run_up.volume_multiple >= self.volume_multiple
                    && run_up.up_days >= 2
                    && run_up.largest_day_share <= self.max_jump_share
            })
            .max_by(|a, b| a.sigmas.total_cmp(&b.sigmas))
    }

    /// The move from `bars[base]` to `bars[end]` against the baseline: the trading days of the
    /// `baseline_days` calendar days up to and including the base.
    fn measure(&self, bars: &[Bar], base: usize, end: usize) -> Option<RunUp> {
        let (base_bar, high) = (bars[base], bars[end]);
        if base_bar.price <= 0.0 || high.price <= base_bar.price {
            return None;
        }
        let oldest = base_bar.index - self.baseline_days;
        let first = bars[..=base].partition_point(|bar| bar.index < oldest);
        let baseline = &bars[first..=base];
        if baseline.len() < self.min_baseline_days {
            return None;
        }
        let moves: Vec<f64> = baseline
            .windows(2)
            .filter(|pair| pair[0].price > 0.0 && pair[1].price > 0.0)
            .map(|pair| (pair[1].price / pair[0].price).ln())
            .collect();
        let volatility = standard_deviation(&moves).max(MIN_VOLATILITY);
        let baseline_volume = median(baseline.iter().map(|bar| bar.volume).collect());
        if baseline_volume <= 0.0 {
            return None;
        }
        let run = &bars[base + 1..=end];
        let days = run.len();
        let log_gain = (high.price / base_bar.price).ln();
        let daily: Vec<f64> = bars[base..=end]
            .windows(2)
            .map(|pair| (pair[1].price / pair[0].price).ln())
            .collect();
        let largest = daily.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(RunUp {
            base: base_bar,
            high,
            days,
            log_gain,
            sigmas: log_gain / (volatility * (days as f64).sqrt()),
            volatility,
            baseline_volume,
            baseline_days: baseline.len(),
            volume_multiple: run.iter().map(|bar| bar.volume).sum::<f64>()
                / days as f64
                / baseline_volume,
            up_days: daily.iter().filter(|change| **change > 0.0).count(),
            largest_day_share: largest / log_gain,
        })
    }
}

/// Population standard deviation (0 for fewer than two values).
fn standard_deviation(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quiet symbol: 30 trading days alternating +-1% on 10,000 shares, then `tail`.
    fn series(tail: &[(f64, f64)]) -> Vec<Bar> {
        let mut bars = Vec::new();
        let mut price = 10.0;
        for i in 0..30 {
            price *= if i % 2 == 0 { 1.01 } else { 0.99 };
            bars.push(Bar {
                index: 20_000 + i,
                price,
                volume: 10_000.0,
            });
        }
        for (i, (change, volume)) in tail.iter().enumerate() {
            price *= 1.0 + change;
            bars.push(Bar {
                index: 20_030 + i as i64,
                price,
                volume: *volume,
            });
        }
        bars
    }

    fn params() -> RunUpParams {
        RunUpParams::new(&MarketConfig::default())
    }

    #[test]
    fn a_build_up_over_days_on_heavy_volume_is_a_run_up_in_standard_deviations() {
        let bars = series(&[
            (0.06, 30_000.0),
            (0.08, 40_000.0),
            (0.05, 35_000.0),
            (0.09, 50_000.0),
        ]);
        let run_up = params()
            .build_up_ending(&bars, bars.len() - 1)
            .expect("a 31% rise over four days on 3.9x volume, the daily moves 1%");
        assert_eq!(run_up.days, 4);
        assert_eq!(run_up.up_days, 4);
        assert!((run_up.gain() - 0.3102).abs() < 1e-4, "{}", run_up.gain());
        assert!(
            (run_up.volatility - 0.01).abs() < 1e-3,
            "{}",
            run_up.volatility
        );
        assert!(run_up.sigmas > 6.0, "{}", run_up.sigmas);
        assert!((run_up.volume_multiple - 3.875).abs() < 1e-9);
        assert!(
            run_up.largest_day_share < 0.35,
            "{}",
            run_up.largest_day_share
        );
    }

    #[test]
    fn a_one_day_jump_then_a_plateau_is_news_not_a_build_up() {
        let bars = series(&[(0.30, 80_000.0), (0.002, 30_000.0), (-0.003, 25_000.0)]);
        let end = bars.len() - 1;
        assert_eq!(params().build_up_ending(&bars, end), None);
        // It is strong enough: only its shape keeps it from being a pump.
        let jump = params()
            .measure(&bars, end - 3, end)
            .expect("a 30% rise on 4.5x volume");
        assert!(jump.sigmas > 10.0 && jump.volume_multiple > 4.0);
        assert!(jump.largest_day_share > 0.95, "{}", jump.largest_day_share);
    }

    #[test]
    fn a_rise_on_ordinary_volume_or_within_the_usual_moves_is_nothing() {
        let quiet_volume = series(&[(0.06, 11_000.0), (0.08, 12_000.0), (0.05, 9_000.0)]);
        assert_eq!(
            params().build_up_ending(&quiet_volume, quiet_volume.len() - 1),
            None
        );
        let small = series(&[(0.01, 40_000.0), (0.015, 40_000.0), (0.01, 40_000.0)]);
        assert_eq!(params().build_up_ending(&small, small.len() - 1), None);
    }

    #[test]
    fn a_new_symbol_without_a_baseline_has_no_run_up() {
        let bars: Vec<Bar> = series(&[(0.1, 50_000.0), (0.1, 50_000.0)]).split_off(28);
        assert_eq!(params().build_up_ending(&bars, bars.len() - 1), None);
    }
}
