//! Shadow runs of rule-set drafts: which draft shadows each module, and what it decided beside
//! every live decision (written with the decision, in its transaction: see
//! [`crate::DecisionToRecord::shadow`]).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use redflag_audit::AuditEvent;
use serde_json::json;

use crate::connection::DbConnection;
use crate::outbox::insert_audit_event;
use crate::schema::{alerts, decisions, rule_shadows, shadow_decisions};
use crate::{Database, StoreError};

/// A shadow run as stored.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StoredShadow {
    pub id: i64,
    pub module: String,
    pub draft_id: i64,
    /// The draft's document when the run started: what every outcome of the run was decided by.
    pub document: String,
    pub sha256: String,
    pub started_by: String,
    started_at: NaiveDateTime,
    pub stopped_by: Option<String>,
    stopped_at: Option<NaiveDateTime>,
}

impl StoredShadow {
    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at.and_utc()
    }
    pub fn stopped_at(&self) -> Option<DateTime<Utc>> {
        self.stopped_at.map(|at| at.and_utc())
    }
    pub fn running(&self) -> bool {
        self.stopped_at.is_none()
    }
}

/// What a shadowed draft decided for one live decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowToRecord {
    pub shadow_id: i64,
    pub risk_score: f64,
    pub flagged: bool,
    /// The draft's alerts as JSON: `[{"rule", "severity", "confidence", "reason"}]`.
    pub alerts_json: String,
}

/// A risk, a flag and the rules of the alerts: one side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub risk_score: f64,
    pub flagged: bool,
    /// In alert order.
    pub rules: Vec<String>,
}

/// A live decision with what the shadowed draft decided for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowedDecision {
    pub id: i64,
    pub live: Outcome,
    pub shadow: Outcome,
}

/// Why a shadow run could not start.
#[derive(Debug, thiserror::Error)]
pub enum ShadowStartError {
    /// Another draft of the module shadows (one at a time per module).
    #[error("draft {draft_id} of this module is shadowing (shadow run {id}); stop it first")]
    Busy { id: i64, draft_id: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Insertable)]
#[diesel(table_name = shadow_decisions)]
pub(crate) struct NewShadowDecision<'a> {
    shadow_id: i64,
    decision_id: i64,
    risk_score: f64,
    flagged: bool,
    alerts_json: &'a str,
}

impl<'a> NewShadowDecision<'a> {
    pub(crate) fn of(decision_id: i64, shadow: &'a ShadowToRecord) -> Self {
        Self {
            shadow_id: shadow.shadow_id,
            decision_id,
            risk_score: shadow.risk_score,
            flagged: shadow.flagged,
            alerts_json: &shadow.alerts_json,
        }
    }
}

fn audit_shadow(
    connection: &mut DbConnection,
    shadow: &StoredShadow,
    actor: &str,
    running: bool,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    insert_audit_event(
        connection,
        &AuditEvent {
            kind: if running {
                AuditEvent::SHADOW_STARTED
            } else {
                AuditEvent::SHADOW_STOPPED
            },
            module: shadow.module.parse().ok(),
            entity_id: format!("ruleset:{}:draft:{}", shadow.module, shadow.draft_id),
            actor: actor.to_owned(),
            details: json!({"shadow_id": shadow.id, "draft_id": shadow.draft_id,
                            "sha256": shadow.sha256}),
            recorded_at: now,
        },
    )
}

/// The module's running shadow run, on this connection.
fn running(connection: &mut DbConnection, module: &str) -> QueryResult<Option<StoredShadow>> {
    rule_shadows::table
        .filter(rule_shadows::module.eq(module))
        .filter(rule_shadows::stopped_at.is_null())
        .first(connection)
        .optional()
}

/// Stops the module's running shadow run of `draft_id` (any draft: `None`) on this connection,
/// audited; the run stopped, if one was.
pub(crate) fn stop_running(
    connection: &mut DbConnection,
    module: &str,
    draft_id: Option<i64>,
    actor: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<StoredShadow>> {
    let Some(run) = running(connection, module)? else {
        return Ok(None);
    };
    if draft_id.is_some_and(|draft| draft != run.draft_id) {
        return Ok(None);
    }
    let stopped: StoredShadow = diesel::update(rule_shadows::table.find(run.id))
        .set((
            rule_shadows::stopped_by.eq(actor),
            rule_shadows::stopped_at.eq(now.naive_utc()),
        ))
        .returning(rule_shadows::all_columns)
        .get_result(connection)?;
    audit_shadow(connection, &stopped, actor, false, now)?;
    Ok(Some(stopped))
}

/// Whether the start found a run of the same draft already going (returned as it is).
pub enum Started {
    New(StoredShadow),
    AlreadyRunning(StoredShadow),
}

impl Database {
    /// Starts shadowing `draft_id` with its current `document`, audited, unless a draft of the
    /// module shadows already: the same draft answers with its running run, another is refused.
    pub fn start_shadow(
        &self,
        module: &str,
        draft_id: i64,
        (document, sha256): (&str, &str),
        started_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Started, ShadowStartError> {
        let started = self.write()?.transaction(|connection| {
            if let Some(run) = running(connection, module)? {
                return Ok(Err(run));
            }
            let run: StoredShadow = diesel::insert_into(rule_shadows::table)
                .values((
                    rule_shadows::module.eq(module),
                    rule_shadows::draft_id.eq(draft_id),
                    rule_shadows::document.eq(document),
                    rule_shadows::sha256.eq(sha256),
                    rule_shadows::started_by.eq(started_by),
                    rule_shadows::started_at.eq(now.naive_utc()),
                ))
                .returning(rule_shadows::all_columns)
                .get_result(connection)?;
            audit_shadow(connection, &run, started_by, true, now)?;
            Ok(Ok(run))
        });
        match started {
            Ok(Ok(run)) => Ok(Started::New(run)),
            Ok(Err(run)) if run.draft_id == draft_id => Ok(Started::AlreadyRunning(run)),
            Ok(Err(run)) => Err(ShadowStartError::Busy {
                id: run.id,
                draft_id: run.draft_id,
            }),
            // Two starts at once: the unique index on running runs let one in.
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                match running(&mut *self.read()?, module).map_err(StoreError::from)? {
                    Some(run) if run.draft_id == draft_id => Ok(Started::AlreadyRunning(run)),
                    Some(run) => Err(ShadowStartError::Busy {
                        id: run.id,
                        draft_id: run.draft_id,
                    }),
                    // The run that won has stopped again already: this start may go ahead.
                    None => {
                        self.start_shadow(module, draft_id, (document, sha256), started_by, now)
                    }
                }
            }
            Err(error) => Err(StoreError::from(error).into()),
        }
    }

    /// Stops the draft's running shadow run, audited; `None` when it has none.
    pub fn stop_shadow(
        &self,
        module: &str,
        draft_id: i64,
        stopped_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredShadow>, StoreError> {
        Ok(self.write()?.transaction(|connection| {
            stop_running(connection, module, Some(draft_id), stopped_by, now)
        })?)
    }

    /// The ids of the running shadow runs: what serving processes poll to notice a start or a
    /// stop, without reading the drafts.
    pub fn running_shadow_ids(&self) -> Result<Vec<i64>, StoreError> {
        Ok(rule_shadows::table
            .filter(rule_shadows::stopped_at.is_null())
            .order(rule_shadows::id.asc())
            .select(rule_shadows::id)
            .load(&mut *self.read()?)?)
    }

    /// Every running shadow run: what serving processes load.
    pub fn running_shadows(&self) -> Result<Vec<StoredShadow>, StoreError> {
        Ok(rule_shadows::table
            .filter(rule_shadows::stopped_at.is_null())
            .order(rule_shadows::id.asc())
            .load(&mut *self.read()?)?)
    }

    /// The draft's latest shadow run.
    pub fn latest_shadow(
        &self,
        module: &str,
        draft_id: i64,
    ) -> Result<Option<StoredShadow>, StoreError> {
        Ok(rule_shadows::table
            .filter(rule_shadows::module.eq(module))
            .filter(rule_shadows::draft_id.eq(draft_id))
            .order(rule_shadows::id.desc())
            .first(&mut *self.read()?)
            .optional()?)
    }

    /// Up to `limit` decisions the run shadowed, after decision `after`, in id order: the live
    /// outcome and the draft's.
    pub fn shadowed_decisions(
        &self,
        shadow_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ShadowedDecision>, StoreError> {
        let mut connection = self.read()?;
        let rows: Vec<(i64, f64, bool, f64, bool, String)> = shadow_decisions::table
            .inner_join(decisions::table)
            .filter(shadow_decisions::shadow_id.eq(shadow_id))
            .filter(shadow_decisions::decision_id.gt(after))
            .order(shadow_decisions::decision_id.asc())
            .limit(limit)
            .select((
                shadow_decisions::decision_id,
                decisions::risk_score,
                decisions::flagged,
                shadow_decisions::risk_score,
                shadow_decisions::flagged,
                shadow_decisions::alerts_json,
            ))
            .load(&mut *connection)?;
        let (Some(low), Some(high)) = (rows.first(), rows.last()) else {
            return Ok(Vec::new());
        };
        let fired: Vec<(i64, String)> = alerts::table
            .filter(alerts::decision_id.between(low.0, high.0))
            .order(alerts::id.asc())
            .select((alerts::decision_id, alerts::rule))
            .load(&mut *connection)?;
        let mut live_rules: HashMap<i64, Vec<String>> = HashMap::new();
        for (decision, rule) in fired {
            live_rules.entry(decision).or_default().push(rule);
        }
        Ok(rows
            .into_iter()
            .map(
                |(id, risk_score, flagged, shadow_risk, shadow_flagged, alerts_json)| {
                    ShadowedDecision {
                        id,
                        live: Outcome {
                            risk_score,
                            flagged,
                            rules: live_rules.remove(&id).unwrap_or_default(),
                        },
                        shadow: Outcome {
                            risk_score: shadow_risk,
                            flagged: shadow_flagged,
                            rules: rules_of(&alerts_json),
                        },
                    }
                },
            )
            .collect())
    }
}

/// The rule names of stored shadow alerts, in order (none when the JSON does not read).
fn rules_of(alerts_json: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        rule: String,
    }
    serde_json::from_str::<Vec<Named>>(alerts_json)
        .map(|alerts| alerts.into_iter().map(|alert| alert.rule).collect())
        .unwrap_or_default()
}
