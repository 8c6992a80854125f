//! Senzing JSON, as OpenSanctions exports it: one JSON object a line with `RECORD_ID`,
//! `RECORD_TYPE`, `NAMES`, `DATES`, `COUNTRIES` and `RISKS` (PEP data, for one).

use serde_json::Value;

use crate::entry::{BirthDate, Entry, ParseError, PartyKind};

const FILE: &str = "senzing JSON";

/// Reads one entry per non-blank line.
pub fn parse(text: &str) -> Result<Vec<Entry>, ParseError> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let record: Value = serde_json::from_str(line)
            .map_err(|error| ParseError::new(FILE, line_number, error.to_string()))?;
        entries
            .push(entry_of(&record).map_err(|reason| ParseError::new(FILE, line_number, reason))?);
    }
    Ok(entries)
}

/// The strings under `key` in each object of the array `list`.
fn each<'a>(record: &'a Value, list: &str, key: &'a str) -> impl Iterator<Item = &'a str> {
    record[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(move |item| item[key].as_str())
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

/// A name object's full name, or its parts put together.
fn full_name(name: &Value) -> Option<String> {
    if let Some(full) = name["NAME_FULL"]
        .as_str()
        .or_else(|| name["NAME_ORG"].as_str())
    {
        return Some(full.trim().to_owned()).filter(|full| !full.is_empty());
    }
    let parts: Vec<&str> = ["NAME_FIRST", "NAME_MIDDLE", "NAME_LAST"]
        .into_iter()
        .filter_map(|key| name[key].as_str())
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn entry_of(record: &Value) -> Result<Entry, String> {
    let id = record["RECORD_ID"]
        .as_str()
        .filter(|id| !id.trim().is_empty())
        .ok_or("no RECORD_ID")?;
    let kind = match record["RECORD_TYPE"].as_str().unwrap_or("PERSON") {
        "ORGANIZATION" | "COMPANY" => PartyKind::Entity,
        "VESSEL" => PartyKind::Vessel,
        "AIRCRAFT" => PartyKind::Aircraft,
        _ => PartyKind::Individual,
    };
    let names: Vec<(String, bool)> = record["NAMES"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|name| {
            let primary = name["NAME_TYPE"]
                .as_str()
                .is_none_or(|kind| kind == "PRIMARY");
            full_name(name).map(|full| (full, primary))
        })
        .collect();
    let primary = names
        .iter()
        .find(|(_, primary)| *primary)
        .or_else(|| names.first())
        .map(|(name, _)| name.clone())
        .ok_or_else(|| format!("record {id} has no name"))?;
    let mut entry = Entry::new(id.trim(), kind, primary);
    for (name, _) in &names {
        entry.add_alias(name, false);
    }
    entry.dates_of_birth = each(record, "DATES", "DATE_OF_BIRTH")
        .filter_map(BirthDate::parse_iso)
        .collect();
    for key in [
        "NATIONALITY",
        "CITIZENSHIP",
        "REGISTRATION_COUNTRY",
        "COUNTRY_OF_ASSOCIATION",
    ] {
        for country in each(record, "COUNTRIES", key) {
            entry.add_country(country);
        }
    }
    entry.programs = each(record, "RISKS", "TOPIC").map(str::to_owned).collect();
    Ok(entry)
}
