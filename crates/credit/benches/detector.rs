//! The pure credit detector on one fully specified application whose applicant made 20 earlier
//! applications in 180 days (so the velocity and income checks read a real window), with the
//! default model; and the library's `assess` on the same application (validation included, no
//! history).
//! Run: cargo bench -p redflag-credit --bench detector

use std::hint::black_box;

use chrono::Duration;
use criterion::{Criterion, criterion_group, criterion_main};
use redflag_core::{Activity, Detector, History};
use redflag_credit::{AccountTypes, Application, CreditConfig, CreditDetector};
use redflag_ml_core::{ScorecardParams, train_scorecard};

fn detector(c: &mut Criterion) {
    let artifact = train_scorecard(
        &redflag_credit::model::synthetic(5_000, 1),
        &ScorecardParams::default(),
        1,
    )
    .expect("trains");
    let detector = CreditDetector::new(CreditConfig::default())
        .expect("the default settings are valid")
        .with_model(artifact);
    let application = Application::builder("BENCH-1", 4_800.0, 30)
        .requested_amount(12_000.0)
        .loan_term_months(36)
        .monthly_debt_payments(900.0)
        .credit_history_months(48)
        .open_accounts(4)
        .revolving_balance(4_500.0)
        .revolving_limit(9_000.0)
        .late_payments_12m(1)
        .delinquencies_24m(0)
        .bankruptcies(0)
        .recent_inquiries_6m(2)
        .account_types(AccountTypes {
            revolving: 3,
            installment: 1,
            mortgage: 0,
        })
        .build()
        .expect("a valid application");
    let observation = detector.observations(&application).remove(0);
    let earlier = (1..=20)
        .map(|i| {
            Activity::new(
                application.at - Duration::days(180 * i / 21),
                &format!("APP-{i}"),
                4_000.0 + 100.0 * i as f64,
                observation.activity.quantity,
                observation.activity.counterparty(),
            )
        })
        .rev()
        .collect();
    let mut history = History::new();
    history.insert(observation.key, earlier);
    c.bench_function("credit/detect_with_20_earlier_applications", |b| {
        b.iter(|| detector.detect(black_box(&application), black_box(&history)))
    });
    c.bench_function("credit/assess_validated_no_history", |b| {
        b.iter(|| detector.assess(black_box(&application)))
    });
}

criterion_group!(benches, detector);
criterion_main!(benches);
