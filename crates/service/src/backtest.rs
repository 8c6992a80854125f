//! Backtests by exact replay: a draft rule set is run over the stored requests of a period, in
//! event-time order, into fresh in-process windows warmed on the traffic before the period, and
//! compared with what was decided. Nothing live is touched: not the windows, not the decisions.
//! Because windows run on event time, replaying the rule set and model that decided a period
//! reproduces every stored risk and alert (tested).

use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use redflag_core::{Assessment, Detector, Module, ValidationErrors};
use redflag_rules::RuleSetDocument;
use redflag_store::{Database, Outcome, ReplayedDecision, StoreError, StoredBacktest};
use redflag_windows::InProcessWindows;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::ServiceError;
use crate::detectors::{Detectors, Learned};
use crate::rule_sets::RuleSets;
use crate::settings::Settings;

/// Stored decisions read per page, and how often progress is recorded and a cancel looked for.
const PAGE: usize = 2_000;
/// Changed decisions listed in a report (all are counted).
const MAX_LISTED: usize = 500;

/// What a backtest found: the draft against what was decided, over the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BacktestReport {
    /// Stored decisions of the period replayed.
    pub events: usize,
    /// Stored decisions before the period replayed to warm the windows (one window horizon of
    /// the module: its longest window, and at least `rules.backtest_warm_up_days`).
    pub warm_up_events: usize,
    /// Stored requests that no longer read as events (left out).
    pub unreadable: usize,
    pub flagged: BeforeAfter,
    /// Alerts per rule, before (as decided) and after (the draft), by rule name.
    pub alerts: Vec<RuleCounts>,
    /// Decisions whose risk, flag or alerts the draft changes.
    pub changed: usize,
    /// The first 500 of them, in event-time order.
    pub changed_decisions: Vec<ChangedDecision>,
    /// Against the labels closed cases gave the period's decisions.
    pub labels: LabelComparison,
    pub seconds: f64,
    pub events_per_second: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BeforeAfter {
    pub before: usize,
    pub after: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleCounts {
    pub rule: String,
    pub before: usize,
    pub after: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChangedDecision {
    pub id: i64,
    /// The stored decision (`/api/<module>/<id>/`).
    pub decision: String,
    pub risk_before: f64,
    pub risk_after: f64,
    pub flagged_before: bool,
    pub flagged_after: bool,
    pub rules_added: Vec<String>,
    pub rules_removed: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct LabelComparison {
    /// Labelled decisions of the period: confirmed fraud and false positives.
    pub confirmed_fraud: usize,
    pub false_positive: usize,
    pub before: Quality,
    pub after: Quality,
}

/// How the flags agree with the labels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct Quality {
    pub flagged_fraud: usize,
    pub flagged_false_positive: usize,
    /// Of the labelled decisions flagged, the share that was fraud; null before any.
    pub precision: Option<f64>,
    /// Of the confirmed frauds, the share flagged; null without any.
    pub recall: Option<f64>,
}

impl Quality {
    fn of(flagged_fraud: usize, flagged_false_positive: usize, frauds: usize) -> Self {
        let flagged = flagged_fraud + flagged_false_positive;
        let share = |part: usize, whole: usize| {
            (whole > 0).then(|| ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0)
        };
        Self {
            flagged_fraud,
            flagged_false_positive,
            precision: share(flagged_fraud, flagged),
            recall: share(flagged_fraud, frauds),
        }
    }
}

/// Runs the backtest on a thread of its own and records its outcome (a panic is recorded as a
/// failure too); the caller answers at once.
pub fn spawn(
    db: Database,
    settings: Arc<Settings>,
    live: Arc<Detectors>,
    (module, backtest): (Module, StoredBacktest),
    document: RuleSetDocument,
) -> Result<(), ServiceError> {
    std::thread::Builder::new()
        .name(format!("backtest-{}", backtest.id))
        .spawn(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                run(&db, &settings, &live, (module, &backtest), document)
            }));
            let (status, report) = match outcome {
                Ok(Ok(Some(report))) => (
                    "done",
                    serde_json::to_string(&report).unwrap_or_else(|error| error.to_string()),
                ),
                Ok(Ok(None)) => ("cancelled", String::new()),
                Ok(Err(error)) => ("failed", error.to_string()),
                Err(_) => ("failed", "the replay stopped on an internal error".to_owned()),
            };
            let report = Some(report.as_str()).filter(|report| !report.is_empty());
            if let Err(error) = db.finish_backtest(backtest.id, status, report, Utc::now()) {
                tracing::error!(%error, id = backtest.id, "the backtest's outcome could not be stored");
            }
        })?;
    Ok(())
}

/// Replays the backtest's period through the draft; `None` when cancelled.
pub fn run(
    db: &Database,
    settings: &Settings,
    live: &Detectors,
    (module, backtest): (Module, &StoredBacktest),
    document: RuleSetDocument,
) -> Result<Option<BacktestReport>, ServiceError> {
    let mut rule_sets: RuleSets = live.rule_sets.clone();
    rule_sets.replace(module, document);
    let detectors = Detectors::load(settings, Learned::clone(&live.learned), rule_sets, None)
        .map_err(|error| ServiceError::RuleSet {
            module,
            problems: error.to_string(),
        })?;
    let replay = Replay {
        db,
        settings,
        module,
        backtest,
        at_least: Duration::days(i64::from(settings.rules.backtest_warm_up_days)),
    };
    match module {
        Module::Aml => replay.run(&detectors.aml, redflag_aml::Transaction::parse),
        Module::Market => replay.run(&detectors.market, redflag_market::MarketEvent::parse),
        Module::Insurance => {
            replay.run(&detectors.insurance, redflag_insurance::Claim::from_stored)
        }
        Module::Credit => replay.run(&detectors.credit, redflag_credit::Application::parse),
    }
}

/// A page of stored decisions with their requests read back as events (`None`: unreadable).
type Page<E> = Vec<(ReplayedDecision, Option<E>)>;

/// Reads the stored decisions `order` names, page by page, parsing each request, until the
/// pages run out or the replay stops listening.
fn read_pages<E>(
    db: &Database,
    order: &[i64],
    parse: &(impl Fn(&Value, DateTime<Utc>) -> Result<E, ValidationErrors> + Sync),
    pages: std::sync::mpsc::SyncSender<Result<Page<E>, StoreError>>,
) {
    for ids in order.chunks(PAGE) {
        let page = match db.decisions_to_replay(ids) {
            Ok(page) => page,
            Err(error) => {
                let _stopped = pages.send(Err(error));
                return;
            }
        };
        let parsed = page
            .into_iter()
            .map(|stored| {
                let event = serde_json::from_str(&stored.request_json)
                    .ok()
                    .and_then(|body| parse(&body, stored.event_time).ok());
                (stored, event)
            })
            .collect();
        if pages.send(Ok(parsed)).is_err() {
            return;
        }
    }
}

/// What a comparison of decided against re-decided outcomes tallies: a backtest's replay and a
/// shadow run's report.
#[derive(Default)]
pub(crate) struct Tally {
    events: usize,
    warm_up_events: usize,
    unreadable: usize,
    flagged: (usize, usize),
    alerts: BTreeMap<String, (usize, usize)>,
    changed: usize,
    listed: Vec<ChangedDecision>,
    labels: [usize; 6],
}

impl Tally {
    /// Adds one decision: the outcome decided (`before`) against the draft's (`after`).
    pub(crate) fn add(
        &mut self,
        (module, id): (Module, i64),
        before: &Outcome,
        after: &Outcome,
        label: Option<bool>,
    ) {
        self.events += 1;
        let mut count = |rule: &String, after: bool| {
            let counts = match self.alerts.get_mut(rule) {
                Some(counts) => counts,
                None => self.alerts.entry(rule.clone()).or_default(),
            };
            if after {
                counts.1 += 1;
            } else {
                counts.0 += 1;
            }
        };
        before.rules.iter().for_each(|rule| count(rule, false));
        after.rules.iter().for_each(|rule| count(rule, true));
        self.flagged.0 += usize::from(before.flagged);
        self.flagged.1 += usize::from(after.flagged);
        if let Some(fraud) = label {
            let index = usize::from(!fraud);
            self.labels[index] += 1;
            if before.flagged {
                self.labels[2 + index] += 1;
            }
            if after.flagged {
                self.labels[4 + index] += 1;
            }
        }
        if before.risk_score == after.risk_score
            && before.flagged == after.flagged
            && same_rules(&before.rules, &after.rules)
        {
            return;
        }
        self.changed += 1;
        if self.listed.len() < MAX_LISTED {
            self.listed.push(ChangedDecision {
                id,
                decision: format!("/api/{module}/{id}/"),
                risk_before: before.risk_score,
                risk_after: after.risk_score,
                flagged_before: before.flagged,
                flagged_after: after.flagged,
                rules_added: after
                    .rules
                    .iter()
                    .filter(|rule| !before.rules.contains(rule))
                    .cloned()
                    .collect(),
                rules_removed: before
                    .rules
                    .iter()
                    .filter(|rule| !after.rules.contains(rule))
                    .cloned()
                    .collect(),
            });
        }
    }

    /// The report, for a comparison that took `seconds`.
    pub(crate) fn report(self, seconds: f64) -> BacktestReport {
        let read = self.events + self.warm_up_events + self.unreadable;
        let [
            fraud,
            false_positive,
            before_fraud,
            before_fp,
            after_fraud,
            after_fp,
        ] = self.labels;
        BacktestReport {
            events: self.events,
            warm_up_events: self.warm_up_events,
            unreadable: self.unreadable,
            flagged: BeforeAfter {
                before: self.flagged.0,
                after: self.flagged.1,
            },
            alerts: self
                .alerts
                .into_iter()
                .map(|(rule, (before, after))| RuleCounts {
                    rule,
                    before,
                    after,
                })
                .collect(),
            changed: self.changed,
            changed_decisions: self.listed,
            labels: LabelComparison {
                confirmed_fraud: fraud,
                false_positive,
                before: Quality::of(before_fraud, before_fp, fraud),
                after: Quality::of(after_fraud, after_fp, fraud),
            },
            seconds: (seconds * 1000.0).round() / 1000.0,
            events_per_second: if seconds > 0.0 {
                (read as f64 / seconds).round()
            } else {
                0.0
            },
        }
    }
}

/// A replayed verdict as one side of a comparison.
fn outcome_of(verdict: &impl Assessment) -> Outcome {
    Outcome {
        risk_score: verdict.risk(),
        flagged: verdict.flagged(),
        rules: verdict.alert_rules(),
    }
}

/// One backtest's replay, whichever module it replays.
struct Replay<'a> {
    db: &'a Database,
    settings: &'a Settings,
    module: Module,
    backtest: &'a StoredBacktest,
    /// The least warm-up (`rules.backtest_warm_up_days`).
    at_least: Duration,
}

impl Replay<'_> {
    fn run<D>(
        &self,
        detector: &D,
        parse: impl Fn(&Value, DateTime<Utc>) -> Result<D::Event, ValidationErrors> + Sync,
    ) -> Result<Option<BacktestReport>, ServiceError>
    where
        D: Detector,
        D::Event: Send,
    {
        let Self {
            db,
            settings,
            module,
            backtest,
            at_least,
        } = *self;
        let (since, until) = (backtest.since(), backtest.until());
        let started = Instant::now();
        // One window horizon of the draft's detector before the period, so that every window holds
        // what it held live (and at least `rules.backtest_warm_up_days`).
        let from = since - detector.history_horizon().max(at_least);
        let order = db.decisions_in_period(module.as_str(), (from, until))?;
        let total = i64::try_from(order.len()).unwrap_or(i64::MAX);
        let labels: HashMap<i64, bool> = db
            .labelled_decisions(module)?
            .into_iter()
            .map(|labelled| (labelled.decision_id, labelled.fraud))
            .collect();
        let mut windows = InProcessWindows::new(settings.windows.max_entries);
        let mut tally = Tally::default();
        let mut replayed = 0_i64;
        // Two stages on two threads: one reads and parses the stored requests a page ahead, this
        // one replays them in order (the windows are one sequence) and compares.
        let (pages, parsed) =
            std::sync::mpsc::sync_channel::<Result<Page<D::Event>, StoreError>>(2);
        let cancelled = std::thread::scope(|scope| {
            scope.spawn(|| read_pages(db, &order, &parse, pages));
            let mut consume = || -> Result<bool, ServiceError> {
                for page in parsed.iter() {
                    for (stored, event) in page? {
                        replayed += 1;
                        let Some(event) = event else {
                            tally.unreadable += 1;
                            continue;
                        };
                        let verdict = detector.score(&event, &mut windows);
                        if stored.event_time < since {
                            tally.warm_up_events += 1;
                            continue;
                        }
                        let label = labels.get(&stored.id).copied();
                        let after = outcome_of(&verdict);
                        tally.add((module, stored.id), &stored.decided, &after, label);
                    }
                    if db.backtest_progress(backtest.id, replayed, total, Utc::now())? {
                        return Ok(true);
                    }
                }
                Ok(false)
            };
            let outcome = consume();
            // The reader stops at its next page once no one listens.
            drop(parsed);
            outcome
        })?;
        if cancelled {
            return Ok(None);
        }
        Ok(Some(tally.report(started.elapsed().as_secs_f64())))
    }
}

/// Whether two alert lists name the same rules, in any order.
fn same_rules(before: &[String], after: &[String]) -> bool {
    if before == after {
        return true;
    }
    let (mut before, mut after) = (before.to_vec(), after.to_vec());
    before.sort_unstable();
    after.sort_unstable();
    before == after
}
