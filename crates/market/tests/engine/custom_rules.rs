//! A surveillance team's own rules on the market engine: a thin stock's heavy, rising day, a
//! trader cancelling before trading, a switched-off typology, and the feature catalogue.

use std::sync::Arc;

use chrono::Duration;
use redflag_core::{History, Severity};
use redflag_market::features::CATALOGUE;
use redflag_market::{MarketConfig, MarketDetector, MarketEvent};
use redflag_rules::{CompiledRules, CustomRule, Customisable, FeatureKind, Lists};
use serde_json::json;

use crate::{Scenario, alert, at, rules};

fn rule(name: &str, when: &str, reason: &str) -> CustomRule {
    CustomRule {
        name: name.to_owned(),
        description: String::new(),
        when: when.to_owned(),
        severity: Severity::High,
        confidence: 0.8,
        reason: reason.to_owned(),
        supporting: false,
    }
}

fn detector(custom: &[CustomRule], disabled: &[String]) -> MarketDetector {
    let compiled = CompiledRules::compile("market", 2, custom, CATALOGUE, Lists::default())
        .expect("the rules compile");
    MarketDetector::new(MarketConfig::default())
        .expect("default settings")
        .with_rule_set(disabled, Arc::new(compiled))
        .expect("known rules")
}

#[test]
fn a_heavy_rising_day_in_a_thin_stock_fires_with_its_figures_and_an_ordinary_one_does_not() {
    let heavy = rule(
        "Thin stock, heavy rising day",
        "volume_to_median_daily > 5.0 && symbol_price_change_24h > 0.1",
        "{{volume_to_median_daily}} times the median daily volume, price up {{symbol_price_change_24h}} in 24h",
    );
    let scenario = Scenario::with_detector(detector(&[heavy], &[]));
    let day = at("2026-03-31T14:00:00Z");
    scenario.ordinary_month("THIN", day);
    let quiet = scenario.trade(day, "THIN", 10.05, 410.0, "MM-1", json!({}));
    assert!(
        alert(&quiet, "Thin stock, heavy rising day").is_none(),
        "{:?}",
        rules(&quiet)
    );
    // Five times the month's median daily volume (about 2,000 shares), at a price 15% up.
    let pushed = scenario.trade(
        day + Duration::hours(1),
        "THIN",
        11.5,
        12_000.0,
        "PROMOTER",
        json!({}),
    );
    let fired = alert(&pushed, "Thin stock, heavy rising day").expect("the custom rule fires");
    assert_eq!(fired.code, "custom_rule");
    let figure = |name: &str| fired.metadata[name].as_f64().expect("a figure");
    let ratio = figure("volume_to_median_daily");
    assert!((6.0..6.4).contains(&ratio), "{ratio}");
    let change = figure("symbol_price_change_24h");
    assert!((0.14..0.16).contains(&change), "{change}");
    assert_eq!(
        fired.reason, "6.21 times the median daily volume, price up 0.16 in 24h",
        "figures shown to two decimals"
    );
}

#[test]
fn trader_figures_count_the_trader_s_own_orders_and_cancels_in_the_symbol() {
    let layering = rule(
        "Cancels before a trade",
        "event.event_type == 'trade' && trader_cancels_1h >= 3 && trader_orders_1h >= 3",
        "{{trader_cancels_1h}} cancels of {{trader_orders_1h}} orders in the hour before",
    );
    let scenario = Scenario::with_detector(detector(&[layering], &[]));
    let start = at("2026-03-02T15:00:00Z");
    for i in 0..3 {
        let minute = Duration::minutes(i64::from(i) * 5);
        let order = json!({"symbol": "ACME", "price": 20.0, "volume": 5_000.0, "trader_id": "LAYER",
                           "event_type": "order", "side": "buy", "order_id": format!("O-{i}")});
        scenario.send(start + minute, order);
        let cancel = json!({"symbol": "ACME", "price": 20.0, "volume": 5_000.0, "trader_id": "LAYER",
                            "event_type": "cancel", "side": "buy", "order_id": format!("O-{i}")});
        scenario.send(start + minute + Duration::minutes(1), cancel);
    }
    let traded = scenario.trade(
        start + Duration::minutes(20),
        "ACME",
        20.1,
        100.0,
        "LAYER",
        json!({"side": "sell"}),
    );
    let fired = alert(&traded, "Cancels before a trade").expect("fires");
    assert_eq!(fired.reason, "3 cancels of 3 orders in the hour before");
    // Another trader's trade in the same symbol does not read LAYER's window.
    let other = scenario.trade(
        start + Duration::minutes(21),
        "ACME",
        20.1,
        100.0,
        "OTHER",
        json!({}),
    );
    assert!(alert(&other, "Cancels before a trade").is_none());
}

#[test]
fn a_switched_off_typology_stays_silent_and_unknown_names_are_refused() {
    let on = Scenario::with_detector(detector(&[], &[]));
    let off = Scenario::with_detector(detector(&[], &["Unusual Activity".to_owned()]));
    let day = at("2026-03-31T14:00:00Z");
    for scenario in [&on, &off] {
        scenario.ordinary_month("THIN", day);
    }
    let unusual =
        |scenario: &Scenario| scenario.trade(day, "THIN", 10.0, 9_000.0, "WHALE", json!({}));
    assert!(rules(&unusual(&on)).contains(&"Unusual Activity"));
    assert!(!rules(&unusual(&off)).contains(&"Unusual Activity"));
    let refused = MarketDetector::new(MarketConfig::default())
        .expect("default settings")
        .with_rule_set(
            &["NoSuchRule".to_owned()],
            Arc::new(
                CompiledRules::compile("market", 2, &[], CATALOGUE, Lists::default())
                    .expect("empty"),
            ),
        )
        .err()
        .expect("refused");
    assert!(
        refused.contains("NoSuchRule") && refused.contains("Pump And Dump"),
        "{refused}"
    );
}

#[test]
fn every_catalogue_feature_has_a_unique_name_and_a_value_of_its_kind_on_a_trade() {
    let mut names: Vec<&str> = CATALOGUE.iter().map(|feature| feature.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CATALOGUE.len());
    // Every number, count and text feature compiles in a rule of its kind.
    let probes: Vec<CustomRule> = CATALOGUE
        .iter()
        .map(|feature| {
            let when = match feature.kind {
                FeatureKind::Number | FeatureKind::Count => {
                    format!("{} >= 0.0 || true", feature.name)
                }
                FeatureKind::Text => format!("{} != '' || true", feature.name),
                FeatureKind::Flag => format!("{} || true", feature.name),
            };
            rule(&format!("probe {}", feature.name), &when, "probe")
        })
        .collect();
    let detector = detector(&probes, &[]);
    let body = json!({"symbol": "X", "price": 1.0, "volume": 1.0, "trader_id": "T",
                      "timestamp": "2026-03-02T10:00:00Z", "counterparty_id": "C", "side": "buy"});
    let event = MarketEvent::parse(&body, chrono::Utc::now()).expect("valid");
    let verdict = redflag_core::Detector::detect(&detector, &event, &History::new());
    assert_eq!(
        verdict
            .alerts
            .iter()
            .filter(|alert| alert.code == "custom_rule")
            .count(),
        CATALOGUE.len()
    );
}
