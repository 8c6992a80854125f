//! Run-ups over days, on the symbol's daily series (each trading day's VWAP and volume): a pump
//! that builds over 2-10 trading days rather than hours, measured against the symbol's own daily
//! volatility and volume, and told apart from a news jump by its shape.
//!
//! A daily bar (one trade a day at the close, for the day's volume) and an intraday trade flow
//! give the same series: the day's VWAP is the close of a bar.

use chrono::{DateTime, NaiveDate};
use redflag_core::History;

use crate::MarketConfig;
use crate::windows::{Day, day_index, days};

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
    bars_of_days(event, &days(history, &event.symbol))
}

/// [`bars`] from the symbol's days already read from its windows.
fn bars_of_days(event: &crate::MarketEvent, days: &[Day]) -> Vec<Bar> {
    let today = day_index(event.at);
    let mut bars: Vec<Bar> = Vec::new();
    let (mut volume_today, mut notional_today) = (event.volume, event.volume * event.price);
    for day in days {
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

/// The symbol's daily series for one event, with what the run-up rules measure each day against
/// computed once: the log prices, and each base day's baseline (the rules try every run-up
/// length, and the dump every recent high, over the same few base days).
pub struct DailySeries {
    pub bars: Vec<Bar>,
    log_prices: Vec<f64>,
    baselines: Vec<Option<Option<Baseline>>>,
}

/// What a base day's baseline says: its daily volatility, its median daily volume, its days.
#[derive(Debug, Clone, Copy)]
struct Baseline {
    volatility: f64,
    volume: f64,
    days: usize,
}

impl DailySeries {
    /// The event's series ([`bars`]).
    pub fn of(event: &crate::MarketEvent, history: &History) -> Self {
        Self::new(bars(event, history))
    }

    /// The event's series from the symbol's days already read ([`crate::windows::days`]).
    pub fn of_days(event: &crate::MarketEvent, days: &[Day]) -> Self {
        Self::new(bars_of_days(event, days))
    }

    pub fn new(bars: Vec<Bar>) -> Self {
        let log_prices = bars.iter().map(|bar| bar.price.ln()).collect();
        let baselines = vec![None; bars.len()];
        Self {
            bars,
            log_prices,
            baselines,
        }
    }

    /// Today's position (the last bar).
    pub fn today(&self) -> usize {
        self.bars.len().saturating_sub(1)
    }

    /// The baseline of a run-up from `base`: the trading days of the `params.baseline_days`
    /// calendar days up to and including it; `None` with too few of them or no volume.
    fn baseline(&mut self, base: usize, params: &RunUpParams) -> Option<Baseline> {
        if let Some(known) = self.baselines[base] {
            return known;
        }
        let oldest = self.bars[base].index - params.baseline_days;
        let first = self.bars[..=base].partition_point(|bar| bar.index < oldest);
        let days = base + 1 - first;
        let baseline = (days >= params.min_baseline_days)
            .then(|| {
                let moves = self.log_prices[first..=base]
                    .windows(2)
                    .map(|pair| pair[1] - pair[0]);
                let n = (days - 1) as f64;
                let mean = moves.clone().sum::<f64>() / n;
                let variance = moves.map(|m| (m - mean).powi(2)).sum::<f64>() / n;
                let mut volumes: Vec<f64> = self.bars[first..=base]
                    .iter()
                    .map(|bar| bar.volume)
                    .collect();
                Baseline {
                    volatility: variance.sqrt().max(MIN_VOLATILITY),
                    volume: median(&mut volumes),
                    days,
                }
            })
            .filter(|baseline| baseline.volume > 0.0 && baseline.volatility.is_finite());
        self.baselines[base] = Some(baseline);
        baseline
    }
}

impl RunUpParams {
    /// The strongest build-up ending on day `end` that reaches the thresholds: of every length
    /// from `min_days` to `max_days`, the one most standard deviations from the base. A rise
    /// carried by one day (its largest one-day move over `max_jump_share` of the gain, or fewer
    /// than two up days) is what a news jump looks like, and is none.
    pub fn build_up_ending(&self, series: &mut DailySeries, end: usize) -> Option<RunUp> {
        (self.min_days..=self.max_days.min(end))
            .filter_map(|length| self.measure(series, end - length, end))
            .filter(|run_up| {
                run_up.sigmas >= self.sigmas
                    && run_up.volume_multiple >= self.volume_multiple
                    && run_up.up_days >= 2
                    && run_up.largest_day_share <= self.max_jump_share
            })
            .max_by(|a, b| a.sigmas.total_cmp(&b.sigmas))
    }

    /// The move from day `base` to day `end` against the base's baseline.
    fn measure(&self, series: &mut DailySeries, base: usize, end: usize) -> Option<RunUp> {
        let (base_bar, high) = (series.bars[base], series.bars[end]);
        if base_bar.price <= 0.0 || high.price <= base_bar.price {
            return None;
        }
        let baseline = series.baseline(base, self)?;
        let days = end - base;
        let log_gain = series.log_prices[end] - series.log_prices[base];
        let (mut largest, mut up_days) = (f64::NEG_INFINITY, 0);
        for pair in series.log_prices[base..=end].windows(2) {
            let change = pair[1] - pair[0];
            largest = largest.max(change);
            up_days += usize::from(change > 0.0);
        }
        let volume: f64 = series.bars[base + 1..=end]
            .iter()
            .map(|bar| bar.volume)
            .sum();
        Some(RunUp {
            base: base_bar,
            high,
            days,
            log_gain,
            sigmas: log_gain / (baseline.volatility * (days as f64).sqrt()),
            volatility: baseline.volatility,
            baseline_volume: baseline.volume,
            baseline_days: baseline.days,
            volume_multiple: volume / days as f64 / baseline.volume,
            up_days,
            largest_day_share: largest / log_gain,
        })
    }
}

/// Today against the symbol's own history, whether or not it is a run-up: the move over the last
/// few trading days in standard deviations of the daily moves before them (signed: a fall is
/// negative), and today's volume so far over the median day before them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecentMove {
    pub sigmas: f64,
    pub volume_multiple: f64,
}

impl RunUpParams {
    /// The move from `days` trading days ago (fewer on a short series) to today; `None` without
    /// a baseline before it.
    pub fn recent_move(&self, series: &mut DailySeries, days: usize) -> Option<RecentMove> {
        let today = series.today();
        let base = today.checked_sub(days.min(today).max(1))?;
        let baseline = series.baseline(base, self)?;
        let log_move = series.log_prices[today] - series.log_prices[base];
        Some(RecentMove {
            sigmas: log_move / (baseline.volatility * ((today - base) as f64).sqrt()),
            volume_multiple: series.bars[today].volume / baseline.volume,
        })
    }
}

/// The median, 0 for none.
pub(crate) fn median(values: &mut [f64]) -> f64 {
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
        let end = bars.len() - 1;
        let run_up = params()
            .build_up_ending(&mut DailySeries::new(bars), end)
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
        let mut series = DailySeries::new(bars);
        assert_eq!(params().build_up_ending(&mut series, end), None);
        // It is strong enough: only its shape keeps it from being a pump.
        let jump = params()
            .measure(&mut series, end - 3, end)
            .expect("a 30% rise on 4.5x volume");
        assert!(jump.sigmas > 10.0 && jump.volume_multiple > 4.0);
        assert!(jump.largest_day_share > 0.95, "{}", jump.largest_day_share);
    }

    #[test]
    fn a_rise_on_ordinary_volume_or_within_the_usual_moves_is_nothing() {
        for tail in [
            [(0.06, 11_000.0), (0.08, 12_000.0), (0.05, 9_000.0)],
            [(0.01, 40_000.0), (0.015, 40_000.0), (0.01, 40_000.0)],
        ] {
            let bars = series(&tail);
            let end = bars.len() - 1;
            assert_eq!(
                params().build_up_ending(&mut DailySeries::new(bars), end),
                None
            );
        }
    }

    #[test]
    fn a_new_symbol_without_a_baseline_has_no_run_up() {
        let bars: Vec<Bar> = series(&[(0.1, 50_000.0), (0.1, 50_000.0)]).split_off(28);
        let end = bars.len() - 1;
        assert_eq!(
            params().build_up_ending(&mut DailySeries::new(bars), end),
            None
        );
    }

    #[test]
    fn a_recent_move_is_measured_against_the_days_before_it_up_or_down() {
        let mut rising = DailySeries::new(series(&[
            (0.02, 20_000.0),
            (0.02, 20_000.0),
            (0.02, 20_000.0),
            (0.02, 20_000.0),
            (0.02, 30_000.0),
        ]));
        let up = params()
            .recent_move(&mut rising, 5)
            .expect("30 days of baseline");
        // ln(1.02) x 5 over 1% x sqrt(5).
        assert!((up.sigmas - 0.0990 / 0.02236).abs() < 0.05, "{}", up.sigmas);
        assert_eq!(up.volume_multiple, 3.0);

        let mut falling = DailySeries::new(series(&[(-0.08, 10_000.0)]));
        let down = params().recent_move(&mut falling, 5).expect("a baseline");
        assert!(down.sigmas < -3.0, "{}", down.sigmas);
        assert_eq!(down.volume_multiple, 1.0);
    }

    #[test]
    fn a_symbol_on_its_first_days_has_no_recent_move() {
        let mut young = DailySeries::new(series(&[]).split_off(28));
        assert_eq!(params().recent_move(&mut young, 5), None);
        let mut one_day = DailySeries::new(series(&[]).split_off(29));
        assert_eq!(params().recent_move(&mut one_day, 5), None);
    }
}
