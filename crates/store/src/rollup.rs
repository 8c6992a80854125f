//! Statistics roll-ups: the worker folds settled decisions into per-hour and per-rule counts, so
//! that the dashboard's statistics stay cheap however many decisions are stored.

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::{count_star, max, min, sum};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use crate::connection::DbConnection;
use crate::schema::{alert_rollups, alerts, decision_rollups, decisions, rollup_watermark};
use crate::{Database, StoreError};

/// Module, event hour, decisions, flagged decisions, sum of their risk.
pub(crate) type HourRow = (String, i64, i64, i64, f64);
/// Module, rule, severity, alerts.
pub(crate) type AlertRow = (String, String, String, i64);

/// What one roll-up pass folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollup {
    /// Decisions added to the roll-ups by this pass.
    pub decisions: i64,
    /// The highest decision id now rolled up.
    pub watermark: i64,
}

/// The highest decision id included in the roll-ups.
pub(crate) fn watermark(connection: &mut DbConnection) -> Result<i64, DieselError> {
    rollup_watermark::table
        .find(1)
        .select(rollup_watermark::decision_id)
        .first(connection)
}

/// Decisions with ids in (`after`, `through`] (no upper bound with `None`), per module and hour.
pub(crate) fn decisions_by_hour(
    connection: &mut DbConnection,
    after: i64,
    through: Option<i64>,
) -> Result<Vec<HourRow>, DieselError> {
    let through = through.unwrap_or(i64::MAX);
    let in_range = decisions::id.gt(after).and(decisions::id.le(through));
    let totals: Vec<(String, i64, i64, Option<f64>)> = decisions::table
        .filter(in_range)
        .group_by((decisions::module, decisions::event_hour))
        .select((
            decisions::module,
            decisions::event_hour,
            count_star(),
            sum(decisions::risk_score),
        ))
        .load(connection)?;
    let flagged: Vec<(String, i64, i64)> = decisions::table
        .filter(in_range)
        .filter(decisions::flagged.eq(true))
        .group_by((decisions::module, decisions::event_hour))
        .select((decisions::module, decisions::event_hour, count_star()))
        .load(connection)?;
    Ok(totals
        .into_iter()
        .map(|(module, hour, total, risk)| {
            let flagged = flagged
                .iter()
                .find(|row| row.0 == module && row.1 == hour)
                .map_or(0, |row| row.2);
            (module, hour, total, flagged, risk.unwrap_or(0.0))
        })
        .collect())
}

/// The alerts of decisions with ids in (`after`, `through`], per module, rule and severity.
pub(crate) fn alerts_by_rule(
    connection: &mut DbConnection,
    after: i64,
    through: Option<i64>,
) -> Result<Vec<AlertRow>, DieselError> {
    alerts::table
        .filter(alerts::decision_id.gt(after))
        .filter(alerts::decision_id.le(through.unwrap_or(i64::MAX)))
        .group_by((alerts::module, alerts::rule, alerts::severity))
        .select((alerts::module, alerts::rule, alerts::severity, count_star()))
        .load(connection)
}

impl Database {
    /// Folds up to `batch` decisions stored at least `settle` before `now` into the roll-ups and
    /// moves the watermark past them.
    ///
    /// Only a prefix of settled decisions is taken: on PostgreSQL a transaction can commit after
    /// one holding a higher id, and `settle` (longer than any insert transaction lasts) keeps such
    /// a decision from being skipped. The aggregates are read first, without the write lock (the
    /// decisions they cover are settled and never change), so that the decision writer is held up
    /// only while a few roll-up rows are updated. That short transaction locks the watermark row
    /// and applies the aggregates only if the watermark is still where the read began, so any
    /// number of workers may run this without counting a decision twice.
    pub fn roll_up_statistics(
        &self,
        now: DateTime<Utc>,
        settle: Duration,
        batch: i64,
    ) -> Result<Rollup, StoreError> {
        let settled = (now - settle).naive_utc();
        let batch = batch.max(1);
        let (from, through, hours, rules) = {
            let mut reader = self.read()?;
            let connection = &mut *reader;
            let from = watermark(connection)?;
            let unsettled: Option<i64> = decisions::table
                .filter(decisions::id.gt(from))
                .filter(decisions::created_at.gt(settled))
                .select(min(decisions::id))
                .first(connection)?;
            let batch_end: Option<i64> = decisions::table
                .filter(decisions::id.gt(from))
                .order(decisions::id)
                .offset(batch - 1)
                .select(decisions::id)
                .first(connection)
                .optional()?;
            let newest: Option<i64> = decisions::table
                .filter(decisions::id.gt(from))
                .select(max(decisions::id))
                .first(connection)?;
            let Some(mut through) = batch_end.or(newest) else {
                return Ok(Rollup {
                    decisions: 0,
                    watermark: from,
                });
            };
            if let Some(unsettled) = unsettled {
                through = through.min(unsettled - 1);
            }
            if through <= from {
                return Ok(Rollup {
                    decisions: 0,
                    watermark: from,
                });
            }
            let hours = decisions_by_hour(connection, from, Some(through))?;
            let rules = alerts_by_rule(connection, from, Some(through))?;
            (from, through, hours, rules)
        };
        Ok(self.write()?.transaction(|connection| {
            diesel::update(rollup_watermark::table.find(1))
                .set(rollup_watermark::decision_id.eq(rollup_watermark::decision_id))
                .execute(connection)?;
            let current = watermark(connection)?;
            if current != from {
                // Another worker folded these decisions in meanwhile.
                return Ok(Rollup {
                    decisions: 0,
                    watermark: current,
                });
            }
            for (module, hour, total, flagged, risk) in &hours {
                let key = decision_rollups::table
                    .filter(decision_rollups::module.eq(module))
                    .filter(decision_rollups::event_hour.eq(hour));
                let updated = diesel::update(key)
                    .set((
                        decision_rollups::total.eq(decision_rollups::total + total),
                        decision_rollups::flagged.eq(decision_rollups::flagged + flagged),
                        decision_rollups::risk_sum.eq(decision_rollups::risk_sum + risk),
                    ))
                    .execute(connection)?;
                if updated == 0 {
                    diesel::insert_into(decision_rollups::table)
                        .values((
                            decision_rollups::module.eq(module),
                            decision_rollups::event_hour.eq(hour),
                            decision_rollups::total.eq(total),
                            decision_rollups::flagged.eq(flagged),
                            decision_rollups::risk_sum.eq(risk),
                        ))
                        .execute(connection)?;
                }
            }
            for (module, rule, severity, count) in rules {
                let key = alert_rollups::table
                    .filter(alert_rollups::module.eq(&module))
                    .filter(alert_rollups::rule.eq(&rule))
                    .filter(alert_rollups::severity.eq(&severity));
                let updated = diesel::update(key)
                    .set(alert_rollups::count.eq(alert_rollups::count + count))
                    .execute(connection)?;
                if updated == 0 {
                    diesel::insert_into(alert_rollups::table)
                        .values((
                            alert_rollups::module.eq(&module),
                            alert_rollups::rule.eq(&rule),
                            alert_rollups::severity.eq(&severity),
                            alert_rollups::count.eq(count),
                        ))
                        .execute(connection)?;
                }
            }
            diesel::update(rollup_watermark::table.find(1))
                .set((
                    rollup_watermark::decision_id.eq(through),
                    rollup_watermark::rolled_at.eq(Some(now.naive_utc())),
                ))
                .execute(connection)?;
            Ok::<_, DieselError>(Rollup {
                decisions: hours.iter().map(|row| row.2).sum(),
                watermark: through,
            })
        })?)
    }

    /// The highest decision id in the roll-ups; decisions above it are counted from their rows.
    pub fn rollup_watermark(&self) -> Result<i64, StoreError> {
        Ok(watermark(&mut *self.read()?)?)
    }
}
