//! Trains Redflag's logistic model on one CSV and prints the probability for each row of another:
//! the Rust side of `compare/compare_sklearn.py`. Both files have a header; the last column of the
//! training file is the 0/1 label; a column whose training values are not all numbers is
//! categorical. The files are read as `redflag model evaluate` reads them (quoted fields, empty
//! cells, a malformed line refused by number).
//!
//! Usage: cargo run --release -p redflag-ml-core --example logistic_scores -- TRAIN.csv TEST.csv

use std::io::Write;
use std::path::Path;

use redflag_ml_core::{LabelledTable, LogisticModel, Positive};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [train, test] = args.as_slice() else {
        return Err("usage: logistic_scores TRAIN.csv TEST.csv".into());
    };
    let label = csv::Reader::from_path(train)?
        .headers()?
        .iter()
        .next_back()
        .ok_or("the training file has no header")?
        .trim()
        .to_owned();
    let training = LabelledTable::read(Path::new(train), &label, &Positive::Conventional)?;
    let scoring =
        LabelledTable::read_like(Path::new(test), &training, &label, &Positive::Conventional)?;
    let model = LogisticModel::fit(
        training.features.clone(),
        &training.rows,
        &training.labels,
        1.0,
    )?;
    let mut out = std::io::stdout().lock();
    for row in &scoring.rows {
        writeln!(out, "{}", model.probability(row)?)?;
    }
    Ok(())
}
