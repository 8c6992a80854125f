//! The audit queue in the real Redis on this machine: records wait while no worker runs, a dead
//! worker's records are taken over and applied once, a poison record is dead-lettered.

use redflag_service::settings::AuditSettings;
use redflag_service::worker::{Step, flush, step};
use redflag_store::{ChainReport, RedisAuditQueue};
use serde_json::json;

use crate::helpers::{Sandbox, TestApp, login, post, send};
use crate::process::Process;

fn redis_url() -> String {
    std::env::var("REDFLAG_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned())
}

/// A queue under a prefix of its own, so tests never see each other's records.
fn queue(prefix: &str, consumer: &str) -> RedisAuditQueue {
    RedisAuditQueue::connect(&redis_url(), prefix, consumer).expect("Redis answers")
}

fn settings(test_app: &TestApp) -> AuditSettings {
    AuditSettings {
        queue_url: redis_url(),
        reclaim_idle_ms: 0,
        ..test_app.state.settings.audit.clone()
    }
}

/// A gateway that hands its audit records to the queue (Redis Streams), as a deployment with
/// `audit.queue_url` does: its decisions wait in the outbox for the relay.
fn queue_app() -> TestApp {
    TestApp::spawn_with(|settings| settings.audit.queue_url = redis_url())
}

async fn detections(test_app: &TestApp, count: usize) {
    let app = test_app.service().await;
    let (token, _) = login(&app, test_app, "analyst").await;
    for i in 0..count {
        let body = json!({"transaction_id": format!("Q-{i}"), "user_id": "U", "amount": 120 + i,
                          "sender_id": "S-Q", "receiver_id": "R"});
        send(&app, post("/api/aml/detect/", Some(&token), &body)).await;
    }
}

#[actix_web::test]
async fn records_wait_while_no_worker_runs_then_are_applied_exactly_once() {
    let test_app = queue_app();
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    detections(&test_app, 3).await;
    let db = &test_app.state.db;
    assert_eq!(
        db.outbox_counts().expect("counts").queued,
        4,
        "three decisions and the login's token, waiting in the outbox"
    );

    let worker = queue(&prefix, "w1");
    worker.ensure_group().await.expect("a group");
    let settings = settings(&test_app);
    let first = step(db, &worker, &settings, 10).await.expect("a pass");
    assert_eq!(
        first,
        Step {
            relayed: 4,
            applied: 4,
            ..Step::default()
        },
        "three decisions and the login's token"
    );
    let idle = step(db, &worker, &settings, 10).await.expect("a pass");
    assert_eq!(idle, Step::default());
    assert_eq!(
        db.verify_audit_chain().expect("walks"),
        ChainReport::Intact { entries: 4 }
    );
    assert_eq!(
        worker.counts().await.expect("counts"),
        (0, 0),
        "all acknowledged"
    );
}

#[actix_web::test]
async fn a_dead_workers_records_are_taken_over_and_applied_once() {
    let test_app = queue_app();
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    detections(&test_app, 4).await;
    let db = &test_app.state.db;

    // Worker A relays and reads the records, then dies before applying or acknowledging them:
    // they stay pending with A in the consumer group, as after a killed process.
    let doomed = queue(&prefix, "worker-a");
    doomed.ensure_group().await.expect("a group");
    let records = db.audits_to_relay(100).expect("outbox");
    doomed.publish(&records).await.expect("published");
    let ids: Vec<i64> = records.iter().map(|record| record.outbox_id).collect();
    db.mark_relayed(&ids, chrono::Utc::now()).expect("marked");
    assert_eq!(doomed.read(100, 10).await.expect("read").len(), 5);
    drop(doomed);
    assert_eq!(
        db.audit_progress(chrono::Utc::now())
            .expect("progress")
            .applied,
        0
    );

    // Worker B takes them over once they are idle long enough, and applies each once.
    let survivor = queue(&prefix, "worker-b");
    let report = step(db, &survivor, &settings(&test_app), 10)
        .await
        .expect("a pass");
    assert_eq!(report.applied, 5, "four decisions and the login's token");
    assert_eq!(report.relayed, 0, "relayed once, by A");
    assert_eq!(
        db.verify_audit_chain().expect("walks"),
        ChainReport::Intact { entries: 5 }
    );
    assert_eq!(survivor.counts().await.expect("counts"), (0, 0));
    // A redelivery of something already applied is acknowledged without a second entry.
    let again = db.audits_to_relay(100).expect("outbox");
    assert!(again.is_empty(), "nothing left to relay");
}

#[actix_web::test]
async fn a_stopping_server_applies_what_its_worker_was_handed_and_leaves_nothing_pending() {
    let test_app = TestApp::spawn_with(|settings| {
        settings.audit.queue_url = redis_url();
        settings.audit.embedded_worker = true;
    });
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    detections(&test_app, 3).await;
    let db = &test_app.state.db;
    let settings = AuditSettings {
        reclaim_idle_ms: 600_000,
        ..settings(&test_app)
    };

    // The embedded worker relayed two records and was handed them (a read waiting on the stream
    // takes records the moment they are added), then was stopped before applying them.
    let embedded = queue(&prefix, "embedded");
    embedded.ensure_group().await.expect("a group");
    let first = db.audits_to_relay(2).expect("outbox");
    embedded.publish(&first).await.expect("published");
    let ids: Vec<i64> = first.iter().map(|record| record.outbox_id).collect();
    db.mark_relayed(&ids, chrono::Utc::now()).expect("marked");
    assert_eq!(embedded.read(100, 10).await.expect("read").len(), 2);
    drop(embedded);

    let moved = flush(db, &settings, &prefix, "embedded")
        .await
        .expect("flushed");
    assert_eq!(moved, 2, "the other two decisions relayed");
    assert_eq!(
        db.verify_audit_chain().expect("walks"),
        ChainReport::Intact { entries: 2 },
        "the two records the worker held are in the log"
    );
    let inspector = queue(&prefix, "inspector");
    assert_eq!(
        inspector.counts().await.expect("counts"),
        (0, 0),
        "nothing left pending with the stopped worker"
    );
    let next = step(db, &inspector, &settings, 10).await.expect("a pass");
    assert_eq!(
        (next.applied, next.relayed),
        (2, 0),
        "the relayed records wait in the stream for the next worker"
    );
    assert_eq!(
        db.verify_audit_chain().expect("walks"),
        ChainReport::Intact { entries: 4 }
    );
}

#[actix_web::test]
async fn a_record_that_cannot_be_applied_lands_in_the_dead_letter_stream() {
    let test_app = queue_app();
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    detections(&test_app, 2).await;
    test_app
        .sandbox
        .database
        .execute("UPDATE audit_outbox SET payload = 'not json' WHERE id = 1");
    let db = &test_app.state.db;
    let worker = queue(&prefix, "w1");
    worker.ensure_group().await.expect("a group");
    let settings = AuditSettings {
        dead_letter_after: 2,
        ..settings(&test_app)
    };
    let first = step(db, &worker, &settings, 10).await.expect("a pass");
    assert_eq!(
        (first.applied, first.retried),
        (2, 1),
        "the good records are not held up"
    );
    let mut dead = 0;
    for _ in 0..3 {
        dead += step(db, &worker, &settings, 10)
            .await
            .expect("a pass")
            .dead_lettered;
    }
    assert_eq!(dead, 1);
    assert_eq!(
        worker.counts().await.expect("counts"),
        (0, 1),
        "nothing pending, one dead letter"
    );
    let progress = db.audit_progress(chrono::Utc::now()).expect("progress");
    assert_eq!((progress.applied, progress.dead_lettered), (2, 1));
}

#[actix_web::test]
async fn records_held_by_a_killed_worker_process_are_taken_over_and_applied_once() {
    let sandbox = Sandbox::new();
    let url = sandbox.database.url().to_owned();
    let prefix = format!("redflag-test-{}", uuid::Uuid::new_v4().simple());
    let db = redflag_store::Database::connect(&url, 2).expect("opens");
    db.migrate().expect("migrates");

    // A worker process, started and settled (migrated, running) before the test begins. Its
    // periodic tasks are off: their own audit records (the peer groups learned at start) would
    // otherwise race the records below into the batch the held lock stops.
    let log = sandbox.path().join("worker.log");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_redflag"));
    for task in [
        "EXPIRE_WINDOWS_SECONDS",
        "ROLLUP_STATISTICS_SECONDS",
        "RETRAIN_HOURS",
        "PEER_GROUPS_SECONDS",
        "CALIBRATE_ANOMALY_SECONDS",
    ] {
        command.env(format!("REDFLAG__TASKS__{task}"), "0");
    }
    let worker = Process(
        command
            .arg("worker")
            .current_dir(sandbox.path())
            .env("DATABASE_URL", &url)
            .env("AUDIT_QUEUE_URL", redis_url())
            .env("REDFLAG__REDIS__KEY_PREFIX", &prefix)
            .env("REDFLAG__AUDIT__POLL_INTERVAL_MS", "50")
            .env("RUST_LOG", "info")
            .env_remove("REDFLAG_PROFILE")
            .env_remove("CELERY_BROKER_URL")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("the worker starts"),
    );
    let worker_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let started = std::time::Instant::now();
    while !worker_log().contains("audit worker running") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the worker did not start: {}",
            worker_log()
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let survivor = queue(&prefix, "survivor");
    survivor.ensure_group().await.expect("a group");

    // Hold the database's write lock, so that the worker can read records but not apply them.
    let lock = sandbox.database.hold_audit_writes();
    let records: Vec<redflag_store::QueuedAudit> = (0..3)
        .map(|i| redflag_store::QueuedAudit {
            outbox_id: 1_000 + i,
            kind: "decision.recorded".to_owned(),
            payload: format!(
                "{{\"module\":\"aml\",\"entity_id\":\"S-K\",\"actor\":\"a\",\"recorded_at\":\"2026-02-09T09:00:0{i}Z\"}}"
            ),
            created_at: chrono::Utc::now().naive_utc(),
        })
        .collect();
    survivor.publish(&records).await.expect("published");
    // The worker reads them; they are pending with it, unacknowledged.
    let started = std::time::Instant::now();
    while survivor.counts().await.expect("counts").0 < 3 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the worker never read the records: {}",
            worker_log()
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(worker); // SIGKILL, mid-batch
    drop(lock);

    let settings = AuditSettings {
        queue_url: redis_url(),
        reclaim_idle_ms: 0,
        ..redflag_service::settings::Settings::load(&redflag_service::settings::Sources {
            profile: None,
            config_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../config").into(),
            env: Default::default(),
        })
        .expect("the defaults load")
        .audit
    };
    let report = step(&db, &survivor, &settings, 10).await.expect("a pass");
    assert_eq!(report.applied, 3, "{report:?}");
    assert_eq!(
        db.verify_audit_chain().expect("walks"),
        ChainReport::Intact { entries: 3 }
    );
    assert_eq!(survivor.counts().await.expect("counts"), (0, 0));
}
