//! The pure market detector on one trade with its history as the store keeps it: 63 daily volume
//! and value sums (the baseline and the multi-day run-ups), the symbol's last 72 hours in detail (600 trades), the trader's
//! 200 recent events in the symbol (orders, cancels and trades) and 20 trades with the
//! counterparty, five minutes before the New York close. Every rule and the anomaly model run;
//! marking the close and the anomaly alert fire (so both sentences and the model's explanation are
//! written).
//! Run: cargo bench -p redflag-market --bench detector

use std::hint::black_box;

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use redflag_core::{Activity, Detector, History};
use redflag_market::{MarketConfig, MarketDetector, MarketEvent};
use redflag_ml_core::{IsolationForestParams, train_isolation_forest};

fn detector(c: &mut Criterion) {
    let artifact = train_isolation_forest(
        &redflag_market::model::synthetic(5_000, 1),
        IsolationForestParams::default(),
    )
    .expect("trains");
    let detector = MarketDetector::new(MarketConfig::default())
        .expect("the default settings are valid")
        .with_model(artifact);
    let now = DateTime::parse_from_rfc3339("2026-02-10T20:55:00Z")
        .expect("valid")
        .with_timezone(&Utc);
    let body = serde_json::json!({"symbol": "ACME", "price": 10.4, "volume": 900, "trader_id": "TR-1",
                                  "side": "buy", "counterparty_id": "TR-2", "trade_id": "T-NOW",
                                  "timestamp": now.to_rfc3339()});
    let event = MarketEvent::parse(&body, Utc::now()).expect("valid");
    let entry = |at: DateTime<Utc>, i: u32, amount: f64, counterparty: String| {
        Activity::new(
            at,
            &format!("E{i}"),
            amount,
            300.0 + f64::from(i % 11) * 20.0,
            &counterparty,
        )
    };
    let mut history = History::new();
    for observation in detector.observations(&event) {
        let key = observation.key.to_string();
        let entries: Vec<Activity> = if key.contains("daily") {
            let notional = key.contains("notional");
            (1..=63)
                .map(|day| {
                    Activity::new(
                        now - Duration::days(day),
                        &(now - Duration::days(day))
                            .timestamp_millis()
                            .div_euclid(86_400_000)
                            .to_string(),
                        if notional {
                            10.0 * 40_000.0
                        } else {
                            40_000.0 + f64::from(day as u32 % 7) * 900.0
                        },
                        120.0,
                        "",
                    )
                })
                .rev()
                .collect()
        } else if key.contains("pair") {
            (0..20)
                .map(|i| {
                    entry(
                        now - Duration::seconds(290 - i64::from(i) * 10),
                        i,
                        10.0,
                        "TR-2".to_owned(),
                    )
                })
                .collect()
        } else if key.contains("trader") {
            let kinds = ["order|sell|O-", "cancel|-|O-", "trade|buy|TR-9"];
            (0..200)
                .map(|i| {
                    let tag = kinds[(i % 3) as usize];
                    let tag = if tag.ends_with("O-") {
                        format!("{tag}{}", i / 3)
                    } else {
                        tag.to_owned()
                    };
                    entry(
                        now - Duration::seconds(7_200 - i64::from(i) * 36),
                        i,
                        10.0 + f64::from(i % 5) * 0.01,
                        tag,
                    )
                })
                .collect()
        } else {
            (0..600)
                .map(|i| {
                    entry(
                        now - Duration::minutes(4_320 - i64::from(i) * 7),
                        i,
                        10.0 + f64::from(i % 13) * 0.01,
                        format!("TR-{}", i % 40),
                    )
                })
                .collect()
        };
        history.insert(observation.key, entries);
    }
    let verdict = detector.detect(&event, &history);
    let fired: Vec<&str> = verdict
        .alerts
        .iter()
        .map(|alert| alert.rule.as_str())
        .collect();
    assert_eq!(
        fired,
        ["Marking The Close", "AnomalyRule"],
        "the scenario's alerts"
    );
    c.bench_function("market/detect_trade_with_30_days_of_history", |b| {
        b.iter(|| detector.detect(black_box(&event), black_box(&history)))
    });
}

criterion_group!(benches, detector);
criterion_main!(benches);
