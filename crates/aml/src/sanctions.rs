//! Sanctions screening of the transfer's parties by name: when a request names the sender or
//! the receiver, the name is screened against the lists in use and a match raises
//! `SanctionsMatchRule` (critical). The stored request keeps only the names' keyed hashes; the
//! screened name shows in the alert's evidence, because the analyst must see what matched.

use redflag_core::{Alert, History, Rule};
use redflag_screening::{
    BirthDate, NameHasher, Named, Party, PartyPrint, Query, SANCTIONS_MATCH_RULE, SeenParties,
    SharedLists, sanctions_alert,
};

use crate::Transaction;

/// What screening in the flow needs: the lists in use (swapped by the service), the key names
/// are hashed with, and the score from which a name matches.
#[derive(Debug, Clone)]
pub struct NameScreening {
    pub lists: SharedLists,
    pub hasher: NameHasher,
    pub threshold: f64,
    /// The parties this process has printed for remembering already.
    pub seen: SeenParties,
}

/// A party's name as a request gives it, with the facts that confirm or contradict a match.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyName {
    pub name: String,
    pub date_of_birth: Option<BirthDate>,
    /// ISO 3166 alpha-2 (the request's `sender_country` or `receiver_country`).
    pub country: Option<String>,
}

/// A named party of a transfer, hashed for screening and remembering.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedParty {
    /// `sender` or `receiver`.
    pub role: &'static str,
    pub name: PartyName,
    pub party: Party,
    /// What to remember the party as, the first time this process sees it.
    pub print: Option<PartyPrint>,
}

impl NameScreening {
    /// The party `name` hashed with its facts, and printed when this process first sees it;
    /// `None` when the name has nothing to match on (refused earlier by [`Transaction::parse`]).
    pub fn party(&self, role: &'static str, name: &PartyName) -> Option<NamedParty> {
        let facts = (name.date_of_birth, name.country.as_deref());
        let party = self.hasher.party(&name.name, None, facts.0, facts.1)?;
        let print = if self.seen.first_sight(&party.party_id) {
            self.hasher.print(&name.name, None, facts.0, facts.1)
        } else {
            None
        };
        Some(NamedParty {
            role,
            name: name.clone(),
            party,
            print,
        })
    }
}

/// Raises a critical alert when a named party matches a listed entry at the threshold or
/// above, unless an analyst resolved that match as a false positive for that party.
pub struct SanctionsMatchRule {
    screening: NameScreening,
}

impl SanctionsMatchRule {
    pub fn new(screening: NameScreening) -> Self {
        Self { screening }
    }
}

impl Rule<Transaction> for SanctionsMatchRule {
    fn name(&self) -> &'static str {
        SANCTIONS_MATCH_RULE
    }

    fn evaluate(&self, transaction: &Transaction, _history: &History) -> Option<Alert> {
        if transaction.parties.is_empty() {
            return None;
        }
        let lists = self.screening.lists.current();
        let screened: Vec<(&NamedParty, Vec<redflag_screening::Match>)> = transaction
            .parties
            .iter()
            .map(|named| {
                let query = Query {
                    name: named.name.name.clone(),
                    kind: None,
                    date_of_birth: named.name.date_of_birth,
                    country: named.name.country.clone(),
                };
                let found = lists.screen_party_cached(
                    &query,
                    &named.party.party_id,
                    self.screening.threshold,
                );
                (named, found.matches)
            })
            .collect();
        let named: Vec<Named<'_>> = screened
            .iter()
            .flat_map(|(party, matches)| {
                matches.iter().map(|found| Named {
                    role: party.role,
                    name: Some(&party.name.name),
                    party_id: &party.party.party_id,
                    found,
                })
            })
            .collect();
        sanctions_alert(&named)
    }

    fn needs_history(&self) -> bool {
        false
    }
}
