//! The pure AML detector on one transfer whose sender made 1,000 earlier transfers over 30 days,
//! as the store keeps them: the last 7 days in detail (233) and 30 daily sums; plus 100 inflows to
//! the receiver and 50 to the sender in the last day, 3 earlier payments to this receiver, and the
//! receiver's own 20 outflows of the last day and 30 daily sums. Every rule and the anomaly model
//! run; then with one and with 20 custom rules (a rule's cost is the difference over 20).
//! Run: cargo bench -p redflag-aml --bench detector

use std::hint::black_box;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use redflag_aml::features::CATALOGUE;
use redflag_aml::{AmlConfig, AmlDetector, Transaction};
use redflag_core::{Activity, Detector, History, Severity};
use redflag_ml_core::{IsolationForestParams, train_isolation_forest};
use redflag_rules::{CompiledRules, CustomRule, Customisable, Lists};

fn detector(c: &mut Criterion) {
    let artifact = train_isolation_forest(
        &redflag_aml::model::synthetic(5_000, 1),
        IsolationForestParams::default(),
    )
    .expect("trains");
    let rules_only =
        AmlDetector::new(AmlConfig::default()).expect("the default settings are valid");
    let detector = AmlDetector::new(AmlConfig::default())
        .expect("the default settings are valid")
        .with_model(artifact);
    let now = DateTime::parse_from_rfc3339("2026-02-09T12:00:00Z")
        .expect("valid")
        .with_timezone(&Utc);
    let body = serde_json::json!({"transaction_id": "NOW", "user_id": "U", "amount": 9_400.0,
                                  "sender_id": "S", "receiver_id": "R", "timestamp": now.to_rfc3339()});
    let transaction = Transaction::parse(&body, now).expect("valid");
    let observations = detector.observations(&transaction);
    let entries = |count: i64, span: Duration, prefix: &str| -> Vec<Activity> {
        (0..count)
            .map(|i| {
                Activity::new(
                    now - span + span * (i as i32) / (count as i32),
                    &format!("{prefix}{i}"),
                    50.0 + (i % 97) as f64 * 31.0,
                    0.0,
                    &format!("P{}", i % 40),
                )
            })
            .collect()
    };
    let days: Vec<Activity> = (1..=30)
        .map(|day| {
            Activity::new(
                now - Duration::days(day),
                &format!("{day}"),
                33.0 * 1_540.0,
                33.0,
                "",
            )
        })
        .rev()
        .collect();
    // In the order `observations` names the windows: the sender's inflows, the receiver's
    // inflows, the sender's outflows, its daily sums, its payments to this receiver, the
    // receiver's outflows and daily sums.
    let contents = [
        entries(50, Duration::hours(23), "SIN"),
        entries(100, Duration::hours(23), "IN"),
        entries(1_000, Duration::days(7), "OUT"),
        days.clone(),
        entries(3, Duration::days(40), "PAID"),
        entries(20, Duration::hours(23), "ROUT"),
        days,
    ];
    assert_eq!(contents.len(), observations.len(), "one history per window");
    let mut history = History::new();
    for (observation, activities) in observations.iter().zip(contents) {
        history.insert(observation.key.clone(), activities);
    }
    c.bench_function("aml/detect_with_1000_event_history", |b| {
        b.iter(|| detector.detect(black_box(&transaction), black_box(&history)))
    });
    c.bench_function("aml/rules_only_with_1000_event_history", |b| {
        b.iter(|| rules_only.detect(black_box(&transaction), black_box(&history)))
    });
    for count in [1, 20] {
        let custom = with_custom_rules(count);
        c.bench_function(&format!("aml/detect_with_{count}_custom_rules"), |b| {
            b.iter(|| custom.detect(black_box(&transaction), black_box(&history)))
        });
    }
}

/// The model-backed detector plus `count` custom rules, each reading window figures and event
/// fields as a team's rules do (none fires on the bench's transfer, so each is evaluated whole).
fn with_custom_rules(count: usize) -> AmlDetector {
    let artifact = train_isolation_forest(
        &redflag_aml::model::synthetic(5_000, 1),
        IsolationForestParams::default(),
    )
    .expect("trains");
    let conditions = [
        "sender_count_24h > 500 && event.amount > 9000.0",
        "sender_sum_7d > 10000000.0",
        "receiver_distinct_senders_24h > 200 && event.amount >= 5000.0",
        "sender_distinct_receivers_24h > 100",
        "in_list('mule_accounts', event.receiver_id) && event.amount > 1000.0",
        "hour_of_day < 5.0 && sender_count_1h > 50",
    ];
    let rules: Vec<CustomRule> = (0..count)
        .map(|i| CustomRule {
            name: format!("Custom {i}"),
            description: String::new(),
            when: conditions[i % conditions.len()].to_owned(),
            severity: Severity::High,
            confidence: 0.7,
            reason: "{{sender_count_24h}} transfers in 24h".to_owned(),
            supporting: false,
        })
        .collect();
    let mut lists = Lists::default();
    lists.insert("mule_accounts", (0..10_000).map(|i| format!("M{i}")));
    let compiled = CompiledRules::compile("aml", 1, &rules, CATALOGUE, lists).expect("compiles");
    AmlDetector::new(AmlConfig::default())
        .expect("the default settings are valid")
        .with_model(artifact)
        .with_rule_set(&[], Arc::new(compiled))
        .expect("no switches")
}

criterion_group!(benches, detector);
criterion_main!(benches);
