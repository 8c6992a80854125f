//! A backtest's replay: 50,000 stored AML transfers over 30 days (2,000 senders paying 500
//! receivers), decided live first, then replayed through a draft of 20 custom rules over the last
//! 15 days, the first 15 warming the windows. Each iteration loads the draft's detectors (their
//! models read from their artifacts: `backtest/load_detectors` measures that alone), reads every
//! stored decision back from SQLite, replays and compares it, and records its progress.
//! Run: cargo bench -p redflag-service --bench backtest

use std::hint::black_box;

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use redflag_core::{Assessment, Detector, Event, Module, Severity};
use redflag_rules::{CustomRule, RuleSetDocument};
use redflag_service::backtest;
use redflag_service::detectors::LiveDetectors;
use redflag_service::settings::{Settings, Sources};
use redflag_store::DecisionToRecord;
use redflag_store::scratch::ScratchDatabase;
use redflag_windows::InProcessWindows;

const TRANSFERS: i64 = 50_000;

fn backtest(c: &mut Criterion) {
    let scratch = ScratchDatabase::sqlite();
    let models = tempfile::tempdir().expect("a temporary directory");
    let sources = Sources {
        profile: None,
        config_dir: ".".into(),
        env: Default::default(),
    };
    let mut settings = Settings::load(&sources).expect("the default settings load");
    settings.database.url = scratch.url().to_owned();
    settings.models.directory = models.path().display().to_string();
    settings.models.synthetic_rows = 2_000;
    let db = settings.database.connect_and_migrate(2).expect("migrates");
    db.put_rule_list(
        "mule_accounts",
        "",
        &(0..100).map(|i| format!("R-{i}")).collect::<Vec<_>>(),
        "bench",
        Utc::now(),
    )
    .expect("a list");
    let live = LiveDetectors::load(&settings, &db)
        .expect("the detectors load")
        .current();
    let start: DateTime<Utc> = "2026-03-01T00:00:00Z".parse().expect("a time");
    let mut windows = InProcessWindows::new(10_000);
    for i in 0..TRANSFERS {
        let at = start + Duration::seconds(i * 30 * 86_400 / TRANSFERS);
        let body = serde_json::json!({"transaction_id": format!("T-{i}"), "user_id": "U",
            "amount": 50.0 + (i * 7_919 % 12_000) as f64, "sender_id": format!("S-{}", i % 2_000),
            "receiver_id": format!("R-{}", i * 13 % 500), "timestamp": at.to_rfc3339()});
        let transfer = redflag_aml::Transaction::parse(&body, at).expect("a valid transfer");
        let verdict = live.aml.score(&transfer, &mut windows);
        db.record_decision(&DecisionToRecord {
            module: Module::Aml,
            reference: transfer.reference().map(str::to_owned),
            entity_id: transfer.entity().to_owned(),
            risk_score: verdict.risk(),
            flagged: verdict.flagged(),
            decision: None,
            request_json: serde_json::to_string(&transfer).expect("serialises"),
            response_json: "{}".to_owned(),
            event_time: at,
            recorded_at: at,
            created_by: None,
            actor: "bench".to_owned(),
            alerts: verdict.alerts(),
            model_version: None,
            ruleset_version: Some(1),
            latency: std::time::Duration::ZERO,
            model_features: verdict.model_features().to_vec(),
            skipped_rules: Vec::new(),
            shadow: None,
            parties: Vec::new(),
        })
        .expect("stored");
    }
    let conditions = [
        "sender_count_24h > 500 && event.amount > 9000.0",
        "sender_sum_7d > 10000000.0",
        "receiver_distinct_senders_24h > 200 && event.amount >= 5000.0",
        "sender_distinct_receivers_24h > 100",
        "in_list('mule_accounts', event.receiver_id) && sender_received_24h > 100000.0",
        "hour_of_day < 5.0 && sender_count_1h > 50",
    ];
    let document = RuleSetDocument {
        rules: (0..20)
            .map(|i| CustomRule {
                name: format!("Custom {i}"),
                description: String::new(),
                when: conditions[i % conditions.len()].to_owned(),
                severity: Severity::High,
                confidence: 0.7,
                reason: "{{sender_count_24h}} transfers in 24h".to_owned(),
                supporting: false,
            })
            .collect(),
        ..RuleSetDocument::default()
    };
    let period = (start + Duration::days(15), start + Duration::days(30));
    let stored = db
        .start_backtest("aml", (1, "bench"), period, "bench", Utc::now(), Utc::now())
        .expect("a backtest row");
    let mut group = c.benchmark_group("backtest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TRANSFERS as u64));
    group.bench_function("aml_50000_transfers_20_custom_rules", |b| {
        b.iter(|| {
            let report = backtest::run(
                &db,
                &settings,
                &live,
                (Module::Aml, &stored),
                black_box(document.clone()),
            )
            .expect("replays")
            .expect("not cancelled");
            assert_eq!(report.events + report.warm_up_events, TRANSFERS as usize);
            report
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("load_detectors", |b| {
        b.iter(|| {
            redflag_service::detectors::Detectors::load(
                &settings,
                live.learned.clone(),
                live.rule_sets.clone(),
                None,
            )
            .expect("loads")
        })
    });
    group.finish();
}

criterion_group!(benches, backtest);
criterion_main!(benches);
