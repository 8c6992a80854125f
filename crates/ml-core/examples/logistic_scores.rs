//! Trains Redflag's logistic model on one CSV and prints the probability for each row of another:
//! the Rust side of `compare/compare_sklearn.py`. Both files have a header; the last column is the
//! 0/1 label; a column whose training values are not all numbers is categorical.
//!
//! Usage: cargo run --release -p redflag-ml-core --example logistic_scores -- TRAIN.csv TEST.csv

use std::io::{BufRead, Write};

use redflag_ml_core::{FeatureKind, FeatureSpec, FeatureValue, LogisticModel};

type Table = (Vec<String>, Vec<Vec<String>>);

fn read(path: &str) -> Result<Table, Box<dyn std::error::Error>> {
    let mut lines = std::io::BufReader::new(std::fs::File::open(path)?).lines();
    let header = lines.next().ok_or("empty file")??;
    let names = header.split(',').map(str::to_owned).collect();
    let rows = lines
        .map(|line| line.map(|l| l.split(',').map(str::to_owned).collect()))
        .collect::<Result<_, _>>()?;
    Ok((names, rows))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [train, test] = args.as_slice() else {
        return Err("usage: logistic_scores TRAIN.csv TEST.csv".into());
    };
    let (names, train_rows) = read(train)?;
    let (_, test_rows) = read(test)?;
    let width = names.len() - 1;
    let specs: Vec<FeatureSpec> = (0..width)
        .map(|j| {
            let numeric = train_rows.iter().all(|row| row[j].parse::<f64>().is_ok());
            let kind = if numeric {
                FeatureKind::Numeric
            } else {
                let mut levels: Vec<String> = train_rows.iter().map(|row| row[j].clone()).collect();
                levels.sort();
                levels.dedup();
                FeatureKind::Categorical { levels }
            };
            FeatureSpec {
                name: names[j].clone(),
                kind,
            }
        })
        .collect();
    let encode = |row: &Vec<String>| -> Vec<FeatureValue> {
        specs
            .iter()
            .zip(row)
            .map(|(spec, value)| match spec.kind {
                FeatureKind::Numeric => FeatureValue::Number(value.parse().unwrap_or(f64::NAN)),
                FeatureKind::Categorical { .. } => FeatureValue::Category(value.clone()),
            })
            .collect()
    };
    let rows: Vec<_> = train_rows.iter().map(encode).collect();
    let labels: Vec<bool> = train_rows.iter().map(|row| row[width] == "1").collect();
    let model = LogisticModel::fit(specs.clone(), &rows, &labels, 1.0)?;
    let mut out = std::io::stdout().lock();
    for row in &test_rows {
        writeln!(out, "{}", model.probability(&encode(row))?)?;
    }
    Ok(())
}
