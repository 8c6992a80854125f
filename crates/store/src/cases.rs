//! Cases: analysts' investigations of one or more alerts, with their timeline. Every change is
//! written with its timeline entry and its audit record in one transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use redflag_audit::AuditEvent;
use serde_json::json;

use crate::case_state::{CaseStatus, Resolution};
use crate::connection::DbConnection;
use crate::outbox::insert_audit_event;
use crate::schema::{alerts, case_alerts, case_events, cases};
use crate::{Database, StoreError};

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct CaseRecord {
    pub id: i64,
    pub title: String,
    pub status: CaseStatus,
    /// Once closed.
    pub resolution: Option<Resolution>,
    /// The username working it.
    pub assignee: Option<String>,
    pub created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl CaseRecord {
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at.and_utc()
    }

    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at.and_utc()
    }
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct CaseEvent {
    pub id: i64,
    pub case_id: i64,
    pub actor: String,
    /// `opened`, `assigned`, `status`, `resolved` or `noted`.
    pub action: String,
    /// What changed, as JSON.
    pub details_json: String,
    created_at: NaiveDateTime,
}

impl CaseEvent {
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at.and_utc()
    }
}

/// A case with its alerts and its timeline, oldest entry first.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFile {
    pub case: CaseRecord,
    pub alert_ids: Vec<i64>,
    pub timeline: Vec<CaseEvent>,
}

/// How analysts resolved one rule's alerts: the labels closed cases gave them.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleLabels {
    pub module: String,
    pub rule: String,
    pub confirmed_fraud: i64,
    pub false_positive: i64,
    pub inconclusive: i64,
}

impl RuleLabels {
    /// Of its alerts that were decided either way, the share that was fraud; `None` before any.
    pub fn precision(&self) -> Option<f64> {
        let decided = self.confirmed_fraud + self.false_positive;
        (decided > 0).then(|| self.confirmed_fraud as f64 / decided as f64)
    }
}

/// What a change to a case sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CaseChange {
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<String>>,
    pub status: Option<CaseStatus>,
    /// `Some(None)` clears it (a case reopened).
    pub resolution: Option<Option<Resolution>>,
    pub note: Option<String>,
}

/// Why a case could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("unknown alert ids: {0:?}")]
    UnknownAlerts(Vec<i64>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for CaseError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(error.into())
    }
}

impl Database {
    /// Opens a case on `alert_ids` (every one must exist), status `open`.
    pub fn open_case(
        &self,
        title: &str,
        alert_ids: &[i64],
        assignee: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CaseFile, CaseError> {
        let mut connection = self.write()?;
        let id = connection.transaction(|connection| {
            let known: Vec<i64> = alerts::table
                .filter(alerts::id.eq_any(alert_ids))
                .select(alerts::id)
                .load(connection)?;
            let unknown: Vec<i64> = alert_ids
                .iter()
                .copied()
                .filter(|id| !known.contains(id))
                .collect();
            if !unknown.is_empty() {
                return Err(CaseError::UnknownAlerts(unknown));
            }
            let at = now.naive_utc();
            let id: i64 = diesel::insert_into(cases::table)
                .values((
                    cases::title.eq(title),
                    cases::status.eq(CaseStatus::Open.as_str()),
                    cases::assignee.eq(assignee),
                    cases::created_by.eq(actor),
                    cases::created_at.eq(at),
                    cases::updated_at.eq(at),
                ))
                .returning(cases::id)
                .get_result(connection)?;
            for alert_id in alert_ids {
                diesel::insert_into(case_alerts::table)
                    .values((
                        case_alerts::case_id.eq(id),
                        case_alerts::alert_id.eq(alert_id),
                    ))
                    .execute(connection)?;
            }
            let details = json!({"title": title, "alert_ids": alert_ids, "assignee": assignee});
            log_change(connection, id, actor, "opened", &details, now)?;
            Ok(id)
        })?;
        drop(connection);
        self.case(id)?
            .ok_or_else(|| CaseError::Store(diesel::result::Error::NotFound.into()))
    }

    /// Changes a case as `plan` decides from the case as it stands, in one transaction that
    /// holds the case's row, so that two analysts changing it at once cannot both plan from the
    /// same state (one waits for the other). `None` when there is no such case; a plan's error
    /// changes nothing.
    pub fn update_case<E: From<StoreError>>(
        &self,
        id: i64,
        actor: &str,
        now: DateTime<Utc>,
        plan: impl FnOnce(&CaseRecord) -> Result<CaseChange, E>,
    ) -> Result<Option<CaseFile>, E> {
        /// Why the transaction rolled back: the plan refused, or the database failed.
        enum Abort<E> {
            Refused(E),
            Database(diesel::result::Error),
        }
        impl<E> From<diesel::result::Error> for Abort<E> {
            fn from(error: diesel::result::Error) -> Self {
                Self::Database(error)
            }
        }
        let mut connection = self.write()?;
        let found = connection.transaction(|connection| {
            // Touching the row first returns it and, on PostgreSQL, locks it until commit.
            let Some(case) = diesel::update(cases::table.find(id))
                .set(cases::updated_at.eq(now.naive_utc()))
                .returning(cases::all_columns)
                .get_result::<CaseRecord>(connection)
                .optional()?
            else {
                return Ok(false);
            };
            let change = plan(&case).map_err(Abort::Refused)?;
            apply(connection, id, &change, actor, now)?;
            Ok(true)
        });
        drop(connection);
        match found {
            Ok(true) => self.case(id).map_err(E::from),
            Ok(false) => Ok(None),
            Err(Abort::Refused(error)) => Err(error),
            Err(Abort::Database(error)) => Err(StoreError::from(error).into()),
        }
    }

    /// A case with its alerts and timeline.
    pub fn case(&self, id: i64) -> Result<Option<CaseFile>, StoreError> {
        let mut connection = self.read()?;
        let Some(case) = cases::table
            .find(id)
            .first::<CaseRecord>(&mut *connection)
            .optional()?
        else {
            return Ok(None);
        };
        let alert_ids = case_alerts::table
            .filter(case_alerts::case_id.eq(id))
            .order(case_alerts::alert_id.asc())
            .select(case_alerts::alert_id)
            .load(&mut *connection)?;
        let timeline = case_events::table
            .filter(case_events::case_id.eq(id))
            .order(case_events::id.asc())
            .load(&mut *connection)?;
        Ok(Some(CaseFile {
            case,
            alert_ids,
            timeline,
        }))
    }

    /// Cases, newest first, optionally of one status or assignee: how many, and the page.
    pub fn cases(
        &self,
        status: Option<CaseStatus>,
        assignee: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<CaseRecord>), StoreError> {
        let filtered = || {
            let mut query = cases::table.into_boxed();
            if let Some(status) = status {
                query = query.filter(cases::status.eq(status.as_str()));
            }
            if let Some(assignee) = assignee {
                query = query.filter(cases::assignee.eq(assignee.to_owned()));
            }
            query
        };
        let mut connection = self.read()?;
        let count = filtered().count().get_result(&mut *connection)?;
        let page = filtered()
            .order(cases::id.desc())
            .offset(offset)
            .limit(limit)
            .load(&mut *connection)?;
        Ok((count, page))
    }

    /// Every rule whose alerts sit in closed cases, with the resolutions they got, the rule with
    /// the most false positives first.
    pub fn rule_labels(&self) -> Result<Vec<RuleLabels>, StoreError> {
        let rows: Vec<(String, String, Option<Resolution>, i64)> = case_alerts::table
            .inner_join(cases::table)
            .inner_join(alerts::table)
            .filter(cases::status.eq(CaseStatus::Closed.as_str()))
            .group_by((alerts::module, alerts::rule, cases::resolution))
            .select((
                alerts::module,
                alerts::rule,
                cases::resolution,
                count_star(),
            ))
            .load(&mut *self.read()?)?;
        let mut by_rule: BTreeMap<(String, String), RuleLabels> = BTreeMap::new();
        for (module, rule, resolution, count) in rows {
            let labels = by_rule
                .entry((module.clone(), rule.clone()))
                .or_insert(RuleLabels {
                    module,
                    rule,
                    confirmed_fraud: 0,
                    false_positive: 0,
                    inconclusive: 0,
                });
            match resolution {
                Some(Resolution::ConfirmedFraud) => labels.confirmed_fraud += count,
                Some(Resolution::FalsePositive) => labels.false_positive += count,
                Some(Resolution::Inconclusive) | None => labels.inconclusive += count,
            }
        }
        let mut labels: Vec<RuleLabels> = by_rule.into_values().collect();
        labels.sort_by_key(|labels| std::cmp::Reverse(labels.false_positive));
        Ok(labels)
    }
}

/// Writes `change` with a timeline entry (and audit record) per field, in the caller's
/// transaction.
fn apply(
    connection: &mut DbConnection,
    id: i64,
    change: &CaseChange,
    actor: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    if let Some(assignee) = &change.assignee {
        diesel::update(cases::table.find(id))
            .set(cases::assignee.eq(assignee))
            .execute(connection)?;
        let details = json!({"assignee": assignee});
        log_change(connection, id, actor, "assigned", &details, now)?;
    }
    if let Some(status) = change.status {
        diesel::update(cases::table.find(id))
            .set(cases::status.eq(status.as_str()))
            .execute(connection)?;
        let details = json!({"status": status});
        log_change(connection, id, actor, "status", &details, now)?;
    }
    if let Some(resolution) = change.resolution {
        diesel::update(cases::table.find(id))
            .set(cases::resolution.eq(resolution.map(Resolution::as_str)))
            .execute(connection)?;
        let details = json!({"resolution": resolution});
        log_change(connection, id, actor, "resolved", &details, now)?;
    }
    if let Some(note) = &change.note {
        log_change(connection, id, actor, "noted", &json!({"note": note}), now)?;
    }
    Ok(())
}

/// A timeline entry and its audit record, in the caller's transaction.
fn log_change(
    connection: &mut DbConnection,
    case_id: i64,
    actor: &str,
    action: &str,
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(case_events::table)
        .values((
            case_events::case_id.eq(case_id),
            case_events::actor.eq(actor),
            case_events::action.eq(action),
            case_events::details_json.eq(details.to_string()),
            case_events::created_at.eq(now.naive_utc()),
        ))
        .execute(connection)?;
    let mut audited = details.clone();
    audited["action"] = json!(action);
    insert_audit_event(
        connection,
        &AuditEvent {
            kind: if action == "opened" {
                AuditEvent::CASE_OPENED
            } else {
                AuditEvent::CASE_UPDATED
            },
            module: None,
            entity_id: format!("case:{case_id}"),
            actor: actor.to_owned(),
            details: audited,
            recorded_at: now,
        },
    )
}
