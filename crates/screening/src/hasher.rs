//! Names as the flow keeps them: keyed hashes. A request's party name is stored as the hash of
//! its normalised name, and the party is remembered by its id (the name's hash with the facts
//! it came with) and its print; the clear name is only ever in the alert evidence of a match.

use redflag_core::{derive_key, keyed_hash};

use crate::entry::{BirthDate, PartyKind};
use crate::names::normalise;
use crate::print::{NamePrint, PartyPrint};

/// Hashes names with the deployment's secret key.
#[derive(Clone)]
pub struct NameHasher {
    key: [u8; 64],
}

impl std::fmt::Debug for NameHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NameHasher(..)")
    }
}

/// A party named in an event, identified by keyed hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The hash of the normalised name (32 hex digits): what the stored request keeps.
    pub name_hash: String,
    /// The name's hash with the facts (32 hex digits): one remembered party.
    pub party_id: String,
}

/// The parties this process has seen, so that each is printed and remembered once, not on every
/// event that names it (a print costs some thirty keyed hashes and a row). Bounded: beyond
/// [`SEEN_PARTIES`] it starts afresh, and a party seen again is remembered again, which the
/// store ignores. A party whose first decision was not stored (the database unreachable) is
/// remembered when a later process sees it.
#[derive(Debug, Clone, Default)]
pub struct SeenParties(std::sync::Arc<dashmap::DashSet<String>>);

/// Parties kept in [`SeenParties`] at most.
const SEEN_PARTIES: usize = 1_000_000;

impl SeenParties {
    /// True the first time `party_id` is offered (until the set starts afresh).
    pub fn first_sight(&self, party_id: &str) -> bool {
        if self.0.contains(party_id) {
            return false;
        }
        if self.0.len() >= SEEN_PARTIES {
            self.0.clear();
        }
        self.0.insert(party_id.to_owned())
    }
}

impl NameHasher {
    /// A hasher keyed by `secret` (any length; the same secret gives the same hashes on every
    /// gateway and after restarts; changing it forgets the remembered parties' linkage).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: derive_key(b"redflag-name-key", secret),
        }
    }

    /// One normalised token's hash, for prints.
    pub fn token(&self, token: &str) -> u64 {
        let hash = keyed_hash(&self.key, token.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&hash[..8]);
        u64::from_le_bytes(first)
    }

    fn hex(&self, message: &[u8]) -> String {
        base16ct::lower::encode_string(&keyed_hash(&self.key, message)[..16])
    }

    /// The hash of the name alone (32 hex digits), as a stored request and the audit log keep
    /// it; `None` for a name with nothing to match on.
    pub fn name_hash(&self, name: &str) -> Option<String> {
        let mut tokens = normalise(name).tokens;
        if tokens.is_empty() {
            return None;
        }
        tokens.sort_unstable();
        Some(self.hex(format!("name\0{}", tokens.join(" ")).as_bytes()))
    }

    /// The party `name` with its facts; `None` for a name with nothing to match on. Names that
    /// normalise alike ("NORIEGA, Manuel", "Manuel Noriega") are one party.
    pub fn party(
        &self,
        name: &str,
        kind: Option<PartyKind>,
        date_of_birth: Option<BirthDate>,
        country: Option<&str>,
    ) -> Option<Party> {
        let name_hash = self.name_hash(name)?;
        let date = date_of_birth
            .map(|date| format!("{}-{:?}-{:?}", date.year, date.month, date.day))
            .unwrap_or_default();
        let country = country.map(|country| country.trim().to_ascii_uppercase());
        let kind_name = kind.map(PartyKind::as_str).unwrap_or_default();
        let party_id = self.hex(
            format!(
                "party\0{name_hash}\0{kind_name}\0{date}\0{}",
                country.as_deref().unwrap_or_default()
            )
            .as_bytes(),
        );
        Some(Party {
            name_hash,
            party_id,
        })
    }

    /// What a party is remembered as: its name's print and its facts; `None` for a name with
    /// nothing to match on.
    pub fn print(
        &self,
        name: &str,
        kind: Option<PartyKind>,
        date_of_birth: Option<BirthDate>,
        country: Option<&str>,
    ) -> Option<PartyPrint> {
        Some(PartyPrint {
            name: NamePrint::of(name, &|token: &str| self.token(token))?,
            kind,
            date_of_birth,
            country: country.map(|country| country.trim().to_ascii_uppercase()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_party_however_its_name_is_written_and_nothing_of_it_shows() {
        let hasher = NameHasher::new(b"secret");
        let a = hasher
            .party("NORIEGA, Manuel", None, None, Some("pa"))
            .expect("a name");
        let b = hasher
            .party("Manuel Noriega", None, None, Some("PA"))
            .expect("a name");
        assert_eq!((a.name_hash.len(), a.party_id.len()), (32, 32));
        assert_eq!((&a.name_hash, &a.party_id), (&b.name_hash, &b.party_id));
        assert_eq!(
            hasher.name_hash("manuel  NORIEGA"),
            Some(a.name_hash.clone())
        );
        let older = hasher
            .party(
                "Manuel Noriega",
                None,
                BirthDate::parse_iso("1934"),
                Some("PA"),
            )
            .expect("a name");
        assert_eq!(older.name_hash, a.name_hash);
        assert_ne!(older.party_id, a.party_id, "other facts, another party");
        let other_key = NameHasher::new(b"other")
            .party("Manuel Noriega", None, None, Some("PA"))
            .expect("a name");
        assert_ne!(other_key.name_hash, a.name_hash);
        assert!(hasher.party(" ,. ", None, None, None).is_none());
        let print = hasher
            .print("Manuel Noriega", None, None, Some("pa"))
            .expect("a print");
        assert_eq!(print.country.as_deref(), Some("PA"));
        let seen = SeenParties::default();
        assert!(seen.first_sight(&a.party_id) && !seen.first_sight(&b.party_id));
        assert!(seen.first_sight(&older.party_id));
    }
}
