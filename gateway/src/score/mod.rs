//! `redflag score`: a file of events (a backfill, a migration from another system, a month-end
//! review) decided offline against the configured database, in event-time order, each exactly
//! as the HTTP path decides it and recorded, audited and counted in the windows the same way.
//!
//! Each input line gets one record in the output, written batch by batch. A run that is cut off
//! (Ctrl-C, a crash, the database going away) is resumed with `--resume`: the lines the output
//! holds are not read again, and an event decided but not yet written when the run stopped is
//! recognised by its business id and answers its stored decision, so nothing is counted twice.
//! With in-process windows (no Redis), the windows are first warmed with the stored decisions of
//! one window horizon before the file's first event up to its last, so that a resumed run and a
//! file following earlier traffic judge each event on the history a single run would have.

mod input;
mod output;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use actix_web::ResponseError;
use chrono::{DateTime, TimeDelta, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use redflag_core::{Event, Module};
use redflag_store::{StoreError, WindowError};
use serde::Serialize;
use serde_json::Value;

use self::input::{Input, InputEvent};
use self::output::{Outcome, Output, Record};
use crate::errors::ApiError;
use crate::routes::{Actor, Endpoint, decide_many, fill_reference};
use crate::state::AppState;

/// Why a file could not be scored (an event that cannot be decided is not one: it is answered
/// in its record).
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("{0}: the file's extension says neither CSV (.csv) nor NDJSON (.ndjson, .jsonl)")]
    Format(String),
    #[error("{0} exists: --resume continues the run that wrote it, or score into a new file")]
    OutputExists(String),
    #[error("{path}: {message}")]
    Input { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the recent-activity windows: {0}")]
    Windows(#[from] WindowError),
}

/// What to score, and where.
#[derive(Debug, Clone)]
pub struct Job {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Events decided and committed together.
    pub batch: usize,
    /// Continue the run whose output `output` is.
    pub resume: bool,
}

/// What a run did, over the whole file (an earlier run's records included when resumed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub module: Option<Module>,
    pub input: String,
    pub output: String,
    /// Lines of the input answered in the output.
    pub events: usize,
    /// Of those, by an earlier run of the same output.
    pub from_earlier_run: usize,
    /// Decided now (201).
    pub decided: usize,
    /// Answered with the decision already stored under their business id (200).
    pub already_stored: usize,
    pub flagged: usize,
    /// Alerts per rule.
    pub alerts: BTreeMap<String, usize>,
    /// Events refused, by line.
    pub errors: Vec<LineError>,
    /// Stored decisions replayed into in-process windows before the first event.
    pub warm_up_events: usize,
    /// Whether every line of the input is answered; when not, `stopped` says why and a run with
    /// `--resume` goes on.
    pub complete: bool,
    pub stopped: Option<String>,
    pub seconds: f64,
    /// Events answered by this run per second of deciding.
    pub events_per_second: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineError {
    pub line: u64,
    pub status: u16,
    pub error: Value,
}

impl Summary {
    fn add(&mut self, record: &Record) {
        self.events += 1;
        match &record.outcome {
            Outcome::Decided { flagged, rules, .. } => {
                if record.status == 201 {
                    self.decided += 1;
                } else {
                    self.already_stored += 1;
                }
                self.flagged += usize::from(*flagged);
                for rule in rules {
                    *self.alerts.entry(rule.clone()).or_default() += 1;
                }
            }
            Outcome::Refused { error } => self.errors.push(LineError {
                line: record.line,
                status: record.status,
                error: error.clone(),
            }),
        }
    }
}

/// Errors listed in the text summary; all of them are in the JSON summary and the output.
const LISTED_ERRORS: usize = 20;

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let module = self.module.map_or("?", |module| module.as_str());
        writeln!(
            f,
            "{} ({module}) -> {}: {} events in {:.1} s ({:.0} events/s)",
            self.input, self.output, self.events, self.seconds, self.events_per_second
        )?;
        if self.from_earlier_run > 0 {
            writeln!(
                f,
                "  resumed: {} answered by an earlier run",
                self.from_earlier_run
            )?;
        }
        if self.warm_up_events > 0 {
            writeln!(
                f,
                "  windows warmed with {} stored decisions",
                self.warm_up_events
            )?;
        }
        writeln!(f, "  decided: {}", self.decided)?;
        writeln!(f, "  already stored: {}", self.already_stored)?;
        writeln!(f, "  flagged: {}", self.flagged)?;
        writeln!(f, "  errors: {}", self.errors.len())?;
        for error in self.errors.iter().take(LISTED_ERRORS) {
            writeln!(
                f,
                "    line {}: {} {}",
                error.line, error.status, error.error
            )?;
        }
        if self.errors.len() > LISTED_ERRORS {
            writeln!(
                f,
                "    ... and {} more, each in the output",
                self.errors.len() - LISTED_ERRORS
            )?;
        }
        writeln!(f, "  alerts per rule:")?;
        let width = self.alerts.keys().map(String::len).max().unwrap_or(0);
        for (rule, count) in &self.alerts {
            writeln!(f, "    {rule:<width$}  {count}")?;
        }
        match &self.stopped {
            Some(reason) => write!(
                f,
                "  INCOMPLETE: {reason}; run again with --resume to go on"
            ),
            None => write!(f, "  complete"),
        }
    }
}

/// An event read and checked, waiting for its turn in event-time order.
struct Pending {
    time: DateTime<Utc>,
    line: u64,
    /// The body (its business id filled in when left out), as compact JSON: a file of millions
    /// of events is held as text, not as parsed values.
    body: Box<str>,
}

/// Scores the job's input with module `D`, until done or `stop` is set; every line answered is
/// in the output before this returns.
pub async fn score<D>(state: &AppState, job: &Job, stop: &AtomicBool) -> Result<Summary, ScoreError>
where
    D: Endpoint,
    D::Event: Serialize,
{
    let started = Instant::now();
    let file_name = job.input.file_name().map_or_else(
        || job.input.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let mut summary = Summary {
        module: Some(D::MODULE),
        input: job.input.display().to_string(),
        output: job.output.display().to_string(),
        ..Summary::default()
    };
    let input = Input::open(&job.input)?;
    let (mut output, earlier) = Output::open(&job.output, job.resume)?;
    let answered: HashSet<u64> = earlier.iter().map(|record| record.line).collect();
    for record in &earlier {
        summary.add(record);
    }
    summary.from_earlier_run = earlier.len();
    let output_error = |source| ScoreError::Io {
        path: job.output.display().to_string(),
        source,
    };

    let detectors = state.detectors();
    let detector = D::select(&detectors);
    let mut pending = Vec::new();
    let now = Utc::now();
    input.for_each(
        state.settings.server.max_json_depth,
        |InputEvent { line, body }| {
            if answered.contains(&line) {
                return Ok(());
            }
            let checked = body.and_then(|mut body| {
                fill_reference::<D>(&mut body, || format!("{file_name}:{line}"));
                let time = detector.parse(&body, now)?.event_time();
                Ok(Pending {
                    time,
                    line,
                    body: body.to_string().into_boxed_str(),
                })
            });
            match checked {
                Ok(event) => pending.push(event),
                Err(error) => {
                    let record = refused(line, &error);
                    output.write(&record).map_err(output_error)?;
                    summary.add(&record);
                }
            }
            Ok(())
        },
    )?;
    output.flush().map_err(output_error)?;
    pending.sort_unstable_by_key(|event| (event.time, event.line));

    if let (Some(first), Some(last)) = (pending.first(), pending.last())
        && state.windows.kind() == "in-process"
    {
        let from = first.time - detector.history_horizon();
        summary.warm_up_events = warm_windows::<D>(
            state,
            detector,
            (from, last.time + TimeDelta::milliseconds(1)),
        )
        .await?;
    }
    drop(detectors);

    let actor = Actor {
        user_id: None,
        name: format!("score:{file_name}"),
    };
    let progress = ProgressBar::new(pending.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events  {per_sec}  ETA {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let decided_from = Instant::now();
    let mut answered_now = 0_usize;
    for chunk in pending.chunks(job.batch.clamp(1, crate::routes::MAX_BATCH_EVENTS)) {
        if stop.load(Ordering::Relaxed) {
            summary.stopped = Some("interrupted".to_owned());
            break;
        }
        let bodies: Vec<Value> = chunk
            .iter()
            .map(|event| serde_json::from_str(&event.body).unwrap_or(Value::Null))
            .collect();
        let answers = decide_many::<D>(state, &actor, &bodies).await;
        let ids: Vec<i64> = answers
            .iter()
            .filter_map(|answer| answer.as_ref().ok().map(|decided| decided.id))
            .collect();
        // What was decided, as stored: a replayed event's flag and rules with a new one's.
        let stored: HashMap<i64, redflag_store::Outcome> = state
            .db
            .decisions_to_replay(&ids)?
            .into_iter()
            .map(|stored| (stored.id, stored.decided))
            .collect();
        let mut not_decided = 0;
        for (event, answer) in chunk.iter().zip(answers) {
            let record = match answer {
                Ok(decided) => {
                    let Some(outcome) = stored.get(&decided.id) else {
                        not_decided += 1;
                        continue;
                    };
                    Record {
                        line: event.line,
                        status: if decided.created { 201 } else { 200 },
                        outcome: Outcome::Decided {
                            id: decided.id,
                            risk_score: outcome.risk_score,
                            flagged: outcome.flagged,
                            rules: outcome.rules.clone(),
                            answer: Some(decided.body),
                        },
                    }
                }
                // Not decided for a reason of the server's (the database away): left for a
                // resumed run rather than answered.
                Err(error) if error.status_code().is_server_error() => {
                    not_decided += 1;
                    tracing::error!(line = event.line, %error, "event not decided");
                    continue;
                }
                Err(error) => refused(event.line, &error),
            };
            output.write(&record).map_err(output_error)?;
            summary.add(&record);
            answered_now += 1;
        }
        output.flush().map_err(output_error)?;
        progress.inc(chunk.len() as u64);
        if not_decided > 0 {
            summary.stopped = Some(format!(
                "{not_decided} events of a batch could not be decided (see the log)"
            ));
            break;
        }
    }
    progress.finish_and_clear();
    summary.complete = summary.stopped.is_none();
    summary.seconds = started.elapsed().as_secs_f64();
    let deciding = decided_from.elapsed().as_secs_f64();
    summary.events_per_second = if deciding > 0.0 {
        answered_now as f64 / deciding
    } else {
        0.0
    };
    summary.errors.sort_by_key(|error| error.line);
    Ok(summary)
}

fn refused(line: u64, error: &ApiError) -> Record {
    Record {
        line,
        status: error.status_code().as_u16(),
        outcome: Outcome::Refused {
            error: error.body(),
        },
    }
}

/// Replays the module's stored decisions with event times in `period` into the process's
/// windows, in event-time order (an event the windows already hold adds nothing); how many.
async fn warm_windows<D>(
    state: &AppState,
    detector: &D,
    period: (DateTime<Utc>, DateTime<Utc>),
) -> Result<usize, ScoreError>
where
    D: Endpoint,
    D::Event: Serialize,
{
    let order = state.db.decisions_in_period(D::MODULE.as_str(), period)?;
    let mut replayed = 0;
    for ids in order.chunks(2_000) {
        for stored in state.db.decisions_to_replay(ids)? {
            let Some(event) = serde_json::from_str(&stored.request_json)
                .ok()
                .and_then(|body| D::read_stored(&body, stored.event_time).ok())
            else {
                continue;
            };
            state
                .windows
                .observe(&detector.observations(&event))
                .await?;
            replayed += 1;
        }
    }
    if replayed > 0 {
        tracing::info!(
            replayed,
            "in-process windows warmed with the stored decisions before the file"
        );
    }
    Ok(replayed)
}
