//! Scenario tests of the laundering typologies (how money moves through mules) and of ordinary
//! patterns that must not alert.

use serde_json::json;

use redflag_aml::AmlAssessment;

use super::{Scenario, at, rules};

/// Gives each account a few small everyday payments over the three days before hour 100, so
/// that what it ordinarily sends is known and small.
fn everyday(s: &mut Scenario, accounts: &[&str]) {
    for account in accounts {
        for day in 0..3 {
            let hours = 28.0 + f64::from(day) * 24.0;
            s.rules(
                &format!("{account}-GROCER-{day}"),
                account,
                "GROCER",
                45.5,
                &at(hours),
            );
        }
    }
}

fn alert<'a>(verdict: &'a AmlAssessment, rule: &str) -> &'a redflag_core::Alert {
    verdict
        .alerts
        .iter()
        .find(|alert| alert.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} in {:?}", rules(verdict)))
}

#[test]
fn a_chain_of_mules_is_named_hop_by_hop() {
    let mut s = Scenario::new();
    everyday(&mut s, &["SRC", "M1", "M2", "M3"]);
    let first = s.send("C1", "SRC", "M1", 5_000.0, &at(100.0), json!({}));
    assert_eq!(
        rules(&first),
        ["ProfileBreakRule"],
        "the first hand-over to a small account"
    );
    assert!(first.flagged);
    let second = s.send("C2", "M1", "M2", 4_800.0, &at(100.5), json!({}));
    assert!(
        rules(&second).contains(&"PassThroughRule".to_owned()),
        "{:?}",
        rules(&second)
    );
    assert!(
        !rules(&second).contains(&"ChainRule".to_owned()),
        "one hand-over is not a chain yet"
    );
    let third = s.send("C3", "M2", "M3", 4_700.0, &at(101.0), json!({}));
    let chain = alert(&third, "ChainRule");
    assert_eq!(
        chain.reason,
        "Chain: M2 is account 2 in a row to pass this money on within 6h, $4800.00 from M1 sent on as $4700.00 to M3"
    );
    assert_eq!(chain.metadata["hops"], json!(2));
    assert_eq!(chain.metadata["previous_account"], json!("M1"));
    assert_eq!(chain.metadata["minutes_since_inflow"], json!(30));
    assert!(
        chain.evidence[0].contains("M2 received $4800.00 from M1 at 2026-02-05 13:30 UTC"),
        "{:?}",
        chain.evidence
    );
    let fourth = s.send("C4", "M3", "SINK", 4_600.0, &at(101.5), json!({}));
    let deeper = alert(&fourth, "ChainRule");
    assert_eq!(deeper.metadata["hops"], json!(3));
    assert!(deeper.confidence > chain.confidence, "deeper is stronger");
    assert!(
        fourth.risk > second.risk,
        "a chain ranks above a single pass-through"
    );
}

#[test]
fn scatter_is_seen_at_the_source_and_gather_at_the_sink() {
    let mut s = Scenario::new();
    everyday(&mut s, &["SRC", "A", "B"]);
    s.rules("S1", "SRC", "A", 3_000.0, &at(100.0));
    let scatter = s.send("S2", "SRC", "B", 3_000.0, &at(100.1), json!({}));
    let found = alert(&scatter, "ScatterGatherRule");
    assert_eq!(found.metadata["side"], json!("scatter"));
    assert_eq!(found.metadata["new_counterparties"], json!(2));
    assert_eq!(
        found.reason,
        "Scatter-gather: SRC paid 2 new counterparties $6000.00 within 6h, amounts it has not ordinarily sent"
    );
    let one = s.send("G1", "A", "SINK", 2_900.0, &at(100.5), json!({}));
    assert!(
        !rules(&one).contains(&"ScatterGatherRule".to_owned()),
        "one sender is no convergence"
    );
    let gather = s.send("G2", "B", "SINK", 2_800.0, &at(100.7), json!({}));
    let found = alert(&gather, "ScatterGatherRule");
    assert_eq!(found.metadata["side"], json!("gather"));
    assert_eq!(found.metadata["converging_senders"], json!(2));
    assert_eq!(found.metadata["total_amount"], json!(5700.0));
    assert!(
        found.evidence[0].starts_with("A paid $2900.00 at 2026-02-05 13:30 UTC"),
        "{:?}",
        found.evidence
    );
    assert!(gather.flagged);
}

#[test]
fn funds_back_at_their_origin_are_a_round_trip_with_every_leg_named() {
    let mut s = Scenario::new();
    everyday(&mut s, &["ORIGIN", "M1", "M2"]);
    s.rules("R1", "ORIGIN", "M1", 2_000.0, &at(100.0));
    s.rules("R2", "M1", "M2", 1_900.0, &at(100.3));
    let back = s.send("R3", "M2", "ORIGIN", 1_850.0, &at(100.6), json!({}));
    let trip = alert(&back, "RoundTripRule");
    assert_eq!(
        trip.reason,
        "Round trip: $1850.00 returns to ORIGIN after 3 transfers within 24h"
    );
    assert_eq!(trip.metadata["hops"], json!(3));
    assert_eq!(
        trip.evidence,
        [
            "ORIGIN paid M1 $2000.00 at 2026-02-05 13:00 UTC",
            "M1 paid M2 $1900.00 at 2026-02-05 13:18 UTC",
            "M2 pays ORIGIN $1850.00 now"
        ]
    );
    assert!(back.flagged);

    let mut s = Scenario::new();
    everyday(&mut s, &["P", "Q"]);
    s.rules("D1", "P", "Q", 3_000.0, &at(100.0));
    let direct = s.send("D2", "Q", "P", 2_900.0, &at(101.0), json!({}));
    assert_eq!(alert(&direct, "RoundTripRule").metadata["hops"], json!(2));

    let mut s = Scenario::new();
    everyday(&mut s, &["P", "Q"]);
    s.rules("L1", "P", "Q", 3_000.0, &at(100.0));
    let late = s.rules("L2", "Q", "P", 2_900.0, &at(130.0));
    assert!(
        !late.contains(&"RoundTripRule".to_owned()),
        "beyond 24 hours: {late:?}"
    );
}

#[test]
fn payments_below_the_band_or_beside_larger_ones_are_not_structuring() {
    let mut s = Scenario::new();
    for i in 0..4 {
        let fired = s.rules(&format!("T{i}"), "S", "R", 4_000.5, &at(f64::from(i)));
        assert!(!fired.contains(&"StructuringRule".to_owned()), "{fired:?}");
    }
    let mut s = Scenario::new();
    s.rules("B1", "BUSINESS", "R", 12_000.0, &at(0.0));
    s.rules("B2", "BUSINESS", "R", 9_500.0, &at(1.0));
    s.rules("B3", "BUSINESS", "R", 9_600.0, &at(2.0));
    let fired = s.rules("B4", "BUSINESS", "R", 9_700.0, &at(3.0));
    assert!(
        !fired.contains(&"StructuringRule".to_owned()),
        "it does not avoid the threshold: {fired:?}"
    );
}

#[test]
fn payroll_to_the_same_staff_every_fortnight_never_flags_and_raises_nothing_once_they_recur() {
    let mut s = Scenario::new();
    for cycle in 0..4 {
        let payday = f64::from(cycle) * 24.0 * 14.0;
        s.rules(
            &format!("FUNDING-{cycle}"),
            "CLIENT",
            "EMPLOYER",
            150_000.0,
            &at(payday),
        );
        for person in 0..40 {
            let verdict = s.send(
                &format!("PAY-{cycle}-{person}"),
                "EMPLOYER",
                &format!("STAFF-{person}"),
                2_500.0 + f64::from(person),
                &at(payday + 1.0 + f64::from(person) * 0.05),
                json!({}),
            );
            assert!(
                !verdict.flagged,
                "cycle {cycle}, {person}: {:?}",
                verdict.alerts
            );
            if cycle > 0 {
                assert!(
                    verdict.alerts.is_empty(),
                    "recurring payees on their cadence: no fan-out, no velocity: {:?}",
                    verdict.alerts
                );
            }
        }
    }
}

#[test]
fn a_merchant_paid_by_many_customers_and_paying_its_supplier_never_flags() {
    let mut s = Scenario::new();
    for day in 0..14 {
        for customer in 0..30 {
            let hours = f64::from(day) * 24.0 + 8.0 + f64::from(customer) * 0.3;
            let verdict = s.send(
                &format!("SALE-{day}-{customer}"),
                &format!("CUSTOMER-{}", (day * 7 + customer) % 200),
                "MERCHANT",
                20.5 + f64::from(customer * 3),
                &at(hours),
                json!({}),
            );
            assert!(!verdict.flagged, "{:?}", verdict.alerts);
        }
        if day % 7 == 6 {
            let supplier = s.send(
                &format!("SUPPLY-{day}"),
                "MERCHANT",
                "SUPPLIER",
                3_000.5,
                &at(f64::from(day) * 24.0 + 20.0),
                json!({}),
            );
            assert!(!supplier.flagged, "{:?}", supplier.alerts);
        }
    }
}

#[test]
fn monthly_rent_paid_from_the_salary_the_same_morning_never_flags() {
    let mut s = Scenario::new();
    for month in 0..4 {
        let first = f64::from(month) * 24.0 * 30.0;
        for week in 0..4 {
            let verdict = s.send(
                &format!("GROCERIES-{month}-{week}"),
                "TENANT",
                "SUPERMARKET",
                62.5 + f64::from(week),
                &at(first + 48.0 + f64::from(week) * 168.0),
                json!({}),
            );
            assert!(!verdict.flagged, "{:?}", verdict.alerts);
        }
        s.rules(
            &format!("SALARY-{month}"),
            "EMPLOYER",
            "TENANT",
            4_000.0,
            &at(first),
        );
        let rent = s.send(
            &format!("RENT-{month}"),
            "TENANT",
            "LANDLORD",
            1_500.0,
            &at(first + 2.0),
            json!({}),
        );
        assert!(!rent.flagged, "month {month}: {:?}", rent.alerts);
    }
}

#[test]
fn a_savers_irregular_deposits_raise_nothing() {
    let mut s = Scenario::new();
    for (i, (day, amount)) in [
        (0, 500.0),
        (9, 2_750.25),
        (10, 120.0),
        (31, 3_000.0),
        (47, 800.5),
    ]
    .into_iter()
    .enumerate()
    {
        let fired = s.rules(
            &format!("DEPOSIT-{i}"),
            "OTHER-BANK",
            "SAVER",
            amount,
            &at(f64::from(day) * 24.0),
        );
        assert!(fired.is_empty(), "{fired:?}");
    }
}
