use diesel::prelude::*;
use serde::Serialize;

use crate::connection::DbConnection;
use crate::schema::{audit_log, audit_outbox};
use crate::{Database, StoreError};

/// Where the audit records stand in the outbox, as every worker process sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    /// Written with their decision (or action), not yet in the audit log and not given up on:
    /// waiting in the outbox or in the queue.
    pub queued: i64,
    /// Of those, handed to the queue (Redis Streams) and not yet applied: in flight with a worker.
    pub pending: i64,
    /// Handed to a worker: relayed to the queue, or read from the outbox and applied.
    pub delivered: i64,
    /// Whose application failed at least once (retried, or dead-lettered after
    /// [`crate::MAX_ATTEMPTS`]).
    pub retried: i64,
}

impl Database {
    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let mut connection = self.read()?;
        let waiting = audit_outbox::table
            .filter(audit_outbox::delivered_at.is_null())
            .filter(audit_outbox::attempts.lt(crate::MAX_ATTEMPTS));
        let queued = waiting.count().get_result(&mut *connection)?;
        let pending = waiting
            .filter(audit_outbox::relayed_at.is_not_null())
            .count()
            .get_result(&mut *connection)?;
        let delivered = audit_outbox::table
            .filter(
                audit_outbox::delivered_at
                    .is_not_null()
                    .or(audit_outbox::relayed_at.is_not_null()),
            )
            .count()
            .get_result(&mut *connection)?;
        let retried = audit_outbox::table
            .filter(audit_outbox::attempts.gt(0))
            .count()
            .get_result(&mut *connection)?;
        Ok(OutboxCounts {
            queued,
            pending,
            delivered,
            retried,
        })
    }

    /// Writes an audited action that is not a decision to the outbox, for the worker to apply to
    /// the audit log like any decision's record.
    pub fn record_audit_event(&self, event: &redflag_audit::AuditEvent) -> Result<(), StoreError> {
        Ok(insert_audit_event(&mut *self.write()?, event)?)
    }

    /// The audit payloads written for a decision; lets callers prove nothing was lost. A delivered
    /// row has no payload of its own (it would be a second copy): its log entry's is read.
    pub fn outbox_payloads(&self, decision: crate::DecisionId) -> Result<Vec<String>, StoreError> {
        let mut connection = self.read()?;
        let rows: Vec<(i64, String)> = audit_outbox::table
            .filter(audit_outbox::decision_id.eq(decision.0))
            .order(audit_outbox::id)
            .select((audit_outbox::id, audit_outbox::payload))
            .load(&mut *connection)?;
        rows.into_iter()
            .map(|(outbox_id, payload)| {
                if !payload.is_empty() {
                    return Ok(payload);
                }
                Ok(audit_log::table
                    .filter(audit_log::event_id.eq(crate::audit_log::event_id_of(outbox_id)))
                    .select(audit_log::payload)
                    .first(&mut *connection)?)
            })
            .collect()
    }
}

/// Writes an audited action's outbox record on `connection`, in the caller's transaction if any.
pub(crate) fn insert_audit_event(
    connection: &mut DbConnection,
    event: &redflag_audit::AuditEvent,
) -> QueryResult<()> {
    diesel::insert_into(audit_outbox::table)
        .values((
            audit_outbox::kind.eq(event.kind),
            audit_outbox::payload.eq(event.to_payload()),
            audit_outbox::created_at.eq(event.recorded_at.naive_utc()),
            audit_outbox::attempts.eq(0),
        ))
        .execute(connection)
        .map(drop)
}
