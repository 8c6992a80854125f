//! The UN Security Council consolidated list (XML): `INDIVIDUALS/INDIVIDUAL` and
//! `ENTITIES/ENTITY`, ids in `DATAID`, names split over `FIRST_NAME` .. `FOURTH_NAME`, aliases
//! with a quality (`Low` is weak), dates of birth exact, approximate or between two years.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::entry::{BirthDate, Entry, ParseError, PartyKind};

const FILE: &str = "consolidated list";

/// What is being read inside one INDIVIDUAL or ENTITY.
#[derive(Default)]
struct Party {
    id: String,
    names: [String; 4],
    program: String,
    nationalities: Vec<String>,
    aliases: Vec<(String, bool)>,
    dates: Vec<BirthDate>,
    addresses: Vec<(String, String)>,
}

/// One alias, date or address being read.
#[derive(Default)]
struct Part {
    quality: String,
    name: String,
    kind_of_date: String,
    date: String,
    year: String,
    from_year: String,
    to_year: String,
    street: String,
    city: String,
    country: String,
}

/// Reads the list's individuals and entities.
pub fn parse(xml: &[u8]) -> Result<Vec<Entry>, ParseError> {
    let mut reader = Reader::from_reader(xml);
    let line_at = |position: u64| {
        let end = usize::try_from(position)
            .unwrap_or(usize::MAX)
            .min(xml.len());
        1 + xml[..end].iter().filter(|byte| **byte == b'\n').count() as u64
    };
    let mut entries = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut party: Option<(PartyKind, Party)> = None;
    let mut part = Part::default();
    // The text of the element being read: its pieces arrive apart from its entity references.
    let mut text = String::new();
    let mut buffer = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buffer).map_err(|error| {
            ParseError::new(FILE, line_at(reader.error_position()), error.to_string())
        })?;
        let failed = |error: &dyn std::fmt::Display| {
            ParseError::new(FILE, line_at(reader.buffer_position()), error.to_string())
        };
        match event {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                match name.as_str() {
                    "INDIVIDUAL" => party = Some((PartyKind::Individual, Party::default())),
                    "ENTITY" => party = Some((PartyKind::Entity, Party::default())),
                    _ => {}
                }
                if name.ends_with("_ALIAS")
                    || name.ends_with("_DATE_OF_BIRTH")
                    || name.ends_with("_ADDRESS")
                {
                    part = Part::default();
                }
                path.push(name);
                text.clear();
            }
            Event::Text(piece) => text.push_str(&piece.decode().map_err(|error| failed(&error))?),
            Event::GeneralRef(reference) => {
                if let Some(character) = reference
                    .resolve_char_ref()
                    .map_err(|error| failed(&error))?
                {
                    text.push(character);
                } else {
                    let name = reference.decode().map_err(|error| failed(&error))?;
                    let resolved = quick_xml::escape::resolve_xml_entity(&name)
                        .ok_or_else(|| failed(&format!("unknown entity &{name};")))?;
                    text.push_str(resolved);
                }
            }
            Event::End(_) => {
                let closed = path.pop().unwrap_or_default();
                let parent = path.last().map(String::as_str).unwrap_or_default();
                let value = std::mem::take(&mut text).trim().to_owned();
                let Some((kind, current)) = party.as_mut() else {
                    continue;
                };
                match (parent, closed.as_str()) {
                    (_, "DATAID") => current.id = value,
                    (_, "FIRST_NAME") => current.names[0] = value,
                    (_, "SECOND_NAME") => current.names[1] = value,
                    (_, "THIRD_NAME") => current.names[2] = value,
                    (_, "FOURTH_NAME") => current.names[3] = value,
                    (_, "UN_LIST_TYPE") => current.program = value,
                    ("NATIONALITY", "VALUE") => current.nationalities.push(value),
                    (_, "QUALITY") => part.quality = value,
                    (_, "ALIAS_NAME") => part.name = value,
                    (_, "TYPE_OF_DATE") => part.kind_of_date = value,
                    (_, "DATE") => part.date = value,
                    (_, "YEAR") => part.year = value,
                    (_, "FROM_YEAR") => part.from_year = value,
                    (_, "TO_YEAR") => part.to_year = value,
                    (_, "STREET") => part.street = value,
                    (_, "CITY") => part.city = value,
                    (parent, "COUNTRY") if parent.ends_with("_ADDRESS") => part.country = value,
                    (_, closed) if closed.ends_with("_ALIAS") && !part.name.is_empty() => current
                        .aliases
                        .push((std::mem::take(&mut part.name), part.quality == "Low")),
                    (_, closed) if closed.ends_with("_DATE_OF_BIRTH") => {
                        current.dates.extend(dates_of(&part));
                    }
                    (_, closed) if closed.ends_with("_ADDRESS") => {
                        let address = [&part.street, &part.city, &part.country]
                            .into_iter()
                            .filter(|text| !text.is_empty())
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ");
                        current.addresses.push((address, part.country.clone()));
                    }
                    (_, "INDIVIDUAL" | "ENTITY") => {
                        let kind = *kind;
                        if let Some((_, done)) = party.take() {
                            let position = reader.buffer_position();
                            let entry = entry_of(kind, done).map_err(|reason| {
                                ParseError::new(FILE, line_at(position), reason)
                            })?;
                            entries.push(entry);
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    if !path.is_empty() {
        return Err(ParseError::new(
            FILE,
            line_at(reader.buffer_position()),
            format!("the file ends inside <{}>", path.join("><")),
        ));
    }
    Ok(entries)
}

fn dates_of(part: &Part) -> Vec<BirthDate> {
    let approximate = part.kind_of_date != "EXACT";
    let year = |text: &str| text.trim().parse::<i32>().ok().map(BirthDate::year);
    let mut dates: Vec<BirthDate> = if part.kind_of_date == "BETWEEN" {
        [year(&part.from_year), year(&part.to_year)]
            .into_iter()
            .flatten()
            .collect()
    } else {
        BirthDate::parse_iso(&part.date)
            .or_else(|| year(&part.year))
            .into_iter()
            .collect()
    };
    for date in &mut dates {
        date.approximate = approximate;
    }
    dates
}

fn entry_of(kind: PartyKind, party: Party) -> Result<Entry, String> {
    if party.id.is_empty() {
        return Err("a party without a DATAID".to_owned());
    }
    let name = party
        .names
        .iter()
        .filter(|name| !name.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        return Err(format!("party {} has no name", party.id));
    }
    let mut entry = Entry::new(party.id, kind, name);
    if !party.program.is_empty() {
        entry.programs.push(party.program);
    }
    for (alias, weak) in party.aliases {
        entry.add_alias(&alias, weak);
    }
    entry.dates_of_birth = party.dates;
    for nationality in &party.nationalities {
        entry.add_country(nationality);
    }
    for (address, country) in party.addresses {
        entry.add_country(&country);
        if !address.is_empty() {
            entry.addresses.push(address);
        }
    }
    Ok(entry)
}
