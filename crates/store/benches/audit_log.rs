//! How fast the audit worker applies outbox records to the hash-chained audit log: batches of
//! 500 decisions (each with two alerts) recorded beforehand, applied in one transaction, on a
//! SQLite file in a temporary directory (the embedded default) and on a fresh database of the
//! local PostgreSQL (`REDFLAG_TEST_POSTGRES_URL` names another server).
//! Run: cargo bench -p redflag-store --bench audit_log

use std::hint::black_box;

use chrono::Utc;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use redflag_core::{Alert, Module, Severity};
use redflag_store::scratch::ScratchDatabase;
use redflag_store::{Database, DecisionToRecord};

const BATCH: i64 = 500;

fn audit_log(c: &mut Criterion) {
    let mut group = c.benchmark_group("audit_log");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    for (name, scratch) in [
        ("apply_500_records_sqlite", ScratchDatabase::sqlite()),
        ("apply_500_records_postgres", ScratchDatabase::postgres()),
    ] {
        let db = Database::connect(scratch.url(), 4).expect("opens");
        db.migrate().expect("migrates");
        bench_apply(&mut group, name, &db);
    }
    group.finish();
}

fn bench_apply(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    db: &Database,
) {
    let mut next = 0_u64;
    let mut record_batch = || {
        for _ in 0..BATCH {
            next += 1;
            let at = Utc::now();
            db.record_decision(&DecisionToRecord {
                module: Module::Aml,
                reference: Some(format!("T-{next}")),
                entity_id: format!("S-{}", next % 1000),
                risk_score: 78.5,
                flagged: true,
                decision: None,
                request_json: format!("{{\"transaction_id\":\"T-{next}\",\"amount\":9800.0}}"),
                response_json: "{}".to_owned(),
                event_time: at,
                recorded_at: at,
                created_by: None,
                actor: "bench".to_owned(),
                alerts: vec![
                    Alert::new("StructuringRule", "structuring", Severity::High, 0.8, "x"),
                    Alert::new("VelocityRule", "velocity", Severity::Medium, 0.5, "y"),
                ],
                model_version: Some("isolation_forest (bench)".to_owned()),
                ruleset_version: None,
                latency: std::time::Duration::from_micros(900),
                model_features: vec![1.0, 2.0],
                skipped_rules: Vec::new(),
                shadow: None,
                parties: Vec::new(),
            })
            .expect("recorded");
        }
    };
    group.bench_function(name, |b| {
        b.iter_batched(
            &mut record_batch,
            |()| {
                let applied = db
                    .apply_pending_audits(BATCH, 0, Utc::now())
                    .expect("applies")
                    .applied;
                assert_eq!(applied, BATCH as usize);
                black_box(applied)
            },
            BatchSize::PerIteration,
        )
    });
}

criterion_group!(benches, audit_log);
criterion_main!(benches);
