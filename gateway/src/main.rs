//! `redflag`: serve the API, migrate the database, manage users.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpServer, web};
use clap::{Parser, Subcommand, ValueEnum};
use redflag_audit::AuditEvent;
use redflag_core::Module;
use redflag_gateway::anomaly_calibration;
use redflag_gateway::auth::{Role, hash_password};
use redflag_gateway::build_app;
use redflag_gateway::model_evaluation::EvaluationRequest;
use redflag_gateway::models;
use redflag_gateway::settings::{Settings, Sources};
use redflag_gateway::state::AppState;
use redflag_gateway::tasks::{Periodic, Task};
use redflag_ml_core::{ModelKind, TrainingSet};
use redflag_store::{ActivityWindows, ChainReport, Database, RedisWindows};
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's malloc: under load the detection path's many small allocations
/// spent a quarter of the CPU time in the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "redflag",
    version,
    about = "Real-time fraud detection: AML, credit, insurance and market abuse"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (applies pending migrations first).
    Serve {
        /// Address to listen on; overrides server.bind.
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Print the OpenAPI 3.1 document that GET /api/schema/ serves (JSON).
    Openapi,
    /// Train a module's model and write its artifact; a running service swaps it in within
    /// models.reload_seconds.
    Train {
        #[arg(value_enum)]
        module: ModuleArg,
        /// Train on this CSV instead of the synthetic defaults; its header must name exactly the
        /// module's features (and the label column, when given).
        #[arg(long)]
        csv: Option<PathBuf>,
        /// The CSV column holding the label (1/true: anomaly or default); required for credit.
        #[arg(long, requires = "csv")]
        label: Option<String>,
        /// Rows of synthetic data (without --csv); default: models.synthetic_rows.
        #[arg(long, conflicts_with = "csv")]
        rows: Option<usize>,
        /// Seed of the synthetic data and of training; default: models.seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Learn from stored decisions and analysts' closed cases: credit trains on the decisions
        /// labelled confirmed_fraud / false_positive, the anomaly models on recent decisions less
        /// confirmed fraud; reports the previous model's precision on the labels.
        #[arg(long, conflicts_with_all = ["csv", "rows"])]
        with_labels: bool,
    },
    /// Check a model on your own history before switching it on.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Manage users who may obtain tokens.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Move audit records from the outbox to the audit log (any number of workers may run).
    Worker {
        /// Apply what is pending, then exit, instead of running until stopped.
        #[arg(long)]
        once: bool,
    },
    /// Inspect the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Run one of the worker's periodic tasks now (e.g. from cron, or after a bulk load).
    Task {
        #[arg(value_enum)]
        task: TaskArg,
    },
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Train a model on one labelled CSV and measure it on another: ROC AUC, average precision,
    /// KS, Gini, Brier, a calibration table and the top features. The files have a header;
    /// quoted fields and empty cells (missing values) are read as such; every column but the
    /// label is a feature (numeric, or categorical when a value is not a number).
    Evaluate {
        #[arg(long, value_enum)]
        kind: ModelKindArg,
        /// The labelled CSV to train on.
        #[arg(long)]
        train: PathBuf,
        /// The labelled CSV to measure on (the same columns, in any order).
        #[arg(long)]
        test: PathBuf,
        /// The label column.
        #[arg(long)]
        label: String,
        /// The label value of the positive class (fraud, default); without it 1/0, true/false
        /// and yes/no are read.
        #[arg(long)]
        positive: Option<String>,
        /// Write each test row's score here (CSV: line, label, score).
        #[arg(long)]
        scores: Option<PathBuf>,
        /// Seed of the isolation forest; default: models.seed.
        #[arg(long)]
        seed: Option<u64>,
    },
}

/// The models `redflag model evaluate` trains.
#[derive(Clone, Copy, ValueEnum)]
enum ModelKindArg {
    Logistic,
    Scorecard,
    IsolationForest,
    /// Gradient-boosted trees, monotone in each feature in the direction the training rows
    /// show.
    Gbm,
}

/// The periodic task `task` runs.
#[derive(Clone, Copy, ValueEnum)]
enum TaskArg {
    /// Remove idle recent-activity windows (Redis: count the live ones).
    ExpireWindows,
    /// Fold settled decisions into the statistics roll-ups.
    RollupStatistics,
    /// Retrain the anomaly models on recent decisions when their artifacts are older than
    /// tasks.retrain_hours.
    RetrainModels,
    /// Learn the AML peer groups (what established senders of each segment do in an hour and a
    /// day) from the stored transfers.
    LearnPeerGroups,
    /// Calibrate the anomaly alerts to the most recent decisions (models.anomaly_alert_rate),
    /// retraining a model still on synthetic defaults once enough decisions are stored.
    CalibrateAnomaly,
}

impl From<TaskArg> for Task {
    fn from(task: TaskArg) -> Self {
        match task {
            TaskArg::ExpireWindows => Self::ExpireWindows,
            TaskArg::RollupStatistics => Self::RollUpStatistics,
            TaskArg::RetrainModels => Self::RetrainModels,
            TaskArg::LearnPeerGroups => Self::LearnPeerGroups,
            TaskArg::CalibrateAnomaly => Self::CalibrateAnomaly,
        }
    }
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain from the first entry; exits non-zero naming the first broken link.
    Verify,
}

/// The module whose model `train` builds.
#[derive(Clone, Copy, ValueEnum)]
enum ModuleArg {
    Aml,
    Credit,
    Insurance,
    Market,
}

impl From<ModuleArg> for Module {
    fn from(module: ModuleArg) -> Self {
        match module {
            ModuleArg::Aml => Self::Aml,
            ModuleArg::Credit => Self::Credit,
            ModuleArg::Insurance => Self::Insurance,
            ModuleArg::Market => Self::Market,
        }
    }
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from the first line of standard input.
    Create {
        #[arg(long)]
        username: String,
        /// analyst (read, work the alert queue) or admin (also users and models).
        #[arg(long, value_enum, default_value_t = Role::Analyst)]
        role: Role,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Replace a user's password; the new one is read from the first line of standard input.
    SetPassword {
        #[arg(long)]
        username: String,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(io::stderr)
        .init();
    let cli = Cli::parse();
    let result = Settings::load(&Sources::from_process())
        .map_err(|error| error.to_string())
        .and_then(|settings| run(cli.command, settings));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            let _ = writeln!(io::stderr(), "redflag: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, mut settings: Settings) -> Result<(), String> {
    match command {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                settings.server.bind = bind;
            }
            serve(settings)
        }
        Command::Openapi => {
            let document = serde_json::to_string_pretty(&redflag_gateway::openapi::document())
                .map_err(|e| e.to_string())?;
            say(&document)
        }
        Command::Migrate => {
            let db = Database::connect(&settings.database.url, 1).map_err(|e| e.to_string())?;
            let applied = db.migrate().map_err(|e| e.to_string())?;
            say(&format!(
                "applied {applied} migration(s) to the {} database",
                db.backend().as_str()
            ))
        }
        Command::Train {
            module,
            seed,
            with_labels: true,
            ..
        } => train_with_labels(&settings, module.into(), seed),
        Command::Train {
            module,
            csv,
            label,
            rows,
            seed,
            with_labels: false,
        } => train(&settings, module.into(), csv, label, rows, seed),
        Command::User {
            command: UserCommand::Create { username, role, .. },
        } => {
            let (db, username, hash) = user_and_password(&settings, &username)?;
            let user = db
                .create_user(&username, &hash, role.as_str())
                .map_err(|e| e.to_string())?;
            audit_user_event(&db, AuditEvent::USER_CREATED, &user.username, user.id().0)?;
            say(&format!(
                "created user `{}` (id {}, {})",
                user.username,
                user.id().0,
                user.role
            ))
        }
        Command::User {
            command: UserCommand::SetPassword { username, .. },
        } => {
            let (db, username, hash) = user_and_password(&settings, &username)?;
            let user = db
                .find_user_by_username(&username)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no user `{username}`"))?;
            db.set_password(&username, &hash)
                .map_err(|e| e.to_string())?;
            audit_user_event(&db, AuditEvent::PASSWORD_SET, &user.username, user.id().0)?;
            say(&format!("set the password of `{username}`"))
        }
        Command::Worker { once } => {
            let db = settings
                .database
                .connect_and_migrate(2)
                .map_err(|e| e.to_string())?;
            if once {
                let applied = redflag_gateway::worker::drain(&db, &settings.audit)
                    .map_err(|e| e.to_string())?;
                return say(&format!("applied {applied} audit record(s)"));
            }
            let periodic = Periodic::new(
                db.clone(),
                worker_windows(&settings)?,
                settings.models.clone(),
                settings.tasks.clone(),
                settings.aml.clone(),
            );
            tracing::info!("audit worker running");
            actix_web::rt::System::new().block_on(async move {
                actix_web::rt::spawn(periodic.run());
                redflag_gateway::worker::run(
                    db,
                    settings.audit,
                    settings.redis.key_prefix,
                    redflag_gateway::worker::consumer_name(),
                )
                .await;
            });
            Ok(())
        }
        Command::Model {
            command:
                ModelCommand::Evaluate {
                    kind,
                    train,
                    test,
                    label,
                    positive,
                    scores,
                    seed,
                },
        } => {
            let request = EvaluationRequest {
                kind: match kind {
                    ModelKindArg::Logistic => ModelKind::Logistic,
                    ModelKindArg::Scorecard => ModelKind::Scorecard,
                    ModelKindArg::IsolationForest => ModelKind::IsolationForest,
                    ModelKindArg::Gbm => ModelKind::Gbm,
                },
                train,
                test,
                label,
                positive,
                scores,
                seed: seed.unwrap_or(settings.models.seed),
            };
            let report = redflag_gateway::model_evaluation::run(&request)?;
            write!(io::stdout(), "{report}").map_err(|e| e.to_string())
        }
        Command::Task { task } => {
            let task = Task::from(task);
            let db = settings
                .database
                .connect_and_migrate(2)
                .map_err(|e| e.to_string())?;
            let periodic = Periodic::new(
                db,
                worker_windows(&settings)?,
                settings.models.clone(),
                settings.tasks.clone(),
                settings.aml.clone(),
            );
            let outcome = actix_web::rt::System::new().block_on(periodic.run_task(task))?;
            say(&format!("{}: {outcome}", task.name()))
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = Database::connect(&settings.database.url, 1).map_err(|e| e.to_string())?;
            match db.verify_audit_chain().map_err(|e| e.to_string())? {
                ChainReport::Intact { entries } => say(&format!(
                    "audit log intact: {entries} entries, every link holds"
                )),
                ChainReport::Broken {
                    entry_id,
                    event_id,
                    problem,
                } => Err(format!(
                    "audit log broken at entry {entry_id} ({event_id}): {problem}"
                )),
            }
        }
    }
}

fn train(
    settings: &Settings,
    module: Module,
    csv: Option<PathBuf>,
    label: Option<String>,
    rows: Option<usize>,
    seed: Option<u64>,
) -> Result<(), String> {
    let seed = seed.unwrap_or(settings.models.seed);
    let set = match &csv {
        Some(path) => TrainingSet::from_csv(path, models::features(module), label.as_deref())
            .map_err(|e| e.to_string())?,
        None => models::synthetic(module, rows.unwrap_or(settings.models.synthetic_rows), seed),
    };
    let mut model = models::train(module, &set, seed).map_err(|e| e.to_string())?;
    let source = csv.map_or_else(
        || redflag_ml_core::SYNTHETIC_SOURCE.to_owned(),
        |path| path.display().to_string(),
    );
    say(&format!(
        "trained {} for {module} on {} rows of {source} ({} held out)",
        model.kind(),
        model.training_rows(),
        set.rows.nrows() - model.training_rows()
    ))?;
    for (metric, value) in model.metrics() {
        say(&format!("  {metric:<18} {value:.4}"))?;
    }
    let db = settings
        .database
        .connect_and_migrate(1)
        .map_err(|e| e.to_string())?;
    let path = model.install(
        &settings.models,
        &db,
        module,
        &source,
        seed,
        models::Trainer::SYSTEM,
    )?;
    // An anomaly model is measured on the stored traffic at once (its alert is silent while
    // warming up).
    if let Some(calibration) = anomaly_calibration::calibrate(
        &db,
        &settings.models,
        &settings.tasks,
        module,
        "system",
        chrono::Utc::now(),
    )? {
        say(&match calibration.threshold {
            Some(threshold) => format!(
                "calibrated its anomaly alert on {} stored decisions: threshold {threshold:.4}",
                calibration.events
            ),
            None => format!(
                "its anomaly alert warms up: {} of {} decisions stored",
                calibration.events, calibration.min_events
            ),
        })?;
    }
    say(&format!(
        "wrote {} (a running service swaps it in within models.reload_seconds)",
        path.display()
    ))
}

fn train_with_labels(settings: &Settings, module: Module, seed: Option<u64>) -> Result<(), String> {
    let seed = seed.unwrap_or(settings.models.seed);
    let db = settings
        .database
        .connect_and_migrate(1)
        .map_err(|e| e.to_string())?;
    let trained = models::train_with_labels(
        &settings.models,
        &settings.tasks,
        &db,
        module,
        seed,
        models::Trainer::SYSTEM.actor,
    )
    .map_err(|e| e.to_string())?;
    say(&format!(
        "trained {} for {module} on {} rows of {} ({} held out)",
        trained.model.kind(),
        trained.model.training_rows(),
        trained.source,
        trained.rows - trained.model.training_rows()
    ))?;
    for (metric, value) in trained.model.metrics() {
        say(&format!("  {metric:<18} {value:.4}"))?;
    }
    let labels = &trained.labels;
    say(&format!(
        "labels from closed cases: {} confirmed fraud, {} false positive",
        labels.confirmed_fraud, labels.false_positive
    ))?;
    match &labels.previous {
        Some(previous) => say(&format!("  previous model  {}", agreement_line(previous)))?,
        None => say("  previous model  none installed")?,
    }
    say(&format!(
        "  new model       {}",
        agreement_line(&labels.new)
    ))?;
    say(&format!(
        "wrote {} (a running service swaps it in within models.reload_seconds)",
        trained.path.display()
    ))
}

/// "flagged 9 of 50, precision 0.7778, recall 0.5833, roc_auc 0.8100" (`n/a` where undefined).
fn agreement_line(agreement: &redflag_ml_core::metrics::LabelAgreement) -> String {
    let figure = |value: Option<f64>| value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.4}"));
    format!(
        "flagged {} of {}, precision {}, recall {}, roc_auc {}",
        agreement.flagged,
        agreement.labelled,
        figure(agreement.precision),
        figure(agreement.recall),
        figure(agreement.roc_auc)
    )
}

/// The migrated database, the trimmed username and the hash of the password read from the first
/// line of standard input (refused when too short, like every password).
fn user_and_password(
    settings: &Settings,
    username: &str,
) -> Result<(Database, String, String), String> {
    let mut password = String::new();
    io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| e.to_string())?;
    let password = password.trim_end_matches(['\n', '\r']);
    let hash = hash_password(password).map_err(|e| e.to_string())?;
    let db = settings
        .database
        .connect_and_migrate(1)
        .map_err(|e| e.to_string())?;
    let username = username.trim();
    if username.is_empty() {
        return Err("the username may not be blank".to_owned());
    }
    Ok((db, username.to_owned(), hash))
}

/// Audits a change to a user's account, made from the command line.
fn audit_user_event(
    db: &Database,
    kind: &'static str,
    username: &str,
    id: i64,
) -> Result<(), String> {
    db.record_audit_event(&AuditEvent {
        kind,
        module: None,
        entity_id: format!("user:{username}"),
        actor: "system".to_owned(),
        details: serde_json::json!({"user_id": id}),
        recorded_at: chrono::Utc::now(),
    })
    .map_err(|e| e.to_string())
}

/// The windows a process other than `serve` can reach: Redis when configured; in-process windows
/// live in `serve` alone.
fn worker_windows(settings: &Settings) -> Result<Option<Arc<dyn ActivityWindows>>, String> {
    if !settings.redis_configured() {
        return Ok(None);
    }
    let windows = RedisWindows::connect(
        &settings.redis.url,
        &settings.redis.key_prefix,
        settings.windows.max_entries,
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(Arc::new(windows)))
}

fn say(line: &str) -> Result<(), String> {
    writeln!(io::stdout(), "{line}").map_err(|e| e.to_string())
}

#[actix_web::main]
async fn serve(settings: Settings) -> Result<(), String> {
    settings.check_safe_to_serve().map_err(|e| e.to_string())?;
    let bind = settings.server.bind.clone();
    let workers = settings.server.workers;
    let state = web::Data::new(AppState::build(settings).map_err(|e| e.to_string())?);
    tracing::info!(
        %bind,
        database = state.db.backend().as_str(),
        windows = state.windows.kind(),
        debug = state.settings.debug,
        "redflag serving"
    );
    let upkeep = state.prometheus.clone();
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(Duration::from_secs(5));
        loop {
            interval.tick().await;
            upkeep.run_upkeep();
        }
    });
    let consumer = redflag_gateway::worker::consumer_name();
    let mut audit_worker = None;
    if state.settings.audit.embedded_worker {
        audit_worker = Some(actix_web::rt::spawn(redflag_gateway::worker::run(
            state.db.clone(),
            state.settings.audit.clone(),
            state.settings.redis.key_prefix.clone(),
            consumer.clone(),
        )));
        actix_web::rt::spawn(
            Periodic::new(
                state.db.clone(),
                Some(state.windows.clone()),
                state.settings.models.clone(),
                state.settings.tasks.clone(),
                state.settings.aml.clone(),
            )
            .run(),
        );
    }
    if state.settings.models.reload_seconds > 0 {
        let reloading = state.clone();
        actix_web::rt::spawn(async move {
            let every = Duration::from_secs(reloading.settings.models.reload_seconds);
            let mut interval = actix_web::rt::time::interval(every);
            interval.tick().await;
            loop {
                interval.tick().await;
                let state = reloading.clone();
                match web::block(move || state.reload_models()).await {
                    Ok(Ok(true)) => {
                        redflag_gateway::telemetry::model_reload("loaded");
                        tracing::info!("model artifacts changed: swapped in");
                    }
                    Ok(Ok(false)) => {}
                    Ok(Err(error)) => {
                        redflag_gateway::telemetry::model_reload("rejected");
                        tracing::error!(%error, "changed model artifacts not loaded; keeping the models in use");
                    }
                    Err(error) => tracing::error!(%error, "model reload did not run"),
                }
            }
        });
    }
    let server_state = state.clone();
    let grace = Duration::from_secs(state.settings.server.shutdown_grace_seconds);
    // On SIGTERM (or SIGINT) actix stops accepting and gives in-flight requests up to the grace
    // period to finish; each is answered only after its decision committed.
    let mut server =
        HttpServer::new(move || build_app(server_state.clone())).shutdown_timeout(grace.as_secs());
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = server
        .bind(&bind)
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    // The bound address, not the configured one: with port 0 the system chose it, and whoever
    // started the process (a supervisor, the test suite) learns it here.
    for address in server.addrs() {
        tracing::info!("listening on http://{address}");
    }
    server.run().await.map_err(|e| e.to_string())?;
    tracing::info!("stopped accepting requests; flushing the audit relay");
    // The embedded worker stops first (its queue connection closes with it), so that it takes no
    // record the flush relays; what it was handed and had not acknowledged, the flush applies.
    if let Some(worker) = audit_worker {
        worker.abort();
        let _stopped = worker.await;
    }
    let audit = &state.settings.audit;
    let flushed = actix_web::rt::time::timeout(
        grace,
        redflag_gateway::worker::flush(
            &state.db,
            audit,
            &state.settings.redis.key_prefix,
            &consumer,
        ),
    )
    .await;
    // Whatever is not flushed stays in the outbox, where the next worker finds it: nothing is
    // lost either way, and the exit is still clean.
    match flushed {
        Ok(Ok(moved)) => tracing::info!(moved, "audit relay flushed; stopped"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "audit relay not flushed; the outbox keeps the records")
        }
        Err(_) => tracing::warn!(
            "audit relay flush outlasted the grace period; the outbox keeps the rest"
        ),
    }
    Ok(())
}
