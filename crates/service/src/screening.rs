//! Sanctions and PEP screening as the service runs it: versioned lists in the database, the
//! lists in use shared by every detector (swapped when a list is imported or a match resolved,
//! here at once and on other gateways within `rules.poll_seconds`), and list updates screened
//! against the parties remembered from the flow, whose new matches become alerts of module
//! `screening`.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use redflag_aml::NameScreening;
use redflag_screening::{
    Entry, ListFormat, ListSet, ListVersion, NameHasher, Named, ParseError, PartyPrint,
    SeenParties, SharedLists, Suppression, entry_digest, sanctions_alert,
};
use redflag_store::{
    Database, DecisionId, ListVersionError, ListVersionToWrite, ScreeningAlertToRecord,
    ScreeningStamp, StoredListVersion,
};
use serde::Serialize;
use serde_json::json;

use crate::ServiceError;
use crate::settings::Settings;

/// Parties read per page when a list update is screened against them.
const PARTY_PAGE: i64 = 5_000;
/// The longest list name: it appears in paths, alerts and audit records.
pub const MAX_LIST_NAME: usize = 64;

/// Screening in a serving process: the lists in use, the key names are hashed with, and the
/// threshold.
pub struct Screening {
    pub lists: SharedLists,
    pub hasher: NameHasher,
    pub threshold: f64,
    /// The parties this process printed for remembering already.
    seen: SeenParties,
    /// The database's screening stamp when the lists in use were read.
    stamp: Mutex<Option<ScreeningStamp>>,
}

impl std::fmt::Debug for Screening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screening")
            .field("lists", &self.lists)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

/// Why a list import was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Name(String),
    #[error(transparent)]
    Malformed(#[from] ParseError),
    #[error("the file holds no entries")]
    Empty,
    #[error(transparent)]
    Version(#[from] ListVersionError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// What changed from a list's version before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Delta {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// What a list update's re-screen did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rescreen {
    /// Remembered parties screened against the added and changed entries.
    pub parties: i64,
    /// New screening alerts.
    pub alerts: usize,
    /// Matches left out because an analyst resolved them for that party and entry.
    pub suppressed: usize,
}

/// An imported version, with its changes and what the re-screen raised.
#[derive(Debug, Clone)]
pub struct Imported {
    pub version: StoredListVersion,
    pub delta: Delta,
    pub rescreen: Rescreen,
}

/// Whether `name` may name a list: 1 to 64 letters, digits, `-`, `_` or `.`.
pub fn check_list_name(name: &str) -> Result<&str, String> {
    let fine = !name.is_empty()
        && name.len() <= MAX_LIST_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fine {
        Ok(name)
    } else {
        Err(format!(
            "A list name is 1 to {MAX_LIST_NAME} letters, digits, '-', '_' or '.'."
        ))
    }
}

/// What changed between the entries of a version (as stored JSON) and the new ones.
fn delta_of(previous: Option<&str>, entries: &[Entry]) -> Result<Delta, String> {
    let before: Vec<Entry> = match previous {
        Some(json) => serde_json::from_str(json)
            .map_err(|error| format!("the version in use does not read: {error}"))?,
        None => Vec::new(),
    };
    let before: HashMap<&str, String> = before
        .iter()
        .map(|entry| (entry.id.as_str(), entry_digest(entry)))
        .collect();
    let mut delta = Delta::default();
    let mut now = HashSet::new();
    for entry in entries {
        now.insert(entry.id.as_str());
        match before.get(entry.id.as_str()) {
            None => delta.added.push(entry.id.clone()),
            Some(digest) if *digest != entry_digest(entry) => delta.changed.push(entry.id.clone()),
            Some(_) => {}
        }
    }
    delta.removed = before
        .keys()
        .filter(|id| !now.contains(*id))
        .map(|id| (*id).to_owned())
        .collect();
    delta.removed.sort_unstable();
    Ok(delta)
}

impl Screening {
    /// No list loaded yet; [`Screening::refresh`] reads them.
    pub fn new(settings: &Settings) -> Self {
        let key = if settings.screening.name_key.is_empty() {
            &settings.secret_key
        } else {
            &settings.screening.name_key
        };
        Self {
            lists: SharedLists::default(),
            hasher: NameHasher::new(key.expose().as_bytes()),
            threshold: settings.screening.threshold,
            seen: SeenParties::default(),
            stamp: Mutex::new(None),
        }
    }

    /// What AML screening in the flow needs of this.
    pub fn inline(&self) -> NameScreening {
        NameScreening {
            lists: self.lists.clone(),
            hasher: self.hasher.clone(),
            threshold: self.threshold,
            seen: self.seen.clone(),
        }
    }

    /// The lists in use as the database holds them.
    pub fn load(settings: &Settings, db: &Database) -> Result<Self, ServiceError> {
        let screening = Self::new(settings);
        screening.refresh(db)?;
        Ok(screening)
    }

    /// Reads the lists and resolutions again when they changed since the last read (only the
    /// resolutions when no list did: the index is kept); returns whether they did.
    pub fn refresh(&self, db: &Database) -> Result<bool, ServiceError> {
        let stamp = db.screening_stamp()?;
        let mut last = self.stamp.lock().unwrap_or_else(PoisonError::into_inner);
        if *last == Some(stamp) {
            return Ok(false);
        }
        let suppressions = db
            .screening_suppressions()?
            .into_iter()
            .map(|stored| Suppression {
                party_id: stored.party_id,
                list: stored.list_name,
                entry_id: stored.entry_id,
                entry_sha256: stored.entry_sha256,
            })
            .collect();
        if last.is_some_and(|last| last.lists == stamp.lists) {
            self.lists
                .replace(self.lists.current().resolved(suppressions));
            *last = Some(stamp);
            return Ok(true);
        }
        let mut lists = Vec::new();
        for (version, entries_json) in db.screening_lists_in_use()? {
            let entries: Vec<Entry> =
                serde_json::from_str(&entries_json).map_err(ServiceError::json(format!(
                    "screening list {} version {}",
                    version.list_name, version.version
                )))?;
            lists.push((
                ListVersion {
                    name: version.list_name,
                    version: version.version,
                },
                entries,
            ));
        }
        self.lists.replace(ListSet::new(lists, suppressions));
        *last = Some(stamp);
        Ok(true)
    }

    /// Imports `files` (in the format's order) as the next version of list `name`, audited;
    /// the lists in use change here at once, and the remembered parties are screened against
    /// the added and changed entries. A file that does not read changes nothing.
    pub fn import(
        &self,
        db: &Database,
        (name, format): (&str, ListFormat),
        files: &[&[u8]],
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Imported, ImportError> {
        let name = check_list_name(name).map_err(ImportError::Name)?;
        let entries = format.parse(files)?;
        if entries.is_empty() {
            return Err(ImportError::Empty);
        }
        let entries_json =
            serde_json::to_string(&entries).map_err(ServiceError::json("list entries"))?;
        let sha256 = redflag_audit::digest(&entries_json);
        let mut delta = Delta::default();
        let version = db.import_screening_list(
            ListVersionToWrite {
                name,
                format: format.as_str(),
                entries_json: &entries_json,
                entry_count: i64::try_from(entries.len()).unwrap_or(i64::MAX),
                sha256: &sha256,
            },
            |previous| {
                delta = delta_of(previous, &entries)?;
                let json = serde_json::to_string(&delta).map_err(|error| error.to_string())?;
                let counts = json!({"added": delta.added.len(), "changed": delta.changed.len(),
                                    "removed": delta.removed.len()});
                Ok((json, counts))
            },
            actor,
            now,
        )?;
        self.refresh(db)?;
        let rescreen = self.rescreen(db, &version, now)?;
        Ok(Imported {
            version,
            delta,
            rescreen,
        })
    }

    /// Screens the remembered parties against the changes of every version not yet screened
    /// (an import interrupted before its re-screen ends is finished here).
    pub fn rescreen_pending(
        &self,
        db: &Database,
        now: DateTime<Utc>,
    ) -> Result<Rescreen, ServiceError> {
        self.refresh(db)?;
        let mut total = Rescreen::default();
        for version in db.screening_versions_to_rescreen()? {
            let done = self.rescreen(db, &version, now)?;
            total.parties += done.parties;
            total.alerts += done.alerts;
            total.suppressed += done.suppressed;
        }
        Ok(total)
    }

    /// Screens every remembered party against the version's added and changed entries (as
    /// the lists in use hold them), raising an alert for each new match, and marks the version
    /// screened. Running it again raises nothing new.
    pub fn rescreen(
        &self,
        db: &Database,
        version: &StoredListVersion,
        now: DateTime<Utc>,
    ) -> Result<Rescreen, ServiceError> {
        let delta: Delta = serde_json::from_str(&version.delta_json)
            .map_err(ServiceError::json("list version's changes"))?;
        let touched: HashSet<(String, String)> = delta
            .added
            .iter()
            .chain(&delta.changed)
            .map(|id| (version.list_name.clone(), id.clone()))
            .collect();
        let lists = self.lists.current();
        let hash = |token: &str| self.hasher.token(token);
        let index = lists.screener().print_index(&touched, &hash);
        let mut report = Rescreen::default();
        if !index.is_empty() {
            // A party several processes remembered is screened once.
            let (mut after, mut seen) = (0, HashSet::new());
            loop {
                let page = db.screening_parties_page(after, PARTY_PAGE)?;
                let Some((last, _, _)) = page.last() else {
                    break;
                };
                after = *last;
                let mut alerts = Vec::new();
                for (_, party_id, print_json) in &page {
                    if !seen.insert(party_id.clone()) {
                        continue;
                    }
                    report.parties += 1;
                    let Ok(print) = serde_json::from_str::<PartyPrint>(print_json) else {
                        tracing::warn!(
                            party_id,
                            "a remembered party's print does not read; skipped"
                        );
                        continue;
                    };
                    let screened = lists.sift(party_id, index.screen(&print, self.threshold));
                    report.suppressed += screened.suppressed.len();
                    for found in &screened.matches {
                        let named = Named {
                            role: "party",
                            name: None,
                            party_id,
                            found,
                        };
                        let Some(alert) = sanctions_alert(&[named]) else {
                            continue;
                        };
                        let risk_score = (found.score * 100.0).round();
                        alerts.push(ScreeningAlertToRecord {
                            reference: format!(
                                "{}:{}:{}:{party_id}",
                                version.list_name, version.version, found.entry_id
                            ),
                            party_id: party_id.clone(),
                            risk_score,
                            request_json: json!({"party_id": party_id,
                                                 "list": version.list_name,
                                                 "version": version.version,
                                                 "entry_id": found.entry_id})
                            .to_string(),
                            response_json: json!({"party_id": party_id,
                                                  "list": version.list_name,
                                                  "version": version.version,
                                                  "match": found,
                                                  "risk_score": risk_score,
                                                  "flagged": true,
                                                  "alerts": [&alert]})
                            .to_string(),
                            alert,
                            recorded_at: now,
                        });
                    }
                }
                let recorded: Vec<DecisionId> = db.record_screening_alerts(&alerts)?;
                report.alerts += recorded.len();
            }
        }
        db.mark_screening_version_rescreened(version.id, now)?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redflag_screening::PartyKind;

    #[test]
    fn the_delta_names_added_changed_and_removed_entries() {
        let kept = Entry::new("1", PartyKind::Entity, "KEPT");
        let before = vec![
            kept.clone(),
            Entry::new("2", PartyKind::Entity, "OLD NAME"),
            Entry::new("3", PartyKind::Entity, "GONE"),
        ];
        let json = serde_json::to_string(&before).expect("serialises");
        let after = vec![
            kept,
            Entry::new("2", PartyKind::Entity, "NEW NAME"),
            Entry::new("4", PartyKind::Entity, "ADDED"),
        ];
        assert_eq!(
            delta_of(Some(&json), &after),
            Ok(Delta {
                added: vec!["4".to_owned()],
                changed: vec!["2".to_owned()],
                removed: vec!["3".to_owned()],
            })
        );
        assert_eq!(delta_of(None, &after).map(|d| d.added.len()), Ok(3));
        assert!(delta_of(Some("{"), &after).is_err());
    }

    #[test]
    fn list_names_are_short_path_safe_words() {
        assert_eq!(check_list_name("ofac-sdn_2021.v2"), Ok("ofac-sdn_2021.v2"));
        for bad in ["", "a/b", "with space", &"x".repeat(65)] {
            assert!(check_list_name(bad).is_err(), "{bad}");
        }
    }
}
