//! A team's own list as CSV: a header row, then one entry a row. `id` and `name` are required;
//! `kind` (individual, entity, vessel, aircraft; entity when blank), `aliases`, `dates_of_birth`
//! (YYYY, YYYY-MM or YYYY-MM-DD), `countries` and `programs` are optional, several values
//! separated by `;`.

use crate::entry::{BirthDate, Entry, ParseError, PartyKind};

const FILE: &str = "CSV list";
const COLUMNS: [&str; 7] = [
    "id",
    "name",
    "kind",
    "aliases",
    "dates_of_birth",
    "countries",
    "programs",
];

/// Reads the entries; a row that does not read is refused with its line.
pub fn parse(text: &str) -> Result<Vec<Entry>, ParseError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|error| ParseError::new(FILE, 1, error.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|header| header.trim().eq_ignore_ascii_case(name))
    };
    for header in &headers {
        if !COLUMNS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(header.trim()))
        {
            return Err(ParseError::new(
                FILE,
                1,
                format!(
                    "unknown column `{header}`; the columns are {}",
                    COLUMNS.join(", ")
                ),
            ));
        }
    }
    let (Some(id_at), Some(name_at)) = (column("id"), column("name")) else {
        return Err(ParseError::new(
            FILE,
            1,
            "the header names no `id` or no `name` column",
        ));
    };
    let mut entries = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| {
            ParseError::new(
                FILE,
                error.position().map_or(0, csv::Position::line),
                error.to_string(),
            )
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let cell = |at: Option<usize>| {
            at.and_then(|at| record.get(at))
                .map(str::trim)
                .unwrap_or_default()
        };
        let values = |name: &str| -> Vec<String> {
            cell(column(name))
                .split(';')
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let (id, name) = (cell(Some(id_at)), cell(Some(name_at)));
        if id.is_empty() || name.is_empty() {
            return Err(ParseError::new(FILE, line, "id and name are required"));
        }
        let kind = match cell(column("kind")) {
            "" => PartyKind::Entity,
            text => PartyKind::from_name(text).ok_or_else(|| {
                ParseError::new(
                    FILE,
                    line,
                    format!(
                        "kind `{text}` is not one of {}",
                        PartyKind::NAMES.join(", ")
                    ),
                )
            })?,
        };
        let mut entry = Entry::new(id, kind, name);
        for alias in values("aliases") {
            entry.add_alias(&alias, false);
        }
        for date in values("dates_of_birth") {
            let read = BirthDate::parse_iso(&date).ok_or_else(|| {
                ParseError::new(
                    FILE,
                    line,
                    format!("date of birth `{date}` is not YYYY, YYYY-MM or YYYY-MM-DD"),
                )
            })?;
            entry.dates_of_birth.push(read);
        }
        for country in values("countries") {
            entry.add_country(&country);
        }
        entry.programs = values("programs");
        entries.push(entry);
    }
    Ok(entries)
}
