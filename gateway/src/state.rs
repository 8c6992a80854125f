//! What every handler shares: settings, the database, the windows, the detectors, tokens and
//! telemetry. Passed through actix app data, never a global.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusHandle;
pub use redflag_service::detectors::{Detectors, LiveDetectors, StartupError};
use redflag_store::{ActivityWindows, Database, DecisionLookups, DecisionWriter};
use serde_json::Value;

use crate::auth::TokenService;
use crate::limits::Limits;
use crate::telemetry::{Telemetry, prometheus};
use redflag_service::settings::Settings;
use redflag_service::users::hash_password;

pub struct AppState {
    pub settings: Settings,
    pub db: Database,
    /// Stores decisions with group commit (see [`DecisionWriter`]).
    pub writer: DecisionWriter,
    /// On PostgreSQL, the idempotency lookups of concurrent requests asked together (see
    /// [`DecisionLookups`]); on SQLite requests look up inline.
    pub lookups: Option<DecisionLookups>,
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
    pub detectors: Arc<LiveDetectors>,
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
        // The recorder first: loading the detectors sets the calibration gauges.
        let prometheus = prometheus();
        let detectors = Arc::new(LiveDetectors::load(&settings, &db)?);
        // The embedded mode's writer keeps the audit chain itself (see `DecisionWriter::start`).
        let keep_chain = settings.audit.embedded_worker
            && settings.audit.queue_url.trim().is_empty()
            && db.backend() == redflag_store::Backend::Sqlite;
        let writer = DecisionWriter::start(db.clone(), settings.database.commit_batch, keep_chain)
            .map_err(StartupError::Writer)?;
        let lookups = match db.backend() {
            redflag_store::Backend::Postgres => Some(
                DecisionLookups::start(db.clone(), settings.database.commit_batch)
                    .map_err(StartupError::Writer)?,
            ),
            redflag_store::Backend::Sqlite => None,
        };
        let windows = redflag_service::windows::serving(&settings)?;
        let state = Self {
            tokens: TokenService::new(
                settings.secret_key.expose(),
                settings.auth.access_token_lifetime_seconds,
                settings.auth.refresh_token_lifetime_seconds,
            ),
            limits: Limits::new(&settings.limits),
            windows_unreachable: AtomicBool::new(false),
            openapi: Arc::new(crate::openapi::document()),
            detectors,
            db,
            writer,
            lookups,
            windows,
            telemetry: Telemetry::default(),
            prometheus,
            started: Instant::now(),
            statistics_cache: Mutex::new(None),
            dummy_hash: OnceLock::new(),
            settings,
        };
        Ok(state)
    }

    /// The engines as they are now.
    pub fn detectors(&self) -> Arc<Detectors> {
        self.detectors.current()
    }

    /// Swaps in changed models and what the worker learned (see [`LiveDetectors::reload`]).
    pub fn reload_models(&self) -> Result<bool, StartupError> {
        self.detectors.reload(&self.settings, &self.db)
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
