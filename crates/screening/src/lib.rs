#![doc = include_str!("../README.md")]

mod entry;
pub mod names;
pub mod ofac;
pub mod own_csv;
mod screen;
pub mod senzing;
pub mod un;

pub use entry::{Alias, BirthDate, Entry, ParseError, PartyKind};
pub use screen::{Agreement, DEFAULT_THRESHOLD, ListVersion, Match, Parts, Query, Screener};
