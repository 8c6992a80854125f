//! The list readers on the real files in `../shared/data/sanctions/` (public OFAC, UN and
//! OpenSanctions data, never copied into the repository): every entry read, with its aliases,
//! dates and countries.

use std::collections::HashSet;
use std::path::PathBuf;

use redflag_screening::{BirthDate, Entry, PartyKind, ofac, senzing, un};

fn shared(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/sanctions")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "the shared list data is needed at {}: {error}",
            path.display()
        )
    })
}

fn ofac_of(year: u32) -> Vec<Entry> {
    let (sdn, alt, add) = (
        shared(&format!("ofac_sdn_{year}.csv")),
        shared(&format!("ofac_alt_{year}.csv")),
        shared(&format!("ofac_add_{year}.csv")),
    );
    ofac::parse(&ofac::OfacFiles {
        sdn: &sdn,
        alt: &alt,
        add: &add,
    })
    .expect("the OFAC files read")
}

fn find<'a>(entries: &'a [Entry], id: &str) -> &'a Entry {
    entries
        .iter()
        .find(|entry| entry.id == id)
        .unwrap_or_else(|| panic!("entry {id}"))
}

#[test]
fn both_ofac_publications_read_whole_with_aliases_addresses_and_remarks() {
    let (old, new) = (ofac_of(2019), ofac_of(2021));
    assert_eq!((old.len(), new.len()), (7_379, 8_976));
    let bank = find(&new, "306");
    assert_eq!(bank.name, "BANCO NACIONAL DE CUBA");
    assert_eq!(bank.kind, PartyKind::Entity);
    let aliases: Vec<(&str, bool)> = bank
        .aliases
        .iter()
        .map(|alias| (alias.name.as_str(), alias.weak))
        .collect();
    assert!(
        aliases.contains(&("NATIONAL BANK OF CUBA", false)),
        "{aliases:?}"
    );
    assert!(
        aliases.contains(&("BNC", true)),
        "the remarks' a.k.a. is weak: {aliases:?}"
    );
    assert!(
        bank.addresses
            .iter()
            .any(|address| address.contains("Zurich"))
    );
    assert!(bank.countries.contains(&"Switzerland".to_owned()));
    assert_eq!(bank.programs, ["CUBA"]);
    let noriega = find(&new, "1572");
    assert_eq!(noriega.kind, PartyKind::Individual);
    assert_eq!(noriega.name, "NORIEGA, Manuel Antonio");
    // Facts from the remarks, across the list.
    let with_dates = new
        .iter()
        .filter(|entry| !entry.dates_of_birth.is_empty())
        .count();
    let individuals = new
        .iter()
        .filter(|entry| entry.kind == PartyKind::Individual)
        .count();
    assert!(
        with_dates * 10 > individuals * 8,
        "{with_dates} of {individuals} individuals have a date of birth"
    );
    for kind in [PartyKind::Vessel, PartyKind::Aircraft] {
        assert!(new.iter().any(|entry| entry.kind == kind), "{kind:?}");
    }
    // The 2021 files end with the byte 0x1A, the 2019 ones do not: both read.
    assert_eq!(shared("ofac_sdn_2021.csv").last(), Some(&0x1A));
    // The update adds entries (and removes some): real churn to re-screen on.
    let ids = |entries: &[Entry]| -> HashSet<String> {
        entries.iter().map(|entry| entry.id.clone()).collect()
    };
    let (before, after) = (ids(&old), ids(&new));
    let (added, removed) = (
        after.difference(&before).count(),
        before.difference(&after).count(),
    );
    assert!(
        added > 1_000 && removed > 0,
        "added {added}, removed {removed}"
    );
}

#[test]
fn the_un_list_reads_individuals_and_entities_with_quality_aliases_and_dates() {
    let entries = un::parse(&shared("un_consolidated_2026-02-27.xml")).expect("the XML reads");
    let individuals = entries
        .iter()
        .filter(|entry| entry.kind == PartyKind::Individual)
        .count();
    assert_eq!((individuals, entries.len() - individuals), (730, 273));
    let frank = find(&entries, "6907994");
    assert_eq!(frank.name, "FRANK KAKOLELE BWAMBALE");
    assert!(
        frank
            .aliases
            .iter()
            .any(|alias| alias.name == "FRANK KAKORERE" && !alias.weak)
    );
    assert_eq!(
        frank.countries.first().map(String::as_str),
        Some("Democratic Republic of the Congo")
    );
    assert_eq!(frank.programs, ["DRC"]);
    let badege = find(&entries, "6907993");
    assert_eq!(badege.dates_of_birth, [BirthDate::year(1971)]);
    assert!(
        badege.countries.contains(&"Rwanda".to_owned()),
        "the address country counts too"
    );
    assert!(
        entries
            .iter()
            .any(|entry| entry.aliases.iter().any(|alias| alias.weak)),
        "Low-quality aliases are weak"
    );
    assert!(
        entries
            .iter()
            .any(|entry| entry.dates_of_birth.iter().any(|date| date.approximate))
    );
}

#[test]
fn senzing_json_reads_every_person_with_dates_countries_and_topics() {
    let text = String::from_utf8(shared("opensanctions_us_congress_senzing.json")).expect("UTF-8");
    let entries = senzing::parse(&text).expect("the JSON lines read");
    assert_eq!(entries.len(), 1_319);
    let first = find(&entries, "NK-AQ4HymsADSK2D63MkyTqfC");
    assert_eq!(first.name, "Jennifer L. McClellan");
    assert_eq!(first.kind, PartyKind::Individual);
    assert_eq!(first.dates_of_birth, [BirthDate::year(1972)]);
    assert_eq!(first.countries, ["us"]);
    assert_eq!(first.programs, ["role.pep"]);
}

#[test]
fn malformed_files_are_refused_with_the_line() {
    let error = un::parse(
        b"<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL><DATAID>1</DATAID>\n</ENTITY>\n",
    )
    .expect_err("refused");
    assert_eq!(error.line, 4, "{error}");
    let error =
        senzing::parse("{\"RECORD_ID\": \"A\", \"NAMES\": [{\"NAME_FULL\": \"X\"}]}\n{not json}\n")
            .expect_err("refused");
    assert_eq!(error.line, 2, "{error}");
    let error = senzing::parse("{\"RECORD_ID\": \"A\", \"NAMES\": []}\n").expect_err("refused");
    assert_eq!(
        error.to_string(),
        "senzing JSON, line 1: record A has no name"
    );
    let error =
        redflag_screening::own_csv::parse("id,name,kind\nA,Acme,company\n").expect_err("refused");
    assert_eq!(
        error.to_string(),
        "CSV list, line 2: kind `company` is not one of individual, entity, vessel, aircraft"
    );
}
