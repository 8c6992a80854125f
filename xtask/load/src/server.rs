//! A `redflag serve` of our own when no `--url` is given: the release binary built beside this
//! one, a fresh SQLite database in a temporary directory (or the database and Redis named), a user
//! to sign in with, killed when done.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::Target;

/// What the local server runs on, and who may sign in.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// `DATABASE_URL`; default a fresh SQLite file in a temporary directory.
    pub database_url: Option<String>,
    /// `REDIS_URL` for the windows (a unique key prefix is used); default in-process windows.
    pub redis_url: Option<String>,
    /// Where the server runs (its `ml_models`); default the temporary directory.
    pub workdir: Option<PathBuf>,
    /// The AML watchlist (`aml.watchlist_file`) it reads; default none.
    pub watchlist_file: Option<PathBuf>,
    /// The user created (or whose password is set) before the server starts.
    pub username: String,
    pub password: String,
    /// An admin created the same way (username, password), to publish rule sets the first user
    /// wrote: publishing takes a second person.
    pub publisher: Option<(String, String)>,
    /// Further settings, as `REDFLAG__...` environment variables.
    pub settings: Vec<(&'static str, &'static str)>,
    /// Sanctions lists imported before the server starts (`redflag lists import`): name, format
    /// and files.
    pub lists: Vec<(String, String, Vec<PathBuf>)>,
}

pub struct LocalServer {
    child: Child,
    pub target: Target,
    /// Redis and the key prefix of this run's windows, removed when the server stops: a run
    /// leaves hundreds of thousands of keys that would otherwise live for their horizons (up to
    /// 30 days) and slow every later run on the same Redis.
    redis_keys: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

/// The `redflag` binary built beside this one (`cargo build --release` puts both in one folder).
pub fn redflag_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let binary = exe.with_file_name("redflag");
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!(
            "{} is missing: run `cargo build --release -p redflag-gateway` (cargo xtask does)",
            binary.display()
        ))
    }
}

impl LocalServer {
    pub fn start(options: &ServerOptions) -> Result<Self, String> {
        let binary = redflag_binary()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let workdir = options
            .workdir
            .clone()
            .unwrap_or_else(|| dir.path().to_owned());
        let database_url = options
            .database_url
            .clone()
            .unwrap_or_else(|| dir.path().join("redflag.sqlite3").display().to_string());
        let run = format!("bench-{}", std::process::id());
        let command = |args: &[&str]| {
            let mut command = Command::new(&binary);
            command
                .args(args)
                .current_dir(&workdir)
                .env("DATABASE_URL", &database_url)
                .env("RUST_LOG", "warn")
                .env("REDFLAG__AUTH__ACCESS_TOKEN_LIFETIME_SECONDS", "86400")
                .env("REDFLAG__SERVER__ECHO_ROUTE", "true")
                .env("REDFLAG__REDIS__KEY_PREFIX", &run)
                .env_remove("REDFLAG_PROFILE")
                .env_remove("REDIS_HOST")
                .envs(options.settings.iter().copied());
            match &options.redis_url {
                Some(url) => command.env("REDIS_URL", url),
                None => command.env_remove("REDIS_URL"),
            };
            if let Some(watchlist) = &options.watchlist_file {
                command.env("REDFLAG__AML__WATCHLIST_FILE", watchlist);
            }
            command
        };

        let user = |action: &str, username: &str, password: &str, admin: bool| {
            let mut args = vec!["user", action, "--username", username, "--password-stdin"];
            if admin && action == "create" {
                args.extend(["--role", "admin"]);
            }
            let mut child = command(&args)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(format!("{password}\n").as_bytes())
                    .map_err(|e| e.to_string())?;
            }
            let output = child.wait_with_output().map_err(|e| e.to_string())?;
            Ok::<_, String>((
                output.status.success(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ))
        };
        let ensure = |username: &str, password: &str, admin: bool| -> Result<(), String> {
            let (created, stderr) = user("create", username, password, admin)?;
            if !created {
                if !stderr.contains("already exists") {
                    return Err(format!("creating the user `{username}` failed: {stderr}"));
                }
                let (set, stderr) = user("set-password", username, password, admin)?;
                if !set {
                    return Err(format!("setting `{username}`'s password failed: {stderr}"));
                }
            }
            Ok(())
        };
        ensure(&options.username, &options.password, false)?;
        for (name, format, files) in &options.lists {
            let mut args = vec!["lists", "import", "--name", name, "--format", format];
            let files: Vec<String> = files
                .iter()
                .map(|file| file.display().to_string())
                .collect();
            args.extend(files.iter().map(String::as_str));
            let output = command(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
            if !output.status.success() {
                return Err(format!(
                    "importing the list `{name}` failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }
        if let Some((username, password)) = &options.publisher {
            ensure(username, password, true)?;
        }

        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let log = dir.path().join("serve.log");
        let child = command(&["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let target = Target::parse(&format!("http://127.0.0.1:{port}"))?;
        let mut server = Self {
            child,
            target,
            redis_keys: options.redis_url.clone().map(|url| (url, run.clone())),
            _dir: dir,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(server.target.addr).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "the server exited ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ));
            }
            if started.elapsed() > Duration::from_secs(120) {
                return Err("the server did not listen within 120 s".to_owned());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    /// The server's resident memory now and at its peak, in MiB (Linux `/proc`).
    pub fn memory_mib(&self) -> Option<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse::<f64>().ok())
                .map(|kib| kib / 1024.0)
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((url, prefix)) = &self.redis_keys
            && let Err(error) = remove_keys(url, prefix)
        {
            let _ = writeln!(
                std::io::stderr(),
                "could not remove this run's Redis keys ({prefix}:*): {error}"
            );
        }
    }
}

/// Removes every key under `prefix` (SCAN, then UNLINK, so Redis is never blocked).
fn remove_keys(url: &str, prefix: &str) -> redis::RedisResult<()> {
    let mut connection = redis::Client::open(url)?.get_connection()?;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(10_000)
            .query(&mut connection)?;
        if !keys.is_empty() {
            redis::cmd("UNLINK").arg(&keys).exec(&mut connection)?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}
