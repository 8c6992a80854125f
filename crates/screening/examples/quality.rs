//! Screening quality on the real lists in `../shared/data/sanctions/`: OFAC SDN 2021 and the UN
//! consolidated list are loaded; listed names are varied the ways real queries differ from the
//! list (a typo, another order, accents, an alias, a dropped middle name, an initial, glued
//! tokens, another legal form) and names that must not match are screened too (common names
//! sharing one listed token, company names made of stopwords, the US Congress PEP names).
//! Prints recall per variant kind (beside a naive exact-match baseline), top-1 accuracy and false
//! positives at the default threshold, the cross-script pairs, and p50 and p99 of one screen.
//!
//!   cargo run --release -p redflag-screening --example quality [-- <threshold>]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use redflag_screening::{
    DEFAULT_THRESHOLD, Entry, ListVersion, PartyKind, Query, Screener, ofac, senzing, un,
};

fn shared(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/sanctions")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A deterministic stream of numbers (no dependency for a test set).
struct Stream(u64);

impl Stream {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % below.max(1)
    }
}

/// A name as a naive screener compares it: lower case, letters and digits, single spaces.
fn plain(name: &str) -> String {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn words(name: &str) -> Vec<String> {
    name.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The variants of one entry's primary name, by kind.
fn variants(entry: &Entry, stream: &mut Stream) -> Vec<(&'static str, String)> {
    let tokens = words(&entry.name);
    let mut out = vec![("exact", entry.name.clone())];
    // The typo goes in the longest word of the name itself: not in an abbreviation ("S.A.S.").
    let word_of_name =
        |token: &&String| !token.contains('.') && token.chars().all(char::is_alphabetic);
    if let Some((at, longest)) = tokens
        .iter()
        .enumerate()
        .filter(|(_, token)| word_of_name(token))
        .max_by_key(|(_, token)| token.len())
        && longest.chars().count() >= 5
    {
        let mut chars: Vec<char> = longest.chars().collect();
        let position = 1 + stream.next(chars.len() - 2);
        chars[position] = if chars[position] == 'E' || chars[position] == 'e' {
            'A'
        } else {
            'E'
        };
        let mut typo = tokens.clone();
        typo[at] = chars.into_iter().collect();
        out.push(("one typo", typo.join(" ")));
    }
    if tokens.len() >= 2 {
        let mut reversed = tokens.clone();
        reversed.reverse();
        out.push(("other order", reversed.join(" ")));
        let accented: String = entry
            .name
            .chars()
            .map(|c| match c {
                'A' => 'Á',
                'E' => 'É',
                'I' => 'Í',
                'O' => 'Ö',
                'U' => 'Ü',
                'a' => 'á',
                'e' => 'é',
                'o' => 'ö',
                other => other,
            })
            .collect();
        out.push(("diacritics", accented));
        if tokens.iter().take(2).all(|token| token.len() >= 3) {
            let glued = format!("{}{} {}", tokens[0], tokens[1], tokens[2..].join(" "));
            out.push(("glued tokens", glued.trim().to_owned()));
        }
    }
    if entry.kind == PartyKind::Individual && tokens.len() >= 3 {
        let mut dropped = tokens.clone();
        dropped.remove(tokens.len() - 1);
        out.push(("dropped middle name", dropped.join(" ")));
        let mut initial = tokens.clone();
        let last = initial.len() - 1;
        initial[last] = initial[last].chars().take(1).collect();
        out.push(("initial", initial.join(" ")));
    }
    if entry.kind == PartyKind::Entity {
        let upper = entry.name.to_uppercase();
        let swapped = if upper.contains("LIMITED") || upper.contains("LTD") {
            upper
                .replace("COMPANY LIMITED", "CO LTD")
                .replace("LIMITED", "LTD")
        } else {
            format!("{upper} LLC")
        };
        out.push(("legal form", swapped));
    }
    if let Some(alias) = entry.aliases.iter().find(|alias| !alias.weak) {
        out.push(("strong alias", alias.name.clone()));
    }
    out
}

const GIVEN: [&str; 10] = [
    "JOHN", "MARIA", "DAVID", "ANNA", "PETER", "LINDA", "JAMES", "SARAH", "MICHAEL", "LAURA",
];
const STOPWORD_COMPANIES: [&str; 8] = [
    "INTERNATIONAL TRADING COMPANY",
    "GLOBAL HOLDING GROUP LTD",
    "GENERAL TRADING LLC",
    "UNITED INVESTMENT CORPORATION",
    "NATIONAL INVESTMENT BANK",
    "FIRST INTERNATIONAL GROUP",
    "EASTERN SHIPPING CO LTD",
    "STAR TRADING CORP",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = std::io::stdout().lock();
    let threshold = std::env::args()
        .nth(1)
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_THRESHOLD);
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
    let sample: Vec<(&'static str, Entry)> = ofac
        .iter()
        .filter(|entry| entry.kind != PartyKind::Vessel)
        .step_by(25)
        .map(|entry| ("ofac", entry.clone()))
        .chain(un.iter().step_by(8).map(|entry| ("un", entry.clone())))
        .collect();
    let started = Instant::now();
    let screener = Screener::new(vec![
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
            un,
        ),
    ]);
    writeln!(
        out,
        "indexed {} names and aliases in {:.2} s; threshold {threshold}",
        screener.len(),
        started.elapsed().as_secs_f64()
    )?;
    let mut stream = Stream(404);
    let mut recall: BTreeMap<&str, (usize, usize, usize, usize)> = BTreeMap::new();
    let mut missed: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (list, entry) in &sample {
        for (kind, text) in variants(entry, &mut stream) {
            let matches = screener.screen(&Query::name(text.clone()), threshold);
            let found = matches
                .iter()
                .find(|m| m.list == *list && m.entry_id == entry.id);
            // First: nothing scores above it (the same party may be on both lists, equally).
            let first = found.is_some_and(|found| {
                matches
                    .first()
                    .is_some_and(|best| best.score <= found.score)
            });
            let counts = recall.entry(kind).or_default();
            counts.0 += 1;
            counts.1 += usize::from(found.is_some());
            counts.2 += usize::from(first);
            // The naive baseline: the name equals one of the entry's, case and punctuation aside.
            counts.3 += usize::from(entry.names().any(|(name, _)| plain(name) == plain(&text)));
            if found.is_none() {
                let misses = missed.entry(kind).or_default();
                if misses.len() < 3 {
                    let best = matches.first().map_or("nothing".to_owned(), |m| {
                        format!("{} ({})", m.matched_name, m.score)
                    });
                    misses.push(format!("`{text}` for {} got {best}", entry.name));
                }
            }
        }
    }
    writeln!(
        out,
        "\n| variant | queries | recall | top-1 | naive exact match |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for (kind, (total, found, first, naive)) in &recall {
        writeln!(
            out,
            "| {kind} | {total} | {:.1}% | {:.1}% | {:.1}% |",
            100.0 * *found as f64 / *total as f64,
            100.0 * *first as f64 / *total as f64,
            100.0 * *naive as f64 / *total as f64
        )?;
    }
    for (kind, misses) in &missed {
        writeln!(out, "missed ({kind}): {}", misses.join("; "))?;
    }
    // Names that must not match.
    let mut negatives: Vec<(&str, String)> = Vec::new();
    for (n, entry) in ofac
        .iter()
        .filter(|entry| entry.kind == PartyKind::Individual)
        .step_by(40)
        .enumerate()
    {
        if let Some(surname) = words(&entry.name).first() {
            negatives.push((
                "common name sharing one token",
                format!("{} {surname}", GIVEN[n % GIVEN.len()]),
            ));
        }
    }
    negatives.extend(
        STOPWORD_COMPANIES
            .iter()
            .map(|name| ("stopword company", (*name).to_owned())),
    );
    let peps = senzing::parse(
        &String::from_utf8(shared("opensanctions_us_congress_senzing.json")).expect("UTF-8"),
    )
    .expect("PEPs read");
    negatives.extend(peps.iter().map(|pep| ("US Congress PEP", pep.name.clone())));
    let mut false_positives: BTreeMap<&str, (usize, usize, Vec<String>)> = BTreeMap::new();
    for (kind, name) in &negatives {
        let matches = screener.screen(&Query::name(name.clone()), threshold);
        let counts = false_positives.entry(kind).or_default();
        counts.0 += 1;
        if let Some(best) = matches.first() {
            counts.1 += 1;
            if counts.2.len() < 5 {
                counts
                    .2
                    .push(format!("{name} ~ {} ({})", best.matched_name, best.score));
            }
        }
    }
    writeln!(
        out,
        "\n| must not match | queries | false positives | examples |"
    )?;
    writeln!(out, "|---|---|---|---|")?;
    for (kind, (total, hits, examples)) in &false_positives {
        writeln!(
            out,
            "| {kind} | {total} | {:.1}% | {} |",
            100.0 * *hits as f64 / *total as f64,
            examples.join("; ")
        )?;
    }
    // Across scripts: each pair's query against its expected name alone.
    let pairs = String::from_utf8(shared("cross_script_pairs.csv")).expect("UTF-8");
    writeln!(
        out,
        "\n| script pair | score | the pair's minimum | at the threshold |"
    )?;
    writeln!(out, "|---|---|---|---|")?;
    let (mut total, mut reached) = (0, 0);
    for line in pairs
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
    {
        let fields: Vec<&str> = line.split(',').collect();
        let [query, expected, minimum, ..] = fields.as_slice() else {
            continue;
        };
        let alone = Screener::new(vec![(
            ListVersion {
                name: "pair".to_owned(),
                version: 1,
            },
            vec![Entry::new("1", PartyKind::Individual, *expected)],
        )]);
        let score = alone
            .screen(&Query::name(*query), 0.0)
            .first()
            .map_or(0.0, |found| found.score);
        total += 1;
        reached += usize::from(score >= threshold);
        writeln!(
            out,
            "| {query} / {expected} | {score:.3} | {minimum} | {} |",
            if score >= threshold { "yes" } else { "no" }
        )?;
    }
    writeln!(
        out,
        "{reached} of {total} cross-script pairs reach the threshold"
    )?;
    // Speed, one query at a time.
    let queries: Vec<String> = sample.iter().map(|(_, entry)| entry.name.clone()).collect();
    let mut times: Vec<f64> = queries
        .iter()
        .map(|name| {
            let started = Instant::now();
            let _ = screener.screen(&Query::name(name.clone()), threshold);
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let at = |share: f64| times[((times.len() as f64 * share) as usize).min(times.len() - 1)];
    writeln!(
        out,
        "\n{} searches: p50 {:.3} ms, p99 {:.3} ms",
        times.len(),
        at(0.5),
        at(0.99)
    )?;
    Ok(())
}
