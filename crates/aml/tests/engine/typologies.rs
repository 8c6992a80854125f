//! Each typology's scenario, its near miss, and what must not alert.

use redflag_core::Severity;
use redflag_ml_core::Sampler;
use serde_json::json;

use redflag_aml::{AmlConfig, AmlDetector, Watchlist};
use redflag_core::Detector;

use super::{Scenario, at, rules};

#[test]
fn without_history_every_rule_but_size_jurisdiction_and_watchlist_is_skipped() {
    let detector = AmlDetector::new(AmlConfig::default())
        .expect("the default settings are valid")
        .with_watchlist(Watchlist::from_csv("id,name,list\nX,Y,Z\n", "test").expect("a watchlist"));
    assert_eq!(
        detector.history_rules(),
        [
            "StructuringRule",
            "NearThresholdClusteringRule",
            "VelocityRule",
            "PassThroughRule",
            "ChainRule",
            "ScatterGatherRule",
            "RoundTripRule",
            "ProfileBreakRule",
            "FanInRule",
            "FanOutRule",
            "RoundAmountRule",
        ]
    );
}

#[test]
fn structuring_fires_on_the_third_deposit_below_threshold_with_the_seed_reason() {
    let mut s = Scenario::new();
    assert!(s.rules("T1", "S", "R", 9800.0, &at(0.0)).is_empty());
    assert!(s.rules("T2", "S", "R", 9900.0, &at(1.0)).is_empty());
    let verdict = s.send("T3", "S", "R", 9800.0, &at(2.0), json!({}));
    let alert = verdict
        .alerts
        .iter()
        .find(|a| a.rule == "StructuringRule")
        .expect("structuring");
    assert_eq!(
        alert.reason,
        "Structuring detected: 3 transactions totaling $29500.00 in 24h, all below $10000.0 threshold"
    );
    assert_eq!(alert.metadata["num_transactions"], json!(3));
    assert_eq!(alert.metadata["total_amount"], json!(29500.0));
    assert_eq!((alert.severity, alert.confidence), (Severity::High, 0.8));
    assert!(verdict.flagged);
}

#[test]
fn three_deposits_spread_over_thirty_hours_are_not_structuring() {
    let mut s = Scenario::new();
    for (i, hours) in [0.0, 15.0, 30.0].iter().enumerate() {
        let fired = s.rules(&format!("T{i}"), "S", "R", 9000.0, &at(*hours));
        assert!(!fired.contains(&"StructuringRule".to_owned()), "{fired:?}");
    }
}

#[test]
fn small_payments_and_a_payment_at_the_threshold_are_not_structuring() {
    let mut s = Scenario::new();
    for (i, amount) in [120.0, 80.0, 45.5].iter().enumerate() {
        assert!(
            s.rules(&format!("T{i}"), "S", "R", *amount, &at(i as f64))
                .is_empty()
        );
    }
    let mut s = Scenario::new();
    s.rules("A", "S", "R", 9800.0, &at(0.0));
    s.rules("B", "S", "R", 9900.0, &at(0.1));
    let fired = s.rules("C", "S", "R", 10_000.0, &at(0.2));
    assert!(!fired.contains(&"StructuringRule".to_owned()), "{fired:?}");
    assert!(
        fired.contains(&"LargeTransactionRule".to_owned()),
        "{fired:?}"
    );
}

#[test]
fn a_large_cash_deposit_is_the_ctr_trigger_and_weighs_more_than_a_wire() {
    let mut s = Scenario::new();
    let cash = s.send(
        "C",
        "S",
        "R",
        12_000.0,
        &at(0.0),
        json!({"transaction_type": "cash_deposit"}),
    );
    assert_eq!(
        cash.alerts[0].reason,
        "Large cash transaction: $12000.00 at or above the $10000.0 reporting threshold"
    );
    assert_eq!(cash.alerts[0].metadata["cash"], json!(true));
    let wire = s.send(
        "W",
        "S2",
        "R",
        12_000.0,
        &at(0.0),
        json!({"transaction_type": "wire"}),
    );
    assert!(cash.alerts[0].confidence > wire.alerts[0].confidence);
    assert!(s.rules("X", "S3", "R", 9_999.99, &at(0.0)).is_empty());
}

#[test]
fn amounts_clustered_just_under_the_threshold_over_days_are_flagged() {
    let mut s = Scenario::new();
    s.rules("T1", "S", "R1", 9500.0, &at(0.0));
    s.rules("T2", "S", "R1", 9300.0, &at(50.0));
    let verdict = s.send("T3", "S", "R1", 9700.0, &at(100.0), json!({}));
    let alert = verdict
        .alerts
        .iter()
        .find(|a| a.rule == "NearThresholdClusteringRule")
        .expect("clustering");
    assert_eq!(
        alert.reason,
        "Just-below-threshold clustering: 3 transactions between $9000.00 and $10000.0 in 7 days, totaling $28500.00"
    );
    assert!(
        !rules(&verdict).contains(&"StructuringRule".to_owned()),
        "days apart: not structuring"
    );
}

#[test]
fn a_burst_within_hours_is_structurings_to_report_not_clustering() {
    let mut s = Scenario::new();
    s.rules("T1", "S", "R", 9500.0, &at(0.0));
    s.rules("T2", "S", "R", 9300.0, &at(2.0));
    assert_eq!(
        s.rules("T3", "S", "R", 9700.0, &at(4.0)),
        ["StructuringRule"]
    );
}

#[test]
fn near_threshold_amounts_more_than_a_week_apart_or_outside_the_band_are_not_clustering() {
    let mut s = Scenario::new();
    for (i, hours) in [0.0, 100.0, 200.0].iter().enumerate() {
        assert!(
            !s.rules(&format!("T{i}"), "S", "R", 9500.0, &at(*hours))
                .contains(&"NearThresholdClusteringRule".to_owned())
        );
    }
    let mut s = Scenario::new();
    for i in 0..3 {
        assert!(
            s.rules(&format!("T{i}"), "S", "R", 8500.0, &at(f64::from(i) * 40.0))
                .is_empty()
        );
    }
}

#[test]
fn six_transfers_in_an_hour_break_the_velocity_limit_and_five_do_not() {
    let mut s = Scenario::new();
    for i in 0..5 {
        assert!(
            s.rules(&format!("T{i}"), "S", "R", 120.5, &at(f64::from(i) * 0.1))
                .is_empty()
        );
    }
    let verdict = s.send("T5", "S", "R", 120.5, &at(0.5), json!({}));
    let alert = verdict
        .alerts
        .iter()
        .find(|a| a.rule == "VelocityRule")
        .expect("velocity");
    assert_eq!(
        alert.reason,
        "Velocity limits exceeded: 6 transfers in 1 hour (limit 5)"
    );
    assert_eq!(alert.metadata["transactions_1h"], json!(6));
}

#[test]
fn twenty_five_thousand_in_an_hour_breaks_the_hourly_amount_limit() {
    let mut s = Scenario::new();
    assert!(s.rules("T1", "S", "R", 9_000.5, &at(0.0)).is_empty());
    let verdict = s.send("T2", "S", "R", 16_000.5, &at(0.5), json!({}));
    let alert = verdict
        .alerts
        .iter()
        .find(|a| a.rule == "VelocityRule")
        .expect("velocity");
    assert_eq!(
        alert.evidence,
        ["$25001.00 sent in 1 hour (limit $20000.00)"]
    );
    let mut s = Scenario::new();
    s.rules("T1", "S", "R", 9_000.5, &at(0.0));
    let fired = s.rules("T2", "S", "R", 16_000.5, &at(1.5));
    assert!(
        !fired.contains(&"VelocityRule".to_owned()),
        "ninety minutes apart: {fired:?}"
    );
}

#[test]
fn a_day_far_above_the_senders_own_active_days_is_a_velocity_spike_that_does_not_flag_alone() {
    let mut s = Scenario::new();
    for day in 0..12 {
        assert!(
            s.rules(
                &format!("D{day}"),
                "S",
                "R",
                100.25,
                &at(f64::from(day) * 24.0)
            )
            .is_empty()
        );
    }
    let verdict = s.send(
        "SPIKE",
        "S",
        "R",
        2000.25,
        &at(12.0 * 24.0 + 1.0),
        json!({}),
    );
    let alert = verdict
        .alerts
        .iter()
        .find(|a| a.rule == "VelocityRule")
        .expect("spike");
    assert!(
        alert.evidence[0]
            .contains("x the sender's average day $100.25 over 8 weekdays in the last 30"),
        "{:?}",
        alert.evidence
    );
    assert_eq!(alert.metadata["judged_against"], json!("own profile"));
    assert!(
        !verdict.flagged,
        "a supporting signal alone: risk {}",
        verdict.risk
    );
    let mut steady = Scenario::new();
    for day in 0..13 {
        assert!(
            steady
                .rules(
                    &format!("D{day}"),
                    "S",
                    "R",
                    100.25,
                    &at(f64::from(day) * 24.0)
                )
                .is_empty()
        );
    }
}

#[test]
fn a_customer_active_one_day_in_three_is_judged_by_its_active_days_not_its_idle_ones() {
    let mut s = Scenario::new();
    // Two payments of 150 every third day for a month: an active day is 300.
    for visit in 0..10 {
        for payment in 0..2 {
            let hours = f64::from(visit) * 72.0 + f64::from(payment);
            assert!(
                s.rules(
                    &format!("P{visit}-{payment}"),
                    "S",
                    "SHOP",
                    150.5,
                    &at(hours)
                )
                .is_empty()
            );
        }
    }
    // An ordinary active day, 3x the average over every day of the month but not over its
    // active days.
    for payment in 0..2 {
        let fired = s.rules(
            &format!("NEXT-{payment}"),
            "S",
            "SHOP",
            150.5,
            &at(720.0 + f64::from(payment)),
        );
        assert!(fired.is_empty(), "{fired:?}");
    }
}

#[test]
fn a_business_quiet_at_weekends_is_judged_on_a_sunday_by_its_weekends() {
    let mut s = Scenario::new();
    // Three weeks from Sunday 2026-02-01: ten payments a weekday, one a weekend day (the
    // first days, before the profile speaks, meet the peer limits: supporting signals only).
    for day in 0..21 {
        let weekend = day % 7 == 0 || day % 7 == 6;
        for payment in 0..if weekend { 1 } else { 10 } {
            let hours = f64::from(day) * 24.0 + f64::from(payment) * 0.5;
            let verdict = s.send(
                &format!("D{day}-{payment}"),
                "SHOPKEEPER",
                "SUPPLIER",
                100.5,
                &at(hours),
                json!({}),
            );
            assert!(!verdict.flagged, "day {day}: {:?}", verdict.alerts);
            if day >= 14 {
                assert!(verdict.alerts.is_empty(), "day {day}: {:?}", verdict.alerts);
            }
        }
    }
    // Sunday 2026-02-22: four payments, far below an average day of the three weeks (7.4)
    // but four times an ordinary Sunday or Saturday.
    let mut last = Vec::new();
    for payment in 0..4 {
        last = s.rules(
            &format!("SUNDAY-{payment}"),
            "SHOPKEEPER",
            "SUPPLIER",
            100.5,
            &at(21.0 * 24.0 + f64::from(payment)),
        );
    }
    assert_eq!(last, ["VelocityRule"]);
    let verdict = s.send(
        "SUNDAY-4",
        "SHOPKEEPER",
        "SUPPLIER",
        100.5,
        &at(21.0 * 24.0 + 4.5),
        json!({}),
    );
    assert!(
        verdict.alerts[0].evidence[0].contains("over 5 weekend days"),
        "{:?}",
        verdict.alerts[0].evidence
    );
    // The next Monday's ten payments are an ordinary weekday.
    for payment in 0..10 {
        let hours = 22.0 * 24.0 + 6.0 + f64::from(payment) * 0.5;
        let fired = s.rules(
            &format!("MONDAY-{payment}"),
            "SHOPKEEPER",
            "SUPPLIER",
            100.5,
            &at(hours),
        );
        assert!(fired.is_empty(), "{payment}: {fired:?}");
    }
}

#[test]
fn money_received_and_sent_straight_on_is_pass_through_naming_the_hop() {
    let mut s = Scenario::new();
    s.rules("IN", "PAYER", "MULE", 10_000.0, &at(0.0));
    let verdict = s.send("OUT", "MULE", "ONWARD", 9_500.0, &at(1.0), json!({}));
    let alert = verdict
        .alerts
        .iter()
        .find(|a| a.rule == "PassThroughRule")
        .expect("pass-through");
    assert_eq!(
        alert.reason,
        "Pass-through: MULE received $10000.00 from PAYER and sent $9500.00 on to ONWARD 60 minutes later"
    );
    assert_eq!(alert.metadata["inflow_senders"], json!(1));
    assert_eq!(alert.metadata["new_receiver"], json!(true));
    assert_eq!(alert.confidence, 0.75);
    assert!(verdict.flagged);

    let mut s = Scenario::new();
    s.rules("IN", "PAYER", "SAVER", 10_000.0, &at(0.0));
    let kept = s.send("OUT", "SAVER", "SHOP", 2_000.0, &at(3.0), json!({}));
    assert_eq!(rules(&kept), ["PassThroughRule"]);
    assert!(
        kept.alerts[0].is_supporting() && !kept.flagged,
        "a fifth of what it received, the rest kept: a supporting signal only ({})",
        kept.risk
    );
    let mut s = Scenario::new();
    s.rules("IN", "PAYER", "LATE", 10_000.0, &at(0.0));
    assert!(
        !s.rules("OUT", "LATE", "X", 9_500.0, &at(30.0))
            .contains(&"PassThroughRule".to_owned()),
        "a day later"
    );
}

#[test]
fn a_broker_moving_money_as_it_always_does_is_not_pass_through() {
    let mut s = Scenario::new();
    for i in 0..5 {
        s.rules(
            &format!("OLD{i}"),
            "BROKER",
            &format!("CLIENT{i}"),
            5_000.5,
            &at(f64::from(i)),
        );
    }
    s.rules("IN", "INVESTOR", "BROKER", 8_000.0, &at(30.0));
    let fired = s.rules("OUT", "BROKER", "MARKET", 7_500.0, &at(31.0));
    assert!(fired.is_empty(), "{fired:?}");
}

#[test]
fn with_no_minimum_an_account_that_received_nothing_is_not_pass_through() {
    let config = AmlConfig {
        pass_through_min_amount: 0.0,
        ..AmlConfig::default()
    };
    let mut s = Scenario::with(config);
    assert!(
        s.rules("OUT", "FRESH", "ANYONE", 500.5, &at(0.0))
            .is_empty()
    );
}

#[test]
fn five_distinct_senders_to_one_receiver_are_fan_in_and_one_sender_five_times_is_not() {
    let mut s = Scenario::new();
    for i in 0..4 {
        assert!(
            s.rules(
                &format!("T{i}"),
                &format!("P{i}"),
                "COLLECTOR",
                300.5,
                &at(f64::from(i))
            )
            .is_empty()
        );
    }
    let verdict = s.send("T4", "P4", "COLLECTOR", 300.5, &at(4.0), json!({}));
    let alert = verdict
        .alerts
        .iter()
        .find(|a| a.rule == "FanInRule")
        .expect("fan-in");
    assert_eq!(
        alert.reason,
        "Fan-in: 5 distinct senders paid COLLECTOR $1502.50 in 24h"
    );
    let mut s = Scenario::new();
    for i in 0..5 {
        assert!(
            !s.rules(&format!("T{i}"), "P", "COLLECTOR", 300.5, &at(f64::from(i)))
                .contains(&"FanInRule".to_owned())
        );
    }
}

#[test]
fn one_sender_paying_five_receivers_in_a_day_is_fan_out_but_not_over_two_days() {
    let mut s = Scenario::new();
    for i in 0..4 {
        s.rules(
            &format!("T{i}"),
            "DIST",
            &format!("R{i}"),
            250.5,
            &at(f64::from(i)),
        );
    }
    let fired = s.rules("T4", "DIST", "R4", 250.5, &at(4.0));
    assert_eq!(fired, ["FanOutRule"]);
    let mut s = Scenario::new();
    for i in 0..5 {
        assert!(
            s.rules(
                &format!("T{i}"),
                "DIST",
                &format!("R{i}"),
                250.5,
                &at(f64::from(i) * 9.0)
            )
            .is_empty()
        );
    }
}

#[test]
fn repeated_round_amounts_are_flagged_and_amounts_with_cents_are_not() {
    let mut s = Scenario::new();
    s.rules("T1", "S", "R", 2000.0, &at(0.0));
    s.rules("T2", "S", "R", 3000.0, &at(30.0));
    let verdict = s.send("T3", "S", "R", 2000.0, &at(60.0), json!({}));
    assert_eq!(rules(&verdict), ["RoundAmountRule"]);
    assert_eq!(
        verdict.alerts[0].reason,
        "Repeated round amounts: 3 transfers in whole multiples of $1000 in 7 days, totaling $7000.00"
    );
    assert_eq!(verdict.alerts[0].severity, Severity::Low);
    let mut s = Scenario::new();
    for i in 0..3 {
        assert!(
            s.rules(&format!("T{i}"), "S", "R", 2000.5, &at(f64::from(i) * 30.0))
                .is_empty()
        );
    }
}

#[test]
fn a_counterparty_in_a_high_risk_jurisdiction_names_the_list() {
    let mut s = Scenario::new();
    let call = s.send(
        "T1",
        "S",
        "R",
        500.5,
        &at(0.0),
        json!({"sender_country": "US", "receiver_country": "IR"}),
    );
    assert_eq!(call.alerts[0].severity, Severity::Critical);
    assert_eq!(
        call.alerts[0].reason,
        "High-risk jurisdiction: receiver country IR is on the FATF call-for-action list (as of 2025-06-13)"
    );
    let monitored = s.send(
        "T2",
        "S",
        "R",
        500.5,
        &at(0.0),
        json!({"receiver_country": "vn"}),
    );
    assert_eq!(monitored.alerts[0].severity, Severity::High);
    assert!(
        s.send(
            "T3",
            "S",
            "R",
            500.5,
            &at(0.0),
            json!({"receiver_country": "FR"})
        )
        .alerts
        .is_empty()
    );
    let configured = Scenario::with(AmlConfig {
        high_risk_countries: vec!["fr".to_owned()],
        ..AmlConfig::default()
    })
    .send(
        "T4",
        "S",
        "R",
        500.5,
        &at(0.0),
        json!({"receiver_country": "FR"}),
    );
    assert_eq!(
        configured.alerts[0].metadata["list"],
        json!("configured high-risk list")
    );
}

#[test]
fn a_hundred_ordinary_transfers_raise_no_alert_above_medium() {
    let mut s = Scenario::new();
    let mut random = Sampler::new(17);
    for i in 0..100 {
        let sender = format!("CUSTOMER-{}", random.below(30));
        let receiver = format!("MERCHANT-{}", random.below(60));
        let amount = (random.log_normal(4.5, 1.0) * 100.0).round() / 100.0 + 0.01;
        let hours = f64::from(i) * 1.7 + random.uniform(0.0, 1.0);
        let verdict = s.send(
            &format!("T{i}"),
            &sender,
            &receiver,
            amount,
            &at(hours),
            json!({}),
        );
        for alert in &verdict.alerts {
            assert!(alert.severity <= Severity::Medium, "{i}: {alert:?}");
        }
    }
}
