//! One screen against OFAC SDN 2021 and the UN consolidated list (about 27,000 names and aliases):
//! a round of listed names, a typo of each and names that match nothing; and customers' names
//! with their country, as AML screens them inline.
//!
//!   cargo bench -p redflag-screening --bench screen

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use redflag_screening::{DEFAULT_THRESHOLD, ListVersion, Query, Screener, ofac, un};

fn shared(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/sanctions")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn screen(c: &mut Criterion) {
    let (sdn, alt, add) = (
        shared("ofac_sdn_2021.csv"),
        shared("ofac_alt_2021.csv"),
        shared("ofac_add_2021.csv"),
    );
    let ofac = ofac::parse(&ofac::OfacFiles {
        sdn: &sdn,
        alt: &alt,
        add: &add,
    })
    .expect("OFAC reads");
    let un = un::parse(&shared("un_consolidated_2026-02-27.xml")).expect("UN reads");
    let mut queries: Vec<Query> = Vec::new();
    for entry in ofac.iter().step_by(90).chain(un.iter().step_by(20)) {
        queries.push(Query::name(entry.name.clone()));
        queries.push(Query::name(entry.name.replacen('A', "E", 1)));
    }
    for name in [
        "Jennifer McClellan",
        "Global Holding Group",
        "Maria Gonzalez",
        "Peter Schmidt",
    ] {
        queries.push(Query::name(name));
    }
    c.bench_function("screening/index_ofac_and_un", |b| {
        b.iter(|| {
            Screener::new(vec![
                (
                    ListVersion {
                        name: "ofac".to_owned(),
                        version: 1,
                    },
                    ofac.clone(),
                ),
                (
                    ListVersion {
                        name: "un".to_owned(),
                        version: 1,
                    },
                    un.clone(),
                ),
            ])
        });
    });
    let screener = Screener::new(vec![
        (
            ListVersion {
                name: "ofac".to_owned(),
                version: 1,
            },
            ofac,
        ),
        (
            ListVersion {
                name: "un".to_owned(),
                version: 1,
            },
            un,
        ),
    ]);
    let mut next = 0;
    c.bench_function("screening/one_name", |b| {
        b.iter(|| {
            next = (next + 1) % queries.len();
            screener.screen(&queries[next], DEFAULT_THRESHOLD)
        });
    });
    // What AML screens inline: customers' names, with their country, that mostly match nothing.
    let given = [
        "James", "Maria", "Wei", "Fatima", "Olga", "Carlos", "Aisha", "Mohammed", "Ivan",
    ];
    let surnames = [
        "Smith", "Garcia", "Wang", "Khan", "Ivanova", "Silva", "Hassan", "Ali", "Petrov",
    ];
    let customers: Vec<Query> = (0..given.len() * surnames.len())
        .map(|n| Query {
            country: Some("US".to_owned()),
            ..Query::name(format!(
                "{} {}. {}",
                given[n % given.len()],
                char::from(b'A' + (n % 26) as u8),
                surnames[n / given.len()]
            ))
        })
        .collect();
    let mut next = 0;
    c.bench_function("screening/customer_with_country", |b| {
        b.iter(|| {
            next = (next + 1) % customers.len();
            screener.screen(&customers[next], DEFAULT_THRESHOLD)
        });
    });
}

criterion_group!(benches, screen);
criterion_main!(benches);
