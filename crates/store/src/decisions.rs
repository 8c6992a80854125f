use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Array, BigInt, Text};
use redflag_audit::{DecisionRecorded, Finding};
use redflag_core::{Alert, Module};

use crate::connection::{DbConnection, insert_returning_id, insert_rows};
use crate::schema::{alerts, audit_outbox, decisions, shadow_decisions};
use crate::screening::remember_parties;
use crate::shadows::NewShadowDecision;
use crate::{Database, PartyToRemember, QueuedAudit, ShadowToRecord, StoreError, UserId};

/// A decision's row id: the `id` of every detection response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionId(pub i64);

/// Everything that one acknowledged decision leaves behind.
#[derive(Debug, Clone)]
pub struct DecisionToRecord {
    pub module: Module,
    /// The business id; unique per module when present.
    pub reference: Option<String>,
    pub entity_id: String,
    /// Risk on the common 0..=100 scale.
    pub risk_score: f64,
    pub flagged: bool,
    pub decision: Option<String>,
    /// The client's fields, canonically serialised: what idempotency compares.
    pub request_json: String,
    /// The response body without its `id`.
    pub response_json: String,
    pub event_time: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
    /// Who submitted the event, as the audit log names them.
    pub actor: String,
    pub alerts: Vec<Alert>,
    /// The model that scored the event (kind, training time, rows, seed), when one did.
    pub model_version: Option<String>,
    /// The module's rule-set version in force when it was decided.
    pub ruleset_version: Option<i64>,
    /// From receipt to the decision being ready to store.
    pub latency: std::time::Duration,
    /// The figures the module's model read ([`redflag_core::Assessment::model_features`]);
    /// empty when it reads none.
    pub model_features: Vec<f64>,
    /// The rules not checked for want of history (a degraded decision); empty normally.
    pub skipped_rules: Vec<String>,
    /// What the draft shadowing the module decided, while one does: stored beside the decision,
    /// in its transaction, and never answered.
    pub shadow: Option<ShadowToRecord>,
    /// The parties the event named, to remember for screening when a list changes.
    pub parties: Vec<PartyToRemember>,
}

impl DecisionToRecord {
    /// The audit record of this decision: the same facts, plus the actor and the findings.
    pub fn audit_record(&self) -> DecisionRecorded {
        DecisionRecorded {
            module: self.module,
            reference: self.reference.clone(),
            entity_id: self.entity_id.clone(),
            actor: self.actor.clone(),
            risk: self.risk_score,
            flagged: self.flagged,
            decision: self.decision.clone(),
            request_sha256: redflag_audit::digest(&self.request_json),
            model_version: self.model_version.clone(),
            ruleset_version: self.ruleset_version,
            latency_ms: (self.latency.as_secs_f64() * 1_000_000.0).round() / 1000.0,
            findings: Finding::of_alerts(&self.alerts),
            skipped_rules: self.skipped_rules.clone(),
            event_time: self.event_time,
            recorded_at: self.recorded_at,
        }
    }
}

/// A decision already stored under a business id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDecision {
    pub id: DecisionId,
    pub request_json: String,
    pub response_json: String,
}

/// The outcome of recording: a new row, or the one that already held this business id.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    New(DecisionId),
    Existing(StoredDecision),
}

#[derive(Insertable)]
#[diesel(table_name = decisions)]
pub(crate) struct NewDecision<'a> {
    pub(crate) module: &'a str,
    pub(crate) reference: Option<&'a str>,
    pub(crate) entity_id: &'a str,
    pub(crate) risk_score: f64,
    pub(crate) flagged: bool,
    pub(crate) decision: Option<&'a str>,
    pub(crate) request_json: &'a str,
    pub(crate) response_json: &'a str,
    pub(crate) event_time: NaiveDateTime,
    pub(crate) event_hour: i64,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) created_by: Option<i64>,
    pub(crate) model_features: Option<String>,
}

impl<'a> NewDecision<'a> {
    fn of(record: &'a DecisionToRecord) -> Self {
        Self {
            module: record.module.as_str(),
            reference: record.reference.as_deref(),
            entity_id: &record.entity_id,
            risk_score: record.risk_score,
            flagged: record.flagged,
            decision: record.decision.as_deref(),
            request_json: &record.request_json,
            response_json: &record.response_json,
            event_time: record.event_time.naive_utc(),
            event_hour: hour_of(record.event_time),
            created_at: record.recorded_at.naive_utc(),
            created_by: record.created_by.map(|user| user.0),
            model_features: (!record.model_features.is_empty())
                .then(|| serde_json::Value::from(record.model_features.clone()).to_string()),
        }
    }
}

/// A decision row with the id drawn for it from the table's sequence (PostgreSQL batches).
#[derive(Insertable)]
#[diesel(table_name = decisions)]
struct NumberedDecision<'a> {
    id: i64,
    #[diesel(embed)]
    decision: NewDecision<'a>,
}

#[derive(Insertable)]
#[diesel(table_name = alerts)]
pub(crate) struct NewAlert<'a> {
    decision_id: i64,
    module: &'a str,
    rule: &'a str,
    code: &'a str,
    severity: &'a str,
    confidence: f64,
    reason: &'a str,
    details_json: String,
    created_at: NaiveDateTime,
}

impl<'a> NewAlert<'a> {
    /// The row of one of a decision's alerts: its evidence and metadata as JSON.
    pub(crate) fn of(
        decision_id: i64,
        module: &'a str,
        alert: &'a Alert,
        created_at: NaiveDateTime,
    ) -> Self {
        Self {
            decision_id,
            module,
            rule: &alert.rule,
            code: &alert.code,
            severity: alert.severity.as_str(),
            confidence: alert.confidence,
            reason: &alert.reason,
            details_json: serde_json::json!({
                "metadata": alert.metadata,
                "evidence": alert.evidence,
            })
            .to_string(),
            created_at,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = audit_outbox)]
struct NewOutboxRow<'a> {
    decision_id: i64,
    kind: &'a str,
    payload: String,
    created_at: NaiveDateTime,
    attempts: i32,
    delivered_at: Option<NaiveDateTime>,
}

/// What [`insert_decisions`] wrote: the decisions' ids and, when their outbox rows went in
/// delivered already, those rows as audit records for the caller to append.
pub(crate) struct Inserted {
    pub(crate) ids: Vec<DecisionId>,
    pub(crate) delivered: Vec<QueuedAudit>,
}

/// Writes decisions with their alerts and outbox rows inside the caller's transaction: the
/// decisions first ([`insert_decision_rows`], which gives their ids), then the alerts and the
/// outbox rows of all of them (`insert_rows!`). A business id already stored fails the whole call
/// with a unique violation; the caller then stores the decisions one by one.
///
/// With `delivered_at`, the caller appends the audit records to the log in this same transaction
/// (the decision writer keeping the chain): the outbox rows then go in marked delivered and
/// without their payload, one by one for their ids, and come back as [`Inserted::delivered`],
/// so that no worker reads them back and no update marks them.
pub(crate) fn insert_decisions(
    connection: &mut DbConnection,
    records: &[&DecisionToRecord],
    delivered_at: Option<NaiveDateTime>,
) -> Result<Inserted, DieselError> {
    let rows: Vec<NewDecision> = records
        .iter()
        .map(|record| NewDecision::of(record))
        .collect();
    let ids = insert_decision_rows(connection, rows)?;
    let mut alert_rows = Vec::new();
    let mut outbox_rows = Vec::with_capacity(records.len());
    let mut shadow_rows = Vec::new();
    let mut parties = Vec::new();
    for (record, &DecisionId(decision_id)) in records.iter().zip(&ids) {
        let module = record.module.as_str();
        let created_at = record.recorded_at.naive_utc();
        if let Some(shadow) = &record.shadow {
            shadow_rows.push(NewShadowDecision::of(decision_id, shadow));
        }
        alert_rows.extend(
            record
                .alerts
                .iter()
                .map(|alert| NewAlert::of(decision_id, module, alert, created_at)),
        );
        parties.extend(&record.parties);
        outbox_rows.push(NewOutboxRow {
            decision_id,
            kind: DecisionRecorded::KIND,
            payload: record.audit_record().to_payload(),
            created_at,
            attempts: 0,
            delivered_at,
        });
    }
    insert_rows!(&mut *connection, alerts::table, alert_rows);
    insert_rows!(&mut *connection, shadow_decisions::table, shadow_rows);
    if let Some(first) = records.first() {
        remember_parties(connection, &parties, first.recorded_at.naive_utc())?;
    }
    if delivered_at.is_none() {
        insert_rows!(&mut *connection, audit_outbox::table, outbox_rows);
        return Ok(Inserted {
            ids,
            delivered: Vec::new(),
        });
    }
    let mut delivered = Vec::with_capacity(outbox_rows.len());
    for mut row in outbox_rows {
        // The log entry appended with it holds the payload (`outbox_payloads` reads it there):
        // a copy here would be a quarter of the bytes each decision writes, never read.
        let payload = std::mem::take(&mut row.payload);
        let outbox_id = insert_returning_id!(
            &mut *connection,
            audit_outbox::table,
            &row,
            audit_outbox::id
        )?;
        delivered.push(QueuedAudit {
            outbox_id,
            kind: row.kind.to_owned(),
            payload,
            created_at: row.created_at,
        });
    }
    Ok(Inserted { ids, delivered })
}

/// Inserts decision rows and returns their ids, in order.
///
/// On SQLite each row is its own cached statement (no round trip to save). On PostgreSQL a
/// statement is a round trip, and one per decision was the writer's main cost there: a batch
/// of several decisions takes its ids from the table's sequence in one query and goes in as
/// multi-row inserts carrying them, two round trips whatever the batch's size.
fn insert_decision_rows(
    connection: &mut DbConnection,
    rows: Vec<NewDecision>,
) -> Result<Vec<DecisionId>, DieselError> {
    match connection {
        DbConnection::Postgresql(pg) if rows.len() > 1 => {
            let count = i64::try_from(rows.len())
                .map_err(|_| DieselError::QueryBuilderError("batch too large".into()))?;
            let ids: Vec<i64> = diesel::sql_query(
                "SELECT nextval(pg_get_serial_sequence('decisions', 'id')) AS id \
                 FROM generate_series(1, $1)",
            )
            .bind::<BigInt, _>(count)
            .load::<NextId>(pg)?
            .into_iter()
            .map(|next| next.id)
            .collect();
            if ids.len() != rows.len() {
                return Err(DieselError::QueryBuilderError(
                    format!(
                        "asked the sequence for {} ids, got {}",
                        rows.len(),
                        ids.len()
                    )
                    .into(),
                ));
            }
            let numbered: Vec<NumberedDecision> = ids
                .iter()
                .zip(rows)
                .map(|(&id, decision)| NumberedDecision { id, decision })
                .collect();
            insert_rows!(&mut *connection, decisions::table, numbered);
            Ok(ids.into_iter().map(DecisionId).collect())
        }
        _ => rows
            .iter()
            .map(|row| {
                insert_returning_id!(&mut *connection, decisions::table, row, decisions::id)
                    .map(DecisionId)
            })
            .collect(),
    }
}

/// A stored decision found by [`Database::find_decisions`].
#[derive(QueryableByName)]
struct FoundDecision {
    #[diesel(sql_type = Text)]
    reference: String,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    request_json: String,
    #[diesel(sql_type = Text)]
    response_json: String,
}

/// One id drawn from the decisions' sequence.
#[derive(QueryableByName)]
struct NextId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The decision a module stored under a business id, on this connection.
///
/// Loaded without `LIMIT`: the unique index allows one row at most, and with SQLite a bound
/// `LIMIT ?` (what `first()` adds) makes the statement be prepared again on every run, which
/// measured more than half of this lookup's cost.
fn stored_decision(
    connection: &mut DbConnection,
    module: Module,
    reference: &str,
) -> Result<Option<StoredDecision>, DieselError> {
    let found = decisions::table
        .filter(decisions::module.eq(module.as_str()))
        .filter(decisions::reference.eq(reference))
        .select((
            decisions::id,
            decisions::request_json,
            decisions::response_json,
        ))
        .load::<(i64, String, String)>(connection)?;
    Ok(found
        .into_iter()
        .next()
        .map(|(id, request_json, response_json)| StoredDecision {
            id: DecisionId(id),
            request_json,
            response_json,
        }))
}

/// Hours since the Unix epoch: the bucket of the hourly statistics.
pub(crate) fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600)
}

impl Database {
    /// Stores a decision, its alerts and its audit outbox row in one transaction.
    ///
    /// When the module already holds a decision under the same business id (a resend, or a race
    /// between two identical requests), nothing is written and the stored decision is returned so
    /// the caller can answer idempotently or report the conflict.
    pub fn record_decision(&self, record: &DecisionToRecord) -> Result<Recorded, StoreError> {
        let inserted = self
            .write()?
            .transaction(|connection| insert_decisions(connection, &[record], None));
        match inserted {
            Ok(inserted) => Ok(Recorded::New(inserted.ids[0])),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                let reference = record.reference.as_deref().unwrap_or_default();
                self.find_decision(record.module, reference)?
                    .map(Recorded::Existing)
                    .ok_or_else(|| {
                        StoreError::Conflict(format!("{} decision `{reference}`", record.module))
                    })
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The decision a module stored under a business id, if any.
    pub fn find_decision(
        &self,
        module: Module,
        reference: &str,
    ) -> Result<Option<StoredDecision>, StoreError> {
        Ok(stored_decision(&mut *self.read()?, module, reference)?)
    }

    /// The decisions a module stored under any of `references`, by business id: the idempotency
    /// lookups of many requests in one query ([`crate::DecisionLookups`]).
    ///
    /// On PostgreSQL each business id is looked up on its own inside the one statement (a
    /// lateral join over the array): `reference = ANY($2)` was planned once, on a new and empty
    /// table, as a scan of the whole table, and that cached plan then slowed every lookup as the
    /// table grew, while an equality on the unique index is an index lookup whatever the
    /// statistics say.
    pub fn find_decisions(
        &self,
        module: Module,
        references: &[&str],
    ) -> Result<HashMap<String, StoredDecision>, StoreError> {
        let mut connection = self.read()?;
        let found: Vec<FoundDecision> = match &mut *connection {
            DbConnection::Postgresql(pg) => diesel::sql_query(
                "SELECT d.reference, d.id, d.request_json, d.response_json \
                 FROM unnest($2::text[]) AS asked(reference) \
                 CROSS JOIN LATERAL (SELECT reference, id, request_json, response_json \
                   FROM decisions WHERE module = $1 AND reference = asked.reference) AS d",
            )
            .bind::<Text, _>(module.as_str())
            .bind::<Array<Text>, _>(references)
            .load(pg)?,
            DbConnection::Sqlite(sqlite) => decisions::table
                .filter(decisions::module.eq(module.as_str()))
                .filter(decisions::reference.eq_any(references))
                .select((
                    decisions::reference.assume_not_null(),
                    decisions::id,
                    decisions::request_json,
                    decisions::response_json,
                ))
                .load::<(String, i64, String, String)>(sqlite)?
                .into_iter()
                .map(
                    |(reference, id, request_json, response_json)| FoundDecision {
                        reference,
                        id,
                        request_json,
                        response_json,
                    },
                )
                .collect(),
        };
        Ok(found
            .into_iter()
            .map(|found| {
                let stored = StoredDecision {
                    id: DecisionId(found.id),
                    request_json: found.request_json,
                    response_json: found.response_json,
                };
                (found.reference, stored)
            })
            .collect())
    }

    /// The stored alerts of a decision as (rule, severity), in insertion order; lets tests and
    /// analysts check what was kept.
    pub fn alert_rules(&self, decision: DecisionId) -> Result<Vec<(String, String)>, StoreError> {
        Ok(alerts::table
            .filter(alerts::decision_id.eq(decision.0))
            .order(alerts::id.asc())
            .select((alerts::rule, alerts::severity))
            .load(&mut *self.read()?)?)
    }
}
