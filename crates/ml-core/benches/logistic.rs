//! Logistic model speed: the probability of one credit-like row (4 numeric, 3 categorical columns).
//! Run: cargo bench -p redflag-ml-core --bench logistic

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use redflag_ml_core::{FeatureKind, FeatureSpec, FeatureValue, LogisticModel};

fn categorical(name: &str, levels: &[&str]) -> FeatureSpec {
    FeatureSpec {
        name: name.to_owned(),
        kind: FeatureKind::Categorical {
            levels: levels.iter().map(|l| (*l).to_owned()).collect(),
        },
    }
}

fn numeric(name: &str) -> FeatureSpec {
    FeatureSpec {
        name: name.to_owned(),
        kind: FeatureKind::Numeric,
    }
}

fn logistic(c: &mut Criterion) {
    let specs = vec![
        numeric("utilization"),
        numeric("income"),
        numeric("late_payments"),
        numeric("history_months"),
        categorical("housing", &["mortgage", "own", "rent"]),
        categorical("purpose", &["business", "car", "debt", "home", "other"]),
        categorical("employment", &["salaried", "self_employed", "unemployed"]),
    ];
    let housing = ["mortgage", "own", "rent"];
    let purpose = ["business", "car", "debt", "home", "other"];
    let employment = ["salaried", "self_employed", "unemployed"];
    let (rows, labels): (Vec<Vec<FeatureValue>>, Vec<bool>) = (0..2000u32)
        .map(|i| {
            let f = f64::from(i);
            let row = vec![
                FeatureValue::Number((f * 0.37) % 1.0),
                FeatureValue::Number(2000.0 + (f * 13.0) % 5000.0),
                FeatureValue::Number(f64::from(i % 4)),
                FeatureValue::Number((f * 7.0) % 240.0),
                FeatureValue::Category(housing[i as usize % 3].to_owned()),
                FeatureValue::Category(purpose[i as usize % 5].to_owned()),
                FeatureValue::Category(employment[i as usize % 3].to_owned()),
            ];
            (row, (f * 0.37) % 1.0 + f64::from(i % 4) * 0.2 > 0.9)
        })
        .unzip();
    let model = LogisticModel::fit(specs, &rows, &labels, 1.0).expect("fits");
    let row = rows[17].clone();
    c.bench_function(
        "logistic/probability_one_row_4_numeric_3_categorical",
        |b| b.iter(|| model.probability(black_box(&row)).expect("scores")),
    );
}

criterion_group!(benches, logistic);
criterion_main!(benches);
