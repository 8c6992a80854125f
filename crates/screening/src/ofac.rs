//! OFAC's SDN list in its CSV form: `sdn.csv` (one row an entry, no header), `alt.csv` (aliases)
//! and `add.csv` (addresses). `-0-` is an empty field; a file may end with the byte 0x1A on a
//! line of its own. Dates of birth, nationalities and weak aliases are in the remarks' free text.

use std::collections::HashMap;

use csv::ByteRecord;

use crate::entry::{BirthDate, Entry, ParseError, PartyKind};

/// The three files of one OFAC publication, as bytes (names may be Latin-1 or UTF-8).
pub struct OfacFiles<'a> {
    pub sdn: &'a [u8],
    pub alt: &'a [u8],
    pub add: &'a [u8],
}

/// Reads the entries of an OFAC publication; aliases and addresses of an entry the SDN file does
/// not hold are left out.
pub fn parse(files: &OfacFiles<'_>) -> Result<Vec<Entry>, ParseError> {
    let mut entries = Vec::new();
    let mut by_id = HashMap::new();
    for (line, record) in records("sdn.csv", files.sdn, 12)? {
        let id = required(&record, 0, "sdn.csv", line, "ent_num")?;
        let name = required(&record, 1, "sdn.csv", line, "SDN_Name")?;
        let kind = match field(&record, 2).as_deref() {
            None => PartyKind::Entity,
            Some(kind) => PartyKind::from_name(kind).ok_or_else(|| {
                ParseError::new("sdn.csv", line, format!("unknown SDN_Type `{kind}`"))
            })?,
        };
        let mut entry = Entry::new(id.clone(), kind, name);
        if let Some(programs) = field(&record, 3) {
            entry.programs = programs
                .split("] [")
                .map(|program| {
                    program
                        .trim_matches(|c| c == '[' || c == ']')
                        .trim()
                        .to_owned()
                })
                .filter(|program| !program.is_empty())
                .collect();
        }
        if let Some(remarks) = field(&record, 11) {
            read_remarks(&mut entry, &remarks);
        }
        if by_id.insert(id.clone(), entries.len()).is_some() {
            return Err(ParseError::new(
                "sdn.csv",
                line,
                format!("ent_num {id} twice"),
            ));
        }
        entries.push(entry);
    }
    for (line, record) in records("alt.csv", files.alt, 5)? {
        let id = required(&record, 0, "alt.csv", line, "ent_num")?;
        let name = required(&record, 3, "alt.csv", line, "alt_name")?;
        if let Some(&index) = by_id.get(&id) {
            let weak = field(&record, 4).is_some_and(|remarks| is_weak(&remarks));
            entries[index].add_alias(&name, weak);
        }
    }
    for (line, record) in records("add.csv", files.add, 6)? {
        let id = required(&record, 0, "add.csv", line, "ent_num")?;
        let Some(&index) = by_id.get(&id) else {
            continue;
        };
        let entry = &mut entries[index];
        let parts: Vec<String> = [2, 3, 4]
            .into_iter()
            .filter_map(|at| field(&record, at))
            .collect();
        if let Some(country) = field(&record, 4) {
            entry.add_country(&country);
        }
        if !parts.is_empty() {
            entry.addresses.push(parts.join(", "));
        }
    }
    Ok(entries)
}

/// The rows of one file with their line numbers, each of `width` fields; the end-of-file marker
/// 0x1A is skipped.
fn records(file: &str, bytes: &[u8], width: usize) -> Result<Vec<(u64, ByteRecord)>, ParseError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for record in reader.byte_records() {
        let record = record.map_err(|error| {
            let line = error.position().map_or(0, csv::Position::line);
            ParseError::new(file, line, error.to_string())
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let marker = record.len() == 1
            && record.get(0).is_some_and(|only| {
                only.iter()
                    .all(|byte| *byte == 0x1A || byte.is_ascii_whitespace())
            });
        if marker {
            continue;
        }
        if record.len() != width {
            return Err(ParseError::new(
                file,
                line,
                format!("{} fields where the format has {width}", record.len()),
            ));
        }
        rows.push((line, record));
    }
    Ok(rows)
}

/// A field as text (UTF-8, else Latin-1), trimmed; `None` when empty or `-0-`.
fn field(record: &ByteRecord, at: usize) -> Option<String> {
    let bytes = record.get(at)?;
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&byte| char::from(byte)).collect(),
    };
    let text = text.trim();
    (!text.is_empty() && text != "-0-").then(|| text.to_owned())
}

fn required(
    record: &ByteRecord,
    at: usize,
    file: &str,
    line: u64,
    name: &str,
) -> Result<String, ParseError> {
    field(record, at).ok_or_else(|| ParseError::new(file, line, format!("{name} is empty")))
}

/// OFAC marks a weak alias in its remarks.
fn is_weak(remarks: &str) -> bool {
    remarks.to_ascii_lowercase().contains("weak")
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The facts in an SDN entry's remarks: `DOB ...;` (and `alt. DOB`), `nationality ...;`,
/// `citizen ...;` and the weak aliases written `a.k.a. 'NAME'`.
fn read_remarks(entry: &mut Entry, remarks: &str) {
    for clause in remarks.split(';') {
        let clause = clause.trim().trim_end_matches('.');
        let dates = clause
            .strip_prefix("DOB ")
            .or_else(|| clause.strip_prefix("alt. DOB "));
        if let Some(dates) = dates {
            entry.dates_of_birth.extend(birth_dates(dates));
        } else if let Some(country) = clause
            .strip_prefix("nationality ")
            .or_else(|| clause.strip_prefix("citizen "))
        {
            entry.add_country(country);
        }
    }
    let mut rest = remarks;
    while let Some(start) = rest.find(".k.a. '") {
        let after = &rest[start + ".k.a. '".len()..];
        let Some(end) = after.find('\'') else {
            break;
        };
        entry.add_alias(&after[..end], true);
        rest = &after[end..];
    }
}

/// `10 Dec 1948`, `Dec 1948`, `1948`, `circa 1948`, `1958 to 1962` (both years, approximate).
fn birth_dates(text: &str) -> Vec<BirthDate> {
    let approximate = text.contains("circa") || text.contains(" to ");
    let mut dates = Vec::new();
    for part in text.split(" to ") {
        let words: Vec<&str> = part
            .split_whitespace()
            .filter(|word| *word != "circa")
            .collect();
        let month_of = |word: &str| {
            MONTHS
                .iter()
                .position(|month| word.to_ascii_lowercase().starts_with(month))
                .map(|index| index as u32 + 1)
        };
        let year = words.last().and_then(|year| year.parse::<i32>().ok());
        let Some(year) = year.filter(|year| (1800..=2100).contains(year)) else {
            continue;
        };
        let (day, month) = match words.as_slice() {
            [day, month, _] => (day.parse().ok(), month_of(month)),
            [month, _] => (None, month_of(month)),
            _ => (None, None),
        };
        dates.push(BirthDate {
            year,
            month,
            day: day.filter(|_| month.is_some()),
            approximate,
        });
    }
    dates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remarks_give_dates_countries_and_weak_aliases() {
        let mut entry = Entry::new("1", PartyKind::Individual, "DOE, John");
        read_remarks(
            &mut entry,
            "DOB 10 Dec 1948; alt. DOB circa 1950; nationality Iran; citizen Iraq; a.k.a. 'JD'; a.k.a. 'JOHNNY'.",
        );
        assert_eq!(
            entry.dates_of_birth,
            [
                BirthDate {
                    year: 1948,
                    month: Some(12),
                    day: Some(10),
                    approximate: false
                },
                BirthDate {
                    year: 1950,
                    month: None,
                    day: None,
                    approximate: true
                },
            ]
        );
        assert_eq!(entry.countries, ["Iran", "Iraq"]);
        let aliases: Vec<(&str, bool)> = entry
            .aliases
            .iter()
            .map(|a| (a.name.as_str(), a.weak))
            .collect();
        assert_eq!(aliases, [("JD", true), ("JOHNNY", true)]);
        assert_eq!(
            birth_dates("1958 to 1962"),
            [
                BirthDate {
                    year: 1958,
                    month: None,
                    day: None,
                    approximate: true
                },
                BirthDate {
                    year: 1962,
                    month: None,
                    day: None,
                    approximate: true
                },
            ]
        );
        assert_eq!(birth_dates("Mar 1960")[0].month, Some(3));
    }

    #[test]
    fn a_row_of_the_wrong_width_is_refused_with_its_line() {
        let sdn = b"1,\"A\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n2,\"B\",-0- \n";
        let error = parse(&OfacFiles {
            sdn,
            alt: b"",
            add: b"",
        })
        .expect_err("refused");
        assert_eq!((error.file.as_str(), error.line), ("sdn.csv", 2));
        assert_eq!(error.reason, "3 fields where the format has 12");
    }
}
