//! The worker's periodic tasks, each on its own interval (settings `[tasks]`): remove idle
//! recent-activity windows, fold settled decisions into the statistics roll-ups, retrain the
//! anomaly models on recent traffic, learn the AML peer groups, and calibrate the anomaly
//! alerts. They run beside the audit worker, in `redflag worker` and in the embedded worker of
//! `serve`; every one is safe with any number of workers running it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redflag_aml::{AmlConfig, PeerGroups};
use redflag_core::Module;
use redflag_store::{ActivityWindows, Database, Rollup, StoreError, Sweep};
use tokio::time::Instant;

use crate::anomaly_calibration::{self, AnomalyCalibration};
use crate::models::{Retraining, retrain_on_decisions};
use crate::settings::{ModelSettings, Settings, TaskSettings};
use crate::telemetry;
use crate::{ServiceError, blocking, peer_groups, registry};

/// Most roll-up transactions one run makes, so that a large backlog is worked off over several
/// runs without holding the writer for long.
const MAX_ROLLUP_BATCHES_PER_RUN: usize = 100;

/// One periodic task: named, on its own interval (settings `[tasks]`), and idempotent, so that a
/// run repeated, or made by several workers at once, does no harm. A new task is a type and a
/// line in [`ALL`].
pub trait PeriodicTask: Send + Sync {
    /// The task's name in logs, metrics and the `redflag task` command.
    fn name(&self) -> &'static str;

    /// What the task does, for `redflag task --help`.
    fn about(&self) -> &'static str;

    /// How often the task runs; `None` when its interval is 0 (off).
    fn every(&self, settings: &TaskSettings) -> Option<Duration>;

    /// Runs the task once on what `work` holds.
    fn run<'a>(&'a self, work: &'a Periodic) -> TaskFuture<'a>;

    /// When the task's work was last done, for a task too costly to repeat at every start (its
    /// first run then waits out the rest of its interval); `None`: run at start.
    fn last_done(&self, _db: &Database) -> Result<Option<DateTime<Utc>>, ServiceError> {
        Ok(None)
    }
}

impl std::fmt::Debug for dyn PeriodicTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A task run in progress.
pub type TaskFuture<'a> = Pin<Box<dyn Future<Output = Result<Outcome, ServiceError>> + Send + 'a>>;

/// Every periodic task, in the order they first run.
pub const ALL: [&dyn PeriodicTask; 5] = [
    &ExpireWindows,
    &RollUpStatistics,
    &RetrainModels,
    &LearnPeerGroups,
    &CalibrateAnomaly,
];

/// The task of this name (`redflag task NAME`).
pub fn named(name: &str) -> Option<&'static dyn PeriodicTask> {
    ALL.into_iter().find(|task| task.name() == name)
}

/// An interval in seconds as the scheduler takes it: 0 is off.
fn seconds(seconds: u64) -> Option<Duration> {
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// Removes the recent-activity windows idle for longer than their horizon.
pub struct ExpireWindows;

impl PeriodicTask for ExpireWindows {
    fn name(&self) -> &'static str {
        "expire-windows"
    }

    fn about(&self) -> &'static str {
        "Remove idle recent-activity windows (Redis: count the live ones)."
    }

    fn every(&self, settings: &TaskSettings) -> Option<Duration> {
        seconds(settings.expire_windows_seconds)
    }

    fn run<'a>(&'a self, work: &'a Periodic) -> TaskFuture<'a> {
        Box::pin(async move {
            let Some(windows) = &work.windows else {
                return Ok(Outcome::Swept(None));
            };
            let sweep = windows.expire().await?;
            telemetry::windows_swept(&sweep);
            if sweep.evicted > 0 {
                tracing::warn!(
                    evicted = sweep.evicted,
                    live = sweep.live,
                    "recent-activity windows forgotten to stay within windows.max_windows: \
                     raise it, or keep the windows in Redis"
                );
            }
            Ok(Outcome::Swept(Some(sweep)))
        })
    }
}

/// Folds settled decisions into the statistics roll-ups.
pub struct RollUpStatistics;

impl PeriodicTask for RollUpStatistics {
    fn name(&self) -> &'static str {
        "rollup-statistics"
    }

    fn about(&self) -> &'static str {
        "Fold settled decisions into the statistics roll-ups."
    }

    fn every(&self, settings: &TaskSettings) -> Option<Duration> {
        seconds(settings.rollup_statistics_seconds)
    }

    fn run<'a>(&'a self, work: &'a Periodic) -> TaskFuture<'a> {
        Box::pin(async move {
            let db = work.db.clone();
            let settle = chrono::Duration::seconds(
                i64::try_from(work.tasks.rollup_settle_seconds).unwrap_or(i64::MAX),
            );
            let batch = work.tasks.rollup_batch.max(1);
            let rollup = blocking(move || {
                let mut total = Rollup {
                    decisions: 0,
                    watermark: 0,
                };
                for _ in 0..MAX_ROLLUP_BATCHES_PER_RUN {
                    let rollup = db.roll_up_statistics(Utc::now(), settle, batch)?;
                    total.decisions += rollup.decisions;
                    total.watermark = rollup.watermark;
                    if rollup.decisions < batch {
                        break;
                    }
                }
                Ok::<_, StoreError>(total)
            })
            .await?;
            telemetry::rollup_watermark(rollup.watermark);
            Ok(Outcome::RolledUp(rollup))
        })
    }
}

/// Retrains the anomaly models on recent traffic once their artifacts are older than the
/// interval, and measures each new one at once.
pub struct RetrainModels;

impl PeriodicTask for RetrainModels {
    fn name(&self) -> &'static str {
        "retrain-models"
    }

    fn about(&self) -> &'static str {
        "Retrain the anomaly models on recent decisions when their artifacts are older than \
         tasks.retrain_hours."
    }

    fn every(&self, settings: &TaskSettings) -> Option<Duration> {
        seconds(settings.retrain_hours.saturating_mul(3600))
    }

    fn run<'a>(&'a self, work: &'a Periodic) -> TaskFuture<'a> {
        Box::pin(async move {
            let (db, models, tasks) = (work.db.clone(), work.models.clone(), work.tasks.clone());
            let retrained = blocking(move || {
                let mut retrained = Vec::new();
                for module in registry::MODULES.map(|registered| registered.spec.module) {
                    let retraining =
                        retrain_on_decisions(&models, &tasks, &db, module, Utc::now())?;
                    // A new model is measured at once, not left silent until the next
                    // calibration.
                    if matches!(retraining, Retraining::Trained { .. }) {
                        anomaly_calibration::calibrate(
                            &db,
                            &models,
                            &tasks,
                            module,
                            "system",
                            Utc::now(),
                        )?;
                    }
                    retrained.push((module, retraining));
                }
                Ok::<_, ServiceError>(retrained)
            })
            .await?;
            Ok(Outcome::Retrained(retrained))
        })
    }
}

/// Learns the AML peer groups from the stored decisions.
pub struct LearnPeerGroups;

impl PeriodicTask for LearnPeerGroups {
    fn name(&self) -> &'static str {
        "learn-peer-groups"
    }

    fn about(&self) -> &'static str {
        "Learn the AML peer groups (what established senders of each segment do in an hour and \
         a day) from the stored transfers."
    }

    fn every(&self, settings: &TaskSettings) -> Option<Duration> {
        seconds(settings.peer_groups_seconds)
    }

    fn run<'a>(&'a self, work: &'a Periodic) -> TaskFuture<'a> {
        Box::pin(async move {
            let (db, aml) = (work.db.clone(), work.aml.clone());
            let learned =
                blocking(move || peer_groups::learn(&db, &aml, "system", Utc::now())).await?;
            Ok(Outcome::LearnedPeerGroups(learned))
        })
    }

    /// Every gateway restart would otherwise read a month of decisions.
    fn last_done(&self, db: &Database) -> Result<Option<DateTime<Utc>>, ServiceError> {
        Ok(peer_groups::stored(db)?.map(|(_, learned_at)| learned_at))
    }
}

/// Calibrates each anomaly alert to the deployment's recent traffic.
pub struct CalibrateAnomaly;

impl PeriodicTask for CalibrateAnomaly {
    fn name(&self) -> &'static str {
        "calibrate-anomaly"
    }

    fn about(&self) -> &'static str {
        "Calibrate the anomaly alerts to the most recent decisions (models.anomaly_alert_rate), \
         retraining a model still on synthetic defaults once enough decisions are stored."
    }

    fn every(&self, settings: &TaskSettings) -> Option<Duration> {
        seconds(settings.calibrate_anomaly_seconds)
    }

    fn run<'a>(&'a self, work: &'a Periodic) -> TaskFuture<'a> {
        Box::pin(async move {
            let (db, models, tasks) = (work.db.clone(), work.models.clone(), work.tasks.clone());
            let calibrated = blocking(move || {
                let mut calibrated = Vec::new();
                for module in registry::anomaly_modules() {
                    if let Some(calibration) = anomaly_calibration::calibrate(
                        &db,
                        &models,
                        &tasks,
                        module,
                        "system",
                        Utc::now(),
                    )? {
                        calibrated.push((module, calibration));
                    }
                }
                Ok::<_, ServiceError>(calibrated)
            })
            .await?;
            Ok(Outcome::Calibrated(calibrated))
        })
    }
}

/// What a task run did, for its log line and the `redflag task` command.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The windows this process can reach, swept; `None` when it holds none (a separate worker
    /// process with in-process windows: they live in `serve`).
    Swept(Option<Sweep>),
    RolledUp(Rollup),
    Retrained(Vec<(Module, Retraining)>),
    LearnedPeerGroups(PeerGroups),
    /// Each anomaly module's calibration; empty when calibration is off.
    Calibrated(Vec<(Module, AnomalyCalibration)>),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Swept(None) => write!(f, "no windows in this process"),
            Self::Swept(Some(sweep)) => {
                write!(
                    f,
                    "removed {} windows, {} live, {} forgotten to stay within the bound",
                    sweep.removed, sweep.live, sweep.evicted
                )
            }
            Self::RolledUp(rollup) => write!(
                f,
                "rolled up {} decisions, through decision {}",
                rollup.decisions, rollup.watermark
            ),
            Self::Retrained(modules) => {
                let parts: Vec<String> = modules
                    .iter()
                    .map(|(module, retraining)| match retraining {
                        Retraining::Trained { rows } => format!("{module}: trained on {rows}"),
                        Retraining::TooFewDecisions { rows } => {
                            format!("{module}: only {rows} decisions, kept")
                        }
                        Retraining::Fresh => format!("{module}: artifact fresh, kept"),
                        Retraining::NeedsLabels => format!("{module}: needs labelled outcomes"),
                    })
                    .collect();
                write!(f, "{}", parts.join("; "))
            }
            Self::LearnedPeerGroups(peers) if peers.groups.is_empty() => write!(
                f,
                "no segment has {} established senders yet: new senders meet the configured limits",
                peers.min_members
            ),
            Self::LearnedPeerGroups(peers) => {
                let parts: Vec<String> = peers
                    .groups
                    .iter()
                    .map(|group| format!("{} ({} senders)", group.segment, group.members))
                    .collect();
                write!(f, "learned peer groups {}", parts.join(", "))
            }
            Self::Calibrated(modules) if modules.is_empty() => write!(
                f,
                "calibration is off (models.anomaly_alert_rate 0): the training thresholds apply"
            ),
            Self::Calibrated(modules) => {
                let parts: Vec<String> = modules
                    .iter()
                    .map(|(module, calibration)| match calibration.threshold {
                        Some(threshold) => format!(
                            "{module}: threshold {threshold:.4} on {} events{}",
                            calibration.events,
                            if calibration.retrained {
                                ", retrained on them first"
                            } else {
                                ""
                            }
                        ),
                        None => format!(
                            "{module}: warming up ({} of {} events)",
                            calibration.events, calibration.min_events
                        ),
                    })
                    .collect();
                write!(f, "{}", parts.join("; "))
            }
        }
    }
}

/// The tasks and what they work on.
pub struct Periodic {
    db: Database,
    /// The windows this process holds or reaches: `serve`'s own, or Redis for a worker process.
    windows: Option<Arc<dyn ActivityWindows>>,
    models: ModelSettings,
    tasks: TaskSettings,
    aml: AmlConfig,
}

impl Periodic {
    /// The tasks on `db` and `windows` (the ones this process holds or reaches), with the
    /// settings they read.
    pub fn new(
        db: Database,
        windows: Option<Arc<dyn ActivityWindows>>,
        settings: &Settings,
    ) -> Self {
        Self {
            db,
            windows,
            models: settings.models.clone(),
            tasks: settings.tasks.clone(),
            aml: settings.aml.clone(),
        }
    }

    /// Runs one task now.
    pub async fn run_task(&self, task: &dyn PeriodicTask) -> Result<Outcome, ServiceError> {
        task.run(self).await
    }

    /// Runs every task that has an interval, first at start (or, for a task whose work was done
    /// recently, once the rest of its interval has passed), then each on its own interval, until
    /// stopped. A failing run is logged and counted; the next one comes on schedule.
    pub async fn run(self) {
        let mut schedule: Vec<(&dyn PeriodicTask, Duration, Instant)> = ALL
            .into_iter()
            .filter_map(|task| {
                task.every(&self.tasks)
                    .map(|every| (task, every, Instant::now()))
            })
            .collect();
        if schedule.is_empty() {
            return;
        }
        for (task, every, due) in &mut schedule {
            let (task, db): (&'static dyn PeriodicTask, _) = (*task, self.db.clone());
            if let Ok(Some(done)) = blocking(move || task.last_done(&db)).await {
                *due += first_delay(*every, Utc::now() - done);
            }
        }
        loop {
            let next = schedule
                .iter()
                .map(|(_, _, due)| *due)
                .min()
                .unwrap_or_else(Instant::now);
            tokio::time::sleep_until(next).await;
            for (task, every, due) in &mut schedule {
                if *due > Instant::now() {
                    continue;
                }
                match self.run_task(*task).await {
                    Ok(outcome) => {
                        telemetry::task_run(task.name(), "ok");
                        tracing::debug!(task = task.name(), %outcome, "periodic task ran");
                    }
                    Err(error) => {
                        telemetry::task_run(task.name(), "failed");
                        tracing::warn!(task = task.name(), %error, "periodic task failed");
                    }
                }
                *due = Instant::now() + *every;
            }
        }
    }
}

/// How long after start a task that last ran `age` ago is next due, on an interval of `every`.
fn first_delay(every: Duration, age: chrono::Duration) -> Duration {
    age.to_std()
        .map_or(Duration::ZERO, |age| every.saturating_sub(age))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_run_recently_waits_out_the_rest_of_its_interval() {
        let hour = Duration::from_secs(3600);
        let minutes = |m| chrono::Duration::minutes(m);
        assert_eq!(first_delay(hour, minutes(20)), Duration::from_secs(2400));
        assert_eq!(
            first_delay(hour, minutes(90)),
            Duration::ZERO,
            "overdue: now"
        );
        // A clock that moved back since the run: the age is negative; run now.
        assert_eq!(first_delay(hour, minutes(-5)), Duration::ZERO);
    }
}
