//! The audit log: outbox records applied once each, in order, to an append-only hash chain.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use redflag_audit::{EntryContent, GENESIS, link};
use serde::{Deserialize, Serialize};

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

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewEntry<'a> {
    event_id: &'a str,
    kind: &'a str,
    module: Option<&'a str>,
    entity_id: Option<&'a str>,
    actor: &'a str,
    payload: &'a str,
    occurred_at: NaiveDateTime,
    applied_at: NaiveDateTime,
    prev_hash: &'a str,
    hash: &'a str,
}

impl Database {
    /// Applies up to `limit` pending outbox records to the audit log, oldest first, in one
    /// transaction; returns how many were applied.
    ///
    /// The chain's head row is locked first, so workers in any number of processes append one at
    /// a time; an event already in the log (a redelivery) is marked delivered without a second
    /// entry. A record whose payload cannot be read is not retried forever: its attempts are
    /// counted and after [`MAX_ATTEMPTS`] it stays in the outbox as dead-lettered.
    pub fn apply_pending_audits(
        &self,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let applied_at = now.naive_utc();
        let applied = self.write()?.transaction(|connection| {
            diesel::update(audit_chain::table.find(1))
                .set(audit_chain::head.eq(audit_chain::head))
                .execute(connection)?;
            let (mut head, mut length): (String, i64) = audit_chain::table
                .find(1)
                .select((audit_chain::head, audit_chain::length))
                .first(connection)?;
            let pending: Vec<(i64, String, String, NaiveDateTime)> = audit_outbox::table
                .filter(audit_outbox::delivered_at.is_null())
                .filter(audit_outbox::attempts.lt(MAX_ATTEMPTS))
                .order(audit_outbox::id)
                .limit(limit)
                .select((
                    audit_outbox::id,
                    audit_outbox::kind,
                    audit_outbox::payload,
                    audit_outbox::created_at,
                ))
                .load(connection)?;
            let mut applied = 0;
            for (outbox_id, kind, payload, created_at) in pending {
                let event_id = format!("outbox-{outbox_id}");
                let head_fields = match serde_json::from_str::<PayloadHead>(&payload) {
                    Ok(fields) => fields,
                    Err(error) => {
                        diesel::update(audit_outbox::table.find(outbox_id))
                            .set((
                                audit_outbox::attempts.eq(audit_outbox::attempts + 1),
                                audit_outbox::last_error.eq(format!("unreadable payload: {error}")),
                            ))
                            .execute(connection)?;
                        continue;
                    }
                };
                let already: i64 = audit_log::table
                    .filter(audit_log::event_id.eq(&event_id))
                    .count()
                    .get_result(connection)?;
                if already == 0 {
                    let occurred_at = head_fields
                        .recorded_at
                        .map_or(created_at, |at| at.naive_utc());
                    let actor = head_fields.actor.as_deref().unwrap_or("system");
                    let content = EntryContent {
                        event_id: &event_id,
                        kind: &kind,
                        module: head_fields.module.as_deref(),
                        entity_id: head_fields.entity_id.as_deref(),
                        actor,
                        payload: &payload,
                        occurred_at: occurred_at.and_utc(),
                    };
                    let hash = link(&head, &content);
                    diesel::insert_into(audit_log::table)
                        .values(NewEntry {
                            event_id: &event_id,
                            kind: &kind,
                            module: content.module,
                            entity_id: content.entity_id,
                            actor,
                            payload: &payload,
                            occurred_at,
                            applied_at,
                            prev_hash: &head,
                            hash: &hash,
                        })
                        .execute(connection)?;
                    head = hash;
                    length += 1;
                    applied += 1;
                }
                diesel::update(audit_outbox::table.find(outbox_id))
                    .set(audit_outbox::delivered_at.eq(Some(applied_at)))
                    .execute(connection)?;
            }
            diesel::update(audit_chain::table.find(1))
                .set((audit_chain::head.eq(&head), audit_chain::length.eq(length)))
                .execute(connection)?;
            Ok::<_, DieselError>(applied)
        })?;
        Ok(applied)
    }

    /// Walks the whole chain from the first entry and reports the first link that does not hold:
    /// an edited entry (its hash no longer matches its content), a removed or reordered one (its
    /// previous hash is not the hash before it), or a head that does not match the last entry.
    pub fn verify_audit_chain(&self) -> Result<ChainReport, StoreError> {
        const PAGE: i64 = 1000;
        let mut connection = self.read()?;
        let mut previous = GENESIS.to_owned();
        let mut after = 0_i64;
        let mut entries = 0_i64;
        loop {
            let page: Vec<AuditEntry> = audit_log::table
                .filter(audit_log::id.gt(after))
                .order(audit_log::id)
                .limit(PAGE)
                .load(&mut *connection)?;
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
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => after = last.id,
                _ => break,
            }
        }
        let (head, length): (String, i64) = audit_chain::table
            .find(1)
            .select((audit_chain::head, audit_chain::length))
            .first(&mut *connection)?;
        if head != previous || length != entries {
            return Ok(ChainReport::Broken {
                entry_id: after.max(0),
                event_id: String::new(),
                problem: format!(
                    "the chain's head records {length} entries ending in {head}, the log holds {entries}: entries were removed from its end"
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

/// How far the audit log is behind the decisions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AuditProgress {
    pub applied: i64,
    pub dead_lettered: i64,
    /// Age of the oldest record waiting for the log, in seconds (0 when none waits).
    pub lag_seconds: f64,
}
