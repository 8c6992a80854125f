//! Screening a name against every loaded list: candidates are blocked through a token index (the
//! token, its first and its last three letters), then scored token by token with Jaro-Winkler,
//! each token weighted by how rare it is across the lists, so that "CORP", "TRADING" or "AL" do
//! not carry a match. Dates of birth, countries and the party's kind raise or lower the score;
//! a weak alias counts for less. Every match says why, in its parts.

use std::collections::HashMap;

use serde::Serialize;

use crate::entry::{BirthDate, Entry, PartyKind};
use crate::names::{NormalName, normalise};

/// The score from which a match is reported, unless the caller asks otherwise.
pub const DEFAULT_THRESHOLD: f64 = 0.85;
/// Candidates scored in full per search (the best by the blocking index).
const CANDIDATES: usize = 100;
/// Matches returned at most.
const MAX_MATCHES: usize = 20;
/// A token pair this similar counts as the same token (below: unmatched).
const TOKEN_FLOOR: f64 = 0.8;
/// About what one typo leaves of a short name token's Jaro-Winkler similarity.
const TYPO_SIMILARITY: f64 = 0.88;
/// What an initial is worth against a token it begins.
const INITIAL_SIMILARITY: f64 = 0.82;
/// Tokens of four letters or fewer must be this similar to count.
const SHORT_TOKEN_FLOOR: f64 = 0.9;
/// Names run together must be this similar to count (a glued or split token, not a lookalike).
const GLUED_FLOOR: f64 = 0.94;

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

struct IndexedName {
    entry: usize,
    text: String,
    normal: NormalName,
    /// Each token's weight (its rarity), worked out once at indexing.
    weights: Vec<f64>,
    alias: bool,
    weak: bool,
}

/// Every name and alias of the loaded lists, indexed for screening.
pub struct Screener {
    lists: Vec<ListVersion>,
    entries: Vec<(usize, Entry)>,
    names: Vec<IndexedName>,
    /// Inverse document frequency of each token across the names.
    rarity: HashMap<String, f64>,
    /// Block key (token, `<first three`, `>last three`) to the names holding it.
    blocks: HashMap<String, Vec<u32>>,
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
            names: Vec::new(),
            rarity: HashMap::new(),
            blocks: HashMap::new(),
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
                        normal,
                        weights: Vec::new(),
                        alias: position > 0,
                        weak,
                    });
                }
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
            for key in seen
                .into_iter()
                .flat_map(|token| block_keys(token))
                .chain(glued)
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
    fn weight(&self, token: &str) -> f64 {
        if token.len() == 1 {
            1.0
        } else {
            self.rarity(token)
        }
    }

    /// The entries `query` matches at `threshold` or above, best first, one per entry.
    pub fn screen(&self, query: &Query, threshold: f64) -> Vec<Match> {
        let normal = normalise(&query.name);
        if normal.tokens.is_empty() {
            return Vec::new();
        }
        let mut best: HashMap<usize, (f64, &IndexedName, Parts)> = HashMap::new();
        for id in self.candidates(&normal) {
            let Some(name) = self.names.get(id as usize) else {
                continue;
            };
            let (_, entry) = &self.entries[name.entry];
            let (score, parts) = self.score(query, &normal, name, entry);
            if score < threshold {
                continue;
            }
            let better = best
                .get(&name.entry)
                .is_none_or(|(known, _, _)| score > *known);
            if better {
                best.insert(name.entry, (score, name, parts));
            }
        }
        let mut matches: Vec<Match> = best
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
        let mut weights: HashMap<u32, f64> = HashMap::new();
        let mut keys: Vec<(String, f64)> = Vec::new();
        for token in &query.tokens {
            let rarity = self.rarity(token);
            keys.extend(block_keys(token).map(|key| (key, rarity)));
        }
        keys.push((query.joined.clone(), self.rarest));
        for (key, rarity) in keys {
            let Some(postings) = self.blocks.get(&key) else {
                continue;
            };
            if postings.len() > common {
                continue;
            }
            for id in postings {
                *weights.entry(*id).or_default() += rarity;
            }
        }
        let mut ranked: Vec<(u32, f64)> = weights.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(CANDIDATES);
        ranked.into_iter().map(|(id, _)| id).collect()
    }

    fn score(
        &self,
        query: &Query,
        normal: &NormalName,
        name: &IndexedName,
        entry: &Entry,
    ) -> (f64, Parts) {
        let mut score = self.name_similarity(normal, name, entry.kind);
        let name_score = score;
        if name.weak {
            score *= 0.92;
        }
        let date_of_birth = dates_agree(query.date_of_birth, &entry.dates_of_birth);
        match date_of_birth {
            Agreement::Agrees => score += 0.05,
            Agreement::Disagrees => score -= 0.15,
            Agreement::Unknown => {}
        }
        let country = countries_agree(query.country.as_deref(), &entry.countries);
        match country {
            Agreement::Agrees => score += 0.02,
            Agreement::Disagrees => score -= 0.05,
            Agreement::Unknown => {}
        }
        let kind = match query.kind {
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
                name: round(name_score),
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
    fn name_similarity(
        &self,
        query: &NormalName,
        indexed: &IndexedName,
        candidate_kind: PartyKind,
    ) -> f64 {
        let candidate = &indexed.normal;
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (q, query_token) in query.tokens.iter().enumerate() {
            for (c, candidate_token) in candidate.tokens.iter().enumerate() {
                let similarity = token_similarity(query_token, candidate_token);
                if similarity >= TOKEN_FLOOR {
                    pairs.push((similarity, q, c));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        // Each token's partner (its index on the other side) and the pair's credit.
        let mut query_used: Vec<Option<(usize, f64)>> = vec![None; query.tokens.len()];
        let mut candidate_used: Vec<Option<(usize, f64)>> = vec![None; candidate.tokens.len()];
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
        for (token, used) in query.tokens.iter().zip(&query_used) {
            let (token_weight, credit) = match used {
                Some((c, credit)) => (indexed.weights[*c], *credit),
                None => (self.weight(token), 0.0),
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
        let aligned = aligned * (0.75 + 0.25 * information);
        let (short, long) = if query.joined.len() <= candidate.joined.len() {
            (query.joined.len(), candidate.joined.len())
        } else {
            (candidate.joined.len(), query.joined.len())
        };
        let glued = if query.tokens.len() != candidate.tokens.len()
            && short >= 6
            && (long - short) * 100 <= long * 15
        {
            let similarity = strsim::jaro_winkler(&query.joined, &candidate.joined);
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
}

/// What a token pair's similarity is worth: full within a typo's distance, falling three times
/// as fast beyond it, so that two merely similar tokens ("sarah", "sandra") do not add up to a match.
fn credit(similarity: f64) -> f64 {
    if similarity >= TYPO_SIMILARITY {
        similarity
    } else {
        similarity - 2.0 * (TYPO_SIMILARITY - similarity)
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
    let mut similarity = strsim::jaro_winkler(a, b);
    if (0.7..TYPO_SIMILARITY).contains(&similarity) && a.len().abs_diff(b.len()) <= 2 {
        similarity = similarity.max(strsim::normalized_levenshtein(a, b));
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

fn countries_agree(query: Option<&str>, listed: &[String]) -> Agreement {
    let Some(query) = query.map(str::trim).filter(|query| !query.is_empty()) else {
        return Agreement::Unknown;
    };
    if listed.is_empty() {
        return Agreement::Unknown;
    }
    if listed
        .iter()
        .any(|country| country.eq_ignore_ascii_case(query))
    {
        Agreement::Agrees
    } else {
        Agreement::Disagrees
    }
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
