//! Backtests of rule-set drafts: their progress and reports, kept in the database so that any
//! gateway can answer for one another gateway runs, and the stored decisions they replay.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use redflag_audit::AuditEvent;
use serde_json::json;

use crate::outbox::insert_audit_event;
use crate::schema::{alerts, decisions, rule_backtests};
use crate::{Database, Outcome, StoreError};

/// A backtest as stored.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StoredBacktest {
    pub id: i64,
    pub module: String,
    pub draft_id: i64,
    since: NaiveDateTime,
    until: NaiveDateTime,
    /// `running`, `done`, `cancelled` or `failed`.
    pub status: String,
    /// Stored decisions replayed so far, warm-up included.
    pub replayed: i64,
    /// Stored decisions to replay, warm-up included.
    pub total: i64,
    /// The report (JSON) once done; the reason once failed.
    pub report: Option<String>,
    pub started_by: String,
    started_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    finished_at: Option<NaiveDateTime>,
    pub cancel_requested: bool,
}

impl StoredBacktest {
    pub fn since(&self) -> DateTime<Utc> {
        self.since.and_utc()
    }
    pub fn until(&self) -> DateTime<Utc> {
        self.until.and_utc()
    }
    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at.and_utc()
    }
    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.finished_at.map(|at| at.and_utc())
    }
}

/// A stored decision as a replay reads it: its request and what was decided.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayedDecision {
    pub id: i64,
    pub event_time: DateTime<Utc>,
    pub request_json: String,
    /// What was decided.
    pub decided: Outcome,
}

/// A stored decision's id, event time, request, risk and flag.
type StoredRow = (i64, NaiveDateTime, String, f64, bool);

/// Why a backtest could not start.
#[derive(Debug, thiserror::Error)]
pub enum BacktestStartError {
    /// Another backtest of the module is running (one at a time per module).
    #[error("a backtest of this module is running (backtest {0}); wait for it or cancel it")]
    Busy(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Database {
    /// Records a new running backtest of the draft (its id and SHA-256) over `since..until`,
    /// audited, unless another of the module runs. A running one whose progress has not moved
    /// since `stale_before` is marked failed first (its gateway stopped).
    pub fn start_backtest(
        &self,
        module: &str,
        (draft_id, sha256): (i64, &str),
        (since, until): (DateTime<Utc>, DateTime<Utc>),
        started_by: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<StoredBacktest, BacktestStartError> {
        let at = now.naive_utc();
        let started = self.write()?.transaction(|connection| {
            diesel::update(
                rule_backtests::table
                    .filter(rule_backtests::module.eq(module))
                    .filter(rule_backtests::status.eq("running"))
                    .filter(rule_backtests::updated_at.lt(stale_before.naive_utc())),
            )
            .set((
                rule_backtests::status.eq("failed"),
                rule_backtests::report.eq("its gateway stopped before it finished"),
                rule_backtests::finished_at.eq(at),
            ))
            .execute(connection)?;
            let running: Option<i64> = rule_backtests::table
                .filter(rule_backtests::module.eq(module))
                .filter(rule_backtests::status.eq("running"))
                .select(rule_backtests::id)
                .first(connection)
                .optional()?;
            if let Some(running) = running {
                return Ok(Err(running));
            }
            let started = diesel::insert_into(rule_backtests::table)
                .values((
                    rule_backtests::module.eq(module),
                    rule_backtests::draft_id.eq(draft_id),
                    rule_backtests::since.eq(since.naive_utc()),
                    rule_backtests::until.eq(until.naive_utc()),
                    rule_backtests::status.eq("running"),
                    rule_backtests::replayed.eq(0_i64),
                    rule_backtests::total.eq(0_i64),
                    rule_backtests::started_by.eq(started_by),
                    rule_backtests::started_at.eq(at),
                    rule_backtests::updated_at.eq(at),
                    rule_backtests::cancel_requested.eq(false),
                ))
                .returning(rule_backtests::all_columns)
                .get_result::<StoredBacktest>(connection)?;
            insert_audit_event(
                connection,
                &AuditEvent {
                    kind: AuditEvent::BACKTEST_STARTED,
                    module: module.parse().ok(),
                    entity_id: format!("ruleset:{module}:draft:{draft_id}"),
                    actor: started_by.to_owned(),
                    details: json!({"backtest_id": started.id, "draft_id": draft_id,
                                    "sha256": sha256, "since": since, "until": until}),
                    recorded_at: now,
                },
            )?;
            Ok(Ok(started))
        });
        match started {
            Ok(Ok(backtest)) => Ok(backtest),
            Ok(Err(running)) => Err(BacktestStartError::Busy(running)),
            // Two starts at once: the unique index on running backtests let the other in.
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                let running: Option<i64> = rule_backtests::table
                    .filter(rule_backtests::module.eq(module))
                    .filter(rule_backtests::status.eq("running"))
                    .select(rule_backtests::id)
                    .first(&mut *self.read()?)
                    .optional()
                    .map_err(StoreError::from)?;
                Err(BacktestStartError::Busy(running.unwrap_or_default()))
            }
            Err(error) => Err(StoreError::from(error).into()),
        }
    }

    /// Records progress; returns whether a cancel was asked for.
    pub fn backtest_progress(
        &self,
        id: i64,
        replayed: i64,
        total: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let cancel: Option<bool> = diesel::update(rule_backtests::table.find(id))
            .set((
                rule_backtests::replayed.eq(replayed),
                rule_backtests::total.eq(total),
                rule_backtests::updated_at.eq(now.naive_utc()),
            ))
            .returning(rule_backtests::cancel_requested)
            .get_result(&mut *self.write()?)
            .optional()?;
        Ok(cancel.unwrap_or(true))
    }

    /// Ends a backtest: `done` with its report, `cancelled`, or `failed` with the reason.
    pub fn finish_backtest(
        &self,
        id: i64,
        status: &str,
        report: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = now.naive_utc();
        diesel::update(rule_backtests::table.find(id))
            .set((
                rule_backtests::status.eq(status),
                rule_backtests::report.eq(report),
                rule_backtests::updated_at.eq(at),
                rule_backtests::finished_at.eq(at),
            ))
            .execute(&mut *self.write()?)?;
        Ok(())
    }

    /// Asks a running backtest of the draft to stop; false when none runs.
    pub fn cancel_backtest(&self, module: &str, draft_id: i64) -> Result<bool, StoreError> {
        let asked = diesel::update(
            rule_backtests::table
                .filter(rule_backtests::module.eq(module))
                .filter(rule_backtests::draft_id.eq(draft_id))
                .filter(rule_backtests::status.eq("running")),
        )
        .set(rule_backtests::cancel_requested.eq(true))
        .execute(&mut *self.write()?)?;
        Ok(asked > 0)
    }

    /// The latest backtest of a draft.
    pub fn latest_backtest(
        &self,
        module: &str,
        draft_id: i64,
    ) -> Result<Option<StoredBacktest>, StoreError> {
        Ok(rule_backtests::table
            .filter(rule_backtests::module.eq(module))
            .filter(rule_backtests::draft_id.eq(draft_id))
            .order(rule_backtests::id.desc())
            .first(&mut *self.read()?)
            .optional()?)
    }

    /// The ids of `module`'s stored decisions with an event time in `from..until`, in event-time
    /// order (ties by id): the order a replay takes. One scan of the decisions, sorted here, so
    /// that the hot write path keeps no index for backtests.
    pub fn decisions_in_period(
        &self,
        module: &str,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<i64>, StoreError> {
        let mut rows: Vec<(NaiveDateTime, i64)> = decisions::table
            .filter(decisions::module.eq(module))
            .filter(decisions::event_time.ge(from.naive_utc()))
            .filter(decisions::event_time.lt(until.naive_utc()))
            .select((decisions::event_time, decisions::id))
            .load(&mut *self.read()?)?;
        rows.sort_unstable();
        Ok(rows.into_iter().map(|(_, id)| id).collect())
    }

    /// The stored decisions `ids` names, in that order, with the rules of their alerts. Ids close
    /// together (decisions stored about in event-time order, the usual case) are read as one
    /// range of the primary key, others one by one.
    pub fn decisions_to_replay(&self, ids: &[i64]) -> Result<Vec<ReplayedDecision>, StoreError> {
        let (Some(&low), Some(&high)) = (ids.iter().min(), ids.iter().max()) else {
            return Ok(Vec::new());
        };
        let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
        let as_range = usize::try_from(high - low).is_ok_and(|span| span < 4 * ids.len());
        let mut connection = self.read()?;
        let columns = (
            decisions::id,
            decisions::event_time,
            decisions::request_json,
            decisions::risk_score,
            decisions::flagged,
        );
        let (rows, fired): (Vec<StoredRow>, Vec<(i64, String)>) = if as_range {
            let rows = decisions::table
                .filter(decisions::id.between(low, high))
                .select(columns)
                .load(&mut *connection)?;
            let fired = alerts::table
                .filter(alerts::decision_id.between(low, high))
                .order(alerts::id.asc())
                .select((alerts::decision_id, alerts::rule))
                .load(&mut *connection)?;
            (rows, fired)
        } else {
            let rows = decisions::table
                .filter(decisions::id.eq_any(ids))
                .select(columns)
                .load(&mut *connection)?;
            let fired = alerts::table
                .filter(alerts::decision_id.eq_any(ids))
                .order(alerts::id.asc())
                .select((alerts::decision_id, alerts::rule))
                .load(&mut *connection)?;
            (rows, fired)
        };
        let rows: Vec<_> = rows
            .into_iter()
            .filter(|row| wanted.contains(&row.0))
            .collect();
        let mut rules: HashMap<i64, Vec<String>> = HashMap::new();
        for (decision, rule) in fired {
            rules.entry(decision).or_default().push(rule);
        }
        let mut by_id: HashMap<i64, ReplayedDecision> = rows
            .into_iter()
            .map(|(id, event_time, request_json, risk_score, flagged)| {
                let decision = ReplayedDecision {
                    id,
                    event_time: event_time.and_utc(),
                    request_json,
                    decided: Outcome {
                        risk_score,
                        flagged,
                        rules: rules.remove(&id).unwrap_or_default(),
                    },
                };
                (id, decision)
            })
            .collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }
}
