//! The four engines as the service runs them: configured from settings, with the models they
//! score with, the watchlist and valuation table named in settings, and what the worker learned
//! (the AML peer groups, the anomaly alerts' calibrations). `serve` loads them at start and swaps
//! in a new set when an artifact or a calibration changes.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use redflag_aml::{AmlDetector, NameScreening, PeerGroups, Watchlist};
use redflag_core::Module;
use redflag_credit::CreditDetector;
use redflag_insurance::InsuranceDetector;
use redflag_market::MarketDetector;
use redflag_store::{Database, StoreError, WindowError};

use crate::anomaly_calibration::{self, AnomalyCalibration};
use crate::models::{ModelVersions, artifact_path, load_or_train};
use crate::rule_sets::{RuleSets, Stamp};
use crate::screening::Screening;
use crate::settings::{ModelSettings, Settings};
use crate::shadow::ShadowRun;

/// The four engines, configured from settings, with the models they score with.
pub struct Detectors {
    pub aml: AmlDetector,
    pub credit: CreditDetector,
    pub insurance: InsuranceDetector,
    pub market: MarketDetector,
    /// Which model scores each module's events, for the audit log.
    pub versions: ModelVersions,
    /// What the worker learned from the stored traffic when these were loaded.
    pub learned: Learned,
    /// The rule sets these detectors apply (and each module's version in force).
    pub rule_sets: RuleSets,
    /// The drafts shadowing live decisions (none in a backtest's detectors or a shadow's own).
    pub shadows: Vec<ShadowRun>,
    /// Whether anomaly alerts are calibrated to the traffic (`models.anomaly_alert_rate` > 0).
    calibrating: bool,
}

impl Detectors {
    /// Loads each module's model (training and writing a missing one), the watchlist and the
    /// valuation table named in settings, and configures the engines with them, with the rule
    /// sets in force (their thresholds in place of the config file's, their switches and custom
    /// rules) and with what the worker learned: the AML peer groups and the calibrated anomaly
    /// thresholds.
    ///
    /// With `screening`, AML screens the parties' names against the lists in use; without
    /// (backtests, whose stored requests keep only the names' hashes), it does not.
    pub fn load(
        settings: &Settings,
        learned: Learned,
        rule_sets: RuleSets,
        screening: Option<&NameScreening>,
    ) -> Result<Self, StartupError> {
        let models = load_or_train(&settings.models).map_err(Box::new)?;
        let watchlist = load_watchlist(&settings.aml.watchlist_file)?;
        let calibrating = settings.models.anomaly_alert_rate > 0.0;
        let threshold =
            |module| threshold_in_force(calibrating, &learned, &models.versions, module);
        let (aml_threshold, insurance_threshold, market_threshold) = (
            threshold(Module::Aml),
            threshold(Module::Insurance),
            threshold(Module::Market),
        );
        let mut insurance = rule_sets.config(Module::Insurance, &settings.insurance)?;
        if insurance.identifier_key.is_empty() {
            insurance.identifier_key = settings.secret_key.clone();
        }
        let mut aml = AmlDetector::new(rule_sets.config(Module::Aml, &settings.aml)?)?
            .with_model(models.aml)
            .with_anomaly_threshold(aml_threshold)
            .with_watchlist(watchlist)
            .with_peer_groups(learned.peers.clone());
        if let Some(screening) = screening {
            aml = aml.with_screening(screening.clone());
        }
        Ok(Self {
            aml: rule_sets.apply(Module::Aml, aml)?,
            credit: rule_sets.apply(
                Module::Credit,
                models.credit.install(CreditDetector::new(
                    rule_sets.config(Module::Credit, &settings.credit)?,
                )?),
            )?,
            insurance: rule_sets.apply(
                Module::Insurance,
                InsuranceDetector::new(insurance)?
                    .with_model(models.insurance)
                    .with_anomaly_threshold(insurance_threshold),
            )?,
            market: rule_sets.apply(
                Module::Market,
                MarketDetector::new(rule_sets.config(Module::Market, &settings.market)?)?
                    .with_model(models.market)
                    .with_anomaly_threshold(market_threshold),
            )?,
            versions: models.versions,
            learned,
            rule_sets,
            shadows: Vec::new(),
            calibrating,
        })
    }

    /// The draft shadowing `module`'s live decisions, while one does.
    pub fn shadow(&self, module: Module) -> Option<&ShadowRun> {
        self.shadows.iter().find(|run| run.module == module)
    }

    /// The score from which `module`'s anomaly alert fires in these detectors; `None` while it
    /// is warming up, and for credit.
    pub fn anomaly_threshold(&self, module: Module) -> Option<f64> {
        threshold_in_force(self.calibrating, &self.learned, &self.versions, module)
            .filter(|_| crate::registry::learns_from_traffic(module))
    }

    /// Whether `module`'s anomaly alert is silent because its model has no calibration yet: too
    /// few events stored, or a new model not measured on them.
    pub fn warming_up(&self, module: Module) -> bool {
        self.calibrating
            && crate::registry::learns_from_traffic(module)
            && self.anomaly_threshold(module).is_none()
    }
}

/// Calibrated: the stored threshold for the model in use, none (silent) while warming up; not
/// calibrated: the artifact's training threshold.
fn threshold_in_force(
    calibrating: bool,
    learned: &Learned,
    versions: &ModelVersions,
    module: Module,
) -> Option<f64> {
    if calibrating {
        learned
            .anomaly(module)
            .and_then(|calibration| calibration.threshold_for(versions.of(module)))
    } else {
        versions.card(module).metrics.get("threshold").copied()
    }
}

/// What the worker learns from the stored traffic and every gateway reads back: the AML peer
/// groups and each anomaly module's calibration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Learned {
    pub peers: PeerGroups,
    /// When the peer groups were learned (`None`: never).
    pub peers_learned_at: Option<DateTime<Utc>>,
    pub anomaly: Vec<(Module, AnomalyCalibration)>,
}

impl Learned {
    /// Reads them from the database; `None` when they cannot be read now (logged): the ones in
    /// use stay.
    pub fn read(db: &Database) -> Option<Self> {
        let (peers, peers_learned_at) = match crate::peer_groups::stored(db) {
            Ok(Some((peers, at))) => (peers, Some(at)),
            Ok(None) => (PeerGroups::default(), None),
            Err(error) => {
                tracing::error!(%error, "the AML peer groups cannot be read; keeping those in use");
                return None;
            }
        };
        let mut anomaly = Vec::new();
        for module in crate::registry::anomaly_modules() {
            match anomaly_calibration::stored(db, module) {
                Ok(Some(calibration)) => anomaly.push((module, calibration)),
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(%error, %module, "the anomaly calibration cannot be read; keeping the one in use");
                    return None;
                }
            }
        }
        Some(Self {
            peers,
            peers_learned_at,
            anomaly,
        })
    }

    pub fn anomaly(&self, module: Module) -> Option<&AnomalyCalibration> {
        self.anomaly
            .iter()
            .find(|(calibrated, _)| *calibrated == module)
            .map(|(_, calibration)| calibration)
    }
}

impl From<crate::ServiceError> for StartupError {
    fn from(error: crate::ServiceError) -> Self {
        Self::RuleSets(Box::new(error))
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] StoreError),
    #[error(transparent)]
    Windows(#[from] WindowError),
    #[error("cannot start the decision writer or lookup thread: {0}")]
    Writer(std::io::Error),
    #[error("cannot read the watchlist {path}: {source}")]
    WatchlistFile {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Watchlist(#[from] redflag_aml::WatchlistError),
    #[error(transparent)]
    Config(#[from] redflag_core::ConfigError),
    /// A rule set in force that does not apply, or the rule sets cannot be read.
    #[error(transparent)]
    RuleSets(Box<crate::ServiceError>),
    /// Boxed: model errors carry paths and reasons, and start-up errors are rare.
    #[error(transparent)]
    Models(#[from] Box<crate::models::ModelError>),
}

/// The AML watchlist named in settings, or an empty one when none is.
fn load_watchlist(path: &str) -> Result<Watchlist, StartupError> {
    if path.trim().is_empty() {
        return Ok(Watchlist::default());
    }
    let text = std::fs::read_to_string(path).map_err(|source| StartupError::WatchlistFile {
        path: path.to_owned(),
        source,
    })?;
    let watchlist = Watchlist::from_csv(&text, path)?;
    tracing::info!(path, entries = watchlist.len(), "watchlist loaded");
    Ok(watchlist)
}

/// The detectors with the rule sets in force, and the drafts shadowing them.
fn with_shadows(
    settings: &Settings,
    learned: Learned,
    db: &Database,
    screening: &NameScreening,
) -> Result<Detectors, StartupError> {
    let running = db.running_shadows()?;
    let rule_sets = RuleSets::read(db)?;
    let mut detectors = Detectors::load(settings, learned, rule_sets, Some(screening))?;
    detectors.shadows = crate::shadow::load(
        settings,
        &detectors.learned,
        (&detectors.rule_sets, screening),
        running,
    );
    Ok(detectors)
}

/// Each module's artifact file as the file system last described it (modification time and
/// length; `None` when missing), to notice a replaced artifact without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactStamps(Vec<Option<(SystemTime, u64)>>);

impl ArtifactStamps {
    pub fn read(settings: &ModelSettings) -> Self {
        Self(
            Module::ALL
                .into_iter()
                .map(|module| {
                    let metadata = std::fs::metadata(artifact_path(settings, module)).ok()?;
                    Some((metadata.modified().ok()?, metadata.len()))
                })
                .collect(),
        )
    }
}

/// The detectors a serving process scores with. They are swapped whole when an artifact file or
/// what the worker learned changes; each request keeps the set it started with.
pub struct LiveDetectors {
    current: RwLock<Arc<Detectors>>,
    /// The sanctions and PEP lists in use, shared by every set of detectors loaded.
    pub screening: Arc<Screening>,
    /// What the detectors in use were loaded from.
    loaded: Mutex<Loaded>,
}

/// The artifact files as seen when the detectors in use were loaded, and what the worker had
/// learned then.
struct Loaded {
    artifacts: ArtifactStamps,
    learned: Learned,
    rule_sets: Stamp,
}

impl LiveDetectors {
    /// Loads the detectors with what the worker has learned so far (nothing, when it cannot be
    /// read now), and sets the calibration gauges.
    /// Publishes each module's first rule set when it has none (see [`crate::rule_sets`]).
    pub fn load(settings: &Settings, db: &Database) -> Result<Self, StartupError> {
        crate::rule_sets::publish_first(db)?;
        let learned = Learned::read(db).unwrap_or_default();
        let stamp = Stamp::read(db)?;
        let screening = Arc::new(Screening::load(settings, db)?);
        let detectors = with_shadows(settings, learned.clone(), db, &screening.inline())?;
        crate::telemetry::anomaly_calibrations(&detectors);
        Ok(Self {
            current: RwLock::new(Arc::new(detectors)),
            screening,
            loaded: Mutex::new(Loaded {
                artifacts: ArtifactStamps::read(&settings.models),
                learned,
                rule_sets: stamp,
            }),
        })
    }

    /// The engines as they are now.
    pub fn current(&self) -> Arc<Detectors> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Swaps in the models when an artifact file changed since the last look (`redflag train`,
    /// or a worker's retraining, replaced it), and what the worker learned (the AML peer groups,
    /// the anomaly calibrations) when it changed. Returns whether the detectors were swapped. A
    /// set that does not load is reported and the detectors in use are kept; it is not retried
    /// until something changes again.
    pub fn reload(&self, settings: &Settings, db: &Database) -> Result<bool, StartupError> {
        let artifacts = ArtifactStamps::read(&settings.models);
        let read = Learned::read(db);
        let stamp = Stamp::read(db)?;
        let learned = {
            let mut last = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
            // Unreadable now: what is in use stays.
            let learned = read.unwrap_or_else(|| last.learned.clone());
            if last.artifacts == artifacts && last.learned == learned && last.rule_sets == stamp {
                return Ok(false);
            }
            *last = Loaded {
                artifacts,
                learned: learned.clone(),
                rule_sets: stamp,
            };
            learned
        };
        let detectors = with_shadows(settings, learned, db, &self.screening.inline())?;
        crate::telemetry::anomaly_calibrations(&detectors);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(detectors);
        Ok(true)
    }

    /// Whether a rule set was published, a list changed or a shadow run started or stopped since
    /// the detectors in use were loaded (a cheap read; false when it cannot be read now).
    fn rule_sets_changed(&self, db: &Database) -> bool {
        let Ok(stamp) = Stamp::read(db) else {
            return false;
        };
        self.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rule_sets
            != stamp
    }

    /// Reloads every `models.reload_seconds`, and as soon as a rule set is published or a list
    /// changes (looked for every `rules.poll_seconds`), so that a model trained elsewhere, what a
    /// worker learned and another gateway's publish reach this process without a restart; runs
    /// until its task is dropped (at once when both are 0). Each outcome is counted in
    /// `redflag_model_reloads_total`.
    pub async fn keep_current(self: Arc<Self>, settings: Arc<Settings>, db: Database) {
        let (models, rules) = (settings.models.reload_seconds, settings.rules.poll_seconds);
        let Some(tick) = [models, rules]
            .into_iter()
            .filter(|seconds| *seconds > 0)
            .min()
        else {
            return;
        };
        let mut interval = tokio::time::interval(Duration::from_secs(tick));
        interval.tick().await;
        let mut since_full = 0;
        loop {
            interval.tick().await;
            since_full += tick;
            let full = models > 0 && since_full >= models;
            if full {
                since_full = 0;
            }
            let (live, settings, db) = (self.clone(), settings.clone(), db.clone());
            let reloaded = tokio::task::spawn_blocking(move || {
                if rules > 0 {
                    match live.screening.refresh(&db) {
                        Ok(true) => tracing::info!("the screening lists changed: swapped in"),
                        Ok(false) => {}
                        Err(error) => {
                            tracing::error!(%error, "the screening lists did not load; keeping those in use")
                        }
                    }
                }
                if full || (rules > 0 && live.rule_sets_changed(&db)) {
                    live.reload(&settings, &db)
                } else {
                    Ok(false)
                }
            });
            match reloaded.await {
                Ok(Ok(true)) => {
                    crate::telemetry::model_reload("loaded");
                    tracing::info!(
                        "models, what the worker learned or the rule sets changed: swapped in"
                    );
                }
                Ok(Ok(false)) => {}
                Ok(Err(error)) => {
                    crate::telemetry::model_reload("rejected");
                    tracing::error!(%error, "the changed models or rule sets did not load; keeping the detectors in use");
                }
                Err(error) => tracing::error!(%error, "model reload did not run"),
            }
        }
    }
}
