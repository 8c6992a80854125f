//! The audit log: outbox records applied once each, in order, to an append-only hash chain.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use redflag_audit::{EntryContent, GENESIS, link};
use serde::{Deserialize, Serialize};

use crate::connection::{DbConnection, ROWS_PER_STATEMENT, insert_rows};
use crate::schema::{audit_chain, audit_log, audit_outbox};
use crate::{Database, StoreError};

/// Delivery attempts after which an outbox record is dead-lettered (kept, counted, not retried).
pub const MAX_ATTEMPTS: i32 = 3;

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Queryable, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub event_id: String,
    pub kind: String,
    pub module: Option<String>,
    pub entity_id: Option<String>,
    pub actor: String,
    pub payload: String,
    pub occurred_at: NaiveDateTime,
    pub applied_at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    fn content(&self) -> EntryContent<'_> {
        EntryContent {
            event_id: &self.event_id,
            kind: &self.kind,
            module: self.module.as_deref(),
            entity_id: self.entity_id.as_deref(),
            actor: &self.actor,
            payload: &self.payload,
            occurred_at: self.occurred_at.and_utc(),
        }
    }
}

/// What a verification of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    /// Every entry links to the one before and hashes to what it says.
    Intact { entries: i64 },
    /// The first entry whose link does not hold, and why.
    Broken {
        entry_id: i64,
        event_id: String,
        problem: String,
    },
}

/// The fields an outbox payload must give the log.
#[derive(Deserialize)]
struct PayloadHead {
    module: Option<String>,
    entity_id: Option<String>,
    actor: Option<String>,
    recorded_at: Option<DateTime<Utc>>,
}

/// An entry to append; `None` is stored as NULL (not a column default), so that entries can be
/// inserted many rows at a time on SQLite too.
#[derive(Insertable)]
#[diesel(table_name = audit_log)]
#[diesel(treat_none_as_default_value = false)]
struct NewEntry<'a> {
    event_id: String,
    kind: &'a str,
    module: Option<String>,
    entity_id: Option<String>,
    actor: String,
    payload: &'a str,
    occurred_at: NaiveDateTime,
    applied_at: NaiveDateTime,
    prev_hash: String,
    hash: String,
}

impl Database {
    /// Applies up to `limit` pending outbox records with ids above `after` to the audit log,
    /// oldest first, in one transaction. This is the worker's path when there is no queue: it
    /// reads the outbox directly.
    ///
    /// `after` lets a worker that is working through a backlog resume where its last pass
    /// stopped: on PostgreSQL the rows it marked delivered stay in the index of waiting rows
    /// until vacuum, and a pass from the start walks past all of them. A record committed late
    /// with a lower id than `after` is found by the next pass from the start (`after` 0).
    ///
    /// A record whose payload cannot be read is not retried forever: its attempts are counted and
    /// after [`MAX_ATTEMPTS`] it stays in the outbox as dead-lettered.
    pub fn apply_pending_audits(
        &self,
        limit: i64,
        after: i64,
        now: DateTime<Utc>,
    ) -> Result<OutboxPass, StoreError> {
        Ok(self
            .write()?
            .transaction(|connection| apply_pending_in(connection, limit, after, now))?)
    }

    /// Applies records delivered by the audit queue, in the order given, in one transaction; the
    /// outcome of each says whether the queue may acknowledge it.
    pub fn apply_audits(
        &self,
        records: &[QueuedAudit],
        now: DateTime<Utc>,
    ) -> Result<Vec<AuditOutcome>, StoreError> {
        Ok(self.write()?.transaction(|connection| {
            apply_in(connection, records, now.naive_utc(), Source::Delivered)
        })?)
    }

    /// Outbox records not yet handed to the queue, oldest first.
    pub fn audits_to_relay(&self, limit: i64) -> Result<Vec<QueuedAudit>, StoreError> {
        Ok(pending_records(&mut *self.write()?, limit, 0, true)?)
    }

    /// Notes that these outbox records are in the queue.
    pub fn mark_relayed(&self, outbox_ids: &[i64], now: DateTime<Utc>) -> Result<(), StoreError> {
        diesel::update(audit_outbox::table.filter(audit_outbox::id.eq_any(outbox_ids)))
            .set(audit_outbox::relayed_at.eq(Some(now.naive_utc())))
            .execute(&mut *self.write()?)?;
        Ok(())
    }

    /// Gives up on a record the queue could not get applied: it stays in the outbox, counted as
    /// dead-lettered, with the reason.
    pub fn mark_dead_lettered(&self, outbox_id: i64, reason: &str) -> Result<(), StoreError> {
        diesel::update(audit_outbox::table.find(outbox_id))
            .set((
                audit_outbox::attempts.eq(MAX_ATTEMPTS),
                audit_outbox::last_error.eq(reason),
            ))
            .execute(&mut *self.write()?)?;
        Ok(())
    }

    /// Walks the whole chain from the first entry and reports the first link that does not hold:
    /// an edited entry (its hash no longer matches its content), a removed or reordered one (its
    /// previous hash is not the hash before it), or a log shorter than its head says.
    ///
    /// The head is read first and the walk covers the entries it counts, so that a verification
    /// running while workers append sees a consistent chain rather than a false break.
    pub fn verify_audit_chain(&self) -> Result<ChainReport, StoreError> {
        const PAGE: i64 = 1000;
        let mut connection = self.read()?;
        let (head, length): (String, i64) = audit_chain::table
            .find(1)
            .select((audit_chain::head, audit_chain::length))
            .first(&mut *connection)?;
        let mut previous = GENESIS.to_owned();
        let mut after = 0_i64;
        let mut entries = 0_i64;
        while entries < length {
            let page: Vec<AuditEntry> = audit_log::table
                .filter(audit_log::id.gt(after))
                .order(audit_log::id)
                .limit(PAGE.min(length - entries))
                .load(&mut *connection)?;
            let Some(last) = page.last() else {
                break;
            };
            after = last.id;
            for entry in &page {
                let broken = |problem: &str| ChainReport::Broken {
                    entry_id: entry.id,
                    event_id: entry.event_id.clone(),
                    problem: problem.to_owned(),
                };
                if entry.prev_hash != previous {
                    return Ok(broken(
                        "its previous hash is not the hash of the entry before it (an entry was removed, inserted or reordered)",
                    ));
                }
                if link(&previous, &entry.content()) != entry.hash {
                    return Ok(broken(
                        "its content does not match its hash (it was edited)",
                    ));
                }
                previous = entry.hash.clone();
                entries += 1;
            }
        }
        if entries < length || previous != head {
            return Ok(ChainReport::Broken {
                entry_id: after,
                event_id: String::new(),
                problem: format!(
                    "the chain's head records {length} entries ending in {head}, the log holds {entries} ending in {previous}: entries were removed from its end"
                ),
            });
        }
        Ok(ChainReport::Intact { entries })
    }

    /// An entity's audit history, newest first: one page and the total count.
    pub fn audit_history(
        &self,
        module: Option<&str>,
        entity_id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<AuditEntry>), StoreError> {
        let mut connection = self.read()?;
        let mut count_query = audit_log::table
            .filter(audit_log::entity_id.eq(entity_id))
            .into_boxed();
        let mut page_query = audit_log::table
            .filter(audit_log::entity_id.eq(entity_id))
            .into_boxed();
        if let Some(module) = module {
            count_query = count_query.filter(audit_log::module.eq(module));
            page_query = page_query.filter(audit_log::module.eq(module));
        }
        let count = count_query.count().get_result(&mut *connection)?;
        let page = page_query
            .order(audit_log::id.desc())
            .offset(offset)
            .limit(limit)
            .load(&mut *connection)?;
        Ok((count, page))
    }

    /// Entries in the audit log, and outbox records dead-lettered (given up after
    /// [`MAX_ATTEMPTS`]), and the age of the oldest pending record in seconds.
    pub fn audit_progress(&self, now: DateTime<Utc>) -> Result<AuditProgress, StoreError> {
        let mut connection = self.read()?;
        let applied = audit_log::table.count().get_result(&mut *connection)?;
        let dead_lettered = audit_outbox::table
            .filter(audit_outbox::delivered_at.is_null())
            .filter(audit_outbox::attempts.ge(MAX_ATTEMPTS))
            .count()
            .get_result(&mut *connection)?;
        let oldest: Option<NaiveDateTime> = audit_outbox::table
            .filter(audit_outbox::delivered_at.is_null())
            .filter(audit_outbox::attempts.lt(MAX_ATTEMPTS))
            .select(diesel::dsl::min(audit_outbox::created_at))
            .first(&mut *connection)?;
        Ok(AuditProgress {
            applied,
            dead_lettered,
            lag_seconds: oldest.map_or(0.0, |oldest| {
                ((now.naive_utc() - oldest).num_milliseconds().max(0) as f64) / 1000.0
            }),
        })
    }
}

/// One outbox record on its way to the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedAudit {
    pub outbox_id: i64,
    pub kind: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
}

impl QueuedAudit {
    /// The event's id in the audit log: applying it twice is a no-op.
    pub fn event_id(&self) -> String {
        event_id_of(self.outbox_id)
    }
}

/// The audit log's event id of an outbox record.
pub(crate) fn event_id_of(outbox_id: i64) -> String {
    format!("outbox-{outbox_id}")
}

/// What applying one record did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// A new entry at the chain's head.
    New,
    /// Already in the log: a redelivery, acknowledged without a second entry.
    Duplicate,
    /// The payload could not be read; the attempt was counted.
    Unreadable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditOutcome {
    pub outbox_id: i64,
    pub result: Applied,
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPass {
    /// New entries the log gained.
    pub applied: usize,
    /// The highest outbox id the pass read, applied or not: where a next pass may resume.
    pub last_read: Option<i64>,
}

/// Applies up to `limit` pending outbox records with ids above `after`, oldest first, inside the
/// caller's transaction. The decision writer calls it in its own batch transaction when it keeps
/// the chain itself (the embedded mode).
pub(crate) fn apply_pending_in(
    connection: &mut DbConnection,
    limit: i64,
    after: i64,
    now: DateTime<Utc>,
) -> Result<OutboxPass, DieselError> {
    // Nearly always nothing waits. Asking that first spares the list query, whose bound `LIMIT`
    // has SQLite prepare it again on every run (it plans with the limit's value).
    let waiting = pending_outbox_rows().filter(audit_outbox::id.gt(after));
    if !diesel::select(diesel::dsl::exists(waiting)).get_result::<bool>(connection)? {
        return Ok(OutboxPass {
            applied: 0,
            last_read: None,
        });
    }
    let pending = pending_records(connection, limit, after, false)?;
    let applied = apply_in(connection, &pending, now.naive_utc(), Source::Delivered)?
        .iter()
        .filter(|outcome| outcome.result == Applied::New)
        .count();
    Ok(OutboxPass {
        applied,
        last_read: pending.last().map(|record| record.outbox_id),
    })
}

/// Appends records whose outbox rows this very transaction wrote, already marked delivered (the
/// decision writer keeping the chain): no worker ever sees them, so they can be neither in the log
/// already nor need marking.
pub(crate) fn append_fresh_in(
    connection: &mut DbConnection,
    records: &[QueuedAudit],
    now: DateTime<Utc>,
) -> Result<(), DieselError> {
    apply_in(connection, records, now.naive_utc(), Source::Fresh).map(drop)
}

/// Where the records [`apply_in`] appends come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Read from the outbox or the queue: possibly in the log already (a redelivery), and marked
    /// delivered once appended.
    Delivered,
    /// Written, delivered, in the caller's transaction: new to the log by construction.
    Fresh,
}

/// Records waiting for the log (or, with `for_relay`, for the queue), oldest first.
fn pending_records(
    connection: &mut DbConnection,
    limit: i64,
    after: i64,
    for_relay: bool,
) -> Result<Vec<QueuedAudit>, DieselError> {
    let mut query = pending_outbox_rows()
        .filter(audit_outbox::id.gt(after))
        .into_boxed();
    if for_relay {
        query = query.filter(audit_outbox::relayed_at.is_null());
    }
    Ok(query
        .order(audit_outbox::id)
        .limit(limit)
        .select((
            audit_outbox::id,
            audit_outbox::kind,
            audit_outbox::payload,
            audit_outbox::created_at,
        ))
        .load::<(i64, String, String, NaiveDateTime)>(connection)?
        .into_iter()
        .map(|(outbox_id, kind, payload, created_at)| QueuedAudit {
            outbox_id,
            kind,
            payload,
            created_at,
        })
        .collect())
}

/// The outbox rows still to be appended: not delivered, and not given up on.
#[diesel::dsl::auto_type]
fn pending_outbox_rows() -> _ {
    let most_attempts: i32 = MAX_ATTEMPTS;
    audit_outbox::table
        .filter(audit_outbox::delivered_at.is_null())
        .filter(audit_outbox::attempts.lt(most_attempts))
}

/// Appends records to the chain inside the caller's transaction. The chain's head row is locked
/// first, so workers in any number of processes append one at a time and the chain never forks.
/// Which records the log already holds is read first, then the new entries go in
/// (`insert_rows!`) and the outbox rows are marked delivered; each step costs a few statements on
/// PostgreSQL and only cached ones on SQLite.
fn apply_in(
    connection: &mut DbConnection,
    records: &[QueuedAudit],
    applied_at: NaiveDateTime,
    source: Source,
) -> Result<Vec<AuditOutcome>, DieselError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(audit_chain::table.find(1))
        .set(audit_chain::head.eq(audit_chain::head))
        .execute(connection)?;
    // `get_result`, not `first`: the primary key finds one row, and a bound `LIMIT` would have
    // SQLite prepare the statement again on every run.
    let (mut head, mut length): (String, i64) = audit_chain::table
        .find(1)
        .select((audit_chain::head, audit_chain::length))
        .get_result(connection)?;
    let event_ids: Vec<String> = records.iter().map(QueuedAudit::event_id).collect();
    let mut present = match source {
        Source::Delivered => {
            plan_for_the_values(connection)?;
            logged_event_ids(connection, &event_ids)?
        }
        Source::Fresh => std::collections::HashSet::new(),
    };
    let mut outcomes = Vec::with_capacity(records.len());
    let mut entries = Vec::with_capacity(records.len());
    let mut delivered = Vec::with_capacity(records.len());
    for (record, event_id) in records.iter().zip(event_ids) {
        // Already in the log, or earlier in this very batch (a redelivery read twice). Its payload
        // is not needed, and a delivered row no longer has one.
        if present.contains(&event_id) {
            delivered.push(record.outbox_id);
            outcomes.push(AuditOutcome {
                outbox_id: record.outbox_id,
                result: Applied::Duplicate,
            });
            continue;
        }
        let fields = match serde_json::from_str::<PayloadHead>(&record.payload) {
            Ok(fields) => fields,
            Err(error) => {
                let reason = format!("unreadable payload: {error}");
                diesel::update(audit_outbox::table.find(record.outbox_id))
                    .set((
                        audit_outbox::attempts.eq(audit_outbox::attempts + 1),
                        audit_outbox::last_error.eq(&reason),
                    ))
                    .execute(connection)?;
                outcomes.push(AuditOutcome {
                    outbox_id: record.outbox_id,
                    result: Applied::Unreadable(reason),
                });
                continue;
            }
        };
        delivered.push(record.outbox_id);
        present.insert(event_id.clone());
        let occurred_at = fields
            .recorded_at
            .map_or(record.created_at, |at| at.naive_utc());
        let actor = fields.actor.unwrap_or_else(|| "system".to_owned());
        let hash = link(
            &head,
            &EntryContent {
                event_id: &event_id,
                kind: &record.kind,
                module: fields.module.as_deref(),
                entity_id: fields.entity_id.as_deref(),
                actor: &actor,
                payload: &record.payload,
                occurred_at: occurred_at.and_utc(),
            },
        );
        entries.push(NewEntry {
            event_id,
            kind: &record.kind,
            module: fields.module,
            entity_id: fields.entity_id,
            actor,
            payload: &record.payload,
            occurred_at,
            applied_at,
            prev_hash: std::mem::replace(&mut head, hash.clone()),
            hash,
        });
        length += 1;
        outcomes.push(AuditOutcome {
            outbox_id: record.outbox_id,
            result: Applied::New,
        });
    }
    insert_rows!(&mut *connection, audit_log::table, entries);
    if source == Source::Delivered {
        mark_delivered(connection, &delivered, applied_at)?;
    }
    diesel::update(audit_chain::table.find(1))
        .set((audit_chain::head.eq(&head), audit_chain::length.eq(length)))
        .execute(connection)?;
    Ok(outcomes)
}

/// Has PostgreSQL plan the rest of this transaction's statements for their own values rather than
/// reuse a connection's generic plan. The lookups by `= ANY(array)` below were planned once per
/// connection, and a plan made while the log was new (a few pages, an array of unknown length)
/// scans the whole table: it stays cached as the log grows (until an autovacuum's `ANALYZE`,
/// a minute or more later), and each batch took 120 ms at 100,000 entries, so the worker fell
/// behind. Planning a batch's few statements afresh costs little beside its records' writes.
fn plan_for_the_values(connection: &mut DbConnection) -> Result<(), DieselError> {
    if let DbConnection::Postgresql(pg) = connection {
        diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(pg)?;
    }
    Ok(())
}

/// Which of `event_ids` the log already holds. PostgreSQL asks with `IN` lists, one round trip
/// each; SQLite asks per id with one cached statement, since an `IN` list is prepared afresh
/// every time.
fn logged_event_ids(
    connection: &mut DbConnection,
    event_ids: &[String],
) -> Result<std::collections::HashSet<String>, DieselError> {
    let mut present = std::collections::HashSet::new();
    match connection {
        DbConnection::Sqlite(sqlite) => {
            for event_id in event_ids {
                present.extend(
                    audit_log::table
                        .filter(audit_log::event_id.eq(event_id))
                        .select(audit_log::event_id)
                        .load::<String>(sqlite)?,
                );
            }
        }
        DbConnection::Postgresql(pg) => {
            for chunk in event_ids.chunks(ROWS_PER_STATEMENT) {
                present.extend(
                    audit_log::table
                        .filter(audit_log::event_id.eq_any(chunk))
                        .select(audit_log::event_id)
                        .load::<String>(pg)?,
                );
            }
        }
    }
    Ok(present)
}

/// Marks outbox rows delivered, by `IN` lists on PostgreSQL, row by row with one cached statement
/// on SQLite (as [`logged_event_ids`]), and drops their payloads: the log entry holds each one
/// (`outbox_payloads` reads it there, as for the embedded writer's rows). PostgreSQL writes a new
/// version of every row it updates, and without its payload that version is a fraction of the
/// row.
fn mark_delivered(
    connection: &mut DbConnection,
    outbox_ids: &[i64],
    delivered_at: NaiveDateTime,
) -> Result<(), DieselError> {
    match connection {
        DbConnection::Sqlite(sqlite) => {
            for outbox_id in outbox_ids {
                diesel::update(audit_outbox::table.find(outbox_id))
                    .set((
                        audit_outbox::delivered_at.eq(Some(delivered_at)),
                        audit_outbox::payload.eq(""),
                    ))
                    .execute(sqlite)?;
            }
        }
        DbConnection::Postgresql(pg) => {
            for chunk in outbox_ids.chunks(ROWS_PER_STATEMENT) {
                diesel::update(audit_outbox::table.filter(audit_outbox::id.eq_any(chunk)))
                    .set((
                        audit_outbox::delivered_at.eq(Some(delivered_at)),
                        audit_outbox::payload.eq(""),
                    ))
                    .execute(pg)?;
            }
        }
    }
    Ok(())
}

/// How far the audit log is behind the decisions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AuditProgress {
    pub applied: i64,
    pub dead_lettered: i64,
    /// Age of the oldest record waiting for the log, in seconds (0 when none waits).
    pub lag_seconds: f64,
}
