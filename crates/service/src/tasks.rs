//! The worker's periodic tasks, each on its own interval (settings `[tasks]`): remove idle
//! recent-activity windows, fold settled decisions into the statistics roll-ups, retrain the
//! anomaly models on recent traffic, learn the AML peer groups, and calibrate the anomaly
//! alerts. They run beside the audit worker, in `redflag worker` and in the embedded worker of
//! `serve`; every one is safe with any number of workers running it.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use redflag_aml::{AmlConfig, PeerGroups};
use redflag_core::Module;
use redflag_store::{ActivityWindows, Database, Rollup, StoreError, Sweep};
use tokio::time::Instant;

use crate::anomaly_calibration::AnomalyCalibration;
use crate::blocking;
use crate::models::{Retraining, retrain_on_decisions};
use crate::settings::{ModelSettings, TaskSettings};
use crate::telemetry;

/// Most roll-up transactions one run makes, so that a large backlog is worked off over several
/// runs without holding the writer for long.
const MAX_ROLLUP_BATCHES_PER_RUN: usize = 100;

/// One of the periodic tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    ExpireWindows,
    RollUpStatistics,
    RetrainModels,
    LearnPeerGroups,
    CalibrateAnomaly,
}

impl Task {
    pub const ALL: [Self; 5] = [
        Self::ExpireWindows,
        Self::RollUpStatistics,
        Self::RetrainModels,
        Self::LearnPeerGroups,
        Self::CalibrateAnomaly,
    ];

    /// The task's name in logs, metrics and the `redflag task` command.
    pub fn name(self) -> &'static str {
        match self {
            Self::ExpireWindows => "expire-windows",
            Self::RollUpStatistics => "rollup-statistics",
            Self::RetrainModels => "retrain-models",
            Self::LearnPeerGroups => "learn-peer-groups",
            Self::CalibrateAnomaly => "calibrate-anomaly",
        }
    }

    /// How often the task runs; `None` when its interval is 0 (off).
    fn every(self, settings: &TaskSettings) -> Option<Duration> {
        let seconds = match self {
            Self::ExpireWindows => settings.expire_windows_seconds,
            Self::RollUpStatistics => settings.rollup_statistics_seconds,
            Self::RetrainModels => settings.retrain_hours.saturating_mul(3600),
            Self::LearnPeerGroups => settings.peer_groups_seconds,
            Self::CalibrateAnomaly => settings.calibrate_anomaly_seconds,
        };
        (seconds > 0).then(|| Duration::from_secs(seconds))
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
    pub fn new(
        db: Database,
        windows: Option<Arc<dyn ActivityWindows>>,
        models: ModelSettings,
        tasks: TaskSettings,
        aml: AmlConfig,
    ) -> Self {
        Self {
            db,
            windows,
            models,
            tasks,
            aml,
        }
    }

    /// Runs one task now.
    pub async fn run_task(&self, task: Task) -> Result<Outcome, String> {
        match task {
            Task::ExpireWindows => {
                let Some(windows) = &self.windows else {
                    return Ok(Outcome::Swept(None));
                };
                let sweep = windows.expire().await.map_err(|e| e.to_string())?;
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
            }
            Task::RollUpStatistics => {
                let db = self.db.clone();
                let settle = chrono::Duration::seconds(
                    i64::try_from(self.tasks.rollup_settle_seconds).unwrap_or(i64::MAX),
                );
                let batch = self.tasks.rollup_batch.max(1);
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
            }
            Task::RetrainModels => {
                let (db, models, tasks) =
                    (self.db.clone(), self.models.clone(), self.tasks.clone());
                let retrained = blocking(move || {
                    let mut retrained = Vec::new();
                    for module in Module::ALL {
                        let retraining =
                            retrain_on_decisions(&models, &tasks, &db, module, Utc::now())?;
                        // A new model is measured at once, not left silent until the next
                        // calibration.
                        if matches!(retraining, Retraining::Trained { .. }) {
                            crate::anomaly_calibration::calibrate(
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
                    Ok::<_, String>(retrained)
                })
                .await?;
                Ok(Outcome::Retrained(retrained))
            }
            Task::CalibrateAnomaly => {
                let (db, models, tasks) =
                    (self.db.clone(), self.models.clone(), self.tasks.clone());
                let calibrated = blocking(move || {
                    let mut calibrated = Vec::new();
                    for module in crate::anomaly_calibration::MODULES {
                        if let Some(calibration) = crate::anomaly_calibration::calibrate(
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
                    Ok::<_, String>(calibrated)
                })
                .await?;
                Ok(Outcome::Calibrated(calibrated))
            }
            Task::LearnPeerGroups => {
                let (db, aml) = (self.db.clone(), self.aml.clone());
                let learned =
                    blocking(move || crate::peer_groups::learn(&db, &aml, "system", Utc::now()))
                        .await?;
                Ok(Outcome::LearnedPeerGroups(learned))
            }
        }
    }

    /// Runs every task that has an interval, first at start, then each on its own interval,
    /// until stopped; the peer groups are learned at start only when the stored ones are older
    /// than their interval (every gateway restart would otherwise read a month of decisions). A
    /// failing run is logged and counted; the next one comes on schedule.
    pub async fn run(self) {
        let mut schedule: Vec<(Task, Duration, Instant)> = Task::ALL
            .into_iter()
            .filter_map(|task| {
                task.every(&self.tasks)
                    .map(|every| (task, every, Instant::now()))
            })
            .collect();
        if schedule.is_empty() {
            return;
        }
        if let Some((_, every, due)) = schedule
            .iter_mut()
            .find(|(task, ..)| *task == Task::LearnPeerGroups)
        {
            let db = self.db.clone();
            if let Ok(Some((_, learned_at))) =
                blocking(move || crate::peer_groups::stored(&db)).await
            {
                *due += first_delay(*every, Utc::now() - learned_at);
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
