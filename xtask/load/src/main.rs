//! `redflag-load`: what `cargo xtask bench` and `cargo xtask seed` run, built in release so that
//! the client costs as little as possible of the machine it shares with the server.

#![allow(
    clippy::print_stdout,
    reason = "a command-line report: standard output is its interface"
)]

mod bench;
mod client;
mod plants;
mod seed;
mod server;
mod stream;
mod traffic;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::client::{SignIn, Target};
use crate::server::{LocalServer, ServerOptions};
use crate::traffic::Endpoint;

#[derive(Parser)]
#[command(name = "redflag-load", about = "Load generation for Redflag")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A running server and who signs in to it.
#[derive(clap::Args, Clone)]
struct Remote {
    /// A running server (http://host:port); without it a release `redflag serve` is started here
    /// (bench: on a fresh SQLite database, stopped at the end; seed: see its help).
    #[arg(long)]
    url: Option<String>,
    /// The user to sign in as on `--url`.
    #[arg(long, env = "REDFLAG_LOAD_USERNAME", requires = "url")]
    username: Option<String>,
    /// That user's password.
    #[arg(
        long,
        env = "REDFLAG_LOAD_PASSWORD",
        requires = "url",
        hide_env_values = true
    )]
    password: Option<String>,
}

impl Remote {
    /// The server of `--url`, signed in as its user; `None` without `--url`.
    async fn sign_in(&self) -> Result<Option<SignIn>, String> {
        let Some(url) = &self.url else {
            return Ok(None);
        };
        let target = Target::parse(url)?;
        let (Some(username), Some(password)) = (&self.username, &self.password) else {
            return Err(
                "--url needs --username and --password (or REDFLAG_LOAD_USERNAME and \
                 REDFLAG_LOAD_PASSWORD)"
                    .to_owned(),
            );
        };
        SignIn::new(&target, username, password).await.map(Some)
    }
}

/// Where the bench's server is.
#[derive(clap::Args, Clone)]
struct ServerArgs {
    #[command(flatten)]
    remote: Remote,
    /// For the server started here: its DATABASE_URL (e.g. a PostgreSQL database).
    #[arg(long, conflicts_with = "url")]
    database_url: Option<String>,
    /// For the server started here: Redis for the recent-activity windows.
    #[arg(long, conflicts_with = "url")]
    redis_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Drive the detection endpoints at full speed and report throughput and latency.
    Bench {
        #[command(flatten)]
        server: ServerArgs,
        /// Seconds measured per endpoint (after a 2-second warm-up).
        #[arg(long, default_value_t = 20)]
        duration: u64,
        /// Connections kept open, each sending its next request when the last is answered.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, value_enum, default_value_t = EndpointArg::Aml)]
        endpoint: EndpointArg,
        /// Measure the bare JSON echo route (`server.echo_route`) first: the HTTP ceiling.
        #[arg(long)]
        baseline: bool,
        /// Seed of the request bodies.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// AML senders the transfers come from (default: a million, a broad population); a few
        /// thousand make hot senders, each with many transfers in its windows, as fraud looks.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        senders: Option<u64>,
        /// Publish this many custom AML rules on the server started here before measuring (a
        /// team's rule set: CEL conditions over window figures, event fields and a list).
        #[arg(long, default_value_t = 0, conflicts_with = "url")]
        custom_rules: usize,
        /// Shadow a draft of this many custom AML rules (the same kind) while measuring: every
        /// live decision is also decided by the draft and its outcome stored.
        #[arg(long, default_value_t = 0, conflicts_with = "url")]
        shadow_rules: usize,
        /// Import the real OFAC SDN (2021) and UN lists from this directory before measuring, and
        /// name the sender and the receiver of every AML transfer (screened inline).
        #[arg(long, conflicts_with = "url")]
        screening: Option<PathBuf>,
        /// Events per request: more than 1 sends them to the module's batch endpoint
        /// (`POST /api/<module>/batch/`, at most 1,000) and reports events per second too.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1000))]
        batch: u16,
        /// Measure the NATS JetStream consume path instead of HTTP: a stream filled with
        /// `--events` AML transfers, drained by a release `redflag consume` (embedded SQLite and
        /// in-process windows) taking `--batch` messages at a time (default 256).
        #[arg(long, conflicts_with = "url")]
        nats: bool,
        #[arg(long, default_value = "nats://127.0.0.1:4222")]
        nats_url: String,
        /// Measure what webhook deliveries cost detection: the AML endpoint on two fresh servers,
        /// `--flagged-share` of its transfers flagged, without and then with a subscription of a
        /// local receiver to `decision.flagged`.
        #[arg(long, conflicts_with_all = ["url", "nats"])]
        webhooks: bool,
        /// With --webhooks: the share of transfers sent to a high-risk jurisdiction (flagged).
        #[arg(long, default_value_t = 0.1, requires = "webhooks")]
        flagged_share: f64,
        /// Transfers in the stream, with --nats.
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Where the JSON figures go.
        #[arg(long, default_value = "target/bench/http.json")]
        output: PathBuf,
    },
    /// Load a realistic stretch of activity with planted typologies, then report what was caught.
    /// Without --url a release `redflag serve` is started here on DATABASE_URL (default
    /// ./redflag.sqlite3, the database `redflag serve` uses from this directory) and the user
    /// `demo` is given a password that is printed.
    Seed {
        #[command(flatten)]
        remote: Remote,
        /// Ordinary events (planted cases come on top: each typology once per 2,000 events).
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// Days of activity, ending at the start of today (UTC).
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// The same seed sends the same events (on the same day): a second run is answered
        /// idempotently.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum EndpointArg {
    Aml,
    Credit,
    Insurance,
    Market,
    All,
}

impl EndpointArg {
    fn endpoints(self) -> Vec<Endpoint> {
        match self {
            Self::Aml => vec![Endpoint::Aml],
            Self::Credit => vec![Endpoint::Credit],
            Self::Insurance => vec![Endpoint::Insurance],
            Self::Market => vec![Endpoint::Market],
            Self::All => Endpoint::DETECTION.to_vec(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("redflag-load: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Bench {
            server,
            duration,
            connections,
            endpoint,
            baseline,
            seed,
            senders,
            custom_rules,
            shadow_rules,
            screening,
            batch,
            nats,
            nats_url,
            events,
            webhooks,
            flagged_share,
            output,
        } => {
            if nats {
                let batch = if batch > 1 { usize::from(batch) } else { 256 };
                return finish(runtime.block_on(bench_stream(&nats_url, events, batch, &output)));
            }
            let mut endpoints = endpoint.endpoints();
            if baseline {
                endpoints.insert(0, Endpoint::Echo);
            }
            let plan = BenchPlan {
                endpoints,
                connections: connections.max(1),
                duration: Duration::from_secs(duration.max(1)),
                seed,
                senders: senders.map(|senders| usize::try_from(senders).unwrap_or(usize::MAX)),
                custom_rules,
                shadow_rules,
                screening,
                batch: usize::from(batch),
                output,
            };
            if webhooks {
                runtime.block_on(bench_webhooks(&server, &plan, flagged_share))
            } else {
                runtime.block_on(bench(&server, &plan))
            }
        }
        Command::Seed {
            remote,
            events,
            days,
            seed,
        } => {
            let plan = seed::SeedPlan { events, days, seed };
            runtime.block_on(run_seed(&remote, &plan))
        }
    };
    finish(result)
}

/// The exit status of a command, its error printed.
fn finish(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("redflag-load: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A running server to drive, started here or given.
struct Session {
    sign_in: Rc<SignIn>,
    local: Option<LocalServer>,
}

impl Session {
    fn target(&self) -> &Target {
        self.sign_in.target()
    }
}

/// Writes a draft of `count` custom AML rules as the bench user, with the list they read
/// (written by [`PUBLISHER`]); returns the draft's id.
async fn write_custom_rules(session: &Session, count: usize, why: &str) -> Result<i64, String> {
    let target = session.target();
    let publisher = client::token(target, PUBLISHER.0, PUBLISHER.1).await?;
    let mules: Vec<String> = (0..1_000).map(|i| format!("MULE-{i}")).collect();
    client::call(
        target,
        "PUT",
        "/api/rules/lists/mule_accounts/",
        &publisher,
        &json!({"values": mules}),
    )
    .await?;
    let conditions = [
        "sender_count_24h > 500 && event.amount > 9000.0",
        "sender_sum_7d > 10000000.0",
        "receiver_distinct_senders_24h > 200 && event.amount >= 5000.0",
        "sender_distinct_receivers_24h > 100",
        "in_list('mule_accounts', event.receiver_id) && sender_received_24h > 0.8 * event.amount",
        "hour_of_day < 5.0 && sender_count_1h > 50",
    ];
    let rules: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            json!({"name": format!("Bench rule {i}"), "when": conditions[i % conditions.len()],
                   "severity": "high", "confidence": 0.7,
                   "reason": "{{sender_count_24h}} transfers in 24h"})
        })
        .collect();
    let draft = client::call(
        target,
        "POST",
        "/api/rules/aml/drafts/",
        &session.sign_in.token(),
        &json!({"description": why, "rules": rules}),
    )
    .await?;
    draft["id"]
        .as_i64()
        .ok_or_else(|| format!("writing the draft answered {draft}"))
}

/// Publishes `count` custom AML rules (written by the bench user, published by [`PUBLISHER`]:
/// four eyes); returns the version published.
async fn publish_custom_rules(session: &Session, count: usize) -> Result<i64, String> {
    let id = write_custom_rules(session, count, "cargo xtask bench --custom-rules").await?;
    let publisher = client::token(session.target(), PUBLISHER.0, PUBLISHER.1).await?;
    let path = format!("/api/rules/aml/drafts/{id}/publish/");
    let published = client::call(session.target(), "POST", &path, &publisher, &json!({})).await?;
    published["version"]
        .as_i64()
        .ok_or_else(|| format!("publishing answered {published}"))
}

/// Starts a draft of `count` custom AML rules shadowing the live decisions; returns its run's id.
async fn shadow_custom_rules(session: &Session, count: usize) -> Result<i64, String> {
    let id = write_custom_rules(session, count, "cargo xtask bench --shadow-rules").await?;
    let path = format!("/api/rules/aml/drafts/{id}/shadow/");
    let run = client::call(
        session.target(),
        "POST",
        &path,
        &session.sign_in.token(),
        &json!({"action": "start"}),
    )
    .await?;
    run["id"]
        .as_i64()
        .ok_or_else(|| format!("starting the shadow answered {run}"))
}

async fn connect(
    server: &ServerArgs,
    with_publisher: bool,
    lists: Vec<(String, String, Vec<PathBuf>)>,
    settings: Vec<(&'static str, &'static str)>,
) -> Result<Session, String> {
    match server.remote.sign_in().await? {
        Some(sign_in) => Ok(Session {
            sign_in: Rc::new(sign_in),
            local: None,
        }),
        None => {
            let options = ServerOptions {
                database_url: server.database_url.clone(),
                redis_url: server.redis_url.clone(),
                workdir: None,
                watchlist_file: None,
                username: "bench".to_owned(),
                password: "bench-password-not-for-production".to_owned(),
                publisher: with_publisher.then(|| (PUBLISHER.0.to_owned(), PUBLISHER.1.to_owned())),
                settings,
                lists,
            };
            let local = LocalServer::start(&options)?;
            let sign_in = SignIn::new(&local.target, &options.username, &options.password).await?;
            Ok(Session {
                sign_in: Rc::new(sign_in),
                local: Some(local),
            })
        }
    }
}

async fn run_seed(remote: &Remote, plan: &seed::SeedPlan) -> Result<(), String> {
    let (target, token, local) = match remote.sign_in().await? {
        Some(sign_in) => (sign_in.target().clone(), sign_in.token().to_string(), None),
        None => {
            let password = format!(
                "demo-{:08x}",
                plan.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32
            );
            let workdir = std::env::current_dir().map_err(|e| e.to_string())?;
            let demo_list = workdir.join("config").join("sanctions-demo.csv");
            let watchlist = write_watchlist(&workdir, plan)?;
            let options = ServerOptions {
                database_url: Some(
                    std::env::var("DATABASE_URL").unwrap_or_else(|_| "redflag.sqlite3".to_owned()),
                ),
                redis_url: None,
                workdir: Some(workdir),
                watchlist_file: Some(watchlist.clone()),
                username: "demo".to_owned(),
                password: password.clone(),
                publisher: None,
                // A month sent in seconds: the anomaly alerts are calibrated as the traffic
                // arrives (every 2 s once 500 decisions are stored) and read back at once, not
                // after it.
                settings: vec![
                    ("REDFLAG__MODELS__CALIBRATION_MIN_EVENTS", "500"),
                    ("REDFLAG__TASKS__CALIBRATE_ANOMALY_SECONDS", "2"),
                    ("REDFLAG__MODELS__RELOAD_SECONDS", "1"),
                ],
                // The demo sanctions list of our own: the seed's named payments are screened
                // against it. A second seed imports it again as the list's next version.
                lists: vec![("demo".to_owned(), "csv".to_owned(), vec![demo_list])],
            };
            let local = LocalServer::start(&options)?;
            println!(
                "seed: signed in as `demo` with the password `{password}` (set now; sign in with it \
                 after `redflag serve`)"
            );
            println!(
                "seed: the server reads the watchlist {} (its planted parties); set \
                 aml.watchlist_file to it to keep them listed",
                watchlist.display()
            );
            let token = client::token(&local.target, "demo", &password).await?;
            (local.target.clone(), token, Some(local))
        }
    };
    println!(
        "seed: {} ordinary events over {} days (seed {}) to {}",
        plan.events, plan.days, plan.seed, target.url
    );
    seed::seed(&target, &token, plan, local.is_some()).await
}

/// Writes the watchlist of the plan's watchlist cases to `target/seed/watchlist.csv` under
/// `workdir`, for the seed's own server.
fn write_watchlist(workdir: &std::path::Path, plan: &seed::SeedPlan) -> Result<PathBuf, String> {
    let dir = workdir.join("target").join("seed");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("watchlist.csv");
    let mut csv = String::from("id,name,list\n");
    for party in seed::watched_parties(plan) {
        csv.push_str(&format!("{party},Seeded watched party,DEMO-SEED\n"));
    }
    std::fs::write(&path, csv).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

struct BenchPlan {
    endpoints: Vec<Endpoint>,
    connections: usize,
    duration: Duration,
    seed: u64,
    /// AML senders, when not the load population's.
    senders: Option<usize>,
    custom_rules: usize,
    shadow_rules: usize,
    /// The directory of the shared sanctions data, to import and screen against.
    screening: Option<PathBuf>,
    /// Events per request (1: the single endpoints).
    batch: usize,
    output: PathBuf,
}

/// `bench --nats`: the consume path's throughput, printed and written to `output`.
async fn bench_stream(
    nats_url: &str,
    events: u64,
    batch: usize,
    output: &std::path::Path,
) -> Result<(), String> {
    let binary = server::redflag_binary()?;
    let figures = stream::run(&binary, nats_url, events, batch).await?;
    println!(
        "nats consume (aml) {:>9.0} events/s  ({} events in {:.2} s, batches of {batch})",
        figures.events as f64 / figures.seconds,
        figures.events,
        figures.seconds
    );
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let text = serde_json::to_string_pretty(&figures.to_json(batch)).map_err(|e| e.to_string())?;
    std::fs::write(output, text).map_err(|e| format!("cannot write {}: {e}", output.display()))
}

/// The admin who publishes the bench's rule set (the bench user writes it: four eyes).
const PUBLISHER: (&str, &str) = (
    "bench-publisher",
    "bench-publisher-password-not-for-production",
);

async fn bench(server: &ServerArgs, plan: &BenchPlan) -> Result<(), String> {
    let lists = match &plan.screening {
        Some(dir) => {
            // The server runs in a directory of its own: the files are named absolutely.
            let dir = dir
                .canonicalize()
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            let file = |name: &str| dir.join(name);
            vec![
                (
                    "ofac-sdn".to_owned(),
                    "ofac-csv".to_owned(),
                    [
                        "ofac_sdn_2021.csv",
                        "ofac_alt_2021.csv",
                        "ofac_add_2021.csv",
                    ]
                    .map(file)
                    .to_vec(),
                ),
                (
                    "un".to_owned(),
                    "un-xml".to_owned(),
                    vec![file("un_consolidated_2026-02-27.xml")],
                ),
            ]
        }
        None => Vec::new(),
    };
    if !lists.is_empty() {
        println!("bench: OFAC SDN 2021 and the UN list imported; every transfer names its parties");
    }
    let session = connect(
        server,
        plan.custom_rules + plan.shadow_rules > 0,
        lists,
        Vec::new(),
    )
    .await?;
    if plan.custom_rules > 0 {
        let version = publish_custom_rules(&session, plan.custom_rules).await?;
        println!(
            "bench: {} custom AML rules published (rule-set version {version})",
            plan.custom_rules
        );
    }
    if plan.shadow_rules > 0 {
        let run = shadow_custom_rules(&session, plan.shadow_rules).await?;
        println!(
            "bench: a draft of {} custom AML rules shadows every decision (shadow run {run})",
            plan.shadow_rules
        );
    }
    println!(
        "bench: {} with {} connections, {} s per endpoint{}",
        session.target().url,
        plan.connections,
        plan.duration.as_secs(),
        match &session.local {
            Some(_) => format!(
                " (server started here: {}, {} windows)",
                if server.database_url.is_some() {
                    "the given database"
                } else {
                    "fresh SQLite"
                },
                if server.redis_url.is_some() {
                    "Redis"
                } else {
                    "in-process"
                }
            ),
            None => String::new(),
        }
    );
    let mut runs = Vec::new();
    let mut ceiling = None;
    for endpoint in &plan.endpoints {
        let sign_in = endpoint.authenticated().then_some(&session.sign_in);
        let figures = bench::run(
            session.target(),
            sign_in,
            *endpoint,
            plan.connections,
            plan.duration,
            bench::TrafficOptions {
                seed: plan.seed,
                names: plan.screening.is_some(),
                flagged_share: 0.0,
                senders: plan.senders,
            },
            plan.batch,
        )
        .await;
        let mut line = figures.summary();
        if *endpoint == Endpoint::Echo {
            ceiling = Some(figures.requests_per_second());
        } else if let Some(ceiling) = ceiling.filter(|c| *c > 0.0) {
            line.push_str(&format!(
                "  ({:.0}% of the echo ceiling)",
                figures.requests_per_second() / ceiling * 100.0
            ));
        }
        println!("{line}");
        if let Some(error) = &figures.first_error {
            println!("          first error: {error}");
        }
        runs.push(figures.to_json());
    }
    let memory = session.local.as_ref().and_then(LocalServer::memory_mib);
    if let Some((rss, peak)) = memory {
        println!("server memory: {rss:.0} MiB resident, {peak:.0} MiB at peak");
    }
    let report = json!({
        "url": session.target().url,
        "server": match &session.local {
            Some(_) => json!({
                "started_here": true,
                "database": if server.database_url.is_some() { "given" } else { "sqlite" },
                "windows": if server.redis_url.is_some() { "redis" } else { "in-process" },
            }),
            None => json!({"started_here": false}),
        },
        "connections": plan.connections,
        "seconds_per_endpoint": plan.duration.as_secs(),
        "date": chrono::Utc::now().to_rfc3339(),
        "cores": std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        "runs": runs,
        "server_memory_mib": memory.map(|(rss, peak)| json!({"resident": rss, "peak": peak})),
    });
    write_report(&plan.output, &report)?;
    let errors: usize = runs
        .iter()
        .map(|run| run["errors"].as_u64().unwrap_or(0) as usize)
        .sum();
    if errors > 0 {
        return Err(format!("{errors} requests failed"));
    }
    Ok(())
}

/// Rounds of `bench --webhooks`, each a run without and a run with the subscription.
const WEBHOOK_ROUNDS: usize = 2;

async fn bench_webhooks(
    server: &ServerArgs,
    plan: &BenchPlan,
    flagged_share: f64,
) -> Result<(), String> {
    let receiver = webhooks::Receiver::start()?;
    let traffic = bench::TrafficOptions {
        seed: plan.seed,
        names: false,
        flagged_share,
        senders: plan.senders,
    };
    println!(
        "bench: AML with {} connections, {} s each, {:.0}% of transfers flagged; a fresh server \
         without and then with a webhook subscription to decision.flagged ({})",
        plan.connections,
        plan.duration.as_secs(),
        flagged_share * 100.0,
        receiver.url
    );
    let mut runs = Vec::new();
    // Requests per second without and with the subscription, over alternating rounds: fresh
    // servers on the same machine vary by a few percent from one to the next.
    let mut throughput = [Vec::new(), Vec::new()];
    for subscribed in (0..WEBHOOK_ROUNDS).flat_map(|_| [false, true]) {
        let session = connect(
            server,
            true,
            Vec::new(),
            vec![("REDFLAG__WEBHOOKS__ALLOW_PRIVATE_ADDRESSES", "true")],
        )
        .await?;
        if subscribed {
            let admin = client::token(session.target(), PUBLISHER.0, PUBLISHER.1).await?;
            client::call(
                session.target(),
                "POST",
                "/api/webhooks/",
                &admin,
                &webhooks::subscription(&receiver.url),
            )
            .await?;
        }
        let received_before = receiver.received();
        let figures = bench::run(
            session.target(),
            Some(&session.sign_in),
            Endpoint::Aml,
            plan.connections,
            plan.duration,
            traffic,
            1,
        )
        .await;
        let received_while = receiver.received() - received_before;
        let statistics = client::call(
            session.target(),
            "GET",
            "/api/statistics/",
            &session.sign_in.token(),
            &json!(null),
        )
        .await?;
        let flagged = statistics["total_flagged"].as_u64().unwrap_or(0);
        let total = statistics["total_detections"].as_u64().unwrap_or(0).max(1);
        let flagged_per_second = figures.requests_per_second() * flagged as f64 / total as f64;
        let mut line = format!(
            "{}  {}  flagged {flagged_per_second:.0}/s",
            if subscribed {
                "with webhooks   "
            } else {
                "without webhooks"
            },
            figures.summary()
        );
        let mut run = figures.to_json();
        run["subscribed"] = json!(subscribed);
        run["flagged_per_second"] = json!(flagged_per_second.round());
        if subscribed {
            // Every flagged decision of the run (the warm-up's included) is delivered.
            let delivered = receiver
                .wait_for(received_before + flagged, Duration::from_secs(120))
                .await
                - received_before;
            line.push_str(&format!(
                "  delivered {received_while} while measuring, {delivered} of {flagged} in all"
            ));
            run["delivered_while_measuring"] = json!(received_while);
            run["delivered"] = json!(delivered);
            run["flagged"] = json!(flagged);
        }
        println!("{line}");
        if let Some(error) = &figures.first_error {
            println!("          first error: {error}");
        }
        throughput[usize::from(subscribed)].push(figures.requests_per_second());
        runs.push(run);
    }
    let mean = |runs: &[f64]| runs.iter().sum::<f64>() / runs.len().max(1) as f64;
    let (without, with) = (mean(&throughput[0]), mean(&throughput[1]));
    let slowdown = (1.0 - with / without.max(f64::MIN_POSITIVE)) * 100.0;
    println!(
        "mean of {WEBHOOK_ROUNDS} rounds: {without:.0} req/s without, {with:.0} with: webhook \
         deliveries slow detection by {slowdown:.1}%"
    );
    let report = json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "cores": std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        "connections": plan.connections,
        "seconds_per_run": plan.duration.as_secs(),
        "flagged_share": flagged_share,
        "runs": runs,
        "slowdown_percent": (slowdown * 10.0).round() / 10.0,
    });
    write_report(&plan.output, &report)
}

/// Writes the JSON figures to `output`.
fn write_report(output: &std::path::Path, report: &serde_json::Value) -> Result<(), String> {
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(
        output,
        serde_json::to_string_pretty(report).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: {e}", output.display()))?;
    println!("figures written to {}", output.display());
    Ok(())
}
