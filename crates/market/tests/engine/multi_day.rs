//! Pumps that build over days and the dumps that follow, from end-of-day bars and from an
//! intraday trade flow alike, and the news jump that must stay quiet.

use chrono::{Datelike, NaiveDate, Weekday};

use super::*;

/// One trading day: the day's move from the last close, and its volume.
type Day = (f64, f64);

/// 40 weekdays of quiet trading from 2026-01-05: +-1% a day on 10,000 shares.
fn quiet() -> Vec<Day> {
    (0..40)
        .map(|i| (if i % 2 == 0 { 0.01 } else { -0.01 }, 10_000.0))
        .collect()
}

/// The weekdays from 2026-01-05, one per day of `days`.
fn weekdays(count: usize) -> Vec<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 1, 5)
        .expect("a valid date")
        .iter_days()
        .filter(|date| !matches!(date.weekday(), Weekday::Sat | Weekday::Sun))
        .take(count)
        .collect()
}

/// Sends each day as one end-of-day bar (a trade at the 16:00 New York close, 21:00 UTC, for
/// the day's volume) and returns each day's verdict.
fn daily_bars(scenario: &Scenario, symbol: &str, days: &[Day]) -> Vec<MarketAssessment> {
    let mut price = 5.0;
    weekdays(days.len())
        .into_iter()
        .zip(days)
        .map(|(date, (change, volume))| {
            price *= 1.0 + change;
            let close = date.and_hms_opt(21, 0, 0).expect("a valid time").and_utc();
            scenario.trade(
                close,
                symbol,
                (price * 100.0).round() / 100.0,
                *volume,
                "EOD-FEED",
                json!({"trade_id": format!("{symbol}-{date}")}),
            )
        })
        .collect()
}

/// Sends each day as four trades (10:00, 12:00, 14:00 and 15:50 New York) that walk from the
/// last close to the day's close, each a quarter of the volume; returns the day's last verdict.
fn intraday(scenario: &Scenario, symbol: &str, days: &[Day]) -> Vec<MarketAssessment> {
    let mut price = 5.0;
    weekdays(days.len())
        .into_iter()
        .zip(days)
        .map(|(date, (change, volume))| {
            let open = price;
            price *= 1.0 + change;
            let mut last = None;
            for (step, (hour, minute)) in [(15, 0), (17, 0), (19, 0), (20, 50)]
                .into_iter()
                .enumerate()
            {
                let at = date
                    .and_hms_opt(hour, minute, 0)
                    .expect("a valid time")
                    .and_utc();
                let walked = open + (price - open) * (step + 1) as f64 / 4.0;
                last = Some(scenario.trade(
                    at,
                    symbol,
                    (walked * 100.0).round() / 100.0,
                    volume / 4.0,
                    &format!("BROKER-{step}"),
                    json!({}),
                ));
            }
            last.expect("four trades")
        })
        .collect()
}

/// The quiet month, then a five-day build-up on three to five times the volume, then a dump
/// that gives back most of it on heavy volume, then a quiet day.
fn pump_and_dump() -> Vec<Day> {
    let mut days = quiet();
    days.extend([
        (0.06, 30_000.0),
        (0.08, 40_000.0),
        (0.05, 35_000.0),
        (0.09, 50_000.0),
        (0.07, 45_000.0),
        (-0.22, 70_000.0),
        (-0.01, 12_000.0),
    ]);
    days
}

/// The rules that fired as typologies (supporting signals left out).
fn typologies(verdict: &MarketAssessment) -> Vec<&str> {
    verdict
        .alerts
        .iter()
        .filter(|alert| alert.metadata.get("supporting") != Some(&json!(true)))
        .map(|alert| alert.rule.as_str())
        .collect()
}

#[test]
fn a_build_up_over_days_is_a_pump_and_its_reversal_the_dump_on_daily_bars() {
    let scenario = Scenario::new();
    let verdicts = daily_bars(&scenario, "MICRO", &pump_and_dump());
    for (day, verdict) in verdicts[..41].iter().enumerate() {
        assert_eq!(typologies(verdict), Vec::<&str>::new(), "day {day}");
    }
    // The run-up's first day (40) is one day's move: no pump yet. Its second day is a build-up:
    // +14.5% in two days, over nine standard deviations of the usual 1% moves: the alert.
    assert_eq!(typologies(&verdicts[41]), ["Multi-Day Pump"]);
    assert!(verdicts[41].flagged);
    // One run-up, one alert: the days that carry it higher rank just under the flag level and
    // name the day it was alerted.
    for (day, verdict) in verdicts.iter().enumerate().take(45).skip(42) {
        assert_eq!(typologies(verdict), Vec::<&str>::new(), "day {day}");
        let continuing = alert(verdict, "Multi-Day Pump").expect("the pump goes on");
        assert_eq!(continuing.metadata["supporting"], true);
        assert!(
            !verdict.flagged && verdict.risk > 40.0,
            "day {day}: {}",
            verdict.risk
        );
    }
    let pump = alert(&verdicts[44], "Multi-Day Pump").expect("the pump at its high");
    assert_eq!(pump.code, "pump_and_dump");
    assert_eq!(pump.metadata["continues_run_up_alerted_on"], "2026-03-03");
    assert_eq!(pump.metadata["run_up_days"], 5);
    assert_eq!(pump.metadata["run_up_start"], "2026-02-27");
    assert_eq!(pump.metadata["run_up_high_date"], "2026-03-06");
    assert_eq!(
        pump.evidence,
        [
            "The daily VWAP rose 40.3% over 5 trading days (2026-02-27 to 2026-03-06), from $4.99 \
             to $7.00: 15.3 standard deviations of the symbol's daily moves (sd 0.99% over 23 \
             trading days) for a move of that length",
            "Volume over the run-up averaged 4.0x the baseline median of 10000 a day",
            "5 of 5 days closed higher; the largest single day carried 25% of the rise (a \
             build-up, not a one-day jump)",
            "The run-up was alerted as a pump at the close of 2026-03-03 and has made a new high \
             every day since: this day continues it and ranks without a new alert",
        ]
    );
    let dump_day = &verdicts[45];
    assert_eq!(typologies(dump_day), ["Dump After Run-Up"]);
    let dump = alert(dump_day, "Dump After Run-Up").expect("the dump");
    assert_eq!(dump.code, "dump");
    assert!(dump_day.flagged);
    assert_eq!(
        dump.evidence[..2],
        [
            "Price $5.46 is 22.0% below the run-up high $7.00 of 2026-03-06, 1 trading day \
             later: 73% of the rise given back",
            "Volume today 70000 shares, 7.0x the baseline median of 10000 a day",
        ]
    );
    assert_eq!(dump.evidence[2], pump.evidence[0], "the run-up it reverses");
    // The day after, lower again but on ordinary volume: the dump is over.
    assert_eq!(typologies(&verdicts[46]), Vec::<&str>::new());
}

#[test]
fn an_intraday_flow_shows_the_same_pump_and_dump_as_the_daily_bars() {
    let scenario = Scenario::new();
    let verdicts = intraday(&scenario, "FLOW", &pump_and_dump());
    for (day, verdict) in verdicts[..41].iter().enumerate() {
        assert_eq!(typologies(verdict), Vec::<&str>::new(), "day {day}");
    }
    let pump = alert(&verdicts[44], "Multi-Day Pump").expect("the pump at its high");
    assert_eq!(pump.metadata["run_up_days"], 5);
    assert_eq!(typologies(&verdicts[45]), ["Dump After Run-Up"]);
}

#[test]
fn a_one_day_news_jump_then_a_plateau_is_neither_a_pump_nor_a_dump() {
    let scenario = Scenario::new();
    let mut days = quiet();
    // A 30% jump on eight times the volume, then days that hold it, then a fade on volume.
    days.extend([
        (0.30, 80_000.0),
        (0.004, 30_000.0),
        (-0.005, 25_000.0),
        (0.003, 20_000.0),
        (-0.15, 40_000.0),
    ]);
    let verdicts = daily_bars(&scenario, "NEWS", &days);
    for (day, verdict) in verdicts.iter().enumerate() {
        assert_eq!(typologies(verdict), Vec::<&str>::new(), "day {day}");
        assert!(!verdict.flagged, "day {day}: {:?}", rules(verdict));
    }
    assert!(
        alert(&verdicts[40], "Unusual Activity").is_some(),
        "the jump is unusual, a supporting signal"
    );
}

#[test]
fn a_steady_climb_on_ordinary_volume_is_no_pump() {
    let scenario = Scenario::new();
    let mut days = quiet();
    days.extend([(0.05, 11_000.0); 6]);
    let verdicts = daily_bars(&scenario, "GROW", &days);
    for (day, verdict) in verdicts.iter().enumerate() {
        assert_eq!(typologies(verdict), Vec::<&str>::new(), "day {day}");
    }
}

#[test]
fn a_rally_short_of_a_pump_is_a_supporting_run_up_that_never_flags_alone() {
    let scenario = Scenario::new();
    let mut days = quiet();
    // +6.7% in three days on 1.8x the volume: 3.8 standard deviations, short of the pump's 2.4x.
    days.extend([(0.02, 18_000.0), (0.025, 19_000.0), (0.02, 18_000.0)]);
    let verdicts = daily_bars(&scenario, "RALLY", &days);
    let last = verdicts.last().expect("verdicts");
    assert_eq!(typologies(last), Vec::<&str>::new());
    let building = alert(last, "Run-Up Building").expect("a run-up building");
    assert_eq!(building.code, "run_up");
    assert_eq!(building.metadata["supporting"], true);
    assert_eq!(building.metadata["run_up_days"], 3);
    assert!(
        building.reason.ends_with("(a pump from 4.0 on 2.4x)"),
        "{}",
        building.reason
    );
    assert!((0.1..=0.4).contains(&building.confidence));
    assert!(!last.flagged && last.risk > 0.0, "risk {}", last.risk);
}

/// The quiet month, the five-day build-up of [`pump_and_dump`], then `fall`.
fn run_up_then(fall: Day) -> Vec<Day> {
    let mut days = pump_and_dump();
    days.truncate(45);
    days.push(fall);
    days
}

#[test]
fn a_fall_from_the_high_on_light_volume_ranks_as_a_reversal_but_is_no_dump() {
    let scenario = Scenario::new();
    // -10% the day after the high, on 1.2x the volume: a third of the rise given back.
    let verdicts = daily_bars(&scenario, "SLIDE", &run_up_then((-0.10, 12_000.0)));
    let fall = &verdicts[45];
    assert_eq!(typologies(fall), Vec::<&str>::new());
    assert!(!fall.flagged && fall.risk > 0.0, "risk {}", fall.risk);
    let reversing = alert(fall, "Run-Up Reversing").expect("the reversal has begun");
    assert_eq!(reversing.code, "reversal");
    assert_eq!(reversing.metadata["supporting"], true);
    assert_eq!(
        reversing.reason,
        "Run-up reversing in SLIDE: $6.30 is 10.0% below the 2026-03-06 high, giving back 31% of \
         the rise on 1.2x volume (a dump from 50% on 2.0x)"
    );
    assert_eq!(reversing.metadata["retraced_pct"], 31.1);
    assert_eq!(reversing.metadata["dump_volume_multiple"], 1.2);
    assert_eq!(
        reversing.evidence[..2],
        [
            "Price $6.30 is 10.0% below the run-up high $7.00 of 2026-03-06, 1 trading day \
             later: 31% of the rise given back",
            "Volume today 12000 shares, 1.2x the baseline median of 10000 a day",
        ]
    );
    // 0.1 + 0.15 x 31/50 + 0.15 x 0.2/1.0, to two decimals
    assert_eq!(reversing.confidence, 0.22);

    // The dump itself is the typology alone; a fall of under a quarter of the rise is neither.
    let dumped = daily_bars(&scenario, "DUMPED", &pump_and_dump());
    assert!(alert(&dumped[45], "Dump After Run-Up").is_some());
    assert!(alert(&dumped[45], "Run-Up Reversing").is_none());
    let dip = daily_bars(&scenario, "DIP", &run_up_then((-0.03, 30_000.0)));
    assert!(
        alert(&dip[45], "Run-Up Reversing").is_none(),
        "{:?}",
        rules(&dip[45])
    );
    assert_eq!(typologies(&dip[45]), Vec::<&str>::new());
}

#[test]
fn the_anomaly_model_reads_the_week_against_the_symbols_own_moves_and_volume() {
    let verdicts = daily_bars(&Scenario::new(), "WEEK", &pump_and_dump());
    let feature = |verdict: &MarketAssessment, name: &str| {
        let at = redflag_market::model::FEATURES
            .iter()
            .position(|feature| *feature == name)
            .expect("a model feature");
        verdict.model_features[at]
    };
    // A quiet day: within a standard deviation or two, on the usual volume and trades.
    let quiet = &verdicts[39];
    assert!(feature(quiet, "move_sigmas_5d").abs() < 2.0, "{quiet:?}");
    assert_eq!(feature(quiet, "day_volume_to_median"), 1.0);
    assert_eq!(feature(quiet, "day_trades_to_mean"), 1.0);
    // The pump's fifth day: up 40% in a week of a stock that moves 1% a day, on 4.5x volume.
    let pump = &verdicts[44];
    assert!(feature(pump, "move_sigmas_5d") > 10.0, "{pump:?}");
    assert_eq!(feature(pump, "day_volume_to_median"), 4.5);
    // The dump: a fall, in negative standard deviations, on 7x volume.
    let dump = &verdicts[45];
    assert!(feature(dump, "move_sigmas_5d") < feature(pump, "move_sigmas_5d"));
    assert_eq!(feature(dump, "day_volume_to_median"), 7.0);
}

#[test]
fn a_run_up_that_pauses_and_makes_a_new_high_is_alerted_again() {
    let scenario = Scenario::new();
    let mut days = quiet();
    days.extend([
        (0.06, 30_000.0),
        (0.08, 40_000.0),
        (-0.01, 20_000.0),
        (0.09, 50_000.0),
    ]);
    let verdicts = daily_bars(&scenario, "PAUSE", &days);
    assert_eq!(typologies(&verdicts[41]), ["Multi-Day Pump"]);
    assert!(
        alert(&verdicts[42], "Multi-Day Pump").is_none(),
        "the pause is no pump's high"
    );
    assert_eq!(typologies(&verdicts[43]), ["Multi-Day Pump"], "a new high");
    assert!(verdicts[43].flagged);
}
