//! The reversal of a multi-day run-up: the dump that gives back most of the rise on heavy
//! volume, and the fall that has begun to, which ranks without flagging.

use redflag_core::{Alert, Fixed, History, Money, Rule, Severity};

use crate::multi_day::{describe, strength};
use crate::run_up::{DailySeries, RunUp, RunUpParams};
use crate::{MarketConfig, MarketEvent};

/// What makes a fall the reversal of a run-up (`[market]` `reversal_*` settings).
#[derive(Debug, Clone)]
struct ReversalParams {
    run_up: RunUpParams,
    within_days: usize,
    retrace: f64,
    volume_multiple: f64,
}

/// A fall from a recent run-up's high, as this trade prints it.
struct Fall {
    run_up: RunUp,
    /// Trading days from the high to today.
    days_since_high: usize,
    price: f64,
    /// 1 - price / high.
    share: f64,
    /// The share of the run-up's log gain given back.
    retraced: f64,
    /// Today's volume so far.
    volume: f64,
    /// Today's volume over the run-up's baseline median.
    volume_multiple: f64,
}

impl ReversalParams {
    fn new(config: &MarketConfig) -> Self {
        Self {
            run_up: RunUpParams::for_reversal(config),
            within_days: config.reversal_within_days.max(1) as usize,
            retrace: config.reversal_retrace,
            volume_multiple: config.reversal_volume_multiple,
        }
    }

    /// The fall this trade makes from the highest run-up high of the last `within_days` trading
    /// days, when it prints a new low since that high (below every day's VWAP since): the quiet
    /// days after a dump, and a bounce, are not the fall going on.
    fn fall(&self, event: &MarketEvent, history: &History) -> Option<Fall> {
        if !event.is_trade() {
            return None;
        }
        let mut series = DailySeries::of(event, history);
        let today = series.today();
        // Every day since a high is above this trade, so the day before today must be: a trade at
        // or above it is no fall, whatever run-up came before (checked before searching them).
        if today == 0 || series.bars[today - 1].price <= event.price {
            return None;
        }
        let (high_at, run_up) = (today.saturating_sub(self.within_days)..today)
            .filter_map(|end| Some((end, self.run_up.build_up_ending(&mut series, end)?)))
            .max_by(|(_, a), (_, b)| a.high.price.total_cmp(&b.high.price))?;
        let bars = &series.bars;
        if bars[high_at + 1..today]
            .iter()
            .any(|bar| bar.price > run_up.high.price || bar.price <= event.price)
        {
            return None;
        }
        let price = event.price;
        Some(Fall {
            days_since_high: today - high_at,
            price,
            share: 1.0 - price / run_up.high.price,
            retraced: (run_up.high.price / price).ln() / run_up.log_gain,
            volume: bars[today].volume,
            volume_multiple: bars[today].volume / run_up.baseline_volume,
            run_up,
        })
    }

    /// Whether the fall is a dump: enough of the rise given back, on enough volume.
    fn is_dump(&self, fall: &Fall) -> bool {
        fall.retraced >= self.retrace && fall.volume_multiple >= self.volume_multiple
    }
}

/// The dump after a multi-day pump: within `reversal_within_days` trading days of the run-up's
/// high, the price falls to a new low since the high, giving back at least `reversal_retrace` of
/// the gain, on a day of heavy volume.
#[derive(Debug, Clone)]
pub struct DumpAfterRunUp {
    params: ReversalParams,
}

impl DumpAfterRunUp {
    pub fn new(config: &MarketConfig) -> Self {
        Self {
            params: ReversalParams::new(config),
        }
    }
}

/// A run-up's reversal that has begun but is not (yet) a dump: a new low since the high that
/// gives back half the dump's share of the rise, on any volume. A supporting signal: it ranks
/// the first day of a dump spread over several, and the dumps on light volume, above quiet days,
/// and never flags alone.
#[derive(Debug, Clone)]
pub struct RunUpReversing {
    params: ReversalParams,
}

impl RunUpReversing {
    pub fn new(config: &MarketConfig) -> Self {
        Self {
            params: ReversalParams::new(config),
        }
    }
}

/// "n trading days" after the high.
fn since_high(fall: &Fall) -> String {
    match fall.days_since_high {
        1 => "1 trading day".to_owned(),
        days => format!("{days} trading days"),
    }
}

/// The fall's figures in an alert's metadata and evidence, then the run-up's.
fn describe_fall(alert: Alert, fall: &Fall) -> Alert {
    let high = &fall.run_up.high;
    let alert = alert
        .with_metadata("fall_pct", (fall.share * 1000.0).round() / 10.0)
        .with_metadata("retraced_pct", (fall.retraced * 1000.0).round() / 10.0)
        .with_metadata(
            "dump_volume_multiple",
            (fall.volume_multiple * 10.0).round() / 10.0,
        )
        .with_evidence(format!(
            "Price {} is {}% below the run-up high {} of {}, {} later: {}% of the rise given \
             back",
            Money(fall.price),
            Fixed(fall.share * 100.0, 1),
            Money(high.price),
            high.date().format("%Y-%m-%d"),
            since_high(fall),
            Fixed(fall.retraced * 100.0, 0)
        ))
        .with_evidence(format!(
            "Volume today {} shares, {}x the baseline median of {} a day",
            Fixed(fall.volume, 0),
            Fixed(fall.volume_multiple, 1),
            Fixed(fall.run_up.baseline_volume, 0)
        ));
    describe(alert, &fall.run_up)
}

impl Rule<MarketEvent> for DumpAfterRunUp {
    fn name(&self) -> &'static str {
        "Dump After Run-Up"
    }

    fn evaluate(&self, event: &MarketEvent, history: &History) -> Option<Alert> {
        let fall = self.params.fall(event, history)?;
        if !self.params.is_dump(&fall) {
            return None;
        }
        let confidence = 0.6
            + 0.15 * (fall.retraced / (2.0 * self.params.retrace).max(f64::EPSILON)).min(1.0)
            + 0.15 * strength(fall.volume_multiple, self.params.volume_multiple, 3.0);
        let alert = Alert::new(
            self.name(),
            "dump",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Dump after a multi-day run-up in {}: {} is {}% below the {} high, giving back \
                 {}% of the rise",
                event.symbol,
                Money(fall.price),
                Fixed(fall.share * 100.0, 1),
                fall.run_up.high.date().format("%Y-%m-%d"),
                Fixed(fall.retraced * 100.0, 0)
            ),
        );
        Some(describe_fall(alert, &fall))
    }
}

impl Rule<MarketEvent> for RunUpReversing {
    fn name(&self) -> &'static str {
        "Run-Up Reversing"
    }

    fn evaluate(&self, event: &MarketEvent, history: &History) -> Option<Alert> {
        let fall = self.params.fall(event, history)?;
        if self.params.is_dump(&fall) || fall.retraced < self.params.retrace / 2.0 {
            return None;
        }
        let volume_share =
            (fall.volume_multiple - 1.0) / (self.params.volume_multiple - 1.0).max(f64::EPSILON);
        let confidence = 0.1
            + 0.15 * (fall.retraced / self.params.retrace.max(f64::EPSILON)).min(1.0)
            + 0.15 * volume_share.clamp(0.0, 1.0);
        let alert = Alert::new(
            self.name(),
            "reversal",
            Severity::from_confidence(confidence),
            confidence,
            format!(
                "Run-up reversing in {}: {} is {}% below the {} high, giving back {}% of the rise \
                 on {}x volume (a dump from {}% on {}x)",
                event.symbol,
                Money(fall.price),
                Fixed(fall.share * 100.0, 1),
                fall.run_up.high.date().format("%Y-%m-%d"),
                Fixed(fall.retraced * 100.0, 0),
                Fixed(fall.volume_multiple, 1),
                Fixed(self.params.retrace * 100.0, 0),
                Fixed(self.params.volume_multiple, 1)
            ),
        )
        .supporting();
        Some(describe_fall(alert, &fall))
    }
}
