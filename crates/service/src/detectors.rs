//! The four engines as the service runs them: configured from settings, with the models they
//! score with, the watchlist and valuation table named in settings, and what the worker learned
//! (the AML peer groups, the anomaly alerts' calibrations). `serve` loads them at start and swaps
//! in a new set when an artifact or a calibration changes.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use redflag_aml::{AmlDetector, PeerGroups, Watchlist};
use redflag_core::Module;
use redflag_credit::CreditDetector;
use redflag_insurance::InsuranceDetector;
use redflag_market::MarketDetector;
use redflag_store::{Database, StoreError, WindowError};

use crate::anomaly_calibration::{self, AnomalyCalibration};
use crate::models::{ModelVersions, artifact_path, load_or_train};
use crate::settings::{ModelSettings, Settings};

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
    /// Whether anomaly alerts are calibrated to the traffic (`models.anomaly_alert_rate` > 0).
    calibrating: bool,
}

impl Detectors {
    /// Loads each module's model (training and writing a missing one), the watchlist and the
    /// valuation table named in settings, and configures the engines with them and with what
    /// the worker learned: the AML peer groups and the calibrated anomaly thresholds.
    pub fn load(settings: &Settings, learned: Learned) -> Result<Self, StartupError> {
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
        let mut insurance = settings.insurance.clone();
        if insurance.identifier_key.is_empty() {
            insurance.identifier_key = settings.secret_key.clone();
        }
        Ok(Self {
            aml: AmlDetector::new(settings.aml.clone())?
                .with_model(models.aml)
                .with_anomaly_threshold(aml_threshold)
                .with_watchlist(watchlist)
                .with_peer_groups(learned.peers.clone()),
            credit: models
                .credit
                .install(CreditDetector::new(settings.credit.clone())?),
            insurance: InsuranceDetector::new(insurance)?
                .with_model(models.insurance)
                .with_anomaly_threshold(insurance_threshold),
            market: MarketDetector::new(settings.market.clone())?
                .with_model(models.market)
                .with_anomaly_threshold(market_threshold),
            versions: models.versions,
            learned,
            calibrating,
        })
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

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] StoreError),
    #[error(transparent)]
    Windows(#[from] WindowError),
    #[error("cannot start the decision writer thread: {0}")]
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
    /// What the detectors in use were loaded from.
    loaded: Mutex<Loaded>,
}

/// The artifact files as seen when the detectors in use were loaded, and what the worker had
/// learned then.
struct Loaded {
    artifacts: ArtifactStamps,
    learned: Learned,
}

impl LiveDetectors {
    /// Loads the detectors with what the worker has learned so far (nothing, when it cannot be
    /// read now), and sets the calibration gauges.
    pub fn load(settings: &Settings, db: &Database) -> Result<Self, StartupError> {
        let learned = Learned::read(db).unwrap_or_default();
        let detectors = Detectors::load(settings, learned.clone())?;
        crate::telemetry::anomaly_calibrations(&detectors);
        Ok(Self {
            current: RwLock::new(Arc::new(detectors)),
            loaded: Mutex::new(Loaded {
                artifacts: ArtifactStamps::read(&settings.models),
                learned,
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
        let learned = {
            let mut last = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
            // Unreadable now: what is in use stays.
            let learned = read.unwrap_or_else(|| last.learned.clone());
            if last.artifacts == artifacts && last.learned == learned {
                return Ok(false);
            }
            *last = Loaded {
                artifacts,
                learned: learned.clone(),
            };
            learned
        };
        let detectors = Detectors::load(settings, learned)?;
        crate::telemetry::anomaly_calibrations(&detectors);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(detectors);
        Ok(true)
    }

    /// Reloads every `models.reload_seconds` (never when 0), so that a model trained elsewhere
    /// or what a worker learned reaches this process without a restart; runs until its task is
    /// dropped. Each outcome is counted in `redflag_model_reloads_total`.
    pub async fn keep_current(self: Arc<Self>, settings: Arc<Settings>, db: Database) {
        let every = Duration::from_secs(settings.models.reload_seconds);
        if every.is_zero() {
            return;
        }
        let mut interval = tokio::time::interval(every);
        interval.tick().await;
        loop {
            interval.tick().await;
            let (live, settings, db) = (self.clone(), settings.clone(), db.clone());
            match tokio::task::spawn_blocking(move || live.reload(&settings, &db)).await {
                Ok(Ok(true)) => {
                    crate::telemetry::model_reload("loaded");
                    tracing::info!("model artifacts changed: swapped in");
                }
                Ok(Ok(false)) => {}
                Ok(Err(error)) => {
                    crate::telemetry::model_reload("rejected");
                    tracing::error!(%error, "changed model artifacts not loaded; keeping the models in use");
                }
                Err(error) => tracing::error!(%error, "model reload did not run"),
            }
        }
    }
}
