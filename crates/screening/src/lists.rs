//! The lists in use as one value: the screener over every list's latest version, each entry's
//! digest (what a false-positive resolution is pinned to), and the resolutions. The service
//! swaps a new one in when a list is imported or a match resolved; screening in the flow reads
//! whichever is current, without locks.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use dashmap::DashMap;
use sha2::{Digest, Sha256};

use crate::entry::Entry;
use crate::screen::{ListVersion, Match, Query, Screener};

/// A match resolved as a false positive for one party and one entry, while the entry is as it
/// was then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub party_id: String,
    pub list: String,
    pub entry_id: String,
    pub entry_sha256: String,
}

/// What screening a party gave: the matches that stand, and those resolved as false positives
/// for this party.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Screened {
    pub matches: Vec<Match>,
    pub suppressed: Vec<Match>,
}

/// Parties' answers kept per list set: beyond it, the cache starts afresh.
const CACHED_PARTIES: usize = 200_000;

/// The lists in use.
pub struct ListSet {
    /// Each party's answer at a threshold, while these lists and resolutions are in use: a
    /// party id stands for its normalised name and facts, so it has one answer (parties send
    /// again and again).
    cache: DashMap<(String, u64), Screened>,
    /// The index and the entries' digests, shared with the set a new resolution makes.
    indexed: Arc<Indexed>,
    /// `(party id, list, entry id)` to the entry's digest when resolved.
    suppressions: HashMap<(String, String, String), String>,
}

/// What the lists themselves give: the screener and each entry's digest.
struct Indexed {
    screener: Screener,
    /// `(list, entry id)` to the entry's digest.
    digests: HashMap<(String, String), String>,
}

/// The entry's SHA-256 (hex) over its JSON: it changes when anything listed about it changes.
pub fn entry_digest(entry: &Entry) -> String {
    let json = serde_json::to_vec(entry).unwrap_or_default();
    base16ct::lower::encode_string(&Sha256::digest(json))
}

impl ListSet {
    pub fn new(lists: Vec<(ListVersion, Vec<Entry>)>, suppressions: Vec<Suppression>) -> Self {
        let mut digests = HashMap::new();
        for (list, entries) in &lists {
            for entry in entries {
                digests.insert((list.name.clone(), entry.id.clone()), entry_digest(entry));
            }
        }
        let indexed = Indexed {
            screener: Screener::new(lists),
            digests,
        };
        Self::with(Arc::new(indexed), suppressions)
    }

    fn with(indexed: Arc<Indexed>, suppressions: Vec<Suppression>) -> Self {
        Self {
            cache: DashMap::new(),
            indexed,
            suppressions: suppressions
                .into_iter()
                .map(|s| ((s.party_id, s.list, s.entry_id), s.entry_sha256))
                .collect(),
        }
    }

    /// The same lists with these resolutions: the index is shared, not built again (a
    /// resolution changes no list).
    pub fn resolved(&self, suppressions: Vec<Suppression>) -> Self {
        Self::with(Arc::clone(&self.indexed), suppressions)
    }

    /// No list loaded: nothing matches.
    pub fn empty() -> Self {
        Self::new(Vec::new(), Vec::new())
    }

    pub fn screener(&self) -> &Screener {
        &self.indexed.screener
    }

    /// The entry's digest in the version in use.
    pub fn entry_digest(&self, list: &str, entry_id: &str) -> Option<&str> {
        self.indexed
            .digests
            .get(&(list.to_owned(), entry_id.to_owned()))
            .map(String::as_str)
    }

    /// Whether the match was resolved as a false positive for the party, and the entry has
    /// not changed since.
    pub fn is_suppressed(&self, party_id: &str, found: &Match) -> bool {
        let key = (
            party_id.to_owned(),
            found.list.clone(),
            found.entry_id.clone(),
        );
        self.suppressions
            .get(&key)
            .is_some_and(|digest| self.entry_digest(&found.list, &found.entry_id) == Some(digest))
    }

    /// Splits matches into those that stand and those resolved for the party.
    pub fn sift(&self, party_id: &str, matches: Vec<Match>) -> Screened {
        let (suppressed, matches) = matches
            .into_iter()
            .partition(|found| self.is_suppressed(party_id, found));
        Screened {
            matches,
            suppressed,
        }
    }

    /// Screens a party's name with its facts: the matches at `threshold` or above, split.
    pub fn screen_party(&self, query: &Query, party_id: &str, threshold: f64) -> Screened {
        self.sift(party_id, self.screener().screen(query, threshold))
    }
}

impl ListSet {
    /// [`ListSet::screen_party`], answered from the cache when the party was screened before
    /// with these lists (its id must stand for the query's name and facts).
    pub fn screen_party_cached(&self, query: &Query, party_id: &str, threshold: f64) -> Screened {
        let key = (party_id.to_owned(), threshold.to_bits());
        if let Some(known) = self.cache.get(&key) {
            return known.clone();
        }
        let screened = self.screen_party(query, party_id, threshold);
        if self.cache.len() >= CACHED_PARTIES {
            self.cache.clear();
        }
        self.cache.insert(key, screened.clone());
        screened
    }
}

/// The lists in use, shared by the service (which swaps new ones in) and the detectors (which
/// screen with whichever is current).
#[derive(Clone)]
pub struct SharedLists(Arc<ArcSwap<ListSet>>);

impl Default for SharedLists {
    fn default() -> Self {
        Self(Arc::new(ArcSwap::from_pointee(ListSet::empty())))
    }
}

impl std::fmt::Debug for SharedLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lists = self.current();
        f.debug_struct("SharedLists")
            .field("lists", &lists.screener().lists())
            .finish()
    }
}

impl SharedLists {
    pub fn current(&self) -> Arc<ListSet> {
        self.0.load_full()
    }

    pub fn replace(&self, lists: ListSet) {
        self.0.store(Arc::new(lists));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEFAULT_THRESHOLD, PartyKind};

    #[test]
    fn a_resolution_holds_for_its_party_until_the_entry_changes() {
        let entry = Entry::new("7", PartyKind::Individual, "NORIEGA, Manuel Antonio");
        let list = ListVersion {
            name: "demo".to_owned(),
            version: 1,
        };
        let digest = entry_digest(&entry);
        let resolved = Suppression {
            party_id: "party-a".to_owned(),
            list: "demo".to_owned(),
            entry_id: "7".to_owned(),
            entry_sha256: digest.clone(),
        };
        let unresolved = ListSet::new(vec![(list.clone(), vec![entry.clone()])], Vec::new());
        let lists = unresolved.resolved(vec![resolved.clone()]);
        assert!(
            Arc::ptr_eq(&unresolved.indexed, &lists.indexed),
            "a resolution shares the index"
        );
        let query = Query::name("Manuel Antonio Noriega");
        let a = lists.screen_party(&query, "party-a", DEFAULT_THRESHOLD);
        assert_eq!((a.matches.len(), a.suppressed.len()), (0, 1));
        let b = lists.screen_party(&query, "party-b", DEFAULT_THRESHOLD);
        assert_eq!((b.matches.len(), b.suppressed.len()), (1, 0));
        assert_eq!(
            lists.screen_party_cached(&query, "party-b", DEFAULT_THRESHOLD),
            b
        );
        assert_eq!(
            lists.screen_party_cached(&query, "party-b", DEFAULT_THRESHOLD),
            b,
            "from the cache"
        );
        let mut changed = entry;
        changed.programs.push("SDGT".to_owned());
        assert_ne!(entry_digest(&changed), digest);
        let relisted = ListSet::new(vec![(list, vec![changed])], vec![resolved]);
        let again = relisted.screen_party(&query, "party-a", DEFAULT_THRESHOLD);
        assert_eq!(
            (again.matches.len(), again.suppressed.len()),
            (1, 0),
            "a changed entry matches again"
        );
        let shared = SharedLists::default();
        assert!(shared.current().screener().is_empty());
        shared.replace(relisted);
        assert_eq!(shared.current().screener().lists()[0].name, "demo");
    }
}
