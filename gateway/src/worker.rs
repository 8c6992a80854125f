//! The audit worker: moves audit records from the outbox (written with each decision) to the
//! hash-chained audit log, in batches, until stopped. It runs inside `redflag serve` in the
//! embedded mode and as `redflag worker` processes otherwise; any number may run at once.

use std::time::Duration;

use chrono::Utc;
use redflag_store::{Database, StoreError};

use crate::settings::AuditSettings;

/// Applies every pending record now, batch by batch; returns how many were applied.
pub fn drain(db: &Database, settings: &AuditSettings) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let applied = db.apply_pending_audits(settings.batch_size.max(1), Utc::now())?;
        total += applied;
        if applied == 0 {
            return Ok(total);
        }
    }
}

/// Drains the outbox, then waits `poll_interval_ms` and drains again, forever. A failing database
/// is logged and retried after the same pause: the records wait in the outbox meanwhile.
pub async fn run(db: Database, settings: AuditSettings) {
    let pause = Duration::from_millis(settings.poll_interval_ms.max(10));
    loop {
        let (db_for_batch, batch_settings) = (db.clone(), settings.clone());
        match actix_web::rt::task::spawn_blocking(move || drain(&db_for_batch, &batch_settings))
            .await
        {
            Ok(Ok(applied)) if applied > 0 => {
                tracing::debug!(applied, "audit records applied");
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "audit worker: database unavailable"),
            Err(error) => tracing::error!(%error, "audit worker: batch panicked"),
        }
        actix_web::rt::time::sleep(pause).await;
    }
}
