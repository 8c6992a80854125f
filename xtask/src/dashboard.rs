//! The dashboard end to end in a real browser (part of `cargo xtask test`): Debian's Chromium,
//! driven by playwright-core from the npm registry (never a downloaded browser), against a fresh
//! `redflag serve`. The script is `gateway/e2e/dashboard.mjs`; it saves its screenshots under
//! target/e2e-screenshots.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::contract::{ADMIN, Server, TEST_SETTINGS, USER};
use crate::{find_program, workspace_root};

/// Where Debian's `chromium` package puts the browser; `REDFLAG_CHROMIUM` names another.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Builds the debug `redflag` and runs the end-to-end script alone (`cargo xtask dashboard`).
pub fn build_and_browse() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(cargo)
        .args(["build", "--package", "redflag-gateway", "--bin", "redflag"])
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !built.success() {
        return Err("cargo build failed".to_owned());
    }
    browse(&crate::target_dir())
}

/// Runs the end-to-end script against the debug build `cargo test` just made.
pub fn browse(target: &Path) -> Result<(), String> {
    let chromium = chromium()?;
    let node = find_program("node", &[]).ok_or(
        "the dashboard test needs Node.js: install the Debian packages `nodejs` and `npm`",
    )?;
    let e2e = workspace_root().join("gateway").join("e2e");
    install_playwright(&e2e)?;
    let server = Server::start(
        &target.join("debug").join("redflag"),
        "dashboard",
        TEST_SETTINGS,
    )?;
    let screenshots = target.join("e2e-screenshots");
    eprintln!("xtask: the dashboard in {}", chromium.display());
    let status = Command::new(node)
        .current_dir(&e2e)
        .arg("dashboard.mjs")
        .arg(format!("http://127.0.0.1:{}", server.port))
        .args([USER.0, ADMIN, USER.1])
        .arg(&screenshots)
        .env("REDFLAG_CHROMIUM", &chromium)
        .status()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("the dashboard's end-to-end test failed".to_owned())
    }
}

fn chromium() -> Result<PathBuf, String> {
    let path =
        std::env::var_os("REDFLAG_CHROMIUM").map_or_else(|| PathBuf::from(CHROMIUM), PathBuf::from);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the dashboard test needs Chromium at {}: install the Debian package `chromium` \
             (apt-get install chromium), or set REDFLAG_CHROMIUM to another build",
            path.display()
        ))
    }
}

/// `npm ci` in gateway/e2e when playwright-core is missing or not the version package.json pins.
fn install_playwright(e2e: &Path) -> Result<(), String> {
    let read = |path: PathBuf| std::fs::read_to_string(path).unwrap_or_default();
    let manifest = read(e2e.join("package.json"));
    let pinned = manifest
        .split_once("\"playwright-core\": \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(version, _)| version.to_owned())
        .ok_or("gateway/e2e/package.json does not pin playwright-core")?;
    let installed = read(e2e.join("node_modules/playwright-core/package.json"));
    if installed.contains(&format!("\"version\": \"{pinned}\"")) {
        return Ok(());
    }
    let npm = find_program("npm", &[])
        .ok_or("the dashboard test needs npm: install the Debian packages `nodejs` and `npm`")?;
    eprintln!("xtask: installing playwright-core {pinned} into gateway/e2e/node_modules");
    let status = Command::new(npm)
        .current_dir(e2e)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel", "error"])
        .status()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "npm could not install playwright-core {pinned} (is the npm registry reachable?)"
        ))
    }
}
