//! Scores a numeric CSV (no header, one row per line) with an Isolation Forest trained on it and
//! prints one anomaly score per line: the Rust side of `compare/compare_sklearn.py`.
//!
//! Usage: cargo run --release -p redflag-ml-core --example iforest_scores -- DATA.csv TREES PSI SEED

use std::io::Write;

use ndarray::Array2;
use redflag_ml_core::{IsolationForest, IsolationForestParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, trees, subsample, seed] = args.as_slice() else {
        return Err("usage: iforest_scores DATA.csv TREES PSI SEED".into());
    };
    let mut values = Vec::new();
    let mut width = 0;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)?;
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, csv::Position::line);
        let row: Vec<f64> = record
            .iter()
            .map(|v| v.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{path} line {line}: {e}"))?;
        width = row.len();
        values.extend(row);
    }
    let data = Array2::from_shape_vec((values.len() / width.max(1), width), values)?;
    let params = IsolationForestParams {
        trees: trees.parse()?,
        subsample: subsample.parse()?,
        seed: seed.parse()?,
    };
    let forest = IsolationForest::fit(data.view(), params)?;
    let scores = forest.score_batch(data.view())?;
    let mut out = std::io::stdout().lock();
    for score in scores {
        writeln!(out, "{score}")?;
    }
    Ok(())
}
