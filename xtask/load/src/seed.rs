//! `cargo xtask seed`: a realistic stretch of activity across the four modules, sent through the
//! API like any client's, with planted cases of every typology among it; then what was planted
//! and what was caught.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::{DateTime, Duration, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use redflag_ml_core::Sampler;
use serde_json::Value;

use crate::client::{Connection, Target};
use crate::plants::{PLANTS, watched_party};
use crate::traffic::{Endpoint, Population, Traffic};

/// Connections the events are spread over. A planted case keeps to one, in order, so that its
/// events arrive as they happened.
const LANES: usize = 8;

/// Ordinary events between planted cases of each typology.
const EVENTS_PER_PLANT: usize = 2_000;

/// What to generate.
pub struct SeedPlan {
    pub events: usize,
    pub days: u32,
    pub seed: u64,
}

struct Item {
    at: DateTime<Utc>,
    endpoint: Endpoint,
    body: Value,
    /// The planted case the event belongs to.
    case: Option<usize>,
}

/// What came back.
#[derive(Default)]
struct Outcome {
    /// Per planted case: whether any of its events carried its marker.
    caught: Vec<bool>,
    /// Per module: events stored, of them flagged, and resends already stored.
    stored: [(usize, usize, usize); 4],
    errors: usize,
    first_error: Option<String>,
}

/// What a plan's planted ids are made of: the period's end (the start of today, UTC), the run's
/// name and how many copies of each typology it plants.
fn run_of(plan: &SeedPlan) -> (DateTime<Utc>, String, usize) {
    let end = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or_else(Utc::now, |midnight| midnight.and_utc());
    let run = format!("seed{}-{}", plan.seed, end.format("%Y%m%d"));
    (end, run, (plan.events / EVENTS_PER_PLANT).max(1))
}

fn case_id(plant: usize, copy: usize, run: &str) -> String {
    format!("PL{plant}-{copy}-{run}")
}

/// The parties the plan's watchlist cases send from: what the watchlist given to the seed's own
/// server lists.
pub fn watched_parties(plan: &SeedPlan) -> Vec<String> {
    let (_, run, copies) = run_of(plan);
    PLANTS
        .iter()
        .enumerate()
        .filter(|(_, plant)| plant.needs_watchlist())
        .flat_map(|(index, _)| (0..copies).map(move |copy| (index, copy)))
        .map(|(index, copy)| watched_party(&case_id(index, copy, &run)))
        .collect()
}

/// The events of the plan, in time order: ordinary traffic spread over the period (half AML,
/// a quarter market, the rest insurance and credit) and the planted cases among it (those that
/// need the seed's watchlist or its demo sanctions list only `with_watchlist`, on its own server). The period ends at the start of today (UTC),
/// so that a second run the same day sends the same events and is answered idempotently.
fn events(plan: &SeedPlan, with_watchlist: bool) -> (Vec<Item>, Vec<(usize, String)>) {
    let (end, run, copies) = run_of(plan);
    let start = end - Duration::days(i64::from(plan.days.max(1)));
    let period = (end - start).num_seconds() as f64;
    let mut traffic = Traffic::new(plan.seed, &run, Population::DEMO);
    let mut sampler = Sampler::new(plan.seed ^ 0x5eed);
    let mut items = Vec::with_capacity(plan.events + PLANTS.len() * 8);
    for sequence in 0..plan.events {
        let draw = sampler.unit();
        let endpoint = match draw {
            d if d < 0.5 => Endpoint::Aml,
            d if d < 0.75 => Endpoint::Market,
            d if d < 0.9 => Endpoint::Insurance,
            _ => Endpoint::Credit,
        };
        let at = start + Duration::seconds((sampler.unit() * period) as i64);
        let body = traffic.body(endpoint, sequence as u64, Some(at));
        items.push(Item {
            at,
            endpoint,
            body,
            case: None,
        });
    }
    let mut cases = Vec::new();
    for (index, plant) in PLANTS.iter().enumerate() {
        if (plant.needs_watchlist() || plant.needs_demo_list()) && !with_watchlist {
            continue;
        }
        for copy in 0..copies {
            let case = cases.len();
            // Every event of the case lies in the past: a case longer than the period starts
            // before it.
            let latest_first = end - plant.span - Duration::hours(1);
            // A case the anomaly alert must catch comes in the second half of the period, once
            // the traffic before it has calibrated the alert.
            let earliest = if plant.needs_calibration() {
                start + (end - start) / 2
            } else {
                start
            };
            let room = (latest_first - earliest).num_seconds().max(0) as f64;
            let first =
                latest_first.min(earliest) + Duration::seconds((sampler.unit() * room) as i64);
            let id = case_id(index, copy, &run);
            for (at, body) in plant.events(&id, first) {
                items.push(Item {
                    at,
                    endpoint: plant.module,
                    body,
                    case: Some(case),
                });
            }
            cases.push((index, id));
        }
    }
    items.sort_by_key(|item| item.at);
    (items, cases)
}

fn module_slot(endpoint: Endpoint) -> usize {
    match endpoint {
        Endpoint::Aml | Endpoint::Echo => 0,
        Endpoint::Credit => 1,
        Endpoint::Insurance => 2,
        Endpoint::Market => 3,
    }
}

/// Sends the plan's events to `target` and reports what was planted and caught; `with_watchlist`
/// when the server's watchlist lists [`watched_parties`].
pub async fn seed(
    target: &Target,
    token: &str,
    plan: &SeedPlan,
    with_watchlist: bool,
) -> Result<(), String> {
    let (items, cases) = events(plan, with_watchlist);
    let total = items.len();
    let progress = ProgressBar::new(total as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events  {per_sec}  ETA {eta}  {msg}")
            .map_err(|e| e.to_string())?,
    );
    let outcome = Rc::new(RefCell::new(Outcome {
        caught: vec![false; cases.len()],
        ..Outcome::default()
    }));
    let plant_of: Rc<Vec<usize>> = Rc::new(cases.iter().map(|(plant, _)| *plant).collect());
    // The first half of the period warms the anomaly models up; the second half waits for the
    // worker to calibrate them on it, as a deployment's later traffic would find them.
    let middle = match (items.first(), items.last()) {
        (Some(first), Some(last)) => first.at + (last.at - first.at) / 2,
        _ => Utc::now(),
    };
    let (earlier, later): (Vec<Item>, Vec<Item>) =
        items.into_iter().partition(|item| item.at < middle);
    send_items(target, token, earlier, &outcome, &progress, &plant_of).await?;
    progress.set_message("waiting for the anomaly alerts' calibration");
    wait_for_calibration(target, token).await;
    progress.set_message("");
    send_items(target, token, later, &outcome, &progress, &plant_of).await?;
    progress.finish_with_message("done");
    let outcome = outcome.borrow();
    report(&outcome, &cases);
    if outcome.errors > 0 {
        return Err(format!(
            "{} events were refused; the first: {}",
            outcome.errors,
            outcome.first_error.clone().unwrap_or_default()
        ));
    }
    Ok(())
}

/// Sends `items` over [`LANES`] connections, a planted case's events on one, in order; what came
/// back goes into `outcome`.
async fn send_items(
    target: &Target,
    token: &str,
    items: Vec<Item>,
    outcome: &Rc<RefCell<Outcome>>,
    progress: &ProgressBar,
    plant_of: &Rc<Vec<usize>>,
) -> Result<(), String> {
    let mut lanes: Vec<Vec<Item>> = (0..LANES).map(|_| Vec::new()).collect();
    for (position, item) in items.into_iter().enumerate() {
        let lane = item.case.unwrap_or(position) % LANES;
        lanes[lane].push(item);
    }
    let local = tokio::task::LocalSet::new();
    let mut handles = Vec::new();
    for lane in lanes {
        let (target, token, outcome, progress, plant_of) = (
            target.clone(),
            token.to_owned(),
            Rc::clone(outcome),
            progress.clone(),
            Rc::clone(plant_of),
        );
        handles.push(local.spawn_local(async move {
            let mut connection = Connection::open(&target)
                .await
                .map_err(|e| format!("{}: {e}", target.url))?;
            for item in lane {
                let body = item.body.to_string();
                let response = connection
                    .send("POST", item.endpoint.path(), Some(&token), body.as_bytes())
                    .await
                    .map_err(|e| format!("{}: {e}", target.url))?;
                let text = String::from_utf8_lossy(&response.body);
                let mut outcome = outcome.borrow_mut();
                let slot = module_slot(item.endpoint);
                match response.status {
                    201 | 200 => {
                        let reply: Value = serde_json::from_str(&text).unwrap_or_default();
                        outcome.stored[slot].0 += 1;
                        let flagged = reply["flagged"].as_bool().unwrap_or_else(|| {
                            reply["decision"].as_str().is_some_and(|d| d != "APPROVED")
                        });
                        if flagged {
                            outcome.stored[slot].1 += 1;
                        }
                        if response.status == 200 {
                            outcome.stored[slot].2 += 1;
                        }
                        if let Some(case) = item.case {
                            let marker = PLANTS[plant_of[case]].marker;
                            if text.contains(&format!("\"{marker}\"")) {
                                outcome.caught[case] = true;
                            }
                        }
                    }
                    status => {
                        outcome.errors += 1;
                        if outcome.first_error.is_none() {
                            outcome.first_error =
                                Some(format!("{} {status}: {}", item.endpoint.path(), text));
                        }
                    }
                }
                progress.inc(1);
            }
            Ok::<(), String>(())
        }));
    }
    let results = local
        .run_until(async move {
            let mut results = Vec::new();
            for handle in handles {
                results.push(handle.await.map_err(|e| e.to_string()).and_then(|r| r));
            }
            results
        })
        .await;
    for result in results {
        result?;
    }
    Ok(())
}

/// Waits (at most a minute) until no anomaly model of the target is warming up: the worker
/// calibrates them on the traffic stored so far. A server that never calibrates (too little
/// traffic, or a long interval) is given up on, saying so.
async fn wait_for_calibration(target: &Target, token: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let Ok(mut connection) = Connection::open(target).await else {
        return;
    };
    while std::time::Instant::now() < deadline {
        if let Ok(response) = connection
            .send("GET", "/api/models/", Some(token), b"")
            .await
        {
            let models: Value = serde_json::from_slice(&response.body).unwrap_or_default();
            let warming = models.as_object().is_some_and(|models| {
                models
                    .values()
                    .any(|model| model["anomaly_alert"]["status"] == "warming_up")
            });
            if response.status == 200 && !warming {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    eprintln!(
        "seed: the anomaly alerts are still warming up after a minute; the anomaly plants may be \
         missed"
    );
}

fn report(outcome: &Outcome, cases: &[(usize, String)]) {
    println!();
    println!(
        "{:<10} {:>8} {:>8} {:>9}",
        "module", "stored", "flagged", "resends"
    );
    for (endpoint, (stored, flagged, resends)) in Endpoint::DETECTION.iter().zip(outcome.stored) {
        println!(
            "{:<10} {stored:>8} {flagged:>8} {resends:>9}",
            endpoint.name()
        );
    }
    println!();
    println!(
        "{:<58} {:>7} {:>7}",
        "planted typology", "planted", "caught"
    );
    let (mut planted_total, mut caught_total) = (0, 0);
    for (index, plant) in PLANTS.iter().enumerate() {
        let of_plant: Vec<usize> = cases
            .iter()
            .enumerate()
            .filter(|(_, (plant_index, _))| *plant_index == index)
            .map(|(case, _)| case)
            .collect();
        let caught = of_plant
            .iter()
            .filter(|case| outcome.caught[**case])
            .count();
        planted_total += of_plant.len();
        caught_total += caught;
        if of_plant.is_empty() {
            println!(
                "{:<58} {:>7} {:>7}  (only on the seed's own server, given its watchlist)",
                plant.typology, "-", "-"
            );
        } else {
            println!("{:<58} {:>7} {:>7}", plant.typology, of_plant.len(), caught);
        }
    }
    println!("{:<58} {planted_total:>7} {caught_total:>7}", "all");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(seed: u64) -> SeedPlan {
        SeedPlan {
            events: 4_000,
            days: 30,
            seed,
        }
    }

    #[test]
    fn a_seed_gives_the_same_events_in_time_order_all_in_the_past() {
        let (first, cases) = events(&plan(7), true);
        let (again, _) = events(&plan(7), true);
        let (other, _) = events(&plan(8), true);
        let bodies = |items: &[Item]| items.iter().map(|i| i.body.to_string()).collect::<Vec<_>>();
        assert_eq!(bodies(&first), bodies(&again));
        assert_ne!(bodies(&first), bodies(&other));
        assert!(first.windows(2).all(|pair| pair[0].at <= pair[1].at));
        assert!(first.iter().all(|item| item.at < Utc::now()));
        // Two copies of every typology in 4,000 events, each with all its events.
        assert_eq!(cases.len(), PLANTS.len() * 2);
        let planted = first.iter().filter(|item| item.case.is_some()).count();
        let expected: usize = PLANTS
            .iter()
            .map(|plant| 2 * plant.events("X", Utc::now()).len())
            .sum();
        assert_eq!(planted, expected);
        assert_eq!(first.len(), 4_000 + planted);
    }

    #[test]
    fn every_plant_fits_its_span_and_names_its_parties_after_its_case() {
        let start = Utc::now() - Duration::days(60);
        for plant in PLANTS {
            let events = plant.events("PL9-1-seed42-20260101", start);
            assert!(!events.is_empty(), "{}", plant.typology);
            let last = events.last().map(|(at, _)| *at).unwrap_or(start);
            assert!(last - start <= plant.span, "{}", plant.typology);
            for (at, body) in &events {
                assert_eq!(
                    body["timestamp"],
                    serde_json::json!(crate::traffic::timestamp(*at))
                );
                assert!(
                    body.to_string().contains("PL9"),
                    "{}: {body}",
                    plant.typology
                );
            }
        }
    }

    #[test]
    fn the_watchlist_and_sanctions_cases_are_planted_only_on_the_seeds_own_server() {
        let plan = plan(7);
        let (with, cases) = events(&plan, true);
        let (without, cases_without) = events(&plan, false);
        let watched = watched_parties(&plan);
        assert_eq!(watched.len(), 2, "two copies in 4,000 events");
        let senders = |items: &[Item]| -> Vec<String> {
            items
                .iter()
                .filter_map(|item| item.body["sender_id"].as_str().map(str::to_owned))
                .filter(|sender| watched.contains(sender))
                .collect()
        };
        assert_eq!(senders(&with), watched);
        assert!(senders(&without).is_empty());
        // Two watchlist cases and two payments to a party on the demo sanctions list.
        assert_eq!(cases.len(), cases_without.len() + 4);
        let named = |items: &[Item]| {
            items
                .iter()
                .filter(|item| item.body.get("receiver_name").is_some())
                .count()
        };
        assert_eq!((named(&with), named(&without)), (2, 0));
    }
}
