//! The `redflag` commands that need no HTTP: migrations, training and evaluating models, the audit
//! worker and its periodic tasks, the audit chain's check and the users. The binary flattens them
//! into its own command line beside `serve` and `openapi`; each writes its report to `out`.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Subcommand, ValueEnum};
use redflag_core::Module;
use redflag_ml_core::metrics::LabelAgreement;
use redflag_ml_core::{ModelKind, SYNTHETIC_SOURCE, TrainingSet};
use redflag_store::{ChainReport, Database};

use redflag_screening::ListFormat;

use crate::model_evaluation::EvaluationRequest;
use crate::screening::Screening;
use crate::settings::Settings;
use crate::tasks::{self, Periodic};
use crate::users::{self, Role};
use crate::{ServiceError, anomaly_calibration, model_evaluation, models, registry, worker};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations.
    Migrate,
    /// Train a module's model and write its artifact; a running service swaps it in within
    /// models.reload_seconds.
    Train {
        #[arg(value_parser = module_parser())]
        module: Module,
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
        #[arg(value_parser = task_parser())]
        task: &'static dyn tasks::PeriodicTask,
    },
    /// Manage users who may obtain tokens.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Sanctions and PEP lists for screening.
    Lists {
        #[command(subcommand)]
        command: ListCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// Import a new version of a list (audited); serving gateways screen with it within
    /// rules.poll_seconds, and the parties remembered from the flow are screened against its
    /// added and changed entries. A file that does not read changes nothing.
    Import {
        /// The list's name (1 to 64 letters, digits, '-', '_' or '.').
        #[arg(long)]
        name: String,
        /// ofac-csv takes sdn.csv, alt.csv and add.csv in that order; un-xml, senzing-json and
        /// csv take one file.
        #[arg(long, value_parser = PossibleValuesParser::new(ListFormat::NAMES)
            .try_map(|name| ListFormat::from_name(&name).ok_or(name)))]
        format: ListFormat,
        /// Who imports it, as the audit log names them.
        #[arg(long, default_value = "cli")]
        actor: String,
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
    },
    /// The lists and their versions.
    Show,
    /// Screen the remembered parties against every list version's changes not yet screened
    /// (an import interrupted before it finished).
    Rescreen,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
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

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
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
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModelKindArg {
    Logistic,
    Scorecard,
    IsolationForest,
    /// Gradient-boosted trees, monotone in each feature in the direction the training rows
    /// show.
    Gbm,
}

impl From<ModelKindArg> for ModelKind {
    fn from(kind: ModelKindArg) -> Self {
        match kind {
            ModelKindArg::Logistic => Self::Logistic,
            ModelKindArg::Scorecard => Self::Scorecard,
            ModelKindArg::IsolationForest => Self::IsolationForest,
            ModelKindArg::Gbm => Self::Gbm,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain from the first entry; exits non-zero naming the first broken link.
    Verify,
}

/// The modules by name, as every command names them.
pub fn module_parser() -> impl TypedValueParser<Value = Module> {
    PossibleValuesParser::new(registry::names()).try_map(|name| name.parse::<Module>())
}

/// The periodic tasks by name, each with its description in `--help`.
fn task_parser() -> impl TypedValueParser<Value = &'static dyn tasks::PeriodicTask> {
    PossibleValuesParser::new(
        tasks::ALL.map(|task| PossibleValue::new(task.name()).help(task.about())),
    )
    .try_map(|name| tasks::named(&name).ok_or(name))
}

/// Runs one command on `settings`, writing its report to `out`.
pub fn run(command: Command, settings: Settings, out: &mut dyn Write) -> Result<(), ServiceError> {
    match command {
        Command::Migrate => {
            let db = Database::connect(&settings.database.url, 1)?;
            let applied = db.migrate()?;
            writeln!(
                out,
                "applied {applied} migration(s) to the {} database",
                db.backend().as_str()
            )?;
            Ok(())
        }
        Command::Train {
            module,
            seed,
            with_labels: true,
            ..
        } => train_with_labels(&settings, module, seed, out),
        Command::Train {
            module,
            csv,
            label,
            rows,
            seed,
            with_labels: false,
        } => train(&settings, module, csv, label, rows, seed, out),
        Command::Worker { once } => work(settings, once, out),
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
                kind: kind.into(),
                train,
                test,
                label,
                positive,
                scores,
                seed: seed.unwrap_or(settings.models.seed),
            };
            write!(out, "{}", model_evaluation::run(&request)?)?;
            Ok(())
        }
        Command::Task { task } => {
            let db = settings.database.connect_and_migrate(2)?;
            let periodic = Periodic::new(db, crate::windows::shared(&settings)?, &settings);
            let outcome = runtime()?.block_on(periodic.run_task(task))?;
            writeln!(out, "{}: {outcome}", task.name())?;
            Ok(())
        }
        Command::User {
            command: UserCommand::Create { username, role, .. },
        } => {
            let db = settings.database.connect_and_migrate(1)?;
            let user = users::create(&db, &username, &password_from_stdin()?, role)?;
            writeln!(
                out,
                "created user `{}` (id {}, {})",
                user.username,
                user.id().0,
                user.role
            )?;
            Ok(())
        }
        Command::User {
            command: UserCommand::SetPassword { username, .. },
        } => {
            let db = settings.database.connect_and_migrate(1)?;
            let user = users::set_password(&db, &username, &password_from_stdin()?)?;
            writeln!(out, "set the password of `{}`", user.username)?;
            Ok(())
        }
        Command::Lists { command } => lists(&settings, command, out),
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = Database::connect(&settings.database.url, 1)?;
            match db.verify_audit_chain()? {
                ChainReport::Intact { entries } => {
                    writeln!(out, "audit log intact: {entries} entries, every link holds")?;
                    Ok(())
                }
                ChainReport::Broken {
                    entry_id,
                    event_id,
                    problem,
                } => Err(ServiceError::AuditChainBroken {
                    entry_id,
                    event_id,
                    problem,
                }),
            }
        }
    }
}

/// The `lists` commands.
fn lists(
    settings: &Settings,
    command: ListCommand,
    out: &mut dyn Write,
) -> Result<(), ServiceError> {
    let db = settings.database.connect_and_migrate(2)?;
    let screening = Screening::load(settings, &db)?;
    match command {
        ListCommand::Import {
            name,
            format,
            actor,
            files,
        } => {
            let mut read = Vec::with_capacity(files.len());
            for path in &files {
                read.push(std::fs::read(path).map_err(|source| ServiceError::Read {
                    path: path.clone(),
                    source,
                })?);
            }
            let files: Vec<&[u8]> = read.iter().map(Vec::as_slice).collect();
            let imported = screening
                .import(&db, (&name, format), &files, &actor, chrono::Utc::now())
                .map_err(Box::new)?;
            let (version, delta, rescreen) =
                (&imported.version, &imported.delta, &imported.rescreen);
            writeln!(
                out,
                "imported list `{}` version {} ({}): {} entries; {} added, {} changed, {} removed; \
                 screened {} remembered parties: {} new alerts, {} resolved matches left out",
                version.list_name,
                version.version,
                version.format,
                version.entry_count,
                delta.added.len(),
                delta.changed.len(),
                delta.removed.len(),
                rescreen.parties,
                rescreen.alerts,
                rescreen.suppressed
            )?;
        }
        ListCommand::Show => {
            for version in db.screening_list_versions()? {
                writeln!(
                    out,
                    "{} version {}: {} ({} entries), imported by {} at {}",
                    version.list_name,
                    version.version,
                    version.format,
                    version.entry_count,
                    version.imported_by,
                    version.imported_at().to_rfc3339()
                )?;
            }
        }
        ListCommand::Rescreen => {
            let done = screening.rescreen_pending(&db, chrono::Utc::now())?;
            writeln!(
                out,
                "screened {} remembered parties: {} new alerts, {} resolved matches left out",
                done.parties, done.alerts, done.suppressed
            )?;
        }
    }
    Ok(())
}

/// The first line of standard input, without its line ending.
fn password_from_stdin() -> Result<String, ServiceError> {
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    Ok(password.trim_end_matches(['\n', '\r']).to_owned())
}

/// The audit worker with the periodic tasks beside it, until stopped; or, `once`, what is
/// pending applied.
fn work(settings: Settings, once: bool, out: &mut dyn Write) -> Result<(), ServiceError> {
    let db = settings.database.connect_and_migrate(2)?;
    if once {
        let applied = worker::drain(&db, &settings.audit)?;
        writeln!(out, "applied {applied} audit record(s)")?;
        return Ok(());
    }
    let periodic = Periodic::new(db.clone(), crate::windows::shared(&settings)?, &settings);
    let dispatcher = crate::webhooks::Dispatcher::new(db.clone(), &settings.webhooks)?;
    tracing::info!("audit worker running");
    runtime()?.block_on(async move {
        tokio::spawn(periodic.run());
        tokio::spawn(dispatcher.run());
        worker::run(
            db,
            settings.audit,
            settings.redis.key_prefix,
            worker::consumer_name(),
        )
        .await;
    });
    Ok(())
}

/// A runtime for the commands that wait on Redis or run the worker: one thread, as the worker's
/// database work goes to the blocking pool.
fn runtime() -> Result<tokio::runtime::Runtime, ServiceError> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn train(
    settings: &Settings,
    module: Module,
    csv: Option<PathBuf>,
    label: Option<String>,
    rows: Option<usize>,
    seed: Option<u64>,
    out: &mut dyn Write,
) -> Result<(), ServiceError> {
    let seed = seed.unwrap_or(settings.models.seed);
    let set = match &csv {
        Some(path) => TrainingSet::from_csv(path, models::features(module), label.as_deref())?,
        None => models::synthetic(module, rows.unwrap_or(settings.models.synthetic_rows), seed),
    };
    let mut model = models::train(module, &set, seed)?;
    let source = csv.map_or_else(
        || SYNTHETIC_SOURCE.to_owned(),
        |path| path.display().to_string(),
    );
    writeln!(
        out,
        "trained {} for {module} on {} rows of {source} ({} held out)",
        model.kind(),
        model.training_rows(),
        set.rows.nrows() - model.training_rows()
    )?;
    for (metric, value) in model.metrics() {
        writeln!(out, "  {metric:<18} {value:.4}")?;
    }
    let db = settings.database.connect_and_migrate(1)?;
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
        match calibration.threshold {
            Some(threshold) => writeln!(
                out,
                "calibrated its anomaly alert on {} stored decisions: threshold {threshold:.4}",
                calibration.events
            )?,
            None => writeln!(
                out,
                "its anomaly alert warms up: {} of {} decisions stored",
                calibration.events, calibration.min_events
            )?,
        }
    }
    writeln!(
        out,
        "wrote {} (a running service swaps it in within models.reload_seconds)",
        path.display()
    )?;
    Ok(())
}

fn train_with_labels(
    settings: &Settings,
    module: Module,
    seed: Option<u64>,
    out: &mut dyn Write,
) -> Result<(), ServiceError> {
    let seed = seed.unwrap_or(settings.models.seed);
    let db = settings.database.connect_and_migrate(1)?;
    let trained = models::train_with_labels(
        &settings.models,
        &settings.tasks,
        &db,
        module,
        seed,
        models::Trainer::SYSTEM.actor,
    )?;
    writeln!(
        out,
        "trained {} for {module} on {} rows of {} ({} held out)",
        trained.model.kind(),
        trained.model.training_rows(),
        trained.source,
        trained.rows - trained.model.training_rows()
    )?;
    for (metric, value) in trained.model.metrics() {
        writeln!(out, "  {metric:<18} {value:.4}")?;
    }
    let labels = &trained.labels;
    writeln!(
        out,
        "labels from closed cases: {} confirmed fraud, {} false positive",
        labels.confirmed_fraud, labels.false_positive
    )?;
    match &labels.previous {
        Some(previous) => writeln!(out, "  previous model  {}", agreement_line(previous))?,
        None => writeln!(out, "  previous model  none installed")?,
    }
    writeln!(out, "  new model       {}", agreement_line(&labels.new))?;
    writeln!(
        out,
        "wrote {} (a running service swaps it in within models.reload_seconds)",
        trained.path.display()
    )?;
    Ok(())
}

/// "flagged 9 of 50, precision 0.7778, recall 0.5833, roc_auc 0.8100" (`n/a` where undefined).
fn agreement_line(agreement: &LabelAgreement) -> String {
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
