//! `redflag`: serve the API and print its document; the commands that need no HTTP (migrate,
//! train, model, worker, audit, task, user) come from `redflag_service::cli`.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpServer, web};
use clap::{Parser, Subcommand};
use redflag_gateway::build_app;
use redflag_gateway::state::{AppState, StartupError};
use redflag_service::ServiceError;
use redflag_service::cli;
use redflag_service::settings::{Settings, SettingsError, Sources};
use redflag_service::tasks::Periodic;
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
    #[command(flatten)]
    Service(cli::Command),
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
    Io(#[from] io::Error),
    #[error("cannot listen on {bind}: {source}")]
    Listen { bind: String, source: io::Error },
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
        Command::Service(command) => Ok(cli::run(command, settings, &mut out)?),
    }
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
        // Webhook deliveries beside the audit worker: the log it writes is what they send.
        let dispatcher =
            redflag_service::webhooks::Dispatcher::new(state.db.clone(), &state.settings.webhooks)?;
        actix_web::rt::spawn(dispatcher.run());
        actix_web::rt::spawn(
            Periodic::new(
                state.db.clone(),
                Some(state.windows.clone()),
                &state.settings,
            )
            .run(),
        );
    }
    actix_web::rt::spawn(
        state
            .detectors
            .clone()
            .keep_current(Arc::new(state.settings.clone()), state.db.clone()),
    );
    // A list import interrupted before its re-screen finished (a gateway stopped mid-way) is
    // finished here; it raises nothing twice.
    let (screening, db) = (state.detectors.screening.clone(), state.db.clone());
    actix_web::rt::spawn(async move {
        let done = web::block(move || screening.rescreen_pending(&db, chrono::Utc::now())).await;
        match done {
            Ok(Ok(done)) if done.alerts > 0 => {
                tracing::info!(
                    alerts = done.alerts,
                    parties = done.parties,
                    "finished a pending re-screen"
                )
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::error!(%error, "a pending re-screen failed; `redflag lists rescreen` finishes it")
            }
            Err(error) => tracing::error!(%error, "a pending re-screen did not run"),
        }
    });
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
    redflag_service::worker::flush_within(
        grace,
        &state.db,
        &state.settings.audit,
        &state.settings.redis.key_prefix,
        &consumer,
    )
    .await;
    Ok(())
}
