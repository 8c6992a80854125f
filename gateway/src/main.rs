//! `redflag`: serve the API and print its document, consume a stream, score a file; the commands that need no HTTP (migrate,
//! train, model, worker, audit, task, user) come from `redflag_service::cli`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::{HttpServer, web};
use clap::{Parser, Subcommand};
use redflag_core::Module;
use redflag_gateway::background::Background;
use redflag_gateway::build_app;
use redflag_gateway::score::{Job, ScoreError, Summary, score as score_file};
use redflag_gateway::state::{AppState, StartupError};
use redflag_gateway::stream::nats::{Nats, Source};
use redflag_gateway::stream::{
    Actor, MAX_BATCH_EVENTS, Outlets, StreamError, consume as consume_stream,
};
use redflag_service::ServiceError;
use redflag_service::cli;
use redflag_service::settings::{Settings, SettingsError, Sources};
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's malloc: under load the detection path's many small allocations
/// spent a quarter of the CPU time in the system allocator (see BENCHMARKS.md).
///
/// Built to commit each arena's memory as it is used rather than whole
/// (`MI_DEFAULT_ARENA_EAGER_COMMIT=0` in `.cargo/config.toml`; mimalloc reads it before `main`):
/// resident memory after a 20-second AML run fell from 156-160 MB to 123-126 MB at the same
/// throughput within this VM's noise. The test at the end checks that the build took it.
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
    /// Decide a module's events from a NATS JetStream stream (made if missing), each as the HTTP
    /// path does; publish each decision's answer; dead-letter what cannot be decided.
    Consume(ConsumeArgs),
    /// Score a file of a module's events (CSV or NDJSON) against the configured database, in
    /// event-time order, each decided and recorded as the HTTP path does; one output record per
    /// input line; a run cut off goes on with --resume.
    Score(ScoreArgs),
    #[command(flatten)]
    Service(cli::Command),
}

#[derive(clap::Args)]
struct ConsumeArgs {
    /// The module whose events the stream carries.
    #[arg(long, value_parser = cli::module_parser())]
    module: Module,
    /// The JetStream stream (made, capturing --subject, if missing).
    #[arg(long)]
    stream: String,
    /// The subject the events are published on: each message's body is the HTTP request body.
    #[arg(long)]
    subject: String,
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// The durable consumer; processes with the same name share the stream's messages.
    /// Default: redflag-<module>.
    #[arg(long)]
    durable: Option<String>,
    /// Where each decision's answer is published. Default: redflag.decisions.<module>.
    #[arg(long)]
    decisions_subject: Option<String>,
    /// Where messages that cannot be decided go, with their error. Default: redflag.dead.<module>.
    #[arg(long)]
    dead_letter_subject: Option<String>,
    /// Messages taken and decided together.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Seconds a taken message may go unacknowledged before another consumer gets it.
    #[arg(long, default_value_t = 30)]
    ack_wait_seconds: u64,
    /// Serve the Prometheus metrics (the consumer's lag among them) at http://ADDR/metrics.
    #[arg(long)]
    metrics_bind: Option<String>,
}

#[derive(clap::Args)]
struct ScoreArgs {
    /// The module whose events the file holds.
    #[arg(long, value_parser = cli::module_parser())]
    module: Module,
    /// The events: .csv (a header row of request fields) or .ndjson/.jsonl (one request body
    /// per line).
    #[arg(long)]
    input: PathBuf,
    /// One record per input line: .ndjson (with each answer) or .csv.
    #[arg(long)]
    output: PathBuf,
    /// Continue the run that wrote --output: its lines are not scored again.
    #[arg(long)]
    resume: bool,
    /// Events decided and committed together.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Print the summary as JSON instead of text.
    #[arg(long)]
    json: bool,
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
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error(transparent)]
    Score(#[from] ScoreError),
    #[error("the file is not fully scored")]
    Incomplete,
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
        Command::Consume(args) => consume(settings, args),
        Command::Score(args) => {
            let json = args.json;
            let summary = score(settings, args)?;
            if json {
                let text = serde_json::to_string_pretty(&summary).map_err(io::Error::other)?;
                writeln!(out, "{text}")?;
            } else {
                writeln!(out, "{summary}")?;
            }
            if summary.complete {
                Ok(())
            } else {
                Err(CommandError::Incomplete)
            }
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
    let background = Background::start(&state)?;
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
    background.stop(grace).await;
    Ok(())
}

#[actix_web::main]
async fn consume(settings: Settings, args: ConsumeArgs) -> Result<(), CommandError> {
    let module = args.module;
    let durable = args
        .durable
        .unwrap_or_else(|| format!("redflag-{}", module.as_str()));
    let source = Source {
        url: args.nats_url,
        stream: args.stream,
        subject: args.subject,
        durable: durable.clone(),
        ack_wait: Duration::from_secs(args.ack_wait_seconds.max(1)),
    };
    let outlets = Outlets {
        decisions: args
            .decisions_subject
            .unwrap_or_else(|| format!("redflag.decisions.{}", module.as_str())),
        dead_letters: args
            .dead_letter_subject
            .unwrap_or_else(|| format!("redflag.dead.{}", module.as_str())),
        batch: args.batch.clamp(1, MAX_BATCH_EVENTS),
    };
    let grace = Duration::from_secs(settings.server.shutdown_grace_seconds);
    let state = web::Data::new(AppState::build(settings)?);
    let mut transport = Nats::connect(&source).await?;
    let background = Background::start(&state)?;
    if let Some(bind) = &args.metrics_bind {
        let handle = state.prometheus.clone();
        let server = HttpServer::new(move || {
            let handle = handle.clone();
            actix_web::App::new().route(
                "/metrics",
                web::get().to(move || {
                    let body = handle.render();
                    async move {
                        actix_web::HttpResponse::Ok()
                            .content_type("text/plain; version=0.0.4; charset=utf-8")
                            .body(body)
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind(bind)
        .map_err(|source| CommandError::Listen {
            bind: bind.clone(),
            source,
        })?;
        for address in server.addrs() {
            tracing::info!("metrics on http://{address}/metrics");
        }
        actix_web::rt::spawn(server.run());
    }
    let stop = stop_on_signal();
    let actor = Actor {
        user_id: None,
        name: format!("nats:{}/{durable}", source.stream),
    };
    tracing::info!(
        module = module.as_str(),
        stream = %source.stream,
        subject = %source.subject,
        durable = %durable,
        decisions = %outlets.decisions,
        dead_letters = %outlets.dead_letters,
        "consuming"
    );
    // One consumer loop per module's detector type.
    macro_rules! consume_as {
        ($detector:ty) => {
            consume_stream::<$detector, _>(&state, &mut transport, &outlets, &actor, stop).await
        };
    }
    match module {
        Module::Aml => consume_as!(redflag_aml::AmlDetector),
        Module::Credit => consume_as!(redflag_credit::CreditDetector),
        Module::Insurance => consume_as!(redflag_insurance::InsuranceDetector),
        Module::Market => consume_as!(redflag_market::MarketDetector),
    }
    tracing::info!("stopped consuming; flushing the audit relay");
    background.stop(grace).await;
    Ok(())
}

#[actix_web::main]
async fn score(settings: Settings, args: ScoreArgs) -> Result<Summary, CommandError> {
    let grace = Duration::from_secs(settings.server.shutdown_grace_seconds);
    let state = web::Data::new(AppState::build(settings)?);
    let background = Background::start(&state)?;
    let stop = stop_on_signal();
    let job = Job {
        input: args.input,
        output: args.output,
        batch: args.batch,
        resume: args.resume,
    };
    // One scoring run per module's detector type.
    macro_rules! score_as {
        ($detector:ty) => {
            score_file::<$detector>(&state, &job, &stop).await
        };
    }
    let summary = match args.module {
        Module::Aml => score_as!(redflag_aml::AmlDetector),
        Module::Credit => score_as!(redflag_credit::CreditDetector),
        Module::Insurance => score_as!(redflag_insurance::InsuranceDetector),
        Module::Market => score_as!(redflag_market::MarketDetector),
    };
    // The audit records of what was decided reach the log before the process ends.
    background.stop(grace).await;
    Ok(summary?)
}

/// Set once SIGTERM or SIGINT arrives: a long-running command finishes what it holds and stops.
fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let signalled = stop.clone();
    actix_web::rt::spawn(async move {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(terminate) => terminate,
                Err(error) => {
                    tracing::error!(%error, "SIGTERM cannot be caught; stop with SIGINT");
                    let _ = tokio::signal::ctrl_c().await;
                    signalled.store(true, Ordering::Relaxed);
                    return;
                }
            };
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        signalled.store(true, Ordering::Relaxed);
    });
    stop
}

#[cfg(test)]
mod tests {
    /// `mi_option_arena_eager_commit` in the `mi_option_e` of the mimalloc (v3) sources that
    /// libmimalloc-sys builds (the crate does not name it).
    const ARENA_EAGER_COMMIT: std::os::raw::c_int = 4;

    #[test]
    fn the_allocator_commits_arena_memory_as_it_is_used() {
        // SAFETY: mi_option_get reads an integer from mimalloc's option table.
        #[expect(
            unsafe_code,
            reason = "mimalloc's options are read through its C interface only"
        )]
        let eager = unsafe { libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT) };
        // mimalloc's own default is 2 (eager where the OS overcommits); 0 is this build's.
        assert_eq!(eager, 0, "built without MI_DEFAULT_ARENA_EAGER_COMMIT=0");
    }
}
