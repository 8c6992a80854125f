//! One listed party as every list format reads into it: its names, the facts that confirm or
//! contradict a match (dates of birth, countries), and why it is listed.

use serde::{Deserialize, Serialize};

/// What kind of party an entry is; matching compares like with like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    Individual,
    Entity,
    Vessel,
    Aircraft,
}

impl PartyKind {
    pub const NAMES: [&'static str; 4] = ["individual", "entity", "vessel", "aircraft"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Entity => "entity",
            Self::Vessel => "vessel",
            Self::Aircraft => "aircraft",
        }
    }

    /// A kind by its name, case-insensitively; `None` for any other text.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        [Self::Individual, Self::Entity, Self::Vessel, Self::Aircraft]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(name))
    }
}

/// Another name of an entry. Lists mark some aliases as weak (OFAC's a.k.a.s in remarks, the UN's
/// low-quality aliases): a match on one counts for less.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub weak: bool,
}

/// A date of birth as precise as the list gives it: a year, a month or a day, possibly only
/// approximate ("circa 1958", "1958 to 1962" gives both years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BirthDate {
    pub year: i32,
    pub month: Option<u32>,
    pub day: Option<u32>,
    pub approximate: bool,
}

impl BirthDate {
    pub fn year(year: i32) -> Self {
        Self {
            year,
            month: None,
            day: None,
            approximate: false,
        }
    }

    /// Reads `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; `None` for anything else.
    pub fn parse_iso(text: &str) -> Option<Self> {
        let mut parts = text.trim().splitn(3, '-');
        let year = parts.next().filter(|year| year.len() == 4)?.parse().ok()?;
        let month = match parts.next() {
            Some(month) => Some(
                month
                    .parse()
                    .ok()
                    .filter(|month| (1..=12).contains(month))?,
            ),
            None => None,
        };
        let day = match parts.next() {
            Some(day) => Some(day.parse().ok().filter(|day| (1..=31).contains(day))?),
            None => None,
        };
        Some(Self {
            year,
            month,
            day,
            approximate: false,
        })
    }
}

/// One listed party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The list's own id (OFAC `ent_num`, UN `DATAID`, senzing `RECORD_ID`).
    pub id: String,
    pub kind: PartyKind,
    /// The primary name, as the list writes it (OFAC individuals: `SURNAME, Given Names`).
    pub name: String,
    pub aliases: Vec<Alias>,
    pub dates_of_birth: Vec<BirthDate>,
    /// Nationalities, citizenships and address countries, as the list names them.
    pub countries: Vec<String>,
    pub addresses: Vec<String>,
    /// Sanctions programmes (OFAC `SDGT`, UN `DRC`) or risk topics (`role.pep`).
    pub programs: Vec<String>,
}

impl Entry {
    pub fn new(id: impl Into<String>, kind: PartyKind, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind,
            name: name.into(),
            aliases: Vec::new(),
            dates_of_birth: Vec::new(),
            countries: Vec::new(),
            addresses: Vec::new(),
            programs: Vec::new(),
        }
    }

    /// Every name of the entry, the primary first, with whether it is a weak alias.
    pub fn names(&self) -> impl Iterator<Item = (&str, bool)> {
        std::iter::once((self.name.as_str(), false)).chain(
            self.aliases
                .iter()
                .map(|alias| (alias.name.as_str(), alias.weak)),
        )
    }

    /// Adds a country once (lists repeat them across nationality and addresses).
    pub(crate) fn add_country(&mut self, country: &str) {
        let country = country.trim();
        if !country.is_empty()
            && !self
                .countries
                .iter()
                .any(|known| known.eq_ignore_ascii_case(country))
        {
            self.countries.push(country.to_owned());
        }
    }

    /// Adds an alias once, unless it is the primary name.
    pub(crate) fn add_alias(&mut self, name: &str, weak: bool) {
        let name = name.trim();
        if !name.is_empty()
            && !name.eq_ignore_ascii_case(&self.name)
            && !self
                .aliases
                .iter()
                .any(|alias| alias.name.eq_ignore_ascii_case(name))
        {
            self.aliases.push(Alias {
                name: name.to_owned(),
                weak,
            });
        }
    }
}

/// Why a list file could not be read: the file, the line and the reason. The list in use stays.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {reason}")]
pub struct ParseError {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(file: &str, line: u64, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line,
            reason: reason.into(),
        }
    }
}
