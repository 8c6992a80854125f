//! The API contract: the checked-in OpenAPI document (`cargo xtask openapi`), and schemathesis
//! fuzzing a live server against it (part of `cargo xtask test`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::{TempDir, free_port, tcp_answers, wait_until, workspace_root};

/// Where the document is checked in; a gateway test fails when it differs from the served one.
pub const DOCUMENT: &str = "gateway/openapi.json";
/// The schemathesis release the run installs (from PyPI, into target/): pinned, so that a new
/// release cannot change what CI checks.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";
/// Generated requests per operation: about 40 s for the sixteen operations on two cores.
const EXAMPLES_PER_OPERATION: &str = "100";
/// Set to a seed to generate the requests of an earlier run (the run prints its seed).
const SEED_VARIABLE: &str = "REDFLAG_CONTRACT_SEED";
/// The seed outside a git checkout (a source archive), where no commit names one.
const FALLBACK_SEED: u64 = 20_261_126;
/// A user the run creates, whose credentials are the sign-in example of the document, so that
/// the example signs in for real.
pub const USER: (&str, &str) = ("analyst", "correct-horse-battery");
/// An admin the run creates beside [`USER`], with the same password (the browser run retrains a
/// model as it).
pub const ADMIN: &str = "admin";

/// Writes the document `redflag openapi` prints to [`DOCUMENT`].
pub fn write_document() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "run",
            "--quiet",
            "--package",
            "redflag-gateway",
            "--bin",
            "redflag",
            "--",
            "openapi",
        ])
        .current_dir(workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run redflag openapi: {e}"))?;
    if !output.status.success() {
        return Err("redflag openapi failed".to_owned());
    }
    let path = workspace_root().join(DOCUMENT);
    std::fs::write(&path, &output.stdout)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

/// A `redflag serve` on a fresh SQLite file with [`USER`] created, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the contract and browser runs change from the defaults: a small model trains faster, and
/// a run's few dozen decisions are enough to retrain on and to calibrate the anomaly alerts with,
/// and webhooks may go to the browser run's receiver on 127.0.0.1.
pub const TEST_SETTINGS: &[(&str, &str)] = &[
    ("REDFLAG__WEBHOOKS__ALLOW_PRIVATE_ADDRESSES", "true"),
    ("REDFLAG__MODELS__SYNTHETIC_ROWS", "3000"),
    ("REDFLAG__TASKS__RETRAIN_MIN_ROWS", "20"),
    ("REDFLAG__MODELS__CALIBRATION_MIN_EVENTS", "20"),
];

impl Server {
    /// `name` names its temporary directory (what the server is for); `settings` are environment
    /// overrides of the defaults.
    pub fn start(redflag: &Path, name: &str, settings: &[(&str, &str)]) -> Result<Self, String> {
        let dir = TempDir::new(name)?;
        let configure = |command: &mut Command| {
            command
                .current_dir(dir.path())
                .env("DATABASE_URL", dir.path().join("redflag.sqlite3"))
                .env("REDFLAG__MODELS__DIRECTORY", dir.path().join("models"))
                .envs(settings.iter().copied())
                .env_remove("REDFLAG_PROFILE")
                .env_remove("REDIS_URL")
                .env_remove("REDIS_HOST")
                .env_remove("AUDIT_QUEUE_URL");
        };
        for (username, role) in [(USER.0, "analyst"), (ADMIN, "admin")] {
            let mut create = Command::new(redflag);
            create.args(["user", "create", "--username", username, "--role", role]);
            create.arg("--password-stdin");
            configure(&mut create);
            let mut child = create
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot run {}: {e}", redflag.display()))?;
            if let Some(stdin) = child.stdin.as_mut() {
                writeln!(stdin, "{}", USER.1).map_err(|e| e.to_string())?;
            }
            let created = child.wait().map_err(|e| e.to_string())?;
            if !created.success() {
                return Err(format!("redflag user create {username} failed"));
            }
        }
        let port = free_port()?;
        let mut serve = Command::new(redflag);
        serve.args(["serve", "--bind", &format!("127.0.0.1:{port}")]);
        configure(&mut serve);
        let log = std::fs::File::create(dir.path().join("serve.log")).map_err(|e| e.to_string())?;
        let child = serve
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start redflag serve: {e}"))?;
        let server = Self {
            child,
            port,
            _dir: dir,
        };
        wait_until("redflag serve", || {
            tcp_answers(&format!("127.0.0.1:{port}"))
        })?;
        Ok(server)
    }

    /// An access token for the run's user, from POST /api/token/.
    fn token(&self) -> Result<String, String> {
        let body = format!(
            "{{\"username\":\"{}\",\"password\":\"{}\"}}",
            USER.0, USER.1
        );
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        write!(
            stream,
            "POST /api/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .map_err(|e| e.to_string())?;
        let mut reply = String::new();
        stream
            .read_to_string(&mut reply)
            .map_err(|e| e.to_string())?;
        // A JWT has no quotes: the value runs to the next one.
        reply
            .split_once("\"access\":\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(token, _)| token.to_owned())
            .ok_or_else(|| format!("no access token in the sign-in answer: {reply}"))
    }
}

/// Fuzzes a live server (the debug build `cargo test` just made) against the document it serves:
/// no 5xx, and every status, header, content type and body as the document says, with a valid
/// token on the operations that need one.
///
/// `positive_data_acceptance` is left out: the document's request schemas are the parsers' own
/// account of each field, but not of the rules across fields (a revolving balance with its
/// limit, an order id on a cancel, an incident before its report), which JSON Schema cannot
/// state; such requests are refused with 400 and the field's message, as documented.
pub fn fuzz(target: &Path) -> Result<(), String> {
    let program = crate::python::environment(target, "schemathesis-venv", &[SCHEMATHESIS])?
        .join("schemathesis");
    let redflag = target.join("debug").join("redflag");
    let server = Server::start(&redflag, "contract", TEST_SETTINGS)?;
    let token = server.token()?;
    let schema = format!("http://127.0.0.1:{}/api/schema/", server.port);
    eprintln!("xtask: schemathesis run {schema}");
    // schemathesis keeps a cache in its working directory: under target/, not in the sources.
    let status = Command::new(program)
        .current_dir(target)
        .args(["run", &schema, "--checks", "all"])
        .args(["--exclude-checks", "positive_data_acceptance"])
        // One worker: with two, schemathesis 4.32 once failed inside its own generator.
        .args(["--max-examples", EXAMPLES_PER_OPERATION, "--workers", "1"])
        .args(["--seed", &seed()?.to_string()])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .status()
        .map_err(|e| format!("cannot run schemathesis: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("schemathesis found responses that break the API contract".to_owned())
    }
}

/// The run's seed: `REDFLAG_CONTRACT_SEED` when set, else derived from the commit under test, so
/// that each commit explores requests the last one did not, and a failure reproduces from the
/// seed printed here.
fn seed() -> Result<u64, String> {
    if let Ok(given) = std::env::var(SEED_VARIABLE) {
        let seed = given
            .trim()
            .parse()
            .map_err(|_| format!("{SEED_VARIABLE}={given} is not a whole number"))?;
        eprintln!("xtask: schemathesis seed {seed} (from {SEED_VARIABLE})");
        return Ok(seed);
    }
    let commit = Command::new("git")
        .current_dir(workspace_root())
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    let Some(seed) = commit
        .as_deref()
        .and_then(|commit| u64::from_str_radix(commit.get(..8)?, 16).ok())
    else {
        eprintln!(
            "xtask: schemathesis seed {FALLBACK_SEED} (no git commit here; \
             {SEED_VARIABLE}=N explores others)"
        );
        return Ok(FALLBACK_SEED);
    };
    eprintln!(
        "xtask: schemathesis seed {seed} (from commit {}; {SEED_VARIABLE}={seed} repeats this run)",
        commit
            .as_deref()
            .and_then(|c| c.get(..12))
            .unwrap_or_default()
    );
    Ok(seed)
}
