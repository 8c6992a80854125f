//! What analysts read: the alert queue, and one stored decision with its alerts, its model and its
//! entity's recent decisions.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use diesel::dsl::{exists, not};

use crate::schema::{alerts, case_alerts, cases, decisions};
use crate::{Database, DecisionId, StoreError};

/// How far back an entity's history looks, in decisions of any module: a bounded scan of the
/// primary key, so that a decision page costs the same whatever the table's size, rather than an
/// index on entities that every decision would pay for on the hot write path (measured: a fifth
/// of AML's throughput on SQLite).
pub const HISTORY_SCAN: i64 = 100_000;

/// Which alerts the queue lists; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// A detection module's name, or `screening`.
    pub module: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: Option<String>,
    /// The rule's display name, e.g. `StructuringRule`.
    pub rule: Option<String>,
    /// Raised at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Raised before this time.
    pub until: Option<DateTime<Utc>>,
    /// `new` (in no case yet), or the status of a case holding the alert.
    pub status: Option<String>,
}

/// One stored alert, as its decision's transaction wrote it.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StoredAlert {
    pub id: i64,
    pub decision_id: i64,
    pub module: String,
    pub rule: String,
    pub code: String,
    pub severity: String,
    pub confidence: f64,
    pub reason: String,
    /// The alert's metadata and evidence, as JSON.
    pub details_json: String,
    created_at: NaiveDateTime,
}

impl StoredAlert {
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at.and_utc()
    }
}

/// An alert in the queue, with the entity its decision is about.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedAlert {
    pub alert: StoredAlert,
    pub entity_id: String,
}

/// One stored decision, whole.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct DecisionRecord {
    pub id: i64,
    pub module: String,
    pub reference: Option<String>,
    pub entity_id: String,
    pub risk_score: f64,
    pub flagged: bool,
    pub decision: Option<String>,
    /// The validated request, as idempotency compares it.
    pub request_json: String,
    /// The answer, without its `id`.
    pub response_json: String,
    event_time: NaiveDateTime,
    created_at: NaiveDateTime,
}

impl DecisionRecord {
    pub fn event_time(&self) -> DateTime<Utc> {
        self.event_time.and_utc()
    }

    pub fn recorded_at(&self) -> DateTime<Utc> {
        self.created_at.and_utc()
    }
}

/// An earlier (or later) decision about the same entity, in brief.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct DecisionSummary {
    pub id: i64,
    pub reference: Option<String>,
    pub risk_score: f64,
    pub flagged: bool,
    event_time: NaiveDateTime,
}

impl DecisionSummary {
    pub fn event_time(&self) -> DateTime<Utc> {
        self.event_time.and_utc()
    }
}

impl Database {
    /// The alerts matching `filter`, newest first: how many there are, and the page from `offset`.
    pub fn alert_queue(
        &self,
        filter: &AlertFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<QueuedAlert>), StoreError> {
        // A boxed query cannot be reused after it runs: one for the count, one for the page.
        let filtered = || {
            let mut query = alerts::table.inner_join(decisions::table).into_boxed();
            if let Some(module) = &filter.module {
                query = query.filter(alerts::module.eq(module.clone()));
            }
            if let Some(severity) = &filter.severity {
                query = query.filter(alerts::severity.eq(severity.clone()));
            }
            if let Some(rule) = &filter.rule {
                query = query.filter(alerts::rule.eq(rule.clone()));
            }
            if let Some(since) = filter.since {
                query = query.filter(alerts::created_at.ge(since.naive_utc()));
            }
            if let Some(until) = filter.until {
                query = query.filter(alerts::created_at.lt(until.naive_utc()));
            }
            match filter.status.as_deref() {
                None => {}
                Some("new") => {
                    query = query.filter(not(exists(
                        case_alerts::table.filter(case_alerts::alert_id.eq(alerts::id)),
                    )));
                }
                Some(status) => {
                    query = query.filter(exists(
                        case_alerts::table
                            .inner_join(cases::table)
                            .filter(case_alerts::alert_id.eq(alerts::id))
                            .filter(cases::status.eq(status.to_owned())),
                    ));
                }
            }
            query
        };
        let mut connection = self.read()?;
        let count = filtered().count().get_result(&mut *connection)?;
        let page: Vec<(StoredAlert, String)> = filtered()
            .order(alerts::id.desc())
            .offset(offset)
            .limit(limit)
            .select((alerts::all_columns, decisions::entity_id))
            .load(&mut *connection)?;
        Ok((
            count,
            page.into_iter()
                .map(|(alert, entity_id)| QueuedAlert { alert, entity_id })
                .collect(),
        ))
    }

    /// One decision of `module` (a detection module's name, or `screening`), if it exists.
    pub fn decision(
        &self,
        module: &str,
        id: DecisionId,
    ) -> Result<Option<DecisionRecord>, StoreError> {
        Ok(decisions::table
            .filter(decisions::id.eq(id.0))
            .filter(decisions::module.eq(module))
            .select((
                decisions::id,
                decisions::module,
                decisions::reference,
                decisions::entity_id,
                decisions::risk_score,
                decisions::flagged,
                decisions::decision,
                decisions::request_json,
                decisions::response_json,
                decisions::event_time,
                decisions::created_at,
            ))
            .first(&mut *self.read()?)
            .optional()?)
    }

    /// The alerts with these ids, oldest first (a case's).
    pub fn alerts_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredAlert>, StoreError> {
        Ok(alerts::table
            .filter(alerts::id.eq_any(ids))
            .order(alerts::id.asc())
            .load(&mut *self.read()?)?)
    }

    /// A decision's alerts, in the order the response listed them.
    pub fn decision_alerts(&self, id: DecisionId) -> Result<Vec<StoredAlert>, StoreError> {
        Ok(alerts::table
            .filter(alerts::decision_id.eq(id.0))
            .order(alerts::id.asc())
            .load(&mut *self.read()?)?)
    }

    /// The entity's latest decisions of the module up to `until` (included), newest first, at
    /// most `limit`, among the [`HISTORY_SCAN`] decisions before it.
    pub fn entity_history(
        &self,
        module: &str,
        entity_id: &str,
        until: DecisionId,
        limit: i64,
    ) -> Result<Vec<DecisionSummary>, StoreError> {
        Ok(decisions::table
            .filter(decisions::id.le(until.0))
            .filter(decisions::id.gt(until.0 - HISTORY_SCAN))
            .filter(decisions::module.eq(module))
            .filter(decisions::entity_id.eq(entity_id))
            .order(decisions::id.desc())
            .limit(limit)
            .select((
                decisions::id,
                decisions::reference,
                decisions::risk_score,
                decisions::flagged,
                decisions::event_time,
            ))
            .load(&mut *self.read()?)?)
    }

    /// The model that scored a decision, as its audit record names it.
    pub fn decision_model_version(&self, id: DecisionId) -> Result<Option<String>, StoreError> {
        Ok(self.outbox_payloads(id)?.iter().find_map(|payload| {
            serde_json::from_str::<serde_json::Value>(payload)
                .ok()?
                .get("model_version")?
                .as_str()
                .map(str::to_owned)
        }))
    }
}
