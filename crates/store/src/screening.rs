//! Screening: the sanctions and PEP lists' versions, the parties remembered from the flow, the
//! alerts a list update raises against them, and the matches analysts resolved as false
//! positives. Every import, alert and resolution is audited in its own transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{count, count_star, max};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use redflag_audit::AuditEvent;
use redflag_core::Alert;
use serde_json::json;

use crate::connection::{DbConnection, insert_returning_id, insert_rows};
use crate::decisions::{NewAlert, NewDecision, hour_of};
use crate::rule_sets::audit as audit_event;
use crate::schema::{
    alerts, decisions, screening_list_versions, screening_parties, screening_suppressions,
};
use crate::{Database, DecisionId, StoreError};

/// The module name screening alerts are stored under (decisions and alerts), beside the four
/// detection modules.
pub const SCREENING_MODULE: &str = "screening";

/// One imported version of a list, without its entries.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = screening_list_versions)]
pub struct StoredListVersion {
    pub id: i64,
    pub list_name: String,
    pub version: i64,
    pub format: String,
    pub entry_count: i64,
    /// SHA-256 of the entries' JSON.
    pub sha256: String,
    /// `{"added": [ids], "changed": [ids], "removed": [ids]}` against the version before.
    pub delta_json: String,
    pub imported_by: String,
    imported_at: NaiveDateTime,
    rescreened_at: Option<NaiveDateTime>,
}

impl StoredListVersion {
    pub fn imported_at(&self) -> DateTime<Utc> {
        self.imported_at.and_utc()
    }

    /// When the remembered parties were screened against the version's changes.
    pub fn rescreened_at(&self) -> Option<DateTime<Utc>> {
        self.rescreened_at.map(|at| at.and_utc())
    }
}

/// Where the lists and the resolutions stand: the newest version's row, and the resolutions'
/// count and latest time (a resolution replaced keeps the count and moves the time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreeningStamp {
    pub lists: i64,
    resolutions: (i64, Option<NaiveDateTime>),
}

/// A new version of a list, read and checked.
#[derive(Debug, Clone, Copy)]
pub struct ListVersionToWrite<'a> {
    pub name: &'a str,
    pub format: &'a str,
    /// The entries as JSON.
    pub entries_json: &'a str,
    pub entry_count: i64,
    pub sha256: &'a str,
}

/// Why a list version was not written.
#[derive(Debug, thiserror::Error)]
pub enum ListVersionError {
    /// Another import of the same list committed first (PostgreSQL; SQLite imports queue).
    #[error("another import of list `{0}` ran at the same time; import again")]
    Concurrent(String),
    /// The delta against the version before could not be worked out.
    #[error("{0}")]
    Delta(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A party to remember: its id (a keyed hash of its name and facts) and its print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyToRemember {
    pub party_id: String,
    pub print_json: String,
}

/// An alert a list update raised against a remembered party.
#[derive(Debug, Clone)]
pub struct ScreeningAlertToRecord {
    /// Unique per alert (list, version, entry, party): a re-run of the same update adds nothing.
    pub reference: String,
    pub party_id: String,
    /// The match's score on the 0..=100 scale, as the response gives it.
    pub risk_score: f64,
    /// What was screened (the list version and the entry), as JSON.
    pub request_json: String,
    /// The match, as JSON.
    pub response_json: String,
    pub alert: Alert,
    pub recorded_at: DateTime<Utc>,
}

/// A match resolved as a false positive.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StoredSuppression {
    pub party_id: String,
    pub list_name: String,
    pub entry_id: String,
    /// The entry as it was when resolved; a changed entry matches again.
    pub entry_sha256: String,
    pub note: String,
    pub alert_id: Option<i64>,
    pub resolved_by: String,
    resolved_at: NaiveDateTime,
}

impl StoredSuppression {
    pub fn resolved_at(&self) -> DateTime<Utc> {
        self.resolved_at.and_utc()
    }
}

/// A suppression to write.
#[derive(Debug, Clone, Copy)]
pub struct SuppressionToWrite<'a> {
    pub party_id: &'a str,
    pub list_name: &'a str,
    pub entry_id: &'a str,
    pub entry_sha256: &'a str,
    pub note: &'a str,
    pub alert_id: Option<i64>,
}

/// Remembers parties, in the caller's transaction (a decision's): appended, as the process saw
/// them first; a party written twice is read once.
pub(crate) fn remember_parties(
    connection: &mut DbConnection,
    parties: &[&PartyToRemember],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let rows: Vec<_> = parties
        .iter()
        .map(|party| {
            (
                screening_parties::party_id.eq(&party.party_id),
                screening_parties::print_json.eq(&party.print_json),
                screening_parties::first_seen_at.eq(now),
            )
        })
        .collect();
    insert_rows!(&mut *connection, screening_parties::table, rows);
    Ok(())
}

impl Database {
    /// Writes the next version of a list, audited. `delta` works out what changed from the
    /// entries' JSON of the version before (`None` for a new list) inside the transaction, so
    /// that two imports cannot both be measured against the same predecessor.
    pub fn import_screening_list(
        &self,
        list: ListVersionToWrite<'_>,
        delta: impl FnOnce(Option<&str>) -> Result<(String, serde_json::Value), String>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredListVersion, ListVersionError> {
        let written = self.write()?.transaction(|connection| {
            let previous: Option<(i64, String)> = screening_list_versions::table
                .filter(screening_list_versions::list_name.eq(list.name))
                .order(screening_list_versions::version.desc())
                .select((
                    screening_list_versions::version,
                    screening_list_versions::entries_json,
                ))
                .first(connection)
                .optional()?;
            let (delta_json, counts) = match delta(previous.as_ref().map(|(_, json)| json.as_str()))
            {
                Ok(delta) => delta,
                Err(reason) => return Ok(Err(ListVersionError::Delta(reason))),
            };
            let version = previous.map_or(1, |(version, _)| version + 1);
            let connection: &mut DbConnection = connection;
            let id = insert_returning_id!(
                &mut *connection,
                screening_list_versions::table,
                (
                    screening_list_versions::list_name.eq(list.name),
                    screening_list_versions::version.eq(version),
                    screening_list_versions::format.eq(list.format),
                    screening_list_versions::entries_json.eq(list.entries_json),
                    screening_list_versions::entry_count.eq(list.entry_count),
                    screening_list_versions::sha256.eq(list.sha256),
                    screening_list_versions::delta_json.eq(&delta_json),
                    screening_list_versions::imported_by.eq(actor),
                    screening_list_versions::imported_at.eq(now.naive_utc()),
                ),
                screening_list_versions::id
            )?;
            audit_event(
                connection,
                AuditEvent::SCREENING_LIST_IMPORTED,
                Some(SCREENING_MODULE),
                format!("screening_list:{}", list.name),
                actor,
                json!({"version": version, "format": list.format, "entries": list.entry_count,
                       "sha256": list.sha256, "changes": counts}),
                now,
            )?;
            let stored = screening_list_versions::table
                .find(id)
                .select(StoredListVersion::as_select())
                .first(connection)?;
            Ok::<_, DieselError>(Ok(stored))
        });
        match written {
            Ok(outcome) => outcome,
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                Err(ListVersionError::Concurrent(list.name.to_owned()))
            }
            Err(error) => Err(StoreError::from(error).into()),
        }
    }

    /// Every version of every list, by list name, newest version first.
    pub fn screening_list_versions(&self) -> Result<Vec<StoredListVersion>, StoreError> {
        Ok(screening_list_versions::table
            .order((
                screening_list_versions::list_name.asc(),
                screening_list_versions::version.desc(),
            ))
            .select(StoredListVersion::as_select())
            .load(&mut *self.read()?)?)
    }

    /// The version in use of each list (its latest), with its entries' JSON.
    pub fn screening_lists_in_use(&self) -> Result<Vec<(StoredListVersion, String)>, StoreError> {
        let mut connection = self.read()?;
        let latest: Vec<(String, Option<i64>)> = screening_list_versions::table
            .group_by(screening_list_versions::list_name)
            .select((
                screening_list_versions::list_name,
                max(screening_list_versions::version),
            ))
            .order(screening_list_versions::list_name.asc())
            .load(&mut *connection)?;
        let mut lists = Vec::with_capacity(latest.len());
        for (name, version) in latest {
            let Some(version) = version else { continue };
            let row: (StoredListVersion, String) = screening_list_versions::table
                .filter(screening_list_versions::list_name.eq(&name))
                .filter(screening_list_versions::version.eq(version))
                .select((
                    StoredListVersion::as_select(),
                    screening_list_versions::entries_json,
                ))
                .first(&mut *connection)?;
            lists.push(row);
        }
        Ok(lists)
    }

    /// What changes when a list is imported or a match resolved: gateways read the lists or
    /// the resolutions again when it moves.
    pub fn screening_stamp(&self) -> Result<ScreeningStamp, StoreError> {
        let mut connection = self.read()?;
        let lists: Option<i64> = screening_list_versions::table
            .select(max(screening_list_versions::id))
            .first(&mut *connection)?;
        let resolutions: (i64, Option<NaiveDateTime>) = screening_suppressions::table
            .select((count_star(), max(screening_suppressions::resolved_at)))
            .first(&mut *connection)?;
        Ok(ScreeningStamp {
            lists: lists.unwrap_or_default(),
            resolutions,
        })
    }

    /// The versions whose changes the remembered parties were not yet screened against, oldest
    /// first (an import interrupted before its re-screen finished is picked up again).
    pub fn screening_versions_to_rescreen(&self) -> Result<Vec<StoredListVersion>, StoreError> {
        Ok(screening_list_versions::table
            .filter(screening_list_versions::rescreened_at.is_null())
            .order(screening_list_versions::id.asc())
            .select(StoredListVersion::as_select())
            .load(&mut *self.read()?)?)
    }

    pub fn mark_screening_version_rescreened(
        &self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        diesel::update(screening_list_versions::table.find(id))
            .set(screening_list_versions::rescreened_at.eq(now.naive_utc()))
            .execute(&mut *self.write()?)?;
        Ok(())
    }

    /// Remembers parties outside a decision (a bulk load, a test).
    pub fn remember_screening_parties(
        &self,
        parties: &[PartyToRemember],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let rows: Vec<&PartyToRemember> = parties.iter().collect();
        self.write()?
            .transaction(|connection| remember_parties(connection, &rows, now.naive_utc()))?;
        Ok(())
    }

    /// Remembered parties written after row `after`, at most `limit`, in the order written:
    /// `(row, party_id, print_json)`. A party may come more than once (several processes saw
    /// it).
    pub fn screening_parties_page(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        Ok(screening_parties::table
            .filter(screening_parties::id.gt(after))
            .order(screening_parties::id.asc())
            .limit(limit)
            .select((
                screening_parties::id,
                screening_parties::party_id,
                screening_parties::print_json,
            ))
            .load(&mut *self.read()?)?)
    }

    /// Distinct parties remembered.
    pub fn screening_party_count(&self) -> Result<i64, StoreError> {
        Ok(screening_parties::table
            .select(count(screening_parties::party_id).aggregate_distinct())
            .first(&mut *self.read()?)?)
    }

    /// Stores each alert as a decision of module `screening` with its alert, audited; an alert
    /// whose reference is stored already is left as it is. Returns the new decisions' ids.
    pub fn record_screening_alerts(
        &self,
        records: &[ScreeningAlertToRecord],
    ) -> Result<Vec<DecisionId>, StoreError> {
        let mut connection = self.write()?;
        let mut ids = Vec::new();
        for record in records {
            match connection.transaction(|connection| record_screening_alert(connection, record)) {
                Ok(id) => ids.extend(id),
                // Another process re-screening the same update stored it first.
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(ids)
    }

    /// Resolves a match as a false positive for the party and the entry, audited (replacing an
    /// earlier resolution of the same pair).
    pub fn suppress_screening_match(
        &self,
        suppression: SuppressionToWrite<'_>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredSuppression, StoreError> {
        Ok(self.write()?.transaction(|connection| {
            let key = screening_suppressions::table.find((
                suppression.party_id,
                suppression.list_name,
                suppression.entry_id,
            ));
            diesel::delete(key).execute(connection)?;
            diesel::insert_into(screening_suppressions::table)
                .values((
                    screening_suppressions::party_id.eq(suppression.party_id),
                    screening_suppressions::list_name.eq(suppression.list_name),
                    screening_suppressions::entry_id.eq(suppression.entry_id),
                    screening_suppressions::entry_sha256.eq(suppression.entry_sha256),
                    screening_suppressions::note.eq(suppression.note),
                    screening_suppressions::alert_id.eq(suppression.alert_id),
                    screening_suppressions::resolved_by.eq(actor),
                    screening_suppressions::resolved_at.eq(now.naive_utc()),
                ))
                .execute(connection)?;
            audit_event(
                connection,
                AuditEvent::SCREENING_SUPPRESSED,
                Some(SCREENING_MODULE),
                format!("party:{}", suppression.party_id),
                actor,
                json!({"list": suppression.list_name, "entry_id": suppression.entry_id,
                       "entry_sha256": suppression.entry_sha256, "note": suppression.note,
                       "alert_id": suppression.alert_id}),
                now,
            )?;
            key.first(connection)
        })?)
    }

    /// The false positives resolved from these alerts.
    pub fn screening_suppressions_of_alerts(
        &self,
        alert_ids: &[i64],
    ) -> Result<Vec<StoredSuppression>, StoreError> {
        if alert_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(screening_suppressions::table
            .filter(screening_suppressions::alert_id.eq_any(alert_ids))
            .order(screening_suppressions::resolved_at.asc())
            .load(&mut *self.read()?)?)
    }

    /// Every resolved false positive.
    pub fn screening_suppressions(&self) -> Result<Vec<StoredSuppression>, StoreError> {
        Ok(screening_suppressions::table
            .order(screening_suppressions::resolved_at.asc())
            .load(&mut *self.read()?)?)
    }
}

/// One screening alert as a decision of module `screening` with its alert and audit record;
/// `None` when its reference is stored already.
fn record_screening_alert(
    connection: &mut DbConnection,
    record: &ScreeningAlertToRecord,
) -> QueryResult<Option<DecisionId>> {
    let known: Vec<i64> = decisions::table
        .filter(decisions::module.eq(SCREENING_MODULE))
        .filter(decisions::reference.eq(&record.reference))
        .select(decisions::id)
        .load(connection)?;
    if !known.is_empty() {
        return Ok(None);
    }
    let created_at = record.recorded_at.naive_utc();
    let row = NewDecision {
        module: SCREENING_MODULE,
        reference: Some(&record.reference),
        entity_id: &record.party_id,
        risk_score: record.risk_score,
        flagged: true,
        decision: None,
        request_json: &record.request_json,
        response_json: &record.response_json,
        event_time: created_at,
        event_hour: hour_of(record.recorded_at),
        created_at,
        created_by: None,
        model_features: None,
    };
    let id = insert_returning_id!(&mut *connection, decisions::table, &row, decisions::id)?;
    let alert = NewAlert::of(id, SCREENING_MODULE, &record.alert, created_at);
    diesel::insert_into(alerts::table)
        .values(&alert)
        .execute(connection)?;
    audit_event(
        connection,
        AuditEvent::SCREENING_MATCH,
        Some(SCREENING_MODULE),
        format!("party:{}", record.party_id),
        "system",
        json!({"decision_id": id, "reference": record.reference,
               "evidence": record.alert.evidence}),
        record.recorded_at,
    )?;
    Ok(Some(DecisionId(id)))
}
