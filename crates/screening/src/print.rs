//! Names remembered without keeping them: a party seen in the flow is kept as keyed hashes of its
//! normalised tokens and of each token's one-letter deletions, so that when a list changes the
//! new entries can be screened against every remembered party, typos included (two tokens one
//! edit apart share a deletion), while the stored print cannot be read back into a name without
//! the deployment's key.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::entry::{BirthDate, PartyKind};
use crate::names::normalise;
use crate::screen::{Best, Facts, IndexedName, TYPO_SIMILARITY};
use crate::{Match, Screener};

/// Tokens shorter than this match only whole: one edit in a short token is another name.
const FUZZY_TOKEN: usize = 5;

/// One token of a remembered name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPrint {
    pub hash: u64,
    /// The token's length in letters: a short token matches only whole.
    pub len: u8,
    /// The hashes of the token with one letter left out, for tokens of [`FUZZY_TOKEN`] letters
    /// or more.
    pub deletions: Vec<u64>,
}

/// A remembered name: its tokens' prints and the hash of the tokens run together. Stored as one
/// base64 string of its hashes' bytes (a third of their JSON numbers: every new party is a row
/// the decisions' writer writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePrint {
    pub tokens: Vec<TokenPrint>,
    pub joined: u64,
}

impl NamePrint {
    /// The bytes: the joined hash, then per token its length, its hash, its deletions' count
    /// and their hashes (little-endian).
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(8 + self.tokens.len() * 64);
        bytes.extend_from_slice(&self.joined.to_le_bytes());
        for token in &self.tokens {
            bytes.push(token.len);
            bytes.extend_from_slice(&token.hash.to_le_bytes());
            bytes.push(u8::try_from(token.deletions.len()).unwrap_or(u8::MAX));
            for deletion in token.deletions.iter().take(usize::from(u8::MAX)) {
                bytes.extend_from_slice(&deletion.to_le_bytes());
            }
        }
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let mut rest = bytes;
        let word = |rest: &mut &[u8]| -> Option<u64> {
            let (head, tail) = rest.split_first_chunk::<8>()?;
            *rest = tail;
            Some(u64::from_le_bytes(*head))
        };
        let joined = word(&mut rest)?;
        let mut tokens = Vec::new();
        while let Some((&len, tail)) = rest.split_first() {
            rest = tail;
            let hash = word(&mut rest)?;
            let (&count, tail) = rest.split_first()?;
            rest = tail;
            let deletions = (0..count)
                .map(|_| word(&mut rest))
                .collect::<Option<Vec<u64>>>()?;
            tokens.push(TokenPrint {
                hash,
                len,
                deletions,
            });
        }
        Some(Self { tokens, joined })
    }
}

impl Serialize for NamePrint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD_NO_PAD.encode(self.to_bytes()))
    }
}

impl<'de> Deserialize<'de> for NamePrint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD_NO_PAD
            .decode(text.as_bytes())
            .ok()
            .and_then(|bytes| Self::from_bytes(&bytes))
            .ok_or_else(|| serde::de::Error::custom("not a name print"))
    }
}

impl NamePrint {
    /// The print of `name` under `hash` (the deployment's keyed hash of a normalised token);
    /// `None` for a name with nothing to match on.
    pub fn of(name: &str, hash: &impl Fn(&str) -> u64) -> Option<Self> {
        let normal = normalise(name);
        if normal.tokens.is_empty() {
            return None;
        }
        let tokens = normal
            .tokens
            .iter()
            .map(|token| token_print(token, hash))
            .collect();
        Some(Self {
            tokens,
            joined: hash(&normal.joined),
        })
    }
}

fn token_print(token: &str, hash: &impl Fn(&str) -> u64) -> TokenPrint {
    let deletions = if token.len() >= FUZZY_TOKEN {
        deletions(token).map(|shorter| hash(&shorter)).collect()
    } else {
        Vec::new()
    };
    TokenPrint {
        hash: hash(token),
        len: u8::try_from(token.len()).unwrap_or(u8::MAX),
        deletions,
    }
}

/// The token with each of its letters left out in turn (normalised tokens are ASCII).
fn deletions(token: &str) -> impl Iterator<Item = String> + '_ {
    (0..token.len()).map(move |at| [&token[..at], &token[at + 1..]].concat())
}

/// A remembered party: its name's print and the facts it was seen with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyPrint {
    pub name: NamePrint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PartyKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<BirthDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The names of some entries (a list update's added and changed ones), printed under the
/// deployment's key and indexed by their tokens' hashes, to screen remembered parties against.
pub struct PrintIndex<'a> {
    screener: &'a Screener,
    /// Each indexed name and its print.
    names: Vec<(&'a IndexedName, NamePrint)>,
    /// A token hash or deletion hash to the names (positions in `names`) holding it.
    postings: HashMap<u64, Vec<u32>>,
}

impl Screener {
    /// Indexes the names of the entries `(list, entry id)` given, for [`PrintIndex::screen`].
    pub fn print_index<'a>(
        &'a self,
        entries: &HashSet<(String, String)>,
        hash: &impl Fn(&str) -> u64,
    ) -> PrintIndex<'a> {
        let lists = self.lists();
        let mut index = PrintIndex {
            screener: self,
            names: Vec::new(),
            postings: HashMap::new(),
        };
        for name in &self.names {
            let (list, entry) = &self.entries[name.entry];
            if !entries.contains(&(lists[*list].name.clone(), entry.id.clone())) {
                continue;
            }
            let print = NamePrint {
                tokens: name
                    .normal
                    .tokens
                    .iter()
                    .map(|token| token_print(token, hash))
                    .collect(),
                joined: hash(&name.normal.joined),
            };
            let at = u32::try_from(index.names.len()).unwrap_or(u32::MAX);
            let mut keys: Vec<u64> = print
                .tokens
                .iter()
                .flat_map(|token| {
                    std::iter::once(token.hash).chain(token.deletions.iter().copied())
                })
                .chain(std::iter::once(print.joined))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                index.postings.entry(key).or_default().push(at);
            }
            index.names.push((name, print));
        }
        index
    }
}

impl PrintIndex<'_> {
    /// Names indexed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The indexed entries the remembered party matches at `threshold` or above, best first,
    /// scored as [`Screener::screen`] scores a name, token pairs one edit apart counting as a
    /// typo.
    pub fn screen(&self, party: &PartyPrint, threshold: f64) -> Vec<Match> {
        let mut candidates: Vec<u32> = party
            .name
            .tokens
            .iter()
            .flat_map(|token| std::iter::once(token.hash).chain(token.deletions.iter().copied()))
            .chain(std::iter::once(party.name.joined))
            .filter_map(|key| self.postings.get(&key))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let facts = Facts::new(party.kind, party.date_of_birth, party.country.as_deref());
        let mut best = Best::default();
        for at in candidates {
            let (name, print) = &self.names[at as usize];
            let (_, entry) = &self.screener.entries[name.entry];
            let similarity = self.similarity(&party.name, name, print, entry.kind);
            let (score, parts) = self.screener.adjusted(similarity, &facts, name, entry);
            if score >= threshold {
                best.offer(score, name, parts);
            }
        }
        self.screener.ranked(best)
    }

    fn similarity(
        &self,
        party: &NamePrint,
        name: &IndexedName,
        print: &NamePrint,
        kind: PartyKind,
    ) -> f64 {
        let mut pairs = Vec::new();
        for (q, query) in party.tokens.iter().enumerate() {
            for (c, candidate) in print.tokens.iter().enumerate() {
                if let Some(similarity) = token_similarity(query, candidate) {
                    pairs.push((similarity, q, c));
                }
            }
        }
        // A token the lists may not hold weighs what a typical token weighs: the party's own
        // tokens are not known here, only their hashes.
        let typical = self.screener.typical_weight();
        let aligned = self
            .screener
            .aligned(pairs, party.tokens.len(), |_| typical, name, kind);
        let glued = if party.tokens.len() != print.tokens.len() && party.joined == print.joined {
            0.98
        } else {
            0.0
        };
        aligned.max(glued)
    }
}

/// Equal tokens are alike; long tokens one edit apart (sharing a deletion, or one a deletion of
/// the other) are a typo apart, worth about what Jaro-Winkler gives one wrong letter in that
/// many (the longer the token, the less one letter says).
fn token_similarity(a: &TokenPrint, b: &TokenPrint) -> Option<f64> {
    if a.hash == b.hash {
        return Some(1.0);
    }
    if a.deletions.is_empty() || b.deletions.is_empty() || a.len.abs_diff(b.len) > 1 {
        return None;
    }
    let one_apart = a.deletions.contains(&b.hash)
        || b.deletions.contains(&a.hash)
        || a.deletions.iter().any(|hash| b.deletions.contains(hash));
    let longer = f64::from(a.len.max(b.len));
    one_apart.then(|| (1.0 - 0.5 / longer).max(TYPO_SIMILARITY))
}

#[cfg(test)]
mod tests {
    use std::hash::{DefaultHasher, Hash, Hasher};

    use super::*;
    use crate::{Agreement, DEFAULT_THRESHOLD, Entry, ListVersion};

    fn hash(token: &str) -> u64 {
        let mut hasher = DefaultHasher::new();
        ("key", token).hash(&mut hasher);
        hasher.finish()
    }

    fn screener() -> Screener {
        let mut person = Entry::new("P-1", PartyKind::Individual, "NORIEGA, Manuel Antonio");
        person.dates_of_birth.push(BirthDate::year(1934));
        let other = Entry::new("P-2", PartyKind::Individual, "SMITH, Manuel");
        let filler = (0..50)
            .map(|n| {
                Entry::new(
                    format!("F-{n}"),
                    PartyKind::Entity,
                    format!("FILLER NUMBER{n}"),
                )
            })
            .collect();
        Screener::new(vec![
            (
                ListVersion {
                    name: "demo".to_owned(),
                    version: 2,
                },
                vec![person, other],
            ),
            (
                ListVersion {
                    name: "filler".to_owned(),
                    version: 1,
                },
                filler,
            ),
        ])
    }

    fn party(name: &str) -> PartyPrint {
        PartyPrint {
            name: NamePrint::of(name, &hash).expect("a name"),
            kind: None,
            date_of_birth: None,
            country: None,
        }
    }

    #[test]
    fn a_remembered_party_matches_the_indexed_entries_only_typos_and_order_included() {
        let screener = screener();
        let changed = HashSet::from([("demo".to_owned(), "P-1".to_owned())]);
        let index = screener.print_index(&changed, &hash);
        assert_eq!(index.len(), 1);
        let exact = index.screen(&party("Manuel Antonio Noriega"), DEFAULT_THRESHOLD);
        assert_eq!(exact.len(), 1);
        assert_eq!(
            (exact[0].list.as_str(), exact[0].entry_id.as_str()),
            ("demo", "P-1")
        );
        assert_eq!(
            exact[0].score,
            screener.screen(&crate::Query::name("Manuel Antonio Noriega"), 0.0)[0].score,
            "an exact name scores as the screener scores it"
        );
        let typo = index.screen(&party("Manuel Noreiga"), DEFAULT_THRESHOLD);
        assert_eq!(typo.first().map(|m| m.entry_id.as_str()), Some("P-1"));
        assert!(typo[0].score < exact[0].score);
        assert!(
            index.screen(&party("Manuel Smith"), 0.5).is_empty(),
            "P-2 did not change"
        );
        assert!(
            index
                .screen(&party("Antonio Garcia"), DEFAULT_THRESHOLD)
                .is_empty()
        );
    }

    #[test]
    fn the_party_facts_count_and_the_print_keeps_no_name() {
        let screener = screener();
        let changed = HashSet::from([("demo".to_owned(), "P-1".to_owned())]);
        let index = screener.print_index(&changed, &hash);
        let mut older = party("Manuel Noriega");
        older.date_of_birth = Some(BirthDate::year(1980));
        let found = index.screen(&older, 0.0);
        assert_eq!(found[0].parts.date_of_birth, Agreement::Disagrees);
        assert!(found[0].score < DEFAULT_THRESHOLD);
        let stored = serde_json::to_string(&party("Manuel Noriega")).expect("serialises");
        assert!(!stored.to_lowercase().contains("noriega") && !stored.contains("manuel"));
        assert_eq!(
            serde_json::from_str::<PartyPrint>(&stored).expect("reads back"),
            party("Manuel Noriega")
        );
        assert_eq!(NamePrint::of("...", &hash), None);
        assert!(
            stored.len() < 400,
            "a three-token name's print is a few hundred bytes: {stored}"
        );
        assert!(serde_json::from_str::<PartyPrint>(r#"{"name": "AAAA"}"#).is_err());
    }
}
