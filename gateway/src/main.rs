//! `redflag`: serve the API, print its document, manage users; the commands that need no HTTP
//! (migrate, train, model, worker, audit, task) come from `redflag_service::cli`.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use actix_web::{HttpServer, web};
use clap::{Parser, Subcommand};
use redflag_audit::AuditEvent;
use redflag_gateway::auth::{PasswordError, Role, hash_password};
use redflag_gateway::build_app;
use redflag_gateway::state::{AppState, StartupError};
use redflag_service::ServiceError;
use redflag_service::cli;
use redflag_service::settings::{Settings, SettingsError, Sources};
use redflag_service::tasks::Periodic;
use redflag_store::{Database, StoreError};
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
    /// Print the OpenAPI 3.1 document that GET /api/schema/ serves (JSON).
    Openapi,
    /// Manage users who may obtain tokens.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    #[command(flatten)]
    Service(cli::Command),
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

/// Why a command failed: the message `redflag` exits with.
#[derive(Debug, thiserror::Error)]
enum CommandError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("cannot listen on {bind}: {source}")]
    Listen { bind: String, source: io::Error },
    #[error("no user `{0}`")]
    NoUser(String),
    #[error("the username may not be blank")]
    BlankUsername,
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
        .map_err(CommandError::from)
        .and_then(|settings| run(cli.command, settings));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(io::stderr(), "redflag: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, mut settings: Settings) -> Result<(), CommandError> {
    let mut out = io::stdout().lock();
    match command {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                settings.server.bind = bind;
            }
            serve(settings)
        }
        Command::Openapi => {
            let document = serde_json::to_string_pretty(&redflag_gateway::openapi::document())
                .map_err(io::Error::other)?;
            writeln!(out, "{document}")?;
            Ok(())
        }
        Command::User {
            command: UserCommand::Create { username, role, .. },
        } => {
            let (db, username, hash) = user_and_password(&settings, &username)?;
            let user = db.create_user(&username, &hash, role.as_str())?;
            audit_user_event(&db, AuditEvent::USER_CREATED, &user.username, user.id().0)?;
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
            let (db, username, hash) = user_and_password(&settings, &username)?;
            let user = db
                .find_user_by_username(&username)?
                .ok_or_else(|| CommandError::NoUser(username.clone()))?;
            db.set_password(&username, &hash)?;
            audit_user_event(&db, AuditEvent::PASSWORD_SET, &user.username, user.id().0)?;
            writeln!(out, "set the password of `{username}`")?;
            Ok(())
        }
        Command::Service(command) => Ok(cli::run(command, settings, &mut out)?),
    }
}

/// The migrated database, the trimmed username and the hash of the password read from the first
/// line of standard input (refused when too short, like every password).
fn user_and_password(
    settings: &Settings,
    username: &str,
) -> Result<(Database, String, String), CommandError> {
    let mut password = String::new();
    io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\n', '\r']);
    let hash = hash_password(password)?;
    let db = settings.database.connect_and_migrate(1)?;
    let username = username.trim();
    if username.is_empty() {
        return Err(CommandError::BlankUsername);
    }
    Ok((db, username.to_owned(), hash))
}

/// Audits a change to a user's account, made from the command line.
fn audit_user_event(
    db: &Database,
    kind: &'static str,
    username: &str,
    id: i64,
) -> Result<(), StoreError> {
    db.record_audit_event(&AuditEvent {
        kind,
        module: None,
        entity_id: format!("user:{username}"),
        actor: "system".to_owned(),
        details: serde_json::json!({"user_id": id}),
        recorded_at: chrono::Utc::now(),
    })
}

#[actix_web::main]
async fn serve(settings: Settings) -> Result<(), CommandError> {
    settings.check_safe_to_serve()?;
    let bind = settings.server.bind.clone();
    let workers = settings.server.workers;
    let state = web::Data::new(AppState::build(settings)?);
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
    let consumer = redflag_service::worker::consumer_name();
    let mut audit_worker = None;
    if state.settings.audit.embedded_worker {
        audit_worker = Some(actix_web::rt::spawn(redflag_service::worker::run(
            state.db.clone(),
            state.settings.audit.clone(),
            state.settings.redis.key_prefix.clone(),
            consumer.clone(),
        )));
        actix_web::rt::spawn(
            Periodic::new(
                state.db.clone(),
                Some(state.windows.clone()),
                &state.settings,
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
    let server = server.bind(&bind).map_err(|source| CommandError::Listen {
        bind: bind.clone(),
        source,
    })?;
    // The bound address, not the configured one: with port 0 the system chose it, and whoever
    // started the process (a supervisor, the test suite) learns it here.
    for address in server.addrs() {
        tracing::info!("listening on http://{address}");
    }
    server.run().await?;
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
        redflag_service::worker::flush(
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
