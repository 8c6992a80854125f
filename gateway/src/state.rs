//! What every handler shares: settings, the database, the windows, the detectors, tokens and
//! telemetry. Passed through actix app data, never a global.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusHandle;
pub use redflag_service::detectors::{ArtifactStamps, Detectors, Learned, StartupError};
use redflag_store::{ActivityWindows, Database, DecisionWriter, InProcessWindows, RedisWindows};
use serde_json::Value;

use crate::auth::{TokenService, hash_password};
use crate::limits::Limits;
use crate::telemetry::{Telemetry, prometheus};
use redflag_service::settings::Settings;

pub struct AppState {
    pub settings: Settings,
    pub db: Database,
    /// Stores decisions with group commit (see [`DecisionWriter`]).
    pub writer: DecisionWriter,
    pub windows: Arc<dyn ActivityWindows>,
    pub tokens: TokenService,
    pub limits: Limits,
    /// Whether the last detection found the windows' store unreachable: outages are logged when
    /// they start and end, not on every degraded decision.
    pub windows_unreachable: AtomicBool,
    /// The OpenAPI document, built once ([`crate::openapi::document`]).
    pub openapi: Arc<Value>,
    /// Swapped whole when a model artifact changes (see [`AppState::reload_models`]); each
    /// request holds the set it started with.
    detectors: RwLock<Arc<Detectors>>,
    /// What the detectors in use were loaded from.
    loaded: Mutex<Loaded>,
    pub telemetry: Telemetry,
    pub prometheus: PrometheusHandle,
    pub started: Instant,
    /// The last statistics body and when it was computed.
    pub statistics_cache: Mutex<Option<(Instant, Value)>>,
    dummy_hash: OnceLock<String>,
}

impl AppState {
    /// Drops the cached statistics, so that an analyst who has just resolved a case sees its
    /// labels in the next statistics read (other gateways' caches expire on their own).
    pub fn forget_statistics(&self) {
        if let Ok(mut cache) = self.statistics_cache.lock() {
            *cache = None;
        }
    }

    /// Connects the database (applying pending migrations) and the windows, and loads (or trains
    /// and writes) each module's model.
    pub fn build(settings: Settings) -> Result<Self, StartupError> {
        let db = settings
            .database
            .connect_and_migrate(settings.database.pool_size)?;
        let learned = Learned::read(&db).unwrap_or_default();
        let detectors = Detectors::load(&settings, learned.clone())?;
        // The embedded mode's writer keeps the audit chain itself (see `DecisionWriter::start`).
        let keep_chain = settings.audit.embedded_worker
            && settings.audit.queue_url.trim().is_empty()
            && db.backend() == redflag_store::Backend::Sqlite;
        let writer = DecisionWriter::start(db.clone(), settings.database.commit_batch, keep_chain)
            .map_err(StartupError::Writer)?;
        let windows: Arc<dyn ActivityWindows> = if settings.redis_configured() {
            Arc::new(RedisWindows::connect(
                &settings.redis.url,
                &settings.redis.key_prefix,
                settings.windows.max_entries,
            )?)
        } else {
            Arc::new(
                InProcessWindows::new(settings.windows.max_entries)
                    .with_max_windows(settings.windows.max_windows),
            )
        };
        let state = Self {
            tokens: TokenService::new(
                settings.secret_key.expose(),
                settings.auth.access_token_lifetime_seconds,
                settings.auth.refresh_token_lifetime_seconds,
            ),
            limits: Limits::new(&settings.limits),
            windows_unreachable: AtomicBool::new(false),
            openapi: Arc::new(crate::openapi::document()),
            detectors: RwLock::new(Arc::new(detectors)),
            loaded: Mutex::new(Loaded {
                artifacts: ArtifactStamps::read(&settings.models),
                learned,
            }),
            db,
            writer,
            windows,
            telemetry: Telemetry::default(),
            prometheus: prometheus(),
            started: Instant::now(),
            statistics_cache: Mutex::new(None),
            dummy_hash: OnceLock::new(),
            settings,
        };
        // After the recorder is installed (`prometheus()` above).
        crate::telemetry::anomaly_calibrations(&state.detectors());
        Ok(state)
    }

    /// The engines as they are now.
    pub fn detectors(&self) -> Arc<Detectors> {
        self.detectors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Swaps in the models when an artifact file changed since the last look (`redflag train`,
    /// or a worker's retraining, replaced it), and what the worker learned (the AML peer groups,
    /// the anomaly calibrations) when it changed: requests already running finish with the
    /// detectors they started with. Returns whether the detectors were swapped. A set that does
    /// not load is reported and the detectors in use are kept; it is not retried until something
    /// changes again.
    pub fn reload_models(&self) -> Result<bool, StartupError> {
        let artifacts = ArtifactStamps::read(&self.settings.models);
        let read = Learned::read(&self.db);
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
        let detectors = Detectors::load(&self.settings, learned)?;
        crate::telemetry::anomaly_calibrations(&detectors);
        *self
            .detectors
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(detectors);
        Ok(true)
    }

    /// A hash to verify against when the username does not exist, so that a wrong username costs
    /// the same time as a wrong password and the response time does not reveal which users exist.
    pub fn dummy_hash(&self) -> &str {
        self.dummy_hash.get_or_init(|| {
            let random = uuid::Uuid::new_v4().simple().to_string();
            hash_password(&random).unwrap_or_default()
        })
    }
}

/// What the detectors in use were loaded from: the artifact files as seen then, and what the
/// worker had learned.
struct Loaded {
    artifacts: ArtifactStamps,
    learned: Learned,
}
