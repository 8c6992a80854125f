//! A list update screened against the parties remembered from the flow: 100,000 parties (named
//! from the US Congress PEP sample's given names and surnames, plus 200 named as entries the
//! update adds), OFAC SDN 2019 in use, then the
//! 2021 publication imported. `rescreen/100k_parties` times the re-screen alone: every party's
//! print read back from SQLite and screened against the 2,000-odd added and changed entries
//! (the alerts are stored already, so a repeat writes nothing). The import itself, re-screen
//! included, is timed once and printed.
//! Run: cargo bench -p redflag-service --bench rescreen

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use redflag_screening::{ListFormat, ofac};
use redflag_service::screening::Screening;
use redflag_service::settings::{Settings, Sources};
use redflag_store::PartyToRemember;
use redflag_store::scratch::ScratchDatabase;

/// Names combined (a few normalise alike, which is one party): 100,000 distinct.
const PARTIES: usize = 100_200;

/// Customers' names: the given names and the surnames of the US Congress PEP sample, combined
/// (real names, few of them on OFAC's list).
fn customers(senzing: &str, count: usize) -> Vec<String> {
    let people = redflag_screening::senzing::parse(senzing).expect("the PEP sample reads");
    let mut given: Vec<String> = Vec::new();
    let mut surnames: Vec<String> = Vec::new();
    for person in &people {
        let mut words = person.name.split_whitespace();
        if let (Some(first), Some(last)) = (words.next(), words.next_back()) {
            given.push(first.to_owned());
            surnames.push(last.to_owned());
        }
    }
    given.sort_unstable();
    given.dedup();
    surnames.sort_unstable();
    surnames.dedup();
    (0..count)
        .map(|index| {
            let first = &given[index % given.len()];
            let last = &surnames[(index / given.len()) % surnames.len()];
            format!("{first} {last}")
        })
        .collect()
}

fn shared(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/sanctions")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn rescreen(c: &mut Criterion) {
    let scratch = ScratchDatabase::sqlite();
    let sources = Sources {
        profile: None,
        config_dir: "../../config".into(),
        env: Default::default(),
    };
    let mut settings = Settings::load(&sources).expect("the default settings load");
    settings.database.url = scratch.url().to_owned();
    let db = settings.database.connect_and_migrate(2).expect("migrates");
    let screening = Screening::load(&settings, &db).expect("no lists yet");
    let files =
        |year: u32| ["sdn", "alt", "add"].map(|part| shared(&format!("ofac_{part}_{year}.csv")));
    let (old, new) = (files(2019), files(2021));
    fn as_slices(files: &[Vec<u8>; 3]) -> Vec<&[u8]> {
        files.iter().map(Vec::as_slice).collect()
    }
    let now = Utc::now();
    screening
        .import(
            &db,
            ("ofac-sdn", ListFormat::OfacCsv),
            &as_slices(&old),
            "bench",
            now,
        )
        .expect("2019 imports");
    let read = |files: &[Vec<u8>; 3]| {
        ofac::parse(&ofac::OfacFiles {
            sdn: &files[0],
            alt: &files[1],
            add: &files[2],
        })
        .expect("reads")
    };
    let known: HashSet<String> = read(&old).into_iter().map(|entry| entry.id).collect();
    let added: Vec<String> = read(&new)
        .into_iter()
        .filter(|entry| !known.contains(&entry.id))
        .map(|entry| entry.name)
        .take(200)
        .collect();
    let senzing = String::from_utf8(shared("opensanctions_us_congress_senzing.json"))
        .expect("the PEP sample is UTF-8");
    let names: Vec<String> = customers(&senzing, PARTIES - added.len())
        .into_iter()
        .chain(added)
        .collect();
    let parties: Vec<PartyToRemember> = names
        .iter()
        .filter_map(|name| {
            let party = screening.hasher.party(name, None, None, Some("US"))?;
            let print = screening.hasher.print(name, None, None, Some("US"))?;
            Some(PartyToRemember {
                party_id: party.party_id,
                print_json: serde_json::to_string(&print).ok()?,
            })
        })
        .collect();
    for chunk in parties.chunks(10_000) {
        db.remember_screening_parties(chunk, now)
            .expect("remembered");
    }
    let remembered = db.screening_party_count().expect("counts");
    let started = Instant::now();
    let imported = screening
        .import(
            &db,
            ("ofac-sdn", ListFormat::OfacCsv),
            &as_slices(&new),
            "bench",
            now,
        )
        .expect("2021 imports");
    let took = started.elapsed();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "rescreen: importing OFAC 2021 ({} added, {} changed) over {remembered} remembered parties \
         took {:.2} s, re-screen included: {} parties screened, {} alerts",
        imported.delta.added.len(),
        imported.delta.changed.len(),
        took.as_secs_f64(),
        imported.rescreen.parties,
        imported.rescreen.alerts
    )
    .expect("stdout");
    drop(out);
    let mut group = c.benchmark_group("rescreen");
    group.sample_size(10);
    group.bench_function("100k_parties", |b| {
        b.iter(|| {
            screening
                .rescreen(&db, &imported.version, now)
                .expect("re-screens")
        })
    });
    group.finish();
}

criterion_group!(benches, rescreen);
criterion_main!(benches);
