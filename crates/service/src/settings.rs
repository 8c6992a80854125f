//! Typed, layered settings: the embedded config/default.toml, an optional profile file, then
//! environment variables (Redflag's own and the Django backend's).

use std::collections::HashMap;
use std::path::PathBuf;

use config::{Config, Environment, File, FileFormat};
use redflag_aml::AmlConfig;
use redflag_core::{ConfigError, Secret};
use redflag_credit::CreditConfig;
use redflag_insurance::InsuranceConfig;
use redflag_market::MarketConfig;
use serde::{Deserialize, Serialize};

/// The shipped defaults; the file in the repository is the one documented source of them.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// The development secret shipped in config/default.toml; never accepted with DEBUG off.
pub const DEVELOPMENT_SECRET_KEY: &str =
    "django-insecure-redflag-development-key-do-not-use-in-production";

/// Shortest secret accepted with DEBUG off: HS256 wants at least 256 bits of key.
const MIN_SECRET_KEY_LENGTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub debug: bool,
    pub secret_key: Secret,
    pub allowed_hosts: Vec<String>,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub windows: WindowSettings,
    pub auth: AuthSettings,
    pub limits: LimitSettings,
    pub statistics: StatisticsSettings,
    pub models: ModelSettings,
    pub audit: AuditSettings,
    pub tasks: TaskSettings,
    pub rules: RuleSettings,
    pub screening: ScreeningSettings,
    pub webhooks: WebhookSettings,
    pub aml: AmlConfig,
    pub credit: CreditConfig,
    pub insurance: InsuranceConfig,
    pub market: MarketConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    pub workers: usize,
    pub body_limit_bytes: usize,
    /// Deepest nesting of arrays and objects accepted in a JSON body: no event of the contract
    /// nests more than two levels, and deep nesting only costs the parser.
    pub max_json_depth: usize,
    /// Longest a request may take before it is answered 503.
    pub request_timeout_ms: u64,
    /// How long SIGTERM waits for in-flight requests before the process exits.
    pub shutdown_grace_seconds: u64,
    /// Takes the client address from `X-Forwarded-For` (behind a load balancer that sets it);
    /// otherwise the peer address, which a client cannot forge.
    pub trust_forwarded_for: bool,
    pub cors_allowed_origins: Vec<String>,
    /// Serves `POST /api/echo/`, a bare JSON echo without authentication, so that load tests can
    /// measure the HTTP ceiling of the same server (`cargo xtask bench --baseline`).
    pub echo_route: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    /// Longest a request waits for a database connection: while the database is unreachable,
    /// how soon it gets its 503.
    pub checkout_timeout_ms: u64,
    /// Most decisions one group commit stores together.
    pub commit_batch: usize,
}

impl DatabaseSettings {
    /// Connects with `connections` pooled connections and applies pending migrations: how every
    /// command that reads or writes records starts.
    pub fn connect_and_migrate(
        &self,
        connections: u32,
    ) -> Result<redflag_store::Database, redflag_store::StoreError> {
        let db = redflag_store::Database::connect_with_timeout(
            &self.url,
            connections,
            std::time::Duration::from_millis(self.checkout_timeout_ms.max(1)),
        )?;
        db.migrate()?;
        Ok(db)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    pub url: String,
    pub key_prefix: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSettings {
    pub max_entries: usize,
    pub max_windows: usize,
    pub on_unavailable: OnUnavailable,
}

/// What a detection does when its recent-activity windows cannot be read (Redis unreachable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnUnavailable {
    /// Fail open: decide with the rules that need no history, record the decision marked
    /// `degraded` with the rules it skipped.
    Degrade,
    /// Fail closed: answer 503 and record nothing; the client resends later.
    Refuse,
}

/// Abuse limits (the gateway enforces them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    pub login_failures_per_username: u32,
    pub login_failures_per_address: u32,
    pub login_lockout_seconds: u64,
    /// Detections per second per user; 0 is no limit.
    pub detections_per_second: u32,
    /// Detections a user may send at once; 0 means `detections_per_second`.
    pub detections_burst: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub access_token_lifetime_seconds: i64,
    pub refresh_token_lifetime_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatisticsSettings {
    pub cache_seconds: u64,
    pub top_rules: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    pub directory: String,
    pub synthetic_rows: usize,
    pub seed: u64,
    /// How often `serve` checks the artifacts and swaps in a changed one, in seconds; 0: never
    /// (a new artifact then waits for the next start).
    pub reload_seconds: u64,
    /// The share of a module's events its anomaly alert may fire on: the alert threshold is the
    /// score this share of the deployment's recent traffic reaches (see
    /// [`crate::anomaly_calibration`]). 0: no calibration; the artifact's training threshold
    /// is used from the first event.
    pub anomaly_alert_rate: f64,
    /// Stored decisions of a module before its anomaly alert speaks: until then the model is
    /// warming up, and a model trained on synthetic defaults is retrained on that traffic first.
    pub calibration_min_events: usize,
}

/// Rule sets as data (see [`crate::rule_sets`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// How often a serving process looks for a newly published rule set or a changed list, in
    /// seconds; 0: only at start and on its own publishes.
    pub poll_seconds: u64,
    /// Fewest days of stored traffic a backtest replays before its period to warm the windows;
    /// it replays the module's longest window when that is longer (a year for insurance).
    pub backtest_warm_up_days: u32,
}

/// Sanctions and PEP screening (see [`crate::screening`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningSettings {
    /// The score from which a name matches a listed entry, 0..1: in the flow, on list updates,
    /// and by default in `POST /api/screening/`.
    pub threshold: f64,
    /// Secret keying the hashes parties' names are kept as; empty: SECRET_KEY. Changing it
    /// forgets every remembered party's linkage (list updates are no longer screened against
    /// them).
    pub name_key: Secret,
}

/// Webhook deliveries (see [`crate::webhooks`]); the workers send them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Lets subscriptions point at loopback, private and link-local addresses: off, so that an
    /// admin's URL cannot reach the service's own network; on for tests and an in-house receiver.
    pub allow_private_addresses: bool,
    /// How long an endpoint has to answer one delivery.
    pub timeout_seconds: u64,
    /// How often each worker looks for new events and due deliveries, in milliseconds.
    pub poll_interval_ms: u64,
    /// Deliveries one worker sends at once.
    pub concurrency: usize,
    /// How long the secret before a rotation keeps signing, in hours.
    pub rotation_grace_hours: u64,
}

/// The worker's periodic tasks; an interval of 0 turns a task off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSettings {
    /// How often idle recent-activity windows are removed, in seconds.
    pub expire_windows_seconds: u64,
    /// How often settled decisions are folded into the statistics roll-ups, in seconds.
    pub rollup_statistics_seconds: u64,
    /// How old a decision must be before it is rolled up, in seconds: longer than any insert
    /// transaction lasts, so that none commits behind the watermark.
    pub rollup_settle_seconds: u64,
    /// Most decisions folded in per roll-up transaction.
    pub rollup_batch: i64,
    /// How often the anomaly models are retrained on the figures of recent decisions, in hours.
    pub retrain_hours: u64,
    /// Most recent decisions per module that a retraining reads.
    pub retrain_rows: i64,
    /// Fewest stored decisions a module needs before it is retrained on them.
    pub retrain_min_rows: usize,
    /// How often the AML peer groups are learned from the stored transfers, in seconds.
    pub peer_groups_seconds: u64,
    /// How often the anomaly alerts are calibrated to recent traffic, in seconds.
    pub calibrate_anomaly_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Whether `serve` also applies the audit outbox to the audit log itself (the embedded
    /// mode); off when separate `redflag worker` processes do it.
    pub embedded_worker: bool,
    /// How long a worker waits after finding nothing to apply, in milliseconds.
    pub poll_interval_ms: u64,
    /// Outbox records applied per transaction.
    pub batch_size: i64,
    /// Redis for the audit queue (Redis Streams); empty: workers read the outbox directly.
    /// `AUDIT_QUEUE_URL`, or a `redis://` `CELERY_BROKER_URL`, set it too.
    pub queue_url: String,
    /// How long a record may sit unacknowledged with a worker before another takes it over.
    pub reclaim_idle_ms: u64,
    /// Deliveries after which a record that still cannot be applied goes to the dead letters.
    pub dead_letter_after: usize,
}

/// Why settings could not be loaded, or are unsafe to serve with.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid configuration: {0}")]
    Invalid(#[from] config::ConfigError),
    /// A setting with a value that would make decisions meaningless.
    #[error("invalid configuration: {0}")]
    OutOfRange(#[from] ConfigError),
    #[error(
        "refusing to start with DEBUG off and the development SECRET_KEY: set SECRET_KEY to at \
         least {MIN_SECRET_KEY_LENGTH} random characters"
    )]
    DevelopmentSecret,
    #[error(
        "refusing to start with DEBUG off and a SECRET_KEY shorter than {MIN_SECRET_KEY_LENGTH} characters"
    )]
    WeakSecret,
    #[error("refusing to start with DEBUG off and no allowed hosts: set DJANGO_ALLOWED_HOSTS")]
    NoAllowedHosts,
}

/// Where settings come from: the profile, the directory of profile files, and the environment.
///
/// The environment is passed in rather than read globally so that tests can load settings side
/// by side without touching the process environment.
#[derive(Debug, Clone)]
pub struct Sources {
    pub profile: Option<String>,
    pub config_dir: PathBuf,
    pub env: HashMap<String, String>,
}

impl Sources {
    /// The running process's sources: REDFLAG_PROFILE, REDFLAG_CONFIG_DIR and its environment.
    pub fn from_process() -> Self {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self {
            profile: env
                .get("REDFLAG_PROFILE")
                .filter(|p| !p.is_empty())
                .cloned(),
            config_dir: env
                .get("REDFLAG_CONFIG_DIR")
                .map_or_else(|| PathBuf::from("config"), PathBuf::from),
            env,
        }
    }
}

impl Settings {
    /// Loads every layer; later layers win.
    pub fn load(sources: &Sources) -> Result<Self, SettingsError> {
        let mut builder =
            Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if let Some(profile) = &sources.profile {
            let path = sources.config_dir.join(format!("{profile}.toml"));
            builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
        }
        let redflag_env: HashMap<String, String> = sources
            .env
            .iter()
            .filter(|(key, _)| key.starts_with("REDFLAG__"))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        builder = builder.add_source(
            Environment::with_prefix("REDFLAG")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(redflag_env)),
        );
        let env = |name: &str| {
            sources
                .env
                .get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if let Some(debug) = env("DEBUG") {
            builder = builder.set_override("debug", parse_flag(&debug))?;
        }
        if let Some(secret) = env("SECRET_KEY") {
            builder = builder.set_override("secret_key", secret)?;
        }
        if let Some(hosts) = env("DJANGO_ALLOWED_HOSTS") {
            let hosts: Vec<String> = hosts
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect();
            builder = builder.set_override("allowed_hosts", hosts)?;
        }
        if let Some(url) = env("AUDIT_QUEUE_URL").or_else(|| {
            env("CELERY_BROKER_URL")
                .filter(|url| url.starts_with("redis://") || url.starts_with("rediss://"))
        }) {
            builder = builder.set_override("audit.queue_url", url)?;
        }
        if let Some(url) = env("DATABASE_URL") {
            builder = builder.set_override("database.url", url)?;
        }
        if let Some(url) = env("REDIS_URL") {
            builder = builder.set_override("redis.url", url)?;
        } else if let Some(host) = env("REDIS_HOST") {
            let port = env("REDIS_PORT").unwrap_or_else(|| "6379".to_owned());
            builder = builder.set_override("redis.url", format!("redis://{host}:{port}/0"))?;
        }
        let settings: Self = builder.build()?.try_deserialize()?;
        let alert_rate = settings.models.anomaly_alert_rate;
        ConfigError::merge([
            settings.aml.check(),
            settings.credit.check(),
            settings.insurance.check(),
            settings.market.check(),
            ConfigError::check(
                "models",
                &[(
                    !(0.0..0.5).contains(&alert_rate),
                    "anomaly_alert_rate must be at least 0 and below 0.5",
                )],
            ),
            ConfigError::check(
                "screening",
                &[(
                    !(settings.screening.threshold > 0.0 && settings.screening.threshold <= 1.0),
                    "threshold must be above 0 and at most 1",
                )],
            ),
        ])?;
        Ok(settings)
    }

    /// Refuses settings that would be unsafe outside development.
    pub fn check_safe_to_serve(&self) -> Result<(), SettingsError> {
        if self.debug {
            return Ok(());
        }
        if self.secret_key.expose() == DEVELOPMENT_SECRET_KEY {
            return Err(SettingsError::DevelopmentSecret);
        }
        if self.secret_key.expose().chars().count() < MIN_SECRET_KEY_LENGTH {
            return Err(SettingsError::WeakSecret);
        }
        if self.allowed_hosts.is_empty() {
            return Err(SettingsError::NoAllowedHosts);
        }
        Ok(())
    }

    /// Whether recent-activity windows live in Redis.
    pub fn redis_configured(&self) -> bool {
        !self.redis.url.trim().is_empty()
    }
}

/// Django-style boolean environment values: 1/true/yes/on are true, anything else false.
fn parse_flag(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(env: &[(&str, &str)]) -> Sources {
        Sources {
            profile: None,
            config_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config")),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// Collects every key path of a TOML tree, e.g. `aml.reporting_threshold`.
    fn key_paths(value: &toml::Value, prefix: &str, out: &mut Vec<String>) {
        if let toml::Value::Table(table) = value {
            for (key, child) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                key_paths(child, &path, out);
                out.push(path);
            }
        }
    }

    #[test]
    fn default_toml_loads_and_documents_every_setting() {
        let settings = Settings::load(&sources(&[])).expect("the shipped defaults load");
        let file: toml::Value = toml::from_str(DEFAULT_TOML).expect("valid TOML");
        let loaded = toml::Value::try_from(&settings).expect("settings serialise");
        let (mut in_file, mut in_code) = (Vec::new(), Vec::new());
        key_paths(&file, "", &mut in_file);
        key_paths(&loaded, "", &mut in_code);
        in_file.sort();
        in_code.sort();
        assert_eq!(
            in_file, in_code,
            "config/default.toml must name every setting"
        );
        assert_eq!(settings.secret_key.expose(), DEVELOPMENT_SECRET_KEY);
        assert_eq!(settings.server.bind, "127.0.0.1:8000");
        assert!(!settings.redis_configured());
    }

    #[test]
    fn the_django_variables_override_the_files() {
        let settings = Settings::load(&sources(&[
            ("DEBUG", "0"),
            ("SECRET_KEY", "s3cret-s3cret-s3cret-s3cret-s3cret-42"),
            (
                "DJANGO_ALLOWED_HOSTS",
                "api.example.com, .internal localhost",
            ),
            ("REDIS_HOST", "cache"),
            ("REDIS_PORT", "6380"),
            ("DATABASE_URL", "postgres://u@db/redflag"),
            ("REDFLAG__SERVER__BIND", "0.0.0.0:9000"),
            ("REDFLAG__AML__REPORTING_THRESHOLD", "5000"),
        ]))
        .expect("loads");
        assert!(!settings.debug);
        assert_eq!(
            settings.allowed_hosts,
            ["api.example.com", ".internal", "localhost"]
        );
        assert_eq!(settings.redis.url, "redis://cache:6380/0");
        assert_eq!(settings.database.url, "postgres://u@db/redflag");
        assert_eq!(settings.server.bind, "0.0.0.0:9000");
        assert_eq!(settings.aml.reporting_threshold, 5000.0);
        assert!(settings.check_safe_to_serve().is_ok());
    }

    #[test]
    fn a_meaningless_credit_policy_is_refused_naming_the_settings() {
        let error = Settings::load(&sources(&[
            ("REDFLAG__CREDIT__REVIEW_MIN_SCORE", "700"),
            ("REDFLAG__CREDIT__APPROVE_MIN_SCORE", "650"),
            ("REDFLAG__CREDIT__MAX_PROBABILITY_OF_DEFAULT", "1.5"),
        ]))
        .expect_err("review above approve");
        assert_eq!(
            error.to_string(),
            "invalid configuration: credit.review_min_score must not exceed approve_min_score; \
             credit.max_probability_of_default must lie in 0..=1"
        );
    }

    #[test]
    fn meaningless_aml_settings_are_refused_naming_them() {
        let error = Settings::load(&sources(&[
            ("REDFLAG__AML__PASS_THROUGH_MIN_FORWARDED", "1.5"),
            ("REDFLAG__AML__FLAG_RISK_SCORE", "120"),
        ]))
        .expect_err("out of range");
        assert_eq!(
            error.to_string(),
            "invalid configuration: aml.pass_through_min_forwarded must lie in 0..=1; \
             aml.flag_risk_score must lie in 0..=100"
        );
    }

    #[test]
    fn the_audit_queue_is_named_by_its_own_variable_or_a_redis_celery_broker() {
        let queue = |env: &[(&str, &str)]| {
            Settings::load(&sources(env))
                .expect("loads")
                .audit
                .queue_url
        };
        assert_eq!(queue(&[]), "");
        assert_eq!(
            queue(&[("CELERY_BROKER_URL", "redis://broker:6379/1")]),
            "redis://broker:6379/1"
        );
        assert_eq!(
            queue(&[("CELERY_BROKER_URL", "amqp://guest@rabbit//")]),
            "",
            "only a Redis broker can carry the stream"
        );
        assert_eq!(
            queue(&[
                ("CELERY_BROKER_URL", "redis://broker:6379/1"),
                ("AUDIT_QUEUE_URL", "redis://audit:6379/0"),
            ]),
            "redis://audit:6379/0"
        );
    }

    #[test]
    fn the_test_profile_file_is_layered_on_top() {
        let mut sources = sources(&[]);
        sources.profile = Some("test".to_owned());
        let settings = Settings::load(&sources).expect("loads");
        assert_eq!(settings.statistics.cache_seconds, 0);
        sources.profile = Some("missing".to_owned());
        assert!(
            Settings::load(&sources).is_err(),
            "a named profile must exist"
        );
    }

    #[test]
    fn debug_off_refuses_the_development_secret_and_weak_secrets() {
        let settings = Settings::load(&sources(&[("DEBUG", "false")])).expect("loads");
        assert!(matches!(
            settings.check_safe_to_serve(),
            Err(SettingsError::DevelopmentSecret)
        ));
        let settings = Settings::load(&sources(&[("DEBUG", "false"), ("SECRET_KEY", "short")]))
            .expect("loads");
        assert!(matches!(
            settings.check_safe_to_serve(),
            Err(SettingsError::WeakSecret)
        ));
        let debug = Settings::load(&sources(&[("DEBUG", "1")])).expect("loads");
        assert!(debug.check_safe_to_serve().is_ok());
    }
}
