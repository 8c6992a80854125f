//! The clock run of `cargo xtask test`: the AML crate's tests and the gateway's API suite again
//! with the process clock moved to other hours of the day (libfaketime), so that a test whose
//! outcome depends on the wall clock (the anomaly models read the hour of day) fails in CI, not
//! at 07:24 some morning.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{TestTotals, workspace_root};

/// The hours of the day (UTC) the suites run at, beside the real one: night, early morning (the
/// hour a test once failed at), afternoon and evening.
const HOURS: [u64; 4] = [2, 7, 13, 20];

/// Where Debian's package `faketime` puts the library.
const LIBRARY_PATHS: [&str; 3] = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
];

/// Runs the suites at each of [`HOURS`] with `envs` (the services the main run used).
pub fn run(envs: &[(String, String)]) -> Result<(), String> {
    let library = LIBRARY_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .ok_or("the clock run needs libfaketime: install the Debian package `faketime`")?;
    let binaries = test_binaries(envs)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    for hour in HOURS {
        // The same minute, at `hour` o'clock UTC today.
        let offset = (hour * 3600 + now % 3600) as i64 - (now % 86_400) as i64;
        let mut totals = TestTotals::default();
        for binary in &binaries {
            let output = Command::new(binary)
                .envs(envs.iter().map(|(k, v)| (k, v)))
                .env("REDFLAG_TEST_DATABASE", "sqlite")
                .env("LD_PRELOAD", &library)
                .env("FAKETIME", format!("{offset:+}"))
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
                .current_dir(workspace_root())
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            for line in stdout.lines() {
                totals.add(line);
            }
            if !output.status.success() {
                // libtest's "failures:" section: each failed test's output and panic message.
                let failures: Vec<&str> = stdout
                    .lines()
                    .skip_while(|line| *line != "failures:")
                    .take_while(|line| !line.starts_with("test result:"))
                    .collect();
                return Err(format!(
                    "at {hour:02}:{:02} UTC, {} failed:\n{}",
                    now % 3600 / 60,
                    binary.display(),
                    failures.join("\n")
                ));
            }
        }
        if totals.passed == 0 {
            return Err(format!("at {hour:02}:00 UTC no test ran"));
        }
        eprintln!(
            "xtask: clock at {hour:02}:{:02} UTC: {} passed",
            now % 3600 / 60,
            totals.passed
        );
    }
    Ok(())
}

/// The AML crate's unit tests and the gateway's API suite, as built by the main run.
fn test_binaries(envs: &[(String, String)]) -> Result<Vec<PathBuf>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["test", "--workspace", "--no-run", "--message-format=json"])
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .current_dir(workspace_root())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo test --no-run: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let wanted = |line: &str| {
        (line.contains("\"name\":\"redflag_aml\"") && line.contains("\"kind\":[\"lib\"]"))
            || (line.contains("redflag-gateway")
                && line.contains("\"kind\":[\"test\"]")
                && line.contains("\"name\":\"api\""))
    };
    let binaries: Vec<PathBuf> = text
        .lines()
        .filter(|line| wanted(line))
        .filter_map(executable)
        .collect();
    if binaries.len() == 2 {
        Ok(binaries)
    } else {
        Err(format!(
            "expected the AML and API test binaries, found {binaries:?}"
        ))
    }
}

/// The `"executable"` of one of cargo's JSON messages (paths carry no quotes here).
fn executable(line: &str) -> Option<PathBuf> {
    let (_, rest) = line.split_once("\"executable\":\"")?;
    let (path, _) = rest.split_once('"')?;
    Some(Path::new(path).to_path_buf())
}
