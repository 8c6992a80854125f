//! Typologies judged from a trader's own events: spoofing and layering, wash trades, marking the
//! close.

use super::*;

fn order(
    scenario: &Scenario,
    at: DateTime<Utc>,
    trader: &str,
    id: &str,
    side: &str,
    price: f64,
    volume: f64,
) -> MarketAssessment {
    scenario.send(
        at,
        json!({"event_type": "order", "symbol": "SPF", "trader_id": trader, "order_id": id,
               "side": side, "price": price, "volume": volume}),
    )
}

fn cancel(
    scenario: &Scenario,
    at: DateTime<Utc>,
    trader: &str,
    id: &str,
    price: f64,
    volume: f64,
) -> MarketAssessment {
    scenario.send(
        at,
        json!({"event_type": "cancel", "symbol": "SPF", "trader_id": trader, "order_id": id,
               "price": price, "volume": volume}),
    )
}

#[test]
fn big_orders_cancelled_within_seconds_while_buying_the_other_side_are_spoofing() {
    let scenario = Scenario::new();
    let t = at("2026-02-10T15:00:00Z");
    order(&scenario, t, "SPOOFER", "S-1", "sell", 10.05, 5_000.0);
    order(
        &scenario,
        t + Duration::seconds(1),
        "SPOOFER",
        "S-2",
        "sell",
        10.05,
        5_000.0,
    );
    scenario.trade(
        t + Duration::seconds(3),
        "SPF",
        10.01,
        1_000.0,
        "SPOOFER",
        json!({"side": "buy", "counterparty_id": "MM"}),
    );
    let first = cancel(
        &scenario,
        t + Duration::seconds(5),
        "SPOOFER",
        "S-1",
        10.05,
        5_000.0,
    );
    assert!(
        alert(&first, "Spoofing").is_none(),
        "half the orders still rest"
    );
    let verdict = cancel(
        &scenario,
        t + Duration::seconds(6),
        "SPOOFER",
        "S-2",
        10.05,
        5_000.0,
    );
    let spoof = alert(&verdict, "Spoofing").expect("spoofing");
    assert_eq!(
        spoof.reason,
        "Spoofing suspected: 2 sell orders for 10000 shares cancelled within 5 seconds while SPOOFER bought 1000 shares on the other side"
    );
    assert_eq!(
        spoof.evidence,
        [
            "2 sell orders for 10000 shares placed, 2 cancelled within 5 seconds (cancel ratio 100%)",
            "Bought 1000 shares on the other side at an average $10.01 while the orders rested",
            "Cancelled volume 10.0x the executed volume",
        ]
    );
    assert_eq!(spoof.severity.as_str(), "high");
}

#[test]
fn orders_at_several_levels_cancelled_after_an_opposite_execution_are_layering() {
    let scenario = Scenario::new();
    let t = at("2026-02-10T15:00:00Z");
    for (i, price) in [10.05, 10.06, 10.07, 10.08].iter().enumerate() {
        order(
            &scenario,
            t + Duration::seconds(i as i64),
            "LAYER",
            &format!("L-{i}"),
            "sell",
            *price,
            3_000.0,
        );
    }
    scenario.trade(
        t + Duration::seconds(5),
        "SPF",
        10.02,
        2_000.0,
        "LAYER",
        json!({"side": "buy", "counterparty_id": "MM"}),
    );
    let mut verdict = None;
    for (i, price) in [10.05, 10.06, 10.07, 10.08].iter().enumerate() {
        verdict = Some(cancel(
            &scenario,
            t + Duration::seconds(8 + i as i64),
            "LAYER",
            &format!("L-{i}"),
            *price,
            3_000.0,
        ));
    }
    let verdict = verdict.expect("four cancels");
    let layering = alert(&verdict, "Layering").expect("layering");
    assert_eq!(layering.code, "layering");
    assert_eq!(
        layering.evidence.last().map(String::as_str),
        Some("Orders at 4 price levels from $10.05 to $10.08")
    );
}

#[test]
fn a_genuine_cancel_and_replace_is_not_spoofing() {
    let scenario = Scenario::new();
    let t = at("2026-02-10T15:00:00Z");
    order(&scenario, t, "FUND", "B-1", "buy", 10.00, 5_000.0);
    let verdict = cancel(
        &scenario,
        t + Duration::seconds(4),
        "FUND",
        "B-1",
        10.00,
        5_000.0,
    );
    assert!(verdict.alerts.is_empty(), "{:?}", rules(&verdict));
    order(
        &scenario,
        t + Duration::seconds(5),
        "FUND",
        "B-2",
        "buy",
        10.02,
        5_000.0,
    );
    let fill = scenario.trade(
        t + Duration::seconds(9),
        "SPF",
        10.02,
        5_000.0,
        "FUND",
        json!({"side": "buy", "counterparty_id": "MM"}),
    );
    assert!(fill.alerts.is_empty(), "{:?}", rules(&fill));
    // Cancelling a sell it never traded against is no spoof either.
    order(
        &scenario,
        t + Duration::seconds(20),
        "FUND",
        "S-9",
        "sell",
        10.30,
        5_000.0,
    );
    let verdict = cancel(
        &scenario,
        t + Duration::seconds(22),
        "FUND",
        "S-9",
        10.30,
        5_000.0,
    );
    assert!(
        alert(&verdict, "Spoofing").is_none(),
        "one cancelled sell no bigger than the buy before it is not disproportionate"
    );
}

#[test]
fn a_self_trade_is_always_a_wash_trade() {
    let scenario = Scenario::new();
    let verdict = scenario.trade(
        at("2026-02-10T15:00:00Z"),
        "WSH",
        20.0,
        500.0,
        "ACME",
        json!({"side": "buy", "counterparty_id": "ACME"}),
    );
    let wash = alert(&verdict, "Wash Trade").expect("a self-trade");
    assert_eq!(
        wash.reason,
        "Self-trade: ACME is both buyer and seller of 500 WSH at $20.00"
    );
    assert_eq!(wash.severity.as_str(), "critical");
    assert!(verdict.flagged);
}

#[test]
fn two_traders_trading_back_and_forth_within_minutes_are_wash_trading() {
    let scenario = Scenario::new();
    let t = at("2026-02-10T15:00:00Z");
    let first = scenario.trade(
        t,
        "WSH",
        20.0,
        500.0,
        "ALPHA",
        json!({"side": "buy", "counterparty_id": "BETA"}),
    );
    assert!(first.alerts.is_empty());
    let back = scenario.trade(
        t + Duration::minutes(3),
        "WSH",
        20.05,
        500.0,
        "ALPHA",
        json!({"side": "sell", "counterparty_id": "BETA"}),
    );
    let wash = alert(&back, "Wash Trade").expect("back and forth");
    assert_eq!(
        wash.reason,
        "Wash trades: ALPHA and BETA traded WSH back and forth at $20.00 and $20.05 within 3.0 minutes"
    );
    assert_eq!(
        wash.evidence,
        ["ALPHA bought 500 from BETA at $20.00, then BETA bought 500 WSH at $20.05 back"]
    );
}

#[test]
fn one_trader_buying_and_selling_the_same_size_within_minutes_is_a_wash() {
    let scenario = Scenario::new();
    let t = at("2026-02-10T15:00:00Z");
    scenario.trade(
        t,
        "WSH",
        20.0,
        500.0,
        "GAMMA",
        json!({"side": "buy", "counterparty_id": "X-1"}),
    );
    let verdict = scenario.trade(
        t + Duration::minutes(2),
        "WSH",
        20.1,
        520.0,
        "GAMMA",
        json!({"side": "sell", "counterparty_id": "X-2"}),
    );
    let wash = alert(&verdict, "Wash Trade").expect("a round trip");
    assert!(
        wash.reason
            .starts_with("Wash trade: GAMMA bought and sold the same quantity of WSH"),
        "{}",
        wash.reason
    );
}

#[test]
fn unrelated_traders_and_a_slow_or_different_round_trip_are_not_wash_trades() {
    let scenario = Scenario::new();
    let t = at("2026-02-10T15:00:00Z");
    scenario.trade(
        t,
        "WSH",
        20.0,
        500.0,
        "A",
        json!({"side": "buy", "counterparty_id": "B"}),
    );
    let other = scenario.trade(
        t + Duration::minutes(1),
        "WSH",
        20.0,
        500.0,
        "C",
        json!({"side": "sell", "counterparty_id": "D"}),
    );
    assert!(other.alerts.is_empty(), "{:?}", rules(&other));
    let late = scenario.trade(
        t + Duration::minutes(9),
        "WSH",
        20.0,
        500.0,
        "A",
        json!({"side": "sell", "counterparty_id": "B"}),
    );
    assert!(alert(&late, "Wash Trade").is_none(), "nine minutes apart");
    let bigger = scenario.trade(
        t + Duration::minutes(10),
        "WSH",
        20.0,
        900.0,
        "A",
        json!({"side": "buy", "counterparty_id": "B"}),
    );
    assert!(alert(&bigger, "Wash Trade").is_none(), "a different size");
}

/// A quiet session in CLOSE: trades around $10 from 09:30 to 15:00 New York time (UTC-5 in
/// February).
fn session(scenario: &Scenario) {
    for i in 0..12 {
        let at = at("2026-02-10T14:30:00Z") + Duration::minutes(30 * i);
        scenario.trade(
            at,
            "CLOSE",
            10.0 + 0.01 * f64::from((i % 3) as i32),
            1_000.0,
            "MM",
            json!({}),
        );
    }
}

#[test]
fn a_trade_minutes_before_the_close_far_from_the_session_vwap_marks_the_close() {
    let scenario = Scenario::new();
    session(&scenario);
    let verdict = scenario.trade(
        at("2026-02-10T20:56:00Z"),
        "CLOSE",
        10.6,
        300.0,
        "MARKER",
        json!({}),
    );
    let marking = alert(&verdict, "Marking The Close").expect("marking the close");
    assert_eq!(
        marking.evidence,
        [
            "Trade at 15:56 America/New_York, 4 minutes before the 16:00 close",
            "Price $10.60 is 5.9% above the session VWAP $10.01 of 12 trades since 09:30",
        ]
    );
    assert_eq!(marking.severity.as_str(), "high");
}

#[test]
fn the_same_trade_earlier_in_the_day_or_near_the_vwap_does_not_mark_the_close() {
    let scenario = Scenario::new();
    session(&scenario);
    let early = scenario.trade(
        at("2026-02-10T20:30:00Z"),
        "CLOSE",
        10.6,
        300.0,
        "MARKER",
        json!({}),
    );
    assert!(
        alert(&early, "Marking The Close").is_none(),
        "30 minutes before the close"
    );
    let near = scenario.trade(
        at("2026-02-10T20:57:00Z"),
        "CLOSE",
        10.05,
        300.0,
        "MARKER",
        json!({}),
    );
    assert!(
        alert(&near, "Marking The Close").is_none(),
        "0.4% from the VWAP"
    );
    let after = scenario.trade(
        at("2026-02-10T21:05:00Z"),
        "CLOSE",
        10.6,
        300.0,
        "MARKER",
        json!({}),
    );
    assert!(
        alert(&after, "Marking The Close").is_none(),
        "after the close"
    );
}
