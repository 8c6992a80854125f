//! Isolation Forest speed: one row scored by 100 trees of psi 256, and a fit on 100,000 x 8.
//! Run: cargo bench -p redflag-ml-core --bench isolation_forest

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use redflag_ml_core::{IsolationForest, IsolationForestParams};

/// 100,000 rows of 8 features from a fixed linear-congruential sequence: deterministic and free.
fn data() -> Array2<f64> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    Array2::from_shape_fn((100_000, 8), |_| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    })
}

fn isolation_forest(c: &mut Criterion) {
    let data = data();
    let params = IsolationForestParams::default();
    let forest = IsolationForest::fit(data.view(), params).expect("fits");
    let row = [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4];
    c.bench_function("isolation_forest/score_one_row_100_trees_psi_256", |b| {
        b.iter(|| forest.score(black_box(&row)).expect("scores"))
    });
    let mut group = c.benchmark_group("isolation_forest/fit");
    group.sample_size(10);
    group.bench_function("100000x8_100_trees_psi_256", |b| {
        b.iter(|| IsolationForest::fit(black_box(data.view()), params).expect("fits"))
    });
    group.finish();
}

criterion_group!(benches, isolation_forest);
criterion_main!(benches);
