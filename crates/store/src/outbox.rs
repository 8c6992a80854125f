use diesel::prelude::*;
use serde::Serialize;

use crate::schema::audit_outbox;
use crate::{Database, StoreError};

/// Where the audit records of decisions stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    /// Written with their decision, not yet delivered to the audit log.
    pub queued: i64,
    /// Delivered to the audit log.
    pub processed: i64,
    /// Not delivered, and at least one delivery attempt failed.
    pub failed: i64,
}

impl Database {
    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let mut connection = self.read()?;
        let queued = audit_outbox::table
            .filter(audit_outbox::delivered_at.is_null())
            .count()
            .get_result(&mut *connection)?;
        let processed = audit_outbox::table
            .filter(audit_outbox::delivered_at.is_not_null())
            .count()
            .get_result(&mut *connection)?;
        let failed = audit_outbox::table
            .filter(audit_outbox::delivered_at.is_null())
            .filter(audit_outbox::attempts.gt(0))
            .count()
            .get_result(&mut *connection)?;
        Ok(OutboxCounts {
            queued,
            processed,
            failed,
        })
    }

    /// Writes an audited action that is not a decision to the outbox, for the worker to apply to
    /// the audit log like any decision's record.
    pub fn record_audit_event(&self, event: &redflag_audit::AuditEvent) -> Result<(), StoreError> {
        diesel::insert_into(audit_outbox::table)
            .values((
                audit_outbox::kind.eq(event.kind),
                audit_outbox::payload.eq(event.to_payload()),
                audit_outbox::created_at.eq(event.recorded_at.naive_utc()),
                audit_outbox::attempts.eq(0),
            ))
            .execute(&mut *self.write()?)?;
        Ok(())
    }

    /// The audit payloads written for a decision; lets callers prove nothing was lost.
    pub fn outbox_payloads(&self, decision: crate::DecisionId) -> Result<Vec<String>, StoreError> {
        Ok(audit_outbox::table
            .filter(audit_outbox::decision_id.eq(decision.0))
            .select(audit_outbox::payload)
            .load(&mut *self.read()?)?)
    }
}
