//! Scores a numeric CSV (no header, one row per line) with an Isolation Forest trained on it and
//! prints one anomaly score per line: the Rust side of `compare/compare_sklearn.py`.
//!
//! Usage: cargo run --release -p redflag-ml-core --example iforest_scores -- DATA.csv TREES PSI SEED

use std::io::{BufRead, Write};

use ndarray::Array2;
use redflag_ml_core::{IsolationForest, IsolationForestParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, trees, subsample, seed] = args.as_slice() else {
        return Err("usage: iforest_scores DATA.csv TREES PSI SEED".into());
    };
    let mut values = Vec::new();
    let mut width = 0;
    for line in std::io::BufReader::new(std::fs::File::open(path)?).lines() {
        let line = line?;
        let row: Vec<f64> = line
            .split(',')
            .map(|v| v.trim().parse())
            .collect::<Result<_, _>>()?;
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
