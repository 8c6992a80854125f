//! Typologies judged against the symbol's own history: the pump and its dump, unusual activity.

use super::*;

/// A 24-hour run from $10 to $12.50 on `volume` shares a trade, bought by PUMPER.
fn surge(scenario: &Scenario, start: DateTime<Utc>, volume: f64) -> MarketAssessment {
    let mut last = None;
    for step in 0..=10 {
        let price = 10.0 + 0.25 * f64::from(step);
        last = Some(scenario.trade(
            start + Duration::hours(2 * i64::from(step)),
            "PUMP",
            price,
            volume,
            "PUMPER",
            json!({"side": "buy", "counterparty_id": format!("SELLER-{step}")}),
        ));
    }
    last.expect("eleven trades")
}

#[test]
fn a_surge_on_volume_far_above_the_month_is_a_pump_in_the_seeds_words() {
    let scenario = Scenario::new();
    let start = at("2026-02-04T00:00:00Z");
    scenario.ordinary_month("PUMP", start);
    let verdict = surge(&scenario, start + Duration::minutes(30), 1_000.0);
    let pump = alert(&verdict, "Pump And Dump").expect("a pump");
    assert_eq!(pump.code, "pump_and_dump");
    assert_eq!(
        pump.evidence,
        [
            "Trading volume 5.5x higher than 30-day average",
            "Price surged 25.0% in 24 hours"
        ]
    );
    assert!(
        pump.reason
            .starts_with("Pump and dump pattern detected (score: 0."),
        "{}",
        pump.reason
    );
    assert!(verdict.flagged);
}

#[test]
fn the_same_surge_on_ordinary_volume_is_no_pump() {
    let scenario = Scenario::new();
    let start = at("2026-02-04T00:00:00Z");
    scenario.ordinary_month("PUMP", start);
    let verdict = surge(&scenario, start + Duration::minutes(30), 150.0);
    assert!(
        alert(&verdict, "Pump And Dump").is_none(),
        "{:?}",
        rules(&verdict)
    );
}

#[test]
fn a_symbol_with_too_little_history_says_nothing() {
    let scenario = Scenario::new();
    let start = at("2026-02-04T00:00:00Z");
    for day in 1..=3 {
        scenario.trade(
            start - Duration::days(day),
            "NEW",
            10.0,
            400.0,
            "MM",
            json!({}),
        );
    }
    let verdict = surge(&scenario, start + Duration::minutes(30), 5_000.0);
    assert!(alert(&verdict, "Pump And Dump").is_none());
    assert!(alert(&verdict, "Unusual Activity").is_none());
}

#[test]
fn the_pumpers_selling_into_the_fall_is_the_dump() {
    let scenario = Scenario::new();
    let start = at("2026-02-04T00:00:00Z");
    scenario.ordinary_month("PUMP", start);
    surge(&scenario, start + Duration::minutes(30), 1_000.0);
    let after = start + Duration::hours(26);
    let bystander = scenario.trade(
        after,
        "PUMP",
        10.2,
        300.0,
        "RETAIL-1",
        json!({"side": "sell", "counterparty_id": "X"}),
    );
    let dump = alert(&bystander, "Dump After Pump");
    assert!(
        dump.is_none(),
        "a seller who did not buy the run-up is no dumper"
    );
    let verdict = scenario.trade(
        after + Duration::minutes(5),
        "PUMP",
        10.0,
        8_000.0,
        "PUMPER",
        json!({"side": "sell", "counterparty_id": "Y"}),
    );
    let dump = alert(&verdict, "Dump After Pump").expect("the dump");
    assert_eq!(dump.code.as_str(), "dump");
    assert_eq!(
        dump.evidence,
        [
            "Price fell 20.0% from the 72-hour high $12.50 to $10.00",
            "The high followed a 25.8% surge from $9.94",
            "Seller PUMPER bought 11000 shares in the run-up at an average $11.25",
        ]
    );
    assert_eq!(dump.severity.as_str(), "high");
}

#[test]
fn a_day_of_volume_far_outside_the_month_is_unusual_activity() {
    let scenario = Scenario::new();
    let start = at("2026-02-04T15:00:00Z");
    scenario.ordinary_month("BUSY", start);
    let quiet = scenario.trade(start, "BUSY", 10.0, 400.0, "MM-9", json!({}));
    assert!(alert(&quiet, "Unusual Activity").is_none());
    let verdict = scenario.trade(
        start + Duration::minutes(1),
        "BUSY",
        10.02,
        9_000.0,
        "FUND-1",
        json!({}),
    );
    let unusual = alert(&verdict, "Unusual Activity").expect("unusual volume");
    assert!(
        unusual.evidence[0].starts_with("Volume today 9400 is "),
        "{:?}",
        unusual.evidence
    );
    assert!(unusual.confidence <= 0.55, "a supporting signal");
    assert!(alert(&verdict, "Pump And Dump").is_none(), "no price surge");
    assert_eq!(unusual.metadata["supporting"], true);
    assert!(!verdict.flagged, "a supporting signal alone never flags");
}

#[test]
fn unusual_activity_at_its_strongest_never_flags_alone_but_adds_to_a_typology() {
    let scenario = Scenario::new();
    let start = at("2026-02-04T15:00:00Z");
    scenario.ordinary_month("HUGE", start);
    // Volume far beyond four standard deviations over the threshold: confidence at its cap, 0.55,
    // above the flag level of 50 were it a typology.
    let verdict = scenario.trade(start, "HUGE", 10.0, 90_000.0, "FUND-1", json!({}));
    let unusual = alert(&verdict, "Unusual Activity").expect("unusual volume");
    assert_eq!(unusual.confidence, 0.55);
    assert!(!verdict.flagged, "risk {}", verdict.risk);
    assert!(
        verdict.risk < 50.0 && verdict.risk > 0.0,
        "{}",
        verdict.risk
    );
    // The same volume from a trader who is also both sides of the trade: a typology, flagged,
    // with the supporting signal adding to its risk.
    let wash = scenario.trade(
        start + Duration::minutes(1),
        "HUGE",
        10.0,
        90_000.0,
        "SELF",
        json!({"counterparty_id": "SELF"}),
    );
    let self_trade = alert(&wash, "Wash Trade").expect("a self-trade");
    assert!(wash.flagged);
    assert!(
        alert(&wash, "Unusual Activity").is_some(),
        "{:?}",
        rules(&wash)
    );
    assert!(wash.risk > 100.0 * self_trade.confidence, "{}", wash.risk);
}
