//! What the worker learns from the deployment's own traffic and every gateway reads back: one
//! JSON document per name (the AML peer groups, ...), replaced whole by each learning.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use redflag_core::Module;

use crate::schema::{calibrations, decisions};
use crate::{Database, StoreError};

/// A stored decision's request as the client sent it, with its event time: what learning reads.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRequest {
    pub decision_id: i64,
    pub event_time: DateTime<Utc>,
    pub request_json: String,
}

impl Database {
    /// Stores `body` under `name` in place of what was there.
    pub fn put_calibration(
        &self,
        name: &str,
        body: &str,
        learned_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = learned_at.naive_utc();
        self.write()?.transaction(|connection| {
            let updated = diesel::update(calibrations::table.find(name))
                .set((calibrations::body.eq(body), calibrations::learned_at.eq(at)))
                .execute(connection)?;
            if updated == 0 {
                diesel::insert_into(calibrations::table)
                    .values((
                        calibrations::name.eq(name),
                        calibrations::body.eq(body),
                        calibrations::learned_at.eq(at),
                    ))
                    .execute(connection)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(())
    }

    /// The document stored under `name` and when it was learned, if any.
    pub fn calibration(&self, name: &str) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let stored: Option<(String, NaiveDateTime)> = calibrations::table
            .find(name)
            .select((calibrations::body, calibrations::learned_at))
            .first(&mut *self.read()?)
            .optional()?;
        Ok(stored.map(|(body, at)| (body, at.and_utc())))
    }

    /// The event time of `module`'s most recently stored decision: where a learning window ends
    /// (event time, so that a replay of last month's traffic learns last month).
    pub fn latest_event_time(&self, module: Module) -> Result<Option<DateTime<Utc>>, StoreError> {
        let latest: Option<NaiveDateTime> = decisions::table
            .filter(decisions::module.eq(module.as_str()))
            .order(decisions::id.desc())
            .select(decisions::event_time)
            .first(&mut *self.read()?)
            .optional()?;
        Ok(latest.map(|at| at.and_utc()))
    }

    /// Up to `limit` of `module`'s decisions with an event time from `since`, after decision
    /// `after_id`, in id order: a page of a learning window (pass the last id to get the next).
    pub fn requests_since(
        &self,
        module: Module,
        since: DateTime<Utc>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<StoredRequest>, StoreError> {
        let rows: Vec<(i64, NaiveDateTime, String)> = decisions::table
            .filter(decisions::module.eq(module.as_str()))
            .filter(decisions::event_hour.ge(crate::decisions::hour_of(since)))
            .filter(decisions::event_time.ge(since.naive_utc()))
            .filter(decisions::id.gt(after_id))
            .order(decisions::id.asc())
            .limit(limit)
            .select((
                decisions::id,
                decisions::event_time,
                decisions::request_json,
            ))
            .load(&mut *self.read()?)?;
        Ok(rows
            .into_iter()
            .map(|(decision_id, event_time, request_json)| StoredRequest {
                decision_id,
                event_time: event_time.and_utc(),
                request_json,
            })
            .collect())
    }
}
