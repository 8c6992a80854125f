//! The audit worker: moves audit records from the outbox (written with each decision) to the
//! hash-chained audit log. Without a queue it reads the outbox directly. With one (Redis Streams)
//! it relays outbox records to the stream and applies what the consumer group hands it, taking
//! over records a dead worker left pending and dead-lettering the ones that keep failing. It runs
//! inside `redflag serve` in the embedded mode and as `redflag worker` processes otherwise; any
//! number may run at once.

use std::time::{Duration, Instant};

use chrono::Utc;
use redflag_store::{Applied, Database, Delivery, QueuedAudit, RedisAuditQueue, StoreError};

use crate::ServiceError;
use crate::blocking;
use crate::settings::AuditSettings;
use crate::telemetry::audit_records;

/// How long a drain reads the outbox onwards from its last batch before it reads it from the
/// start again: the bound on how late a record committed out of id order (another gateway's
/// transaction that took its id earlier and committed later) is applied while a backlog lasts.
const FROM_THE_START_EVERY: Duration = Duration::from_secs(1);

/// Applies every pending record now, straight from the outbox, batch by batch; returns how many
/// were applied.
///
/// Each batch resumes after the last one's highest id rather than reading the outbox from the
/// start: on PostgreSQL the rows marked delivered stay in the index of waiting rows until vacuum,
/// and under load a pass from the start walked past tens of thousands of them. The drain ends
/// with a pass from the start that finds nothing new, so nothing committed late is left behind.
pub fn drain(db: &Database, settings: &AuditSettings) -> Result<usize, StoreError> {
    let mut total = 0;
    let mut after = 0;
    let mut from_the_start = Instant::now();
    loop {
        let pass = db.apply_pending_audits(settings.batch_size.max(1), after, Utc::now())?;
        audit_records("applied", pass.applied);
        total += pass.applied;
        match pass.last_read {
            Some(last) if pass.applied > 0 && from_the_start.elapsed() < FROM_THE_START_EVERY => {
                after = last;
            }
            _ if pass.applied == 0 && after == 0 => return Ok(total),
            _ => {
                after = 0;
                from_the_start = Instant::now();
            }
        }
    }
}

/// What one pass of the queue worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Step {
    /// Outbox records handed to the stream.
    pub relayed: usize,
    /// New audit-log entries.
    pub applied: usize,
    /// Redeliveries of records already in the log, acknowledged.
    pub duplicates: usize,
    /// Records given up on, now in the dead-letter stream.
    pub dead_lettered: usize,
    /// Records left pending after a failed attempt, to be retried.
    pub retried: usize,
}

/// The queue worker's identity in the consumer group: unique per process.
pub fn consumer_name() -> String {
    format!(
        "worker-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

/// One pass: relay waiting outbox records, take over records idle with dead workers, read new
/// ones (waiting up to `block_ms`), dead-letter those delivered too often, apply the rest and
/// acknowledge what the log took.
pub async fn step(
    db: &Database,
    queue: &RedisAuditQueue,
    settings: &AuditSettings,
    block_ms: u64,
) -> Result<Step, ServiceError> {
    let batch = settings.batch_size.max(1);
    let mut report = Step {
        relayed: relay(db, queue, batch).await?,
        ..Step::default()
    };

    let mut deliveries = queue
        .reclaim(settings.reclaim_idle_ms, batch as usize)
        .await?;
    deliveries.extend(queue.read(batch as usize, block_ms).await?);

    apply(db, queue, settings, deliveries, &mut report).await?;
    count(&report);
    Ok(report)
}

/// Applies `deliveries` to the audit log and acknowledges what it took (new or already there);
/// dead-letters those delivered too often or unreadable as records. Adds the outcomes to
/// `report`.
async fn apply(
    db: &Database,
    queue: &RedisAuditQueue,
    settings: &AuditSettings,
    deliveries: Vec<Delivery>,
    report: &mut Step,
) -> Result<(), ServiceError> {
    let mut to_apply: Vec<(String, QueuedAudit)> = Vec::new();
    for delivery in deliveries {
        match delivery.record.clone() {
            Some(record) if delivery.deliveries <= settings.dead_letter_after => {
                to_apply.push((delivery.stream_id, record));
            }
            record => {
                let reason = match &record {
                    Some(_) => format!(
                        "not applied after {} deliveries",
                        delivery.deliveries.saturating_sub(1)
                    ),
                    None => "not an audit record".to_owned(),
                };
                dead_letter(db, queue, &delivery, record.as_ref(), &reason).await?;
                report.dead_lettered += 1;
            }
        }
    }
    if to_apply.is_empty() {
        return Ok(());
    }
    let records: Vec<QueuedAudit> = to_apply.iter().map(|(_, record)| record.clone()).collect();
    let apply_db = db.clone();
    let outcomes = blocking(move || apply_db.apply_audits(&records, Utc::now())).await?;
    let mut acknowledged = Vec::new();
    for ((stream_id, _), outcome) in to_apply.into_iter().zip(outcomes) {
        match outcome.result {
            Applied::New => {
                report.applied += 1;
                acknowledged.push(stream_id);
            }
            Applied::Duplicate => {
                report.duplicates += 1;
                acknowledged.push(stream_id);
            }
            Applied::Unreadable(error) => {
                tracing::warn!(outbox_id = outcome.outbox_id, %error, "audit record not applied; it will be retried");
                report.retried += 1;
            }
        }
    }
    Ok(queue.ack(&acknowledged).await?)
}

/// Hands up to `batch` outbox records to the queue; returns how many.
async fn relay(db: &Database, queue: &RedisAuditQueue, batch: i64) -> Result<usize, ServiceError> {
    let relay_db = db.clone();
    let records = blocking(move || relay_db.audits_to_relay(batch)).await?;
    if records.is_empty() {
        return Ok(0);
    }
    queue.publish(&records).await?;
    let ids: Vec<i64> = records.iter().map(|record| record.outbox_id).collect();
    let mark_db = db.clone();
    blocking(move || mark_db.mark_relayed(&ids, Utc::now())).await?;
    Ok(records.len())
}

/// What `serve` does last, after its in-flight requests finished and its embedded worker
/// (`consumer`) stopped: moves what its requests left in the outbox onward, so that nothing waits
/// for the next start. With a queue, relays every waiting record to it, then applies the records
/// the stopped worker had been handed and not acknowledged (its read takes records the moment the
/// relay adds them): nothing is left waiting for another worker to take it over. With the
/// embedded worker and no queue, applies the outbox; otherwise the separate workers read the
/// outbox and there is nothing to do. Returns how many records moved.
pub async fn flush(
    db: &Database,
    settings: &AuditSettings,
    prefix: &str,
    consumer: &str,
) -> Result<usize, ServiceError> {
    if !settings.queue_url.trim().is_empty() {
        let queue = RedisAuditQueue::connect(&settings.queue_url, prefix, consumer)?;
        let batch = settings.batch_size.max(1);
        let mut total = 0;
        loop {
            let relayed = relay(db, &queue, batch).await?;
            audit_records("relayed", relayed);
            total += relayed;
            if relayed == 0 {
                break;
            }
        }
        if settings.embedded_worker {
            loop {
                let held = queue.held(batch as usize).await?;
                if held.is_empty() {
                    break;
                }
                let mut report = Step::default();
                apply(db, &queue, settings, held, &mut report).await?;
                count(&report);
                if report.applied + report.duplicates + report.dead_lettered == 0 {
                    // Unreadable for now: they stay pending for the workers' retries.
                    break;
                }
            }
        }
        return Ok(total);
    }
    if settings.embedded_worker {
        let (db, settings) = (db.clone(), settings.clone());
        return blocking(move || drain(&db, &settings)).await;
    }
    Ok(0)
}

/// [`flush`] within `grace`, reporting the outcome in the log. Whatever is not flushed stays in
/// the outbox, where the next worker finds it: nothing is lost either way, and `serve` still
/// exits cleanly.
pub async fn flush_within(
    grace: Duration,
    db: &Database,
    settings: &AuditSettings,
    prefix: &str,
    consumer: &str,
) {
    match tokio::time::timeout(grace, flush(db, settings, prefix, consumer)).await {
        Ok(Ok(moved)) => tracing::info!(moved, "audit relay flushed; stopped"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "audit relay not flushed; the outbox keeps the records")
        }
        Err(_) => tracing::warn!(
            "audit relay flush outlasted the grace period; the outbox keeps the rest"
        ),
    }
}

/// Adds a pass's figures to the worker counters.
fn count(report: &Step) {
    audit_records("relayed", report.relayed);
    audit_records("applied", report.applied);
    audit_records("duplicate", report.duplicates);
    audit_records("retried", report.retried);
    audit_records("dead_lettered", report.dead_lettered);
}

async fn dead_letter(
    db: &Database,
    queue: &RedisAuditQueue,
    delivery: &Delivery,
    record: Option<&QueuedAudit>,
    reason: &str,
) -> Result<(), ServiceError> {
    tracing::error!(stream_id = %delivery.stream_id, reason, "audit record dead-lettered");
    queue.dead_letter(delivery, reason).await?;
    if let Some(record) = record {
        let (dead_db, id, reason) = (db.clone(), record.outbox_id, reason.to_owned());
        blocking(move || dead_db.mark_dead_lettered(id, &reason)).await?;
    }
    Ok(())
}

/// Runs until stopped: through the queue when `audit.queue_url` is set, else straight from the
/// outbox. A failing database or Redis is logged and retried after a pause; the records wait in
/// the outbox (or pending in the stream) meanwhile.
pub async fn run(db: Database, settings: AuditSettings, prefix: String, consumer: String) {
    let pause = Duration::from_millis(settings.poll_interval_ms.max(10));
    let queue = if settings.queue_url.trim().is_empty() {
        None
    } else {
        match RedisAuditQueue::connect(&settings.queue_url, &prefix, &consumer) {
            Ok(queue) => Some(queue),
            Err(error) => {
                tracing::error!(%error, "audit queue unusable; reading the outbox directly");
                None
            }
        }
    };
    if let Some(queue) = &queue
        && let Err(error) = queue.ensure_group().await
    {
        tracing::warn!(%error, "audit queue: cannot create the consumer group yet");
    }
    loop {
        let outcome = match &queue {
            Some(queue) => step(&db, queue, &settings, settings.poll_interval_ms)
                .await
                .map(|step| step.applied + step.relayed),
            None => {
                let (batch_db, batch_settings) = (db.clone(), settings.clone());
                blocking(move || drain(&batch_db, &batch_settings)).await
            }
        };
        match outcome {
            Ok(0) => tokio::time::sleep(pause).await,
            Ok(moved) => tracing::debug!(moved, "audit records moved"),
            Err(error) => {
                tracing::warn!(%error, "audit worker: store or queue unavailable");
                tokio::time::sleep(pause).await;
            }
        }
    }
}
