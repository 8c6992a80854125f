#![doc = include_str!("../README.md")]

mod alert;
mod entry;
mod format;
mod hasher;
mod lists;
pub mod names;
pub mod ofac;
pub mod own_csv;
mod print;
mod screen;
pub mod senzing;
pub mod un;

pub use alert::{Named, SANCTIONS_MATCH_RULE, sanctions_alert};
pub use entry::{Alias, BirthDate, Entry, ParseError, PartyKind};
pub use format::ListFormat;
pub use hasher::{NameHasher, Party, SeenParties};
pub use lists::{ListSet, Screened, SharedLists, Suppression, entry_digest};
pub use print::{NamePrint, PartyPrint, PrintIndex, TokenPrint};
pub use screen::{
    Agreement, DEFAULT_THRESHOLD, ListVersion, Match, Parts, Query, Screener, country_code,
};
