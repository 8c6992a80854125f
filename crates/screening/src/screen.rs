//! Screening a name against every loaded list: candidates are blocked through a token index (the
//! token, its first and its last three letters), then scored token by token with Jaro-Winkler,
//! each token weighted by how rare it is across the lists, so that "CORP", "TRADING" or "AL" do
//! not carry a match. Dates of birth, countries and the party's kind raise or lower the score;
//! a weak alias counts for less. Every match says why, in its parts.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use serde::Serialize;

use crate::entry::{BirthDate, Entry, PartyKind};
use crate::names::{NormalName, normalise, skeleton};

/// The score from which a match is reported, unless the caller asks otherwise.
pub const DEFAULT_THRESHOLD: f64 = 0.85;
/// A name whose block keys shared with the query weigh less than this share of all the query's
/// keys is not scored: on the quality set this changes no result and halves a search of a name
/// that matches nothing (0.25 loses 1% of the typos).
const SHARED_KEYS_FLOOR: f64 = 0.15;
/// Candidates scored in full per search (the best by the blocking index).
const CANDIDATES: usize = 100;
/// Matches returned at most.
const MAX_MATCHES: usize = 20;
/// A token pair this similar counts as the same token (below: unmatched).
const TOKEN_FLOOR: f64 = 0.8;
/// About what one typo leaves of a short name token's Jaro-Winkler similarity.
pub(crate) const TYPO_SIMILARITY: f64 = 0.88;
/// What an initial is worth against a token it begins.
const INITIAL_SIMILARITY: f64 = 0.82;
/// Tokens of four letters or fewer must be this similar to count.
const SHORT_TOKEN_FLOOR: f64 = 0.9;
/// Names run together must be this similar to count (a glued or split token, not a lookalike).
const GLUED_FLOOR: f64 = 0.94;

/// The facts that confirm or contradict a match, however the name was given.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Facts<'a> {
    pub(crate) kind: Option<PartyKind>,
    pub(crate) date_of_birth: Option<BirthDate>,
    pub(crate) country: Option<&'a str>,
    /// `country` as an ISO alpha-2 code, when it reads as one.
    pub(crate) country_code: Option<&'static str>,
}

impl<'a> Facts<'a> {
    pub(crate) fn new(
        kind: Option<PartyKind>,
        date_of_birth: Option<BirthDate>,
        country: Option<&'a str>,
    ) -> Self {
        let country = country.map(str::trim).filter(|country| !country.is_empty());
        Self {
            kind,
            date_of_birth,
            country,
            country_code: country.and_then(country_code),
        }
    }
}

/// What is screened: a name and, when known, facts that confirm or contradict a match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub name: String,
    pub kind: Option<PartyKind>,
    pub date_of_birth: Option<BirthDate>,
    pub country: Option<String>,
}

impl Query {
    pub fn name(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// A loaded list: its name and version, as every answer names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListVersion {
    pub name: String,
    pub version: i64,
}

/// How a fact of the query compares with the entry's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    Agrees,
    Disagrees,
    /// The query or the entry does not say.
    Unknown,
}

/// Why a match scored what it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parts {
    /// The names' similarity alone, 0..1.
    pub name: f64,
    /// The entry's name that matched was an alias (and whether a weak one).
    pub alias: bool,
    pub weak_alias: bool,
    pub date_of_birth: Agreement,
    pub country: Agreement,
    pub kind: Agreement,
}

/// One listed entry the name matches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub list: String,
    pub entry_id: String,
    /// The entry's primary name.
    pub name: String,
    /// The entry's name (primary or alias) that matched.
    pub matched_name: String,
    pub score: f64,
    pub parts: Parts,
    pub programs: Vec<String>,
}

pub(crate) struct IndexedName {
    pub(crate) entry: usize,
    pub(crate) text: String,
    pub(crate) normal: NormalName,
    /// Each token's weight (its rarity), worked out once at indexing.
    pub(crate) weights: Vec<f64>,
    /// Each token's letters, counted: what bounds its similarity to another token cheaply.
    letters: Vec<Letters>,
    alias: bool,
    weak: bool,
}

thread_local! {
    /// One search's block weight per indexed name, and the names it touched (reset after the
    /// search): a dense array instead of a hash map on the search's hottest loop.
    static BLOCK_WEIGHTS: std::cell::RefCell<(Vec<f64>, Vec<u32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Each entry's best-scoring name so far: one match per entry.
#[derive(Default)]
pub(crate) struct Best<'a>(HashMap<usize, (f64, &'a IndexedName, Parts)>);

impl<'a> Best<'a> {
    pub(crate) fn offer(&mut self, score: f64, name: &'a IndexedName, parts: Parts) {
        let better = self
            .0
            .get(&name.entry)
            .is_none_or(|(known, _, _)| score > *known);
        if better {
            self.0.insert(name.entry, (score, name, parts));
        }
    }
}

/// Every name and alias of the loaded lists, indexed for screening.
pub struct Screener {
    lists: Vec<ListVersion>,
    pub(crate) entries: Vec<(usize, Entry)>,
    /// Each entry's countries as ISO alpha-2 codes, and whether every one of them read as one.
    countries: Vec<(Vec<&'static str>, bool)>,
    pub(crate) names: Vec<IndexedName>,
    /// Inverse document frequency of each token across the names.
    rarity: FxHashMap<String, f64>,
    /// Block key (token, `<first three`, `>last three`) to the names holding it.
    blocks: FxHashMap<String, Vec<u32>>,
    /// The rarity of a token seen once.
    rarest: f64,
    /// A name token's rarity on average: what a token the lists never use (a typo, a name not
    /// listed) weighs.
    typical: f64,
}

/// A token's block keys: the token, its first three letters, its last three, and its consonants
/// (a wrong vowel is the commonest misspelling of a name: "mechanga", "machanga").
fn block_keys(token: &str) -> impl Iterator<Item = String> + '_ {
    let long = token.len() >= 3;
    let consonants: String = token
        .chars()
        .filter(|letter| !matches!(letter, 'a' | 'e' | 'i' | 'o' | 'u' | 'y'))
        .collect();
    std::iter::once(token.to_owned())
        .chain(long.then(|| format!("<{}", &token[..3])))
        .chain(long.then(|| format!(">{}", &token[token.len() - 3..])))
        .chain((token.len() >= 5 && consonants.len() >= 3).then(|| format!("~{consonants}")))
}

impl Screener {
    /// Indexes the lists' entries (each list with its name and version).
    pub fn new(lists: Vec<(ListVersion, Vec<Entry>)>) -> Self {
        let mut screener = Self {
            lists: Vec::new(),
            entries: Vec::new(),
            countries: Vec::new(),
            names: Vec::new(),
            rarity: FxHashMap::default(),
            blocks: FxHashMap::default(),
            rarest: 1.0,
            typical: 1.0,
        };
        for (list, entries) in lists {
            let at = screener.lists.len();
            screener.lists.push(list);
            for entry in entries {
                let index = screener.entries.len();
                for (position, (name, weak)) in entry.names().enumerate() {
                    let normal = normalise(name);
                    if normal.tokens.is_empty() {
                        continue;
                    }
                    screener.names.push(IndexedName {
                        entry: index,
                        text: name.to_owned(),
                        letters: normal
                            .tokens
                            .iter()
                            .map(|token| Letters::of(token))
                            .collect(),
                        normal,
                        weights: Vec::new(),
                        alias: position > 0,
                        weak,
                    });
                }
                let codes: Vec<Option<&'static str>> = entry
                    .countries
                    .iter()
                    .map(|country| country_code(country))
                    .collect();
                screener.countries.push((
                    codes.iter().flatten().copied().collect(),
                    codes.iter().all(Option::is_some),
                ));
                screener.entries.push((at, entry));
            }
        }
        let mut frequency: HashMap<String, usize> = HashMap::new();
        for (at, name) in screener.names.iter().enumerate() {
            let mut seen: Vec<&String> = name.normal.tokens.iter().collect();
            seen.sort_unstable();
            seen.dedup();
            let id = u32::try_from(at).unwrap_or(u32::MAX);
            let glued = (name.normal.tokens.len() > 1).then(|| name.normal.joined.clone());
            for token in &seen {
                *frequency.entry((*token).clone()).or_default() += 1;
            }
            // Names written without vowels find their Latin spellings by consonants.
            let consonants = seen
                .iter()
                .map(|token| skeleton(token))
                .chain(glued.as_deref().map(skeleton))
                .filter(|consonants| consonants.len() >= 2)
                .map(|consonants| format!("^{consonants}"))
                .collect::<Vec<_>>();
            for key in seen
                .into_iter()
                .flat_map(|token| block_keys(token))
                .chain(glued)
                .chain(consonants)
            {
                let postings = screener.blocks.entry(key).or_default();
                if postings.last() != Some(&id) {
                    postings.push(id);
                }
            }
        }
        let total = screener.names.len().max(1) as f64;
        let (mut sum, mut occurrences) = (0.0, 0.0);
        screener.rarity = frequency
            .into_iter()
            .map(|(token, count)| {
                let rarity = (total / count as f64).ln() + 1.0;
                sum += rarity * count as f64;
                occurrences += count as f64;
                (token, rarity)
            })
            .collect();
        screener.rarest = (total.ln() + 1.0).max(1.0);
        screener.typical = if occurrences > 0.0 {
            sum / occurrences
        } else {
            1.0
        };
        let weights: Vec<Vec<f64>> = screener
            .names
            .iter()
            .map(|name| {
                name.normal
                    .tokens
                    .iter()
                    .map(|token| screener.weight(token))
                    .collect()
            })
            .collect();
        for (name, weights) in screener.names.iter_mut().zip(weights) {
            name.weights = weights;
        }
        screener
    }

    /// The lists loaded, with their versions.
    pub fn lists(&self) -> &[ListVersion] {
        &self.lists
    }

    /// Names and aliases indexed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn rarity(&self, token: &str) -> f64 {
        self.rarity.get(token).copied().unwrap_or(self.typical)
    }

    /// What a token weighs in a name: its rarity; an initial weighs little.
    pub(crate) fn weight(&self, token: &str) -> f64 {
        if token.len() == 1 {
            1.0
        } else {
            self.rarity(token)
        }
    }

    /// What a token the lists do not hold weighs: the rarity of a name token on average.
    pub(crate) fn typical_weight(&self) -> f64 {
        self.typical
    }

    /// The entries `query` matches at `threshold` or above, best first, one per entry.
    pub fn screen(&self, query: &Query, threshold: f64) -> Vec<Match> {
        let normal = normalise(&query.name);
        if normal.tokens.is_empty() {
            return Vec::new();
        }
        let mut best = Best::default();
        // Candidates share tokens ("mohammed", "trading"): each pair is compared once.
        let mut compared = Compared::default();
        let facts = Facts::new(query.kind, query.date_of_birth, query.country.as_deref());
        let letters: Vec<Letters> = normal
            .tokens
            .iter()
            .map(|token| Letters::of(token))
            .collect();
        for id in self.candidates(&normal) {
            let Some(name) = self.names.get(id as usize) else {
                continue;
            };
            let (_, entry) = &self.entries[name.entry];
            let similarity =
                self.name_similarity((&normal, &letters), name, entry.kind, &mut compared);
            let (score, parts) = self.adjusted(similarity, &facts, name, entry);
            if score >= threshold {
                best.offer(score, name, parts);
            }
        }
        self.ranked(best)
    }

    /// The best match of each entry as answers give them, best first, at most [`MAX_MATCHES`].
    pub(crate) fn ranked(&self, best: Best<'_>) -> Vec<Match> {
        let mut matches: Vec<Match> = best
            .0
            .into_iter()
            .map(|(index, (score, name, parts))| {
                let (list, entry) = &self.entries[index];
                Match {
                    list: self.lists[*list].name.clone(),
                    entry_id: entry.id.clone(),
                    name: entry.name.clone(),
                    matched_name: name.text.clone(),
                    score,
                    parts,
                    programs: entry.programs.clone(),
                }
            })
            .collect();
        matches.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.list.cmp(&b.list))
                .then_with(|| a.entry_id.cmp(&b.entry_id))
        });
        matches.truncate(MAX_MATCHES);
        matches
    }

    /// The names sharing the most (and rarest) block keys with the query.
    fn candidates(&self, query: &NormalName) -> Vec<u32> {
        let common = (self.names.len() / 25).max(200);
        let mut keys: Vec<(String, f64)> = Vec::new();
        for token in &query.tokens {
            let rarity = self.rarity(token);
            keys.extend(block_keys(token).map(|key| (key, rarity)));
        }
        keys.push((query.joined.clone(), self.rarest));
        let floor = SHARED_KEYS_FLOOR * keys.iter().map(|(_, rarity)| rarity).sum::<f64>();
        // A name written without vowels shares few spelled keys with its Latin spellings: its
        // consonants are another way in, not counted in what a candidate must share.
        if query.abjad {
            for token in query.tokens.iter().chain(std::iter::once(&query.joined)) {
                let consonants = skeleton(token);
                if consonants.len() >= 2 {
                    keys.push((format!("^{consonants}"), self.typical));
                }
            }
        }
        let mut ranked: Vec<(u32, f64)> = BLOCK_WEIGHTS.with_borrow_mut(|(weights, touched)| {
            if weights.len() < self.names.len() {
                weights.resize(self.names.len(), 0.0);
            }
            for (key, rarity) in keys {
                let Some(postings) = self.blocks.get(&key) else {
                    continue;
                };
                if postings.len() > common {
                    continue;
                }
                for id in postings {
                    let weight = &mut weights[*id as usize];
                    if *weight == 0.0 {
                        touched.push(*id);
                    }
                    // A rarity is at least 1: a touched name's weight is never 0 again.
                    *weight += rarity;
                }
            }
            touched
                .drain(..)
                .map(|id| (id, std::mem::take(&mut weights[id as usize])))
                .filter(|(_, weight)| *weight >= floor)
                .collect()
        });
        let order = |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if ranked.len() > CANDIDATES {
            ranked.select_nth_unstable_by(CANDIDATES, order);
            ranked.truncate(CANDIDATES);
        }
        ranked.sort_by(order);
        ranked.into_iter().map(|(id, _)| id).collect()
    }

    /// The score of a name similarity once the facts have spoken, with its parts.
    pub(crate) fn adjusted(
        &self,
        similarity: f64,
        facts: &Facts<'_>,
        name: &IndexedName,
        entry: &Entry,
    ) -> (f64, Parts) {
        let mut score = similarity;
        if name.weak {
            score *= 0.92;
        }
        let date_of_birth = dates_agree(facts.date_of_birth, &entry.dates_of_birth);
        match date_of_birth {
            Agreement::Agrees => score += 0.05,
            Agreement::Disagrees => score -= 0.15,
            Agreement::Unknown => {}
        }
        let (codes, all_known) = &self.countries[name.entry];
        let country = countries_agree(facts, &entry.countries, codes, *all_known);
        match country {
            Agreement::Agrees => score += 0.02,
            Agreement::Disagrees => score -= 0.05,
            Agreement::Unknown => {}
        }
        let kind = match facts.kind {
            None => Agreement::Unknown,
            Some(kind) if kind == entry.kind => Agreement::Agrees,
            Some(_) => Agreement::Disagrees,
        };
        if kind == Agreement::Disagrees {
            score -= 0.1;
        }
        let round = |value: f64| (value.clamp(0.0, 1.0) * 1000.0).round() / 1000.0;
        (
            round(score),
            Parts {
                name: round(similarity),
                alias: name.alias,
                weak_alias: name.weak,
                date_of_birth,
                country,
                kind,
            },
        )
    }

    /// Token by token, in any order: each query token aligned with its most similar candidate
    /// token (each used once), the alignment weighted by rarity both ways, and discounted when
    /// the tokens that agree carry little information together (common words only). Glued or
    /// split names ("alqaida", "al qaida") are compared run together too.
    fn name_similarity<'a>(
        &self,
        (query, letters): (&NormalName, &[Letters]),
        indexed: &'a IndexedName,
        candidate_kind: PartyKind,
        compared: &mut Compared<'a>,
    ) -> f64 {
        let candidate = &indexed.normal;
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (q, query_token) in query.tokens.iter().enumerate() {
            for (c, candidate_token) in candidate.tokens.iter().enumerate() {
                if !query.abjad && !letters[q].may_reach(&indexed.letters[c], TOKEN_FLOOR) {
                    continue;
                }
                let similarity = *compared
                    .0
                    .entry((q, candidate_token.as_str()))
                    .or_insert_with(|| {
                        if query.abjad {
                            abjad_similarity(query_token, candidate_token)
                        } else {
                            token_similarity(query_token, candidate_token)
                        }
                    });
                if similarity >= TOKEN_FLOOR {
                    pairs.push((similarity, q, c));
                }
            }
        }
        let aligned = self.aligned(
            pairs,
            query.tokens.len(),
            |q| self.weight(&query.tokens[q]),
            indexed,
            candidate_kind,
        );
        let (short, long) = if query.joined.len() <= candidate.joined.len() {
            (query.joined.len(), candidate.joined.len())
        } else {
            (candidate.joined.len(), query.joined.len())
        };
        let glued = if query.abjad
            && query.tokens.len() != candidate.tokens.len()
            && skeleton(&query.joined).len() >= 3
            && skeleton(&query.joined) == skeleton(&candidate.joined)
        {
            ABJAD_SIMILARITY - 0.02
        } else if query.tokens.len() != candidate.tokens.len()
            && short >= 6
            && (long - short) * 100 <= long * 15
        {
            let similarity = jaro_winkler(&query.joined, &candidate.joined);
            if similarity >= GLUED_FLOOR {
                similarity - 0.02
            } else {
                0.0
            }
        } else {
            0.0
        };
        aligned.max(glued)
    }

    /// The alignment's score from the similar token pairs (similarity, query token, candidate
    /// token): the best pairs first, each token used once. A query token left unmatched weighs
    /// `unmatched_weight`.
    pub(crate) fn aligned(
        &self,
        mut pairs: Vec<(f64, usize, usize)>,
        query_tokens: usize,
        unmatched_weight: impl Fn(usize) -> f64,
        indexed: &IndexedName,
        candidate_kind: PartyKind,
    ) -> f64 {
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        // Each token's partner (its index on the other side) and the pair's credit.
        let mut query_used: Vec<Option<(usize, f64)>> = vec![None; query_tokens];
        let mut candidate_used: Vec<Option<(usize, f64)>> = vec![None; indexed.weights.len()];
        for (similarity, q, c) in pairs {
            if query_used[q].is_none() && candidate_used[c].is_none() {
                let credit = credit(similarity);
                query_used[q] = Some((c, credit));
                candidate_used[c] = Some((q, credit));
            }
        }
        let (mut candidate_matched, mut candidate_total, mut agreeing) = (0.0, 0.0, 0.0);
        for (weight, used) in indexed.weights.iter().zip(&candidate_used) {
            candidate_total += weight;
            if let Some((_, credit)) = used {
                candidate_matched += weight * credit;
                agreeing += weight;
            }
        }
        // A query token weighs what the listed token it matched weighs (a misspelt token is
        // as telling as the right one); an unmatched one weighs its own rarity.
        let (mut query_matched, mut query_total) = (0.0, 0.0);
        for (q, used) in query_used.iter().enumerate() {
            let (token_weight, credit) = match used {
                Some((c, credit)) => (indexed.weights[*c], *credit),
                None => (unmatched_weight(q), 0.0),
            };
            query_total += token_weight;
            query_matched += token_weight * credit;
        }
        let share = |matched: f64, total: f64| if total > 0.0 { matched / total } else { 0.0 };
        // A person's name is often given without a middle name; a company's is not given
        // without its distinctive word, so the candidate's own tokens count for more there.
        let query_part = if candidate_kind == PartyKind::Individual {
            0.7
        } else {
            0.5
        };
        let aligned = query_part * share(query_matched, query_total)
            + (1.0 - query_part) * share(candidate_matched, candidate_total);
        // What the agreeing tokens say together, against one very rare token.
        let information = (agreeing / self.rarest).min(1.0);
        aligned * (0.75 + 0.25 * information)
    }
}

/// A normalised token's letters and digits, counted, and its length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Letters {
    counts: [u8; 36],
    len: usize,
}

impl Letters {
    pub(crate) fn of(token: &str) -> Self {
        let mut counts = [0u8; 36];
        for byte in token.bytes() {
            let slot = match byte {
                b'a'..=b'z' => usize::from(byte - b'a'),
                b'0'..=b'9' => 26 + usize::from(byte - b'0'),
                _ => continue,
            };
            counts[slot] = counts[slot].saturating_add(1);
        }
        Self {
            counts,
            len: token.len(),
        }
    }

    /// Whether the two tokens could be `floor` similar: Jaro's matches pair equal letters, so
    /// they are at most the letters both hold, which bounds Jaro-Winkler (a prefix of four at
    /// most) and the share of letters the edit distance keeps. Initials are always compared.
    fn may_reach(&self, other: &Self, floor: f64) -> bool {
        if self.len <= 1 || other.len <= 1 {
            return true;
        }
        let common: u32 = self
            .counts
            .iter()
            .zip(&other.counts)
            .map(|(a, b)| u32::from(*a.min(b)))
            .sum();
        let (common, a, b) = (f64::from(common), self.len as f64, other.len as f64);
        let jaro = (common / a + common / b + 1.0) / 3.0;
        let jaro_winkler = jaro + 0.4 * (1.0 - jaro);
        jaro_winkler.max(common / a.max(b)) >= floor
    }
}

/// A normalised (ASCII) name's bytes, as strsim's generic measures take a sequence.
struct Bytes<'s>(&'s [u8]);

impl<'s> IntoIterator for &Bytes<'s> {
    type Item = u8;
    type IntoIter = std::iter::Copied<std::slice::Iter<'s, u8>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().copied()
    }
}

/// Jaro-Winkler over the bytes: normalised names are ASCII, and bytes spare decoding characters.
fn jaro_winkler(a: &str, b: &str) -> f64 {
    strsim::generic_jaro_winkler(&Bytes(a.as_bytes()), &Bytes(b.as_bytes()))
}

/// The token pairs compared in one screen: a query token (by position) and a listed token.
#[derive(Default)]
struct Compared<'a>(FxHashMap<(usize, &'a str), f64>);

/// What a token pair's similarity is worth: full within a typo's distance, falling three times
/// as fast beyond it, so that two merely similar tokens ("sarah", "sandra") do not add up to a match.
fn credit(similarity: f64) -> f64 {
    if similarity >= TYPO_SIMILARITY {
        similarity
    } else {
        similarity - 2.0 * (TYPO_SIMILARITY - similarity)
    }
}

/// What a token written without vowels (Arabic, Hebrew) is worth against a token with the same
/// consonants: a likely spelling of it, not a certain one.
const ABJAD_SIMILARITY: f64 = 0.95;

/// A token of a name written in Arabic or Hebrew script against a listed token: alike when their
/// consonants are ([`skeleton`]), otherwise as any two tokens.
fn abjad_similarity(query: &str, candidate: &str) -> f64 {
    let consonants = skeleton(query);
    if !consonants.is_empty() && consonants == skeleton(candidate) {
        ABJAD_SIMILARITY
    } else {
        token_similarity(query, candidate)
    }
}

/// Jaro-Winkler, or the share of letters the edit distance keeps when that is higher; an
/// initial matches a token it begins. Short tokens must be nearly equal and of
/// about the same length: "kind" and "king", "mel" and "melfi" are different words more often
/// than a typo.
fn token_similarity(a: &str, b: &str) -> f64 {
    if a.len() == 1 || b.len() == 1 {
        return if a.as_bytes().first() == b.as_bytes().first() {
            INITIAL_SIMILARITY
        } else {
            0.0
        };
    }
    // Jaro-Winkler undervalues a wrong letter among repeated ones ("mechanga", "machanga": 0.80);
    // the edit distance sees one letter in eight.
    let mut similarity = jaro_winkler(a, b);
    if (0.7..TYPO_SIMILARITY).contains(&similarity) && a.len().abs_diff(b.len()) <= 2 {
        let distance = strsim::generic_levenshtein(&Bytes(a.as_bytes()), &Bytes(b.as_bytes()));
        similarity = similarity.max(1.0 - distance as f64 / a.len().max(b.len()) as f64);
    }
    let short = a.len().min(b.len()) <= 4;
    if short && (similarity < SHORT_TOKEN_FLOOR || a.len().abs_diff(b.len()) > 1) {
        0.0
    } else {
        similarity
    }
}

fn dates_agree(query: Option<BirthDate>, listed: &[BirthDate]) -> Agreement {
    let Some(query) = query else {
        return Agreement::Unknown;
    };
    if listed.is_empty() {
        return Agreement::Unknown;
    }
    let agrees = listed.iter().any(|date| {
        let slack = if date.approximate { 2 } else { 0 };
        if (query.year - date.year).abs() > slack {
            return false;
        }
        let same = |a: Option<u32>, b: Option<u32>| a.zip(b).is_none_or(|(a, b)| a == b);
        date.approximate || (same(query.month, date.month) && same(query.day, date.day))
    });
    if agrees {
        Agreement::Agrees
    } else {
        Agreement::Disagrees
    }
}

/// Whether the query's country is among the entry's (`codes` are the entry's countries read as
/// ISO codes; `all_known` says every one of them read). A country neither side can place is
/// not evidence against the match.
fn countries_agree(
    query: &Facts<'_>,
    listed: &[String],
    codes: &[&'static str],
    all_known: bool,
) -> Agreement {
    let Some(country) = query.country else {
        return Agreement::Unknown;
    };
    if listed.is_empty() {
        return Agreement::Unknown;
    }
    let same_text = listed
        .iter()
        .any(|known| known.eq_ignore_ascii_case(country));
    let same_code = query.country_code.is_some_and(|code| codes.contains(&code));
    if same_text || same_code {
        Agreement::Agrees
    } else if query.country_code.is_some() && all_known {
        Agreement::Disagrees
    } else {
        Agreement::Unknown
    }
}

/// A country's ISO 3166 alpha-2 code from a code or a name as lists and requests write it
/// ("IR", "IRN", "Iran", "Iran (Islamic Republic of)", "Russia"); `None` when unknown.
pub fn country_code(text: &str) -> Option<&'static str> {
    let text = text.trim();
    let read = |text: &str| {
        text.parse::<celes::Country>()
            .ok()
            .map(|country| country.alpha2)
    };
    read(text).or_else(|| {
        text.split_once('(')
            .map(|(name, _)| name.trim())
            .filter(|name| !name.is_empty())
            .and_then(read)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screener() -> Screener {
        let mut person = Entry::new("P-1", PartyKind::Individual, "NORIEGA, Manuel Antonio");
        person
            .dates_of_birth
            .push(BirthDate::parse_iso("1934-02-11").expect("a date"));
        person.countries.push("Panama".to_owned());
        person.add_alias("Cara de Pina", true);
        let mut bank = Entry::new("E-1", PartyKind::Entity, "BANCO NACIONAL DE CUBA");
        bank.add_alias("NATIONAL BANK OF CUBA", false);
        let traders = Entry::new("E-2", PartyKind::Entity, "GOLDEN STAR TRADING CO., LTD.");
        let filler: Vec<Entry> = (0..200)
            .map(|n| {
                Entry::new(
                    format!("F-{n}"),
                    PartyKind::Entity,
                    format!("GENERAL TRADING COMPANY NUMBER{n}"),
                )
            })
            .collect();
        Screener::new(vec![
            (
                ListVersion {
                    name: "demo".to_owned(),
                    version: 3,
                },
                vec![person, bank, traders],
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

    fn best(screener: &Screener, query: &Query) -> Option<Match> {
        screener.screen(query, DEFAULT_THRESHOLD).into_iter().next()
    }

    #[test]
    fn a_name_in_another_order_with_a_typo_and_accents_matches_with_its_parts() {
        let screener = screener();
        let found = best(&screener, &Query::name("Manuel Antonio Noriéga")).expect("matches");
        assert_eq!(
            (found.list.as_str(), found.entry_id.as_str()),
            ("demo", "P-1")
        );
        assert_eq!(found.matched_name, "NORIEGA, Manuel Antonio");
        assert_eq!(found.parts.date_of_birth, Agreement::Unknown);
        let typo =
            best(&screener, &Query::name("Manuel Noreiga")).expect("a typo and a dropped name");
        assert_eq!(typo.entry_id, "P-1");
        assert!(typo.score < found.score, "{} < {}", typo.score, found.score);
        assert_eq!(
            screener.lists()[0],
            ListVersion {
                name: "demo".to_owned(),
                version: 3
            }
        );
    }

    #[test]
    fn facts_that_agree_raise_a_score_and_facts_that_disagree_lower_it() {
        let screener = screener();
        let plain = best(&screener, &Query::name("Manuel Noriega")).expect("matches");
        let agreeing = Query {
            date_of_birth: BirthDate::parse_iso("1934"),
            country: Some("panama".to_owned()),
            kind: Some(PartyKind::Individual),
            ..Query::name("Manuel Noriega")
        };
        let agreed = best(&screener, &agreeing).expect("matches");
        assert!(agreed.score > plain.score);
        assert_eq!(
            (
                agreed.parts.date_of_birth,
                agreed.parts.country,
                agreed.parts.kind
            ),
            (Agreement::Agrees, Agreement::Agrees, Agreement::Agrees)
        );
        let other_person = Query {
            date_of_birth: BirthDate::parse_iso("1990-05-01"),
            ..Query::name("Manuel Noriega")
        };
        let lowered = screener.screen(&other_person, 0.0);
        let lowered = lowered
            .iter()
            .find(|m| m.entry_id == "P-1")
            .expect("scored");
        assert_eq!(lowered.parts.date_of_birth, Agreement::Disagrees);
        assert!(lowered.score < plain.score - 0.1);
    }

    #[test]
    fn aliases_match_and_a_weak_one_counts_for_less() {
        let screener = screener();
        let strong = best(&screener, &Query::name("National Bank of Cuba")).expect("the alias");
        assert_eq!(
            (
                strong.entry_id.as_str(),
                strong.parts.alias,
                strong.parts.weak_alias
            ),
            ("E-1", true, false)
        );
        assert_eq!(strong.name, "BANCO NACIONAL DE CUBA");
        let weak = screener.screen(&Query::name("Cara de Pina"), 0.0);
        let weak = weak.iter().find(|m| m.entry_id == "P-1").expect("scored");
        assert!(weak.parts.weak_alias && weak.score < 1.0 && weak.parts.name == 1.0);
    }

    #[test]
    fn countries_are_compared_by_code_or_name_and_an_unknown_one_is_no_evidence() {
        assert_eq!(country_code("IR"), Some("IR"));
        assert_eq!(country_code("Iran"), Some("IR"));
        assert_eq!(country_code("Iran (Islamic Republic of)"), Some("IR"));
        assert_eq!(country_code("Panama"), Some("PA"));
        assert_eq!(country_code("Atlantis"), None);
        let agree = |query: &str, listed: &[String]| {
            let codes: Vec<Option<&'static str>> =
                listed.iter().map(|country| country_code(country)).collect();
            let known: Vec<&'static str> = codes.iter().flatten().copied().collect();
            let facts = Facts::new(None, None, Some(query));
            countries_agree(&facts, listed, &known, codes.iter().all(Option::is_some))
        };
        let listed = ["Panama".to_owned()];
        assert_eq!(agree("pa", &listed), Agreement::Agrees);
        assert_eq!(agree("CU", &listed), Agreement::Disagrees);
        assert_eq!(agree("Atlantis", &listed), Agreement::Unknown);
        let unplaced = ["Region X".to_owned()];
        assert_eq!(agree("CU", &unplaced), Agreement::Unknown);
    }

    #[test]
    fn a_name_in_arabic_or_hebrew_script_finds_its_latin_spellings_by_consonants() {
        let screener = Screener::new(vec![(
            ListVersion {
                name: "demo".to_owned(),
                version: 1,
            },
            vec![
                Entry::new("A-1", PartyKind::Individual, "MAHMOUD, Khaled"),
                Entry::new("A-2", PartyKind::Individual, "ABDULLAH"),
                Entry::new("H-1", PartyKind::Individual, "DAVID, Moshe"),
                Entry::new("X-1", PartyKind::Individual, "MAHDI, Kamal"),
            ],
        )]);
        let best = |name: &str| best(&screener, &Query::name(name)).map(|found| found.entry_id);
        assert_eq!(best("خالد محمود").as_deref(), Some("A-1"));
        assert_eq!(
            best("عبد الله").as_deref(),
            Some("A-2"),
            "split in Arabic, one word listed"
        );
        assert_eq!(best("משה דוד").as_deref(), Some("H-1"));
        assert_eq!(best("كمال حسن"), None, "other consonants do not match");
        assert_eq!(
            best("Khld Mhmd"),
            None,
            "a name in Latin letters is not read as written without vowels"
        );
    }

    #[test]
    fn common_words_and_legal_forms_do_not_carry_a_match() {
        let screener = screener();
        assert!(best(&screener, &Query::name("General Trading Company")).is_none());
        assert!(best(&screener, &Query::name("Star Trading LLC")).is_none());
        let company = best(
            &screener,
            &Query::name("Golden Star Trading Company Limited"),
        )
        .expect("matches");
        assert_eq!(company.entry_id, "E-2");
        assert!(
            screener.screen(&Query::name("..."), 0.0).is_empty(),
            "no name, no match"
        );
    }
}
