//! `cargo xtask <command>`: project automation beyond cargo.
//!
//! - `test`: checks that the domain crates stay pure, makes sure Redis and PostgreSQL answer
//!   (starting throwaway instances in a temporary directory when they do not), then runs the
//!   whole workspace's tests against them, the gateway's suite a second time on PostgreSQL, the
//!   AML and gateway suites again at other hours of the day (libfaketime), schemathesis against
//!   a live server and its OpenAPI document, and the dashboard end to end in Chromium.
//! - `bench` and `seed`: build the service and the load generator (`xtask/load`) in release and
//!   run the generator, so that neither the server nor the client is measured in a debug build.
//! - `eval aml`: detection quality on third-party laundering data through a release server's
//!   HTTP path (`xtask/eval/aml.py`; EVALUATION.md).
//! - `eval credit`: the scorecard and plain logistic regression on public credit data sets
//!   through `redflag model evaluate` (`xtask/eval/credit.py`; EVALUATION.md).
//! - `openapi`: writes the OpenAPI document the service serves to `gateway/openapi.json`.
//! - `dashboard`: builds the service and runs only the dashboard's end-to-end test.
//! - `ci`: what CI runs (`.ci/run`): formatting, clippy, then `test`.

mod clock;
mod contract;
mod dashboard;
mod eval;
mod python;

use std::env;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const REDIS: &str = "127.0.0.1:6379";
const POSTGRES: &str = "127.0.0.1:5432";
const NATS: &str = "127.0.0.1:4222";
/// Crates that must know nothing of HTTP, SQL or Redis.
const PURE_CRATES: &[&str] = &[
    "redflag-core",
    "redflag-windows",
    "redflag-rules",
    "redflag-screening",
    "redflag-ml-core",
    "redflag-aml",
    "redflag-credit",
    "redflag-insurance",
    "redflag-market",
];
const FRAMEWORK_CRATES: &[&str] = &["actix-web", "diesel", "redis", "deadpool-redis", "tokio"];
/// Crates that hold what the binaries share beyond HTTP: they may reach the database, not the web
/// framework.
const SERVICE_CRATES: &[&str] = &["redflag-service"];
const WEB_CRATES: &[&str] = &[
    "actix-web",
    "actix-http",
    "actix-cors",
    "actix-web-httpauth",
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(
            args[1..]
                .strip_prefix(&["--".to_owned()])
                .unwrap_or(&args[1..]),
        ),
        Some(command @ ("bench" | "seed")) => load(command, &args[1..]),
        Some("ci") => ci(),
        Some("eval") => eval::run(args.get(1).map(String::as_str), args.get(2..).unwrap_or(&[])),
        Some("openapi") => contract::write_document(),
        Some("dashboard") => dashboard::build_and_browse(),
        _ => Err("usage: cargo xtask test [<extra cargo test arguments, e.g. a test name filter>]\n       \
             cargo xtask bench [--help for its options]\n       \
             cargo xtask seed [--help for its options]\n       \
             cargo xtask eval aml [--seeds 404,505,606]\n       \
             cargo xtask eval credit\n       \
             cargo xtask eval market [--seeds 404,505,606]\n       \
             cargo xtask eval anomaly\n       \
             cargo xtask openapi\n       \
             cargo xtask dashboard\n       \
             cargo xtask ci"
            .to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Builds `redflag` and `redflag-load` in release, then runs `redflag-load <command> <args>`.
fn load(command: &str, args: &[String]) -> Result<(), String> {
    build_release(&["redflag-gateway", "redflag-load"])?;
    let root = workspace_root();
    let status = Command::new(target_dir().join("release").join("redflag-load"))
        .arg(command)
        .args(args)
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run redflag-load: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command} failed"))
    }
}

/// Builds `packages` with the release profile.
fn build_release(packages: &[&str]) -> Result<(), String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(&cargo);
    build.args(["build", "--release"]);
    for package in packages {
        build.args(["--package", package]);
    }
    let built = build
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if built.success() {
        Ok(())
    } else {
        Err("the release build failed".to_owned())
    }
}

/// Runs `.ci/run`, exactly as CI does.
fn ci() -> Result<(), String> {
    let status = Command::new("bash")
        .arg(workspace_root().join(".ci").join("run"))
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run .ci/run: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(".ci/run failed".to_owned())
    }
}

/// Servers this run started, stopped when the run ends.
#[derive(Default)]
struct Services {
    children: Vec<Child>,
    postgres_data: Option<PathBuf>,
    _temp: Vec<TempDir>,
}

impl Drop for Services {
    fn drop(&mut self) {
        if let Some(data) = &self.postgres_data {
            let _ = as_postgres_user(
                &pg_tool("pg_ctl").unwrap_or_default(),
                &["-D", &data.display().to_string(), "-m", "fast", "stop"],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        }
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn test(extra: &[String]) -> Result<(), String> {
    check_purity()?;
    let mut services = Services::default();
    let mut envs: Vec<(String, String)> = Vec::new();

    if redis_answers(REDIS) {
        eprintln!("xtask: using Redis at {REDIS}");
    } else {
        let url = start_redis(&mut services)?;
        envs.push(("REDFLAG_TEST_REDIS_URL".to_owned(), url));
    }
    if nats_answers(NATS) {
        eprintln!("xtask: using NATS at {NATS}");
    } else if env::var("REDFLAG_TEST_NATS_URL").is_err() {
        let url = start_nats(&mut services)?;
        envs.push(("REDFLAG_TEST_NATS_URL".to_owned(), url));
    }
    if tcp_answers(POSTGRES) && env::var("REDFLAG_TEST_POSTGRES_URL").is_err() {
        eprintln!("xtask: using PostgreSQL at {POSTGRES}");
    } else if env::var("REDFLAG_TEST_POSTGRES_URL").is_err() {
        let url = start_postgres(&mut services)?;
        envs.push(("REDFLAG_TEST_POSTGRES_URL".to_owned(), url));
    }

    // The whole workspace once with the gateway's suite on SQLite (the store's own tests cover
    // both backends), then the gateway's suite again on PostgreSQL: time bucketing, JSON and
    // upserts differ between them. `REDFLAG_TEST_DATABASE` set by hand picks one backend only.
    let mut totals = TestTotals::default();
    let mut failed = Vec::new();
    let chosen = env::var("REDFLAG_TEST_DATABASE").unwrap_or_default();
    let workspace = ["test", "--workspace"].as_slice();
    let passes = if chosen.is_empty() {
        vec![
            ("sqlite", workspace),
            (
                "postgres",
                // `--workspace` keeps the first pass's feature set: nothing is rebuilt.
                ["test", "--workspace", "--test", "api"].as_slice(),
            ),
        ]
    } else {
        vec![(chosen.as_str(), workspace)]
    };
    for (backend, args) in passes {
        eprintln!("xtask: cargo {} (database: {backend})", args.join(" "));
        let mut envs = envs.clone();
        envs.push(("REDFLAG_TEST_DATABASE".to_owned(), backend.to_owned()));
        if !cargo_test(args, extra, &envs, &mut totals)? {
            failed.push(backend);
        }
    }
    // The contract and browser runs need the whole build and mean little beside a filtered run.
    let target = target_dir();
    let tests_failed = !failed.is_empty();
    let mut live_run = |name: &'static str, run: &dyn Fn(&Path) -> Result<(), String>| {
        if tests_failed {
            "not run (tests failed)"
        } else if !extra.is_empty() {
            eprintln!("xtask: {name} skipped: a test filter was given");
            "skipped (filtered run)"
        } else {
            match run(&target) {
                Ok(()) => "passed",
                Err(message) => {
                    eprintln!("xtask: {message}");
                    failed.push(name);
                    "failed"
                }
            }
        }
    };
    let clock = live_run("the clock run", &|_| clock::run(&envs));
    let contract = live_run("the API contract", &contract::fuzz);
    let dashboard = live_run("the dashboard", &dashboard::browse);
    let _ = writeln!(
        std::io::stdout(),
        "tests: {} passed, {} failed; at other hours (libfaketime): {clock}; \
         API contract (schemathesis): {contract}; dashboard (Chromium): {dashboard}",
        totals.passed,
        totals.failed
    );
    if !failed.is_empty() {
        Err(format!("tests failed on {}", failed.join(" and ")))
    } else if totals.passed == 0 {
        Err("no test ran".to_owned())
    } else {
        Ok(())
    }
}

/// Runs `cargo <args> <extra>` with `envs`, passing its output through while adding up every
/// test binary's result line into `totals`, so that the run ends with one total rather than the
/// last (often empty) doc-test binary's count. Returns whether it succeeded.
fn cargo_test(
    args: &[&str],
    extra: &[String],
    envs: &[(String, String)],
    totals: &mut TestTotals,
) -> Result<bool, String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut child = Command::new(cargo)
        .args(args)
        .args(extra)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .current_dir(workspace_root())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout().lock();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            totals.add(&line);
            let _ = writeln!(out, "{line}");
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("cargo test did not finish: {e}"))?;
    Ok(status.success())
}

/// The sum of libtest's `test result: ok. 5 passed; 0 failed; ...` lines.
#[derive(Default)]
struct TestTotals {
    passed: u64,
    failed: u64,
}

impl TestTotals {
    fn add(&mut self, line: &str) {
        let Some(summary) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in summary.split(['.', ';']) {
            let mut words = part.split_whitespace();
            if let (Some(count), Some(label)) = (words.next(), words.next()) {
                let count = count.parse::<u64>().unwrap_or_default();
                match label {
                    "passed" => self.passed += count,
                    "failed" => self.failed += count,
                    _ => {}
                }
            }
        }
    }
}

/// The domain crates must not depend on web, SQL or Redis crates: they are libraries that any
/// Rust service can embed. Their tests, benches and examples (dev edges) too: an embedder who
/// builds a domain crate's tests compiles no database stack. The service crate must not depend on
/// the web framework: it is what every command shares, HTTP or not.
fn check_purity() -> Result<(), String> {
    for krate in PURE_CRATES {
        check_free_of(
            krate,
            FRAMEWORK_CRATES,
            "domain crates must stay free of IO frameworks",
        )?;
    }
    for krate in SERVICE_CRATES {
        check_free_of(
            krate,
            WEB_CRATES,
            "the service crate must stay free of HTTP",
        )?;
    }
    eprintln!(
        "xtask: domain crates are free of {}; the service crate of {}",
        FRAMEWORK_CRATES.join(", "),
        WEB_CRATES.join(", ")
    );
    Ok(())
}

/// Fails when `krate` depends on any of `forbidden`, directly or not, in its build or its tests.
fn check_free_of(krate: &str, forbidden: &[&str], rule: &str) -> Result<(), String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(&cargo)
        .args([
            "tree",
            "--quiet",
            "--edges",
            "normal,dev",
            "--prefix",
            "none",
            "--package",
            krate,
        ])
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo tree failed for {krate}: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        if forbidden.contains(&name) {
            return Err(format!("{krate} depends on {name}: {rule}"));
        }
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn tcp_answers(address: &str) -> bool {
    address.parse::<SocketAddr>().is_ok_and(|address| {
        TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
    })
}

fn redis_answers(address: &str) -> bool {
    answers_with(address, b"PING\r\n", b"+PONG")
}

/// Whether a server at `address` answers `request` (nothing: its greeting) with a reply that
/// starts with `expected`, within half a second.
fn answers_with(address: &str, request: &[u8], expected: &[u8]) -> bool {
    let Ok(address) = address.parse::<SocketAddr>() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 16];
    (request.is_empty() || stream.write_all(request).is_ok())
        && stream
            .read(&mut reply)
            .is_ok_and(|n| reply[..n].starts_with(expected))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn wait_until(what: &str, ready: impl Fn() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ready() {
            return Ok(());
        }
        sleep(Duration::from_millis(200));
    }
    Err(format!("{what} did not start within 30 s"))
}

/// Where cargo builds: `CARGO_TARGET_DIR`, or the workspace's target/.
fn target_dir() -> PathBuf {
    env::var("CARGO_TARGET_DIR").map_or_else(|_| workspace_root().join("target"), PathBuf::from)
}

fn find_program(name: &str, extra_dirs: &[PathBuf]) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .chain(extra_dirs.iter().cloned())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Whether a NATS server answers there: it greets every connection with `INFO {...}`.
fn nats_answers(address: &str) -> bool {
    answers_with(address, b"", b"INFO")
}

/// A throwaway nats-server with JetStream, its store in a temporary directory.
fn start_nats(services: &mut Services) -> Result<String, String> {
    let server = find_program("nats-server", &[PathBuf::from("/usr/sbin")]).ok_or(
        "NATS does not answer at 127.0.0.1:4222 and `nats-server` is not installed: \
         install the Debian package `nats-server` (apt-get install nats-server)",
    )?;
    let port = free_port()?;
    let dir = TempDir::new("nats")?;
    let child = Command::new(server)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start nats-server: {e}"))?;
    services.children.push(child);
    services._temp.push(dir);
    let address = format!("127.0.0.1:{port}");
    wait_until("nats-server", || nats_answers(&address))?;
    eprintln!("xtask: started a throwaway NATS (JetStream) at {address}");
    Ok(format!("nats://{address}"))
}

fn start_redis(services: &mut Services) -> Result<String, String> {
    let server = find_program("redis-server", &[]).ok_or(
        "Redis does not answer at 127.0.0.1:6379 and `redis-server` is not installed: \
         install the Debian package `redis-server` (apt-get install redis-server)",
    )?;
    let port = free_port()?;
    let dir = TempDir::new("redis")?;
    let child = Command::new(server)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start redis-server: {e}"))?;
    services.children.push(child);
    services._temp.push(dir);
    let address = format!("127.0.0.1:{port}");
    wait_until("redis-server", || redis_answers(&address))?;
    eprintln!("xtask: started a throwaway Redis at {address}");
    Ok(format!("redis://{address}/0"))
}

/// PostgreSQL's server programs, which Debian keeps under /usr/lib/postgresql/<version>/bin.
fn pg_tool(name: &str) -> Option<String> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.reverse();
    find_program(name, &versions).map(|path| path.display().to_string())
}

/// PostgreSQL refuses to run as root; as root, run its programs as the `postgres` user.
fn as_postgres_user(program: &str, args: &[&str]) -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0");
    if is_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", program]).args(args);
        command
    } else {
        let mut command = Command::new(program);
        command.args(args);
        command
    }
}

fn start_postgres(services: &mut Services) -> Result<String, String> {
    let missing = "PostgreSQL does not answer at 127.0.0.1:5432 and its server programs (initdb, pg_ctl) \
                   are not installed: install the Debian package `postgresql` (apt-get install postgresql)";
    let initdb = pg_tool("initdb").ok_or(missing)?;
    let pg_ctl = pg_tool("pg_ctl").ok_or(missing)?;
    let port = free_port()?;
    let dir = TempDir::new("postgres")?;
    let data = dir.path().join("data");
    // The postgres user must own the directory when we run as root.
    let _ = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(dir.path())
        .status();
    let data_arg = data.display().to_string();
    let status = as_postgres_user(
        &initdb,
        &[
            "-D",
            &data_arg,
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        ],
    )
    .stdout(Stdio::null())
    .status()
    .map_err(|e| format!("cannot run initdb: {e}"))?;
    if !status.success() {
        return Err("initdb failed".to_owned());
    }
    let options = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
        dir.path().display()
    );
    let log = dir.path().join("postgres.log").display().to_string();
    let status = as_postgres_user(
        &pg_ctl,
        &["-D", &data_arg, "-o", &options, "-l", &log, "-w", "start"],
    )
    .stdout(Stdio::null())
    .status()
    .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
    if !status.success() {
        return Err(format!("pg_ctl start failed; see {log}"));
    }
    services.postgres_data = Some(data);
    services._temp.push(dir);
    let address = format!("127.0.0.1:{port}");
    wait_until("PostgreSQL", || tcp_answers(&address))?;
    eprintln!("xtask: started a throwaway PostgreSQL at {address}");
    Ok(format!("postgres://postgres@{address}/postgres"))
}

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Result<Self, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = env::temp_dir().join(format!(
            "redflag-xtask-{label}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Self(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::TestTotals;

    #[test]
    fn totals_add_up_libtest_summaries() {
        let mut totals = TestTotals::default();
        totals.add("test result: ok. 26 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.12s");
        totals
            .add("test result: FAILED. 3 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out");
        totals.add("running 3 tests");
        assert_eq!((totals.passed, totals.failed), (29, 2));
    }
}
