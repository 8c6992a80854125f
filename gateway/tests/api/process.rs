//! `redflag` processes for the tests that need a real server or worker: started on a free port,
//! spoken to over plain HTTP, killed when the test ends however it ends.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::Sandbox;

/// A child process, killed with SIGKILL when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Process {
    /// Sends SIGTERM and waits up to `within` for the process to exit; returns its status, or
    /// `None` if it was still running (then it is killed on drop).
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let signalled = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(signalled.success(), "SIGTERM was delivered");
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(status) = self.0.try_wait().expect("the child can be polled") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

/// A running `redflag serve` on the sandbox's database (where `cli::redflag` creates users),
/// logging to a `serve-*.log` of its own in its directory.
pub struct Server {
    pub port: u16,
    pub log: PathBuf,
    pub process: Process,
}

impl Server {
    /// Starts the server with `env` set and waits until it listens. The server binds port 0 and
    /// logs the port the system gave it: a port picked here and bound later by the server could
    /// be taken meanwhile by another test's server (start-up trains models for seconds), and this
    /// test would then talk to that one.
    pub fn start(sandbox: &Sandbox, env: &[(&str, &str)]) -> Self {
        let log = sandbox
            .path()
            .join(format!("serve-{}.log", uuid::Uuid::new_v4().simple()));
        let mut process = Process(
            Command::new(env!("CARGO_BIN_EXE_redflag"))
                .args(["serve", "--bind", "127.0.0.1:0"])
                .current_dir(sandbox.path())
                .env("DATABASE_URL", sandbox.database.url())
                .env("REDFLAG__MODELS__SYNTHETIC_ROWS", "3000")
                .env("NO_COLOR", "1")
                .env_remove("REDFLAG_PROFILE")
                .env_remove("REDIS_URL")
                .env_remove("REDIS_HOST")
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("a log file"))
                .spawn()
                .expect("the server starts"),
        );
        let started = Instant::now();
        let port = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(port) = listening_port(&text) {
                break port;
            }
            let exited = process.0.try_wait().expect("the child can be polled");
            assert!(
                exited.is_none() && started.elapsed() < Duration::from_secs(60),
                "the server did not start ({exited:?}): {text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        Self { port, log, process }
    }

    /// A request to the server: (status, body).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (u16, String) {
        http_to(self.port, method, path, token, body).expect("the server answers")
    }

    /// An access token for a user `cli::redflag` created.
    pub fn token(&self, username: &str, password: &str) -> String {
        let (status, tokens) = self.http(
            "POST",
            "/api/token/",
            None,
            &serde_json::json!({"username": username, "password": password}),
        );
        assert_eq!(status, 200, "{tokens}");
        let tokens: Value = serde_json::from_str(&tokens).expect("JSON");
        tokens["access"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }
}

/// The port of the server's "listening on http://127.0.0.1:<port>" log line.
fn listening_port(log: &str) -> Option<u16> {
    let (_, rest) = log.split_once("listening on http://127.0.0.1:")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// One HTTP/1.1 request on its own connection: (status, body), or the error of a server that is
/// not listening or closed the connection without answering.
pub fn http_to(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> std::io::Result<(u16, String)> {
    let body = body.to_string();
    let auth = token.map_or(String::new(), |token| {
        format!("Authorization: Bearer {token}\r\n")
    });
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no status line"))?;
    let body = reply
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_owned());
    Ok((status, body))
}

/// Polls `check` every 200 ms for up to 30 s: for what another process does in its own time.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what} did not happen within 30 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
