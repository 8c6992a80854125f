//! Rule sets as data: each module's drafts and published versions, and the team's lists. Every
//! change is written with its audit record in one transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::max;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use redflag_audit::AuditEvent;
use serde_json::json;

use crate::connection::{DbConnection, insert_rows};
use crate::outbox::insert_audit_event;
use crate::schema::{rule_list_entries, rule_lists, rule_sets};
use crate::{Database, StoreError};

/// A draft or a published version of a module's rule set.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StoredRuleSet {
    pub id: i64,
    pub module: String,
    /// The published number; `None` while a draft.
    pub version: Option<i64>,
    /// The rule set as JSON (`redflag_rules::RuleSetDocument`).
    pub document: String,
    /// SHA-256 of `document`: what the audit log and the decisions' versions are checked by.
    pub sha256: String,
    pub description: String,
    pub author: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    pub published_by: Option<String>,
    published_at: Option<NaiveDateTime>,
    /// The version a draft started from.
    pub based_on: Option<i64>,
}

impl StoredRuleSet {
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at.and_utc()
    }

    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at.and_utc()
    }

    pub fn published_at(&self) -> Option<DateTime<Utc>> {
        self.published_at.map(|at| at.and_utc())
    }
}

/// What a draft holds, as written by its author.
#[derive(Debug, Clone, Copy)]
pub struct DraftContent<'a> {
    pub document: &'a str,
    pub sha256: &'a str,
    pub description: &'a str,
}

/// Why an imported list was not written.
#[derive(Debug, thiserror::Error)]
pub enum ListImportError {
    /// The list would hold more values than a list may.
    #[error("the list would hold {entries} values; a list holds at most {max}")]
    TooLarge { entries: usize, max: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DieselError> for ListImportError {
    fn from(error: DieselError) -> Self {
        Self::Store(error.into())
    }
}

/// Why a rule set could not be changed or published.
#[derive(Debug, thiserror::Error)]
pub enum RuleSetError {
    #[error("no such draft")]
    NoDraft,
    #[error("no version {0}")]
    NoVersion(i64),
    /// Four eyes: the author of a draft may not publish it.
    #[error("a draft is published by an admin other than its author ({0})")]
    OwnDraft(String),
    /// Two publishes at once: the other took the number.
    #[error("another version was published at the same moment; publish again")]
    Raced,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DieselError> for RuleSetError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Self::Raced,
            error => Self::Store(error.into()),
        }
    }
}

/// A list's description and size.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StoredList {
    pub name: String,
    pub description: String,
    pub updated_by: String,
    updated_at: NaiveDateTime,
}

impl StoredList {
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at.and_utc()
    }
}

pub(crate) fn audit(
    connection: &mut DbConnection,
    kind: &'static str,
    module: Option<&str>,
    entity_id: String,
    actor: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    insert_audit_event(
        connection,
        &AuditEvent {
            kind,
            module: module.and_then(|module| module.parse().ok()),
            entity_id,
            actor: actor.to_owned(),
            details,
            recorded_at: now,
        },
    )
}

impl Database {
    /// Writes a new draft of `module`'s rule set, started from version `based_on`.
    pub fn create_rule_set_draft(
        &self,
        module: &str,
        content: DraftContent<'_>,
        based_on: Option<i64>,
        author: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredRuleSet, StoreError> {
        let at = now.naive_utc();
        let stored = self.write()?.transaction(|connection| {
            let stored: StoredRuleSet = diesel::insert_into(rule_sets::table)
                .values((
                    rule_sets::module.eq(module),
                    rule_sets::document.eq(content.document),
                    rule_sets::sha256.eq(content.sha256),
                    rule_sets::description.eq(content.description),
                    rule_sets::author.eq(author),
                    rule_sets::created_at.eq(at),
                    rule_sets::updated_at.eq(at),
                    rule_sets::based_on.eq(based_on),
                ))
                .returning(rule_sets::all_columns)
                .get_result(connection)?;
            audit(
                connection,
                AuditEvent::RULESET_DRAFTED,
                Some(module),
                format!("ruleset:{module}:draft:{}", stored.id),
                author,
                json!({"draft_id": stored.id, "sha256": content.sha256, "based_on": based_on}),
                now,
            )?;
            Ok::<_, DieselError>(stored)
        })?;
        Ok(stored)
    }

    /// Replaces a draft's content; `NoDraft` when `id` is not one of `module`'s drafts (a
    /// published version never changes).
    pub fn update_rule_set_draft(
        &self,
        module: &str,
        id: i64,
        content: DraftContent<'_>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredRuleSet, RuleSetError> {
        let stored = self.write()?.transaction(|connection| {
            let stored: Option<StoredRuleSet> = diesel::update(
                rule_sets::table
                    .find(id)
                    .filter(rule_sets::module.eq(module))
                    .filter(rule_sets::version.is_null()),
            )
            .set((
                rule_sets::document.eq(content.document),
                rule_sets::sha256.eq(content.sha256),
                rule_sets::description.eq(content.description),
                rule_sets::updated_at.eq(now.naive_utc()),
            ))
            .returning(rule_sets::all_columns)
            .get_result(connection)
            .optional()?;
            let Some(stored) = stored else {
                return Err(RuleSetError::NoDraft);
            };
            audit(
                connection,
                AuditEvent::RULESET_DRAFTED,
                Some(module),
                format!("ruleset:{module}:draft:{id}"),
                actor,
                json!({"draft_id": id, "sha256": content.sha256, "based_on": stored.based_on}),
                now,
            )?;
            Ok(stored)
        })?;
        Ok(stored)
    }

    /// One of `module`'s drafts.
    pub fn rule_set_draft(
        &self,
        module: &str,
        id: i64,
    ) -> Result<Option<StoredRuleSet>, StoreError> {
        Ok(rule_sets::table
            .find(id)
            .filter(rule_sets::module.eq(module))
            .filter(rule_sets::version.is_null())
            .first(&mut *self.read()?)
            .optional()?)
    }

    /// `module`'s drafts, newest first.
    pub fn rule_set_drafts(&self, module: &str) -> Result<Vec<StoredRuleSet>, StoreError> {
        Ok(rule_sets::table
            .filter(rule_sets::module.eq(module))
            .filter(rule_sets::version.is_null())
            .order(rule_sets::id.desc())
            .load(&mut *self.read()?)?)
    }

    /// `module`'s published versions, newest first: the first is the one in force.
    pub fn rule_set_versions(&self, module: &str) -> Result<Vec<StoredRuleSet>, StoreError> {
        Ok(rule_sets::table
            .filter(rule_sets::module.eq(module))
            .filter(rule_sets::version.is_not_null())
            .order(rule_sets::version.desc())
            .load(&mut *self.read()?)?)
    }

    /// The version of `module`'s rule set in force.
    pub fn published_rule_set(&self, module: &str) -> Result<Option<StoredRuleSet>, StoreError> {
        Ok(rule_sets::table
            .filter(rule_sets::module.eq(module))
            .filter(rule_sets::version.is_not_null())
            .order(rule_sets::version.desc())
            .first(&mut *self.read()?)
            .optional()?)
    }

    /// Each module's version in force, by module: what serving processes poll to notice a
    /// publish.
    pub fn published_rule_set_versions(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows: Vec<(String, Option<i64>)> = rule_sets::table
            .filter(rule_sets::version.is_not_null())
            .group_by(rule_sets::module)
            .select((rule_sets::module, max(rule_sets::version)))
            .order(rule_sets::module.asc())
            .load(&mut *self.read()?)?;
        Ok(rows
            .into_iter()
            .filter_map(|(module, version)| Some((module, version?)))
            .collect())
    }

    /// Publishes a draft as `module`'s next version; the draft's author may not publish it. A
    /// shadow run of the draft stops (audited).
    pub fn publish_rule_set(
        &self,
        module: &str,
        id: i64,
        publisher: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredRuleSet, RuleSetError> {
        let published = self.write()?.transaction(|connection| {
            let draft: Option<StoredRuleSet> = rule_sets::table
                .find(id)
                .filter(rule_sets::module.eq(module))
                .filter(rule_sets::version.is_null())
                .first(connection)
                .optional()?;
            let Some(draft) = draft else {
                return Err(RuleSetError::NoDraft);
            };
            if draft.author == publisher {
                return Err(RuleSetError::OwnDraft(draft.author));
            }
            let version = next_version(connection, module)?;
            let published: StoredRuleSet = diesel::update(rule_sets::table.find(id))
                .set((
                    rule_sets::version.eq(version),
                    rule_sets::published_by.eq(publisher),
                    rule_sets::published_at.eq(now.naive_utc()),
                ))
                .returning(rule_sets::all_columns)
                .get_result(connection)?;
            audit_published(connection, &published, "published", now)?;
            // Its shadow run has nothing left to compare: the draft decides live now.
            crate::shadows::stop_running(connection, module, Some(id), publisher, now)?;
            Ok(published)
        })?;
        Ok(published)
    }

    /// Publishes a copy of version `version` as the next one: a rollback that keeps the history.
    pub fn restore_rule_set(
        &self,
        module: &str,
        version: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredRuleSet, RuleSetError> {
        let at = now.naive_utc();
        let restored = self.write()?.transaction(|connection| {
            let old: Option<StoredRuleSet> = rule_sets::table
                .filter(rule_sets::module.eq(module))
                .filter(rule_sets::version.eq(version))
                .first(connection)
                .optional()?;
            let Some(old) = old else {
                return Err(RuleSetError::NoVersion(version));
            };
            let next = next_version(connection, module)?;
            let restored: StoredRuleSet = diesel::insert_into(rule_sets::table)
                .values((
                    rule_sets::module.eq(module),
                    rule_sets::version.eq(next),
                    rule_sets::document.eq(&old.document),
                    rule_sets::sha256.eq(&old.sha256),
                    rule_sets::description.eq(format!("Restored version {version}")),
                    rule_sets::author.eq(&old.author),
                    rule_sets::created_at.eq(at),
                    rule_sets::updated_at.eq(at),
                    rule_sets::published_by.eq(actor),
                    rule_sets::published_at.eq(at),
                    rule_sets::based_on.eq(version),
                ))
                .returning(rule_sets::all_columns)
                .get_result(connection)?;
            audit_published(connection, &restored, "restored", now)?;
            Ok(restored)
        })?;
        Ok(restored)
    }

    /// Publishes `document` as version 1 of `module`'s rule set unless it has one: the rule set
    /// the config file describes, so that every decision names a version. Not audited: no one
    /// decided it (the config file's own changes are the operator's). Returns whether this call
    /// wrote it (another process may have, at the same moment).
    pub fn publish_first_rule_set(
        &self,
        module: &str,
        content: DraftContent<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let at = now.naive_utc();
        let written = self.write()?.transaction(|connection| {
            if next_version(connection, module)? != 1 {
                return Ok(false);
            }
            diesel::insert_into(rule_sets::table)
                .values((
                    rule_sets::module.eq(module),
                    rule_sets::version.eq(1_i64),
                    rule_sets::document.eq(content.document),
                    rule_sets::sha256.eq(content.sha256),
                    rule_sets::description.eq(content.description),
                    rule_sets::author.eq("system"),
                    rule_sets::created_at.eq(at),
                    rule_sets::updated_at.eq(at),
                    rule_sets::published_by.eq("system"),
                    rule_sets::published_at.eq(at),
                ))
                .execute(connection)?;
            Ok::<_, DieselError>(true)
        });
        match written {
            Ok(written) => Ok(written),
            // Another process published version 1 first: it is there, as wanted.
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Creates or replaces the list `name` with exactly `values`, audited.
    pub fn put_rule_list(
        &self,
        name: &str,
        description: &str,
        values: &[String],
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredList, StoreError> {
        let stored = self.write()?.transaction(|connection| {
            let list = ListWrite {
                name,
                description,
                actor,
                now,
            };
            write_list(connection, &list, values, json!({}))
        })?;
        Ok(stored)
    }

    /// Writes the list `name` from an imported file's `values` (trimmed, each once), audited:
    /// `append` keeps the values it holds, otherwise they are replaced. Without a `description`
    /// the list keeps its own. Appending reads the list after locking its row, so two imports at
    /// once both land. Refused with [`ListImportError::TooLarge`] past `max_values`.
    pub fn import_rule_list(
        &self,
        (name, description): (&str, Option<&str>),
        values: Vec<String>,
        (append, max_values): (bool, usize),
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(StoredList, usize), ListImportError> {
        let imported = values.len();
        self.write()?.transaction(|connection| {
            // Touching the row first makes a concurrent import of the same list wait here.
            diesel::update(rule_lists::table.find(name))
                .set(rule_lists::updated_at.eq(now.naive_utc()))
                .execute(connection)?;
            let existing: Option<StoredList> =
                rule_lists::table.find(name).first(connection).optional()?;
            let mut all = values;
            if append {
                let held: Vec<String> = rule_list_entries::table
                    .filter(rule_list_entries::list_name.eq(name))
                    .select(rule_list_entries::value)
                    .load(connection)?;
                all.extend(held);
            }
            all.sort_unstable();
            all.dedup();
            if all.len() > max_values {
                // An error rolls the transaction back: the list, its time included, stays.
                return Err(ListImportError::TooLarge {
                    entries: all.len(),
                    max: max_values,
                });
            }
            let kept = existing
                .as_ref()
                .map_or("", |list| list.description.as_str());
            let list = ListWrite {
                name,
                description: description.unwrap_or(kept),
                actor,
                now,
            };
            let details = json!({"imported": imported,
                                 "mode": if append { "append" } else { "replace" }});
            let stored = write_list(connection, &list, &all, details)?;
            Ok((stored, all.len()))
        })
    }

    /// Deletes the list `name`; false when there was none.
    pub fn delete_rule_list(
        &self,
        name: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let deleted = self.write()?.transaction(|connection| {
            diesel::delete(rule_list_entries::table.filter(rule_list_entries::list_name.eq(name)))
                .execute(connection)?;
            let deleted = diesel::delete(rule_lists::table.find(name)).execute(connection)?;
            if deleted > 0 {
                audit(
                    connection,
                    AuditEvent::LIST_DELETED,
                    None,
                    format!("list:{name}"),
                    actor,
                    json!({}),
                    now,
                )?;
            }
            Ok::<_, DieselError>(deleted > 0)
        })?;
        Ok(deleted)
    }

    /// Every list with its entry count, by name.
    pub fn rule_lists(&self) -> Result<Vec<(StoredList, i64)>, StoreError> {
        let mut connection = self.read()?;
        let lists: Vec<StoredList> = rule_lists::table
            .order(rule_lists::name.asc())
            .load(&mut *connection)?;
        let counts: Vec<(String, i64)> = rule_list_entries::table
            .group_by(rule_list_entries::list_name)
            .select((rule_list_entries::list_name, diesel::dsl::count_star()))
            .load(&mut *connection)?;
        Ok(lists
            .into_iter()
            .map(|list| {
                let count = counts
                    .iter()
                    .find(|(name, _)| *name == list.name)
                    .map_or(0, |(_, count)| *count);
                (list, count)
            })
            .collect())
    }

    /// One list and its values, sorted.
    pub fn rule_list(&self, name: &str) -> Result<Option<(StoredList, Vec<String>)>, StoreError> {
        let mut connection = self.read()?;
        let Some(list) = rule_lists::table
            .find(name)
            .first::<StoredList>(&mut *connection)
            .optional()?
        else {
            return Ok(None);
        };
        let values = rule_list_entries::table
            .filter(rule_list_entries::list_name.eq(name))
            .order(rule_list_entries::value.asc())
            .select(rule_list_entries::value)
            .load(&mut *connection)?;
        Ok(Some((list, values)))
    }

    /// Every list's values: what rule sets are compiled with.
    pub fn rule_list_values(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let mut connection = self.read()?;
        let names: Vec<String> = rule_lists::table
            .order(rule_lists::name.asc())
            .select(rule_lists::name)
            .load(&mut *connection)?;
        let entries: Vec<(String, String)> = rule_list_entries::table
            .order((
                rule_list_entries::list_name.asc(),
                rule_list_entries::value.asc(),
            ))
            .load(&mut *connection)?;
        Ok(names
            .into_iter()
            .map(|name| {
                let values = entries
                    .iter()
                    .filter(|(list, _)| *list == name)
                    .map(|(_, value)| value.clone())
                    .collect();
                (name, values)
            })
            .collect())
    }

    /// When the lists last changed and how many there are: what serving processes poll to notice
    /// a change.
    pub fn rule_lists_stamp(&self) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        let (count, latest): (i64, Option<NaiveDateTime>) = rule_lists::table
            .select((diesel::dsl::count_star(), max(rule_lists::updated_at)))
            .first(&mut *self.read()?)?;
        Ok((count, latest.map(|at| at.and_utc())))
    }
}

/// The number the next published version of `module` takes.
fn next_version(connection: &mut DbConnection, module: &str) -> QueryResult<i64> {
    let latest: Option<i64> = rule_sets::table
        .filter(rule_sets::module.eq(module))
        .select(max(rule_sets::version))
        .first(connection)?;
    Ok(latest.unwrap_or(0) + 1)
}

fn audit_published(
    connection: &mut DbConnection,
    published: &StoredRuleSet,
    how: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let version = published.version.unwrap_or_default();
    audit(
        connection,
        AuditEvent::RULESET_PUBLISHED,
        Some(&published.module),
        format!("ruleset:{}:{version}", published.module),
        published.published_by.as_deref().unwrap_or("system"),
        json!({"version": version, "sha256": published.sha256, "author": published.author,
               "how": how, "based_on": published.based_on, "draft_id": published.id}),
        now,
    )
}

/// A list being written: its name and description, by whom and when.
struct ListWrite<'a> {
    name: &'a str,
    description: &'a str,
    actor: &'a str,
    now: DateTime<Utc>,
}

/// Creates or replaces the list with exactly `values` on this connection, audited with `details`
/// added to the entries and description.
fn write_list(
    connection: &mut DbConnection,
    list: &ListWrite,
    values: &[String],
    mut details: serde_json::Value,
) -> QueryResult<StoredList> {
    let (name, description, actor) = (list.name, list.description, list.actor);
    let at = list.now.naive_utc();
    diesel::delete(rule_list_entries::table.filter(rule_list_entries::list_name.eq(name)))
        .execute(connection)?;
    let updated = diesel::update(rule_lists::table.find(name))
        .set((
            rule_lists::description.eq(description),
            rule_lists::updated_by.eq(actor),
            rule_lists::updated_at.eq(at),
        ))
        .execute(connection)?;
    if updated == 0 {
        diesel::insert_into(rule_lists::table)
            .values((
                rule_lists::name.eq(name),
                rule_lists::description.eq(description),
                rule_lists::updated_by.eq(actor),
                rule_lists::updated_at.eq(at),
            ))
            .execute(connection)?;
    }
    let rows: Vec<_> = values
        .iter()
        .map(|value| {
            (
                rule_list_entries::list_name.eq(name),
                rule_list_entries::value.eq(value),
            )
        })
        .collect();
    insert_rows!(&mut *connection, rule_list_entries::table, rows);
    details["entries"] = json!(values.len());
    details["description"] = json!(description);
    audit(
        connection,
        AuditEvent::LIST_UPDATED,
        None,
        format!("list:{name}"),
        actor,
        details,
        list.now,
    )?;
    rule_lists::table.find(name).first(connection)
}
