//! Python tools in virtual environments under target/ (schemathesis for the contract run, the
//! laundering generator and scikit-learn for the evaluation), installed from PyPI on first use.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::find_program;

/// The `bin` directory of the environment `target/<name>` holding exactly `packages` (pinned),
/// made or remade when what it holds differs.
pub fn environment(target: &Path, name: &str, packages: &[&str]) -> Result<PathBuf, String> {
    let venv = target.join(name);
    let bin = venv.join("bin");
    let marker = venv.join("installed.txt");
    let wanted = packages.join("\n");
    if std::fs::read_to_string(&marker).is_ok_and(|installed| installed == wanted) {
        return Ok(bin);
    }
    let system = find_program("python3", &[])
        .ok_or("this needs Python 3: install the Debian packages `python3` and `python3-venv`")?;
    eprintln!(
        "xtask: installing {} into {}",
        packages.join(" "),
        venv.display()
    );
    let created = Command::new(system)
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .status()
        .map_err(|e| format!("cannot run python3 -m venv: {e}"))?;
    if !created.success() {
        return Err("python3 -m venv failed: install the Debian package `python3-venv`".to_owned());
    }
    let installed = Command::new(bin.join("pip"))
        .args(["install", "--quiet"])
        .args(packages)
        .status()
        .map_err(|e| format!("cannot run pip: {e}"))?;
    if !installed.success() {
        return Err(format!(
            "pip could not install {} (is PyPI reachable?)",
            packages.join(" ")
        ));
    }
    std::fs::write(&marker, wanted)
        .map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    Ok(bin)
}
