use redflag_core::{Alert, Fixed, History, Money, Rule, Severity};

use crate::run_up::{DailySeries, RunUp, RunUpParams};
use crate::{MarketConfig, MarketEvent};

/// The pump as it usually builds: a run-up over 2-10 trading days, several standard deviations
/// of the symbol's own daily moves, on a multiple of its usual volume, with the price at the
/// run-up's high. A rise carried by one day (a news jump) is not a pump.
#[derive(Debug, Clone)]
pub struct MultiDayPump {
    params: RunUpParams,
}

impl MultiDayPump {
    pub fn new(config: &MarketConfig) -> Self {
        Self {
            params: RunUpParams::new(config),
        }
    }
}

/// A run-up that has begun but is not (yet) a pump: half the pump's standard deviations on half
/// its extra volume, today at the high or within a quarter of the rise below it. A supporting
/// signal: it ranks the first days of a pump, its pauses, and the rallies that never become one,
/// above quiet days, and never flags alone.
#[derive(Debug, Clone)]
pub struct RunUpBuilding {
    building: RunUpParams,
    pump: RunUpParams,
}

impl RunUpBuilding {
    pub fn new(config: &MarketConfig) -> Self {
        Self {
            building: RunUpParams::building(config),
            pump: RunUpParams::new(config),
        }
    }
}

/// The run-up ending today, when today is at its high.
fn at_high(params: &RunUpParams, series: &mut DailySeries) -> Option<RunUp> {
    let today = series.today();
    high_on(params, series, today)
}

/// The run-up ending on day `end`, when that day is at its high.
fn high_on(params: &RunUpParams, series: &mut DailySeries, end: usize) -> Option<RunUp> {
    let run_up = params.build_up_ending(series, end)?;
    let bars = &series.bars;
    let top = bars[end - run_up.days..end]
        .iter()
        .map(|bar| bar.price)
        .fold(f64::NEG_INFINITY, f64::max);
    (bars[end].price >= top).then_some(run_up)
}

/// 0 at the threshold, 1 at `base` times it (log scale), clamped.
pub(crate) fn strength(value: f64, threshold: f64, base: f64) -> f64 {
    if threshold <= 0.0 {
        return 1.0;
    }
    (value / threshold).log(base).clamp(0.0, 1.0)
}

fn date_range(run_up: &RunUp) -> String {
    format!(
        "{} to {}",
        run_up.base.date().format("%Y-%m-%d"),
        run_up.high.date().format("%Y-%m-%d")
    )
}

/// The run-up's figures in an alert's metadata and evidence.
pub(crate) fn describe(alert: Alert, run_up: &RunUp) -> Alert {
    alert
        .with_metadata("run_up_days", run_up.days)
        .with_metadata("run_up_pct", (run_up.gain() * 1000.0).round() / 10.0)
        .with_metadata("run_up_sigmas", (run_up.sigmas * 10.0).round() / 10.0)
        .with_metadata(
            "daily_volatility_pct",
            (run_up.volatility * 10_000.0).round() / 100.0,
        )
        .with_metadata(
            "volume_multiple",
            (run_up.volume_multiple * 10.0).round() / 10.0,
        )
        .with_metadata("baseline_days", run_up.baseline_days)
        .with_metadata(
            "largest_day_share",
            (run_up.largest_day_share * 100.0).round() / 100.0,
        )
        .with_metadata("run_up_start", run_up.base.date().to_string())
        .with_metadata("run_up_high_date", run_up.high.date().to_string())
        .with_evidence(format!(
            "The daily VWAP rose {}% over {} trading days ({}), from {} to {}: {} standard \
             deviations of the symbol's daily moves (sd {}% over {} trading days) for a move of \
             that length",
            Fixed(run_up.gain() * 100.0, 1),
            run_up.days,
            date_range(run_up),
            Money(run_up.base.price),
            Money(run_up.high.price),
            Fixed(run_up.sigmas, 1),
            Fixed(run_up.volatility * 100.0, 2),
            run_up.baseline_days
        ))
        .with_evidence(format!(
            "Volume over the run-up averaged {}x the baseline median of {} a day",
            Fixed(run_up.volume_multiple, 1),
            Fixed(run_up.baseline_volume, 0)
        ))
        .with_evidence(format!(
            "{} of {} days closed higher; the largest single day carried {}% of the rise (a \
             build-up, not a one-day jump)",
            run_up.up_days,
            run_up.days,
            Fixed(run_up.largest_day_share * 100.0, 0)
        ))
}

impl Rule<MarketEvent> for MultiDayPump {
    fn name(&self) -> &'static str {
        "Multi-Day Pump"
    }

    fn evaluate(&self, event: &MarketEvent, history: &History) -> Option<Alert> {
        if !event.is_trade() {
            return None;
        }
        // A pump is caught at its high; once the price turns, the dump rule speaks.
        let mut series = DailySeries::of(event, history);
        let run_up = at_high(&self.params, &mut series)?;
        // One run-up, one alert: when yesterday closed at a pump's high already, the alert of
        // the first day of that streak stands for this one, and today only ranks (a supporting
        // signal). A run-up that pauses and then makes a new high is alerted again.
        let (mut alerted, mut day) = (None, series.today());
        while let Some(before) = day.checked_sub(1)
            && let Some(earlier) = high_on(&self.params, &mut series, before)
        {
            alerted = Some(earlier);
            day = before;
        }
        let confidence = 0.55
            + 0.2 * strength(run_up.sigmas, self.params.sigmas, 2.0)
            + 0.2 * strength(run_up.volume_multiple, self.params.volume_multiple, 3.0);
        let alert = Alert::new(
            self.name(),
            "pump_and_dump",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Multi-day pump in {}: up {}% over {} trading days, {} standard deviations, on \
                 {}x volume",
                event.symbol,
                Fixed(run_up.gain() * 100.0, 1),
                run_up.days,
                Fixed(run_up.sigmas, 1),
                Fixed(run_up.volume_multiple, 1)
            ),
        );
        let alert = describe(alert, &run_up);
        let Some(alerted) = alerted else {
            return Some(alert);
        };
        Some(
            alert
                .supporting()
                .with_metadata(
                    "continues_run_up_alerted_on",
                    alerted.high.date().to_string(),
                )
                .with_evidence(format!(
                    "The run-up was alerted as a pump at the close of {} and has made a new high \
                     every day since: this day continues it and ranks without a new alert",
                    alerted.high.date().format("%Y-%m-%d")
                )),
        )
    }
}

impl Rule<MarketEvent> for RunUpBuilding {
    fn name(&self) -> &'static str {
        "Run-Up Building"
    }

    fn evaluate(&self, event: &MarketEvent, history: &History) -> Option<Alert> {
        if !event.is_trade() {
            return None;
        }
        let mut series = DailySeries::of(event, history);
        if at_high(&self.pump, &mut series).is_some() {
            return None;
        }
        let end = series.today();
        let run_up = self.building.build_up_ending(&mut series, end)?;
        let bars = &series.bars;
        // A pause keeps most of the rise; a fall that gives back a quarter of it is no longer a
        // run-up building (the dump rule judges it).
        let top = bars[end - run_up.days..=end]
            .iter()
            .map(|bar| bar.price)
            .fold(f64::NEG_INFINITY, f64::max);
        if run_up.log_gain < 0.75 * (top / run_up.base.price).ln() {
            return None;
        }
        let volume_share =
            (run_up.volume_multiple - 1.0) / (self.pump.volume_multiple - 1.0).max(f64::EPSILON);
        let confidence = 0.1
            + 0.15 * (run_up.sigmas / self.pump.sigmas).min(1.0)
            + 0.15 * volume_share.clamp(0.0, 1.0);
        let alert = Alert::new(
            self.name(),
            "run_up",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Run-up building in {}: up {}% over {} trading days, {} standard deviations, on \
                 {}x volume (a pump from {} on {}x)",
                event.symbol,
                Fixed(run_up.gain() * 100.0, 1),
                run_up.days,
                Fixed(run_up.sigmas, 1),
                Fixed(run_up.volume_multiple, 1),
                Fixed(self.pump.sigmas, 1),
                Fixed(self.pump.volume_multiple, 1)
            ),
        )
        .supporting();
        Some(describe(alert, &run_up))
    }
}
