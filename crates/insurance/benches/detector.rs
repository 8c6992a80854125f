//! The pure insurance detector on a fully specified health claim (every optional field, so every
//! window is read and every rule runs), with the anomaly model:
//!
//! - `ordinary`: the claimant's one earlier claim on the policy, one earlier claim (theirs) behind
//!   each contact identifier, a peer sample of 200 health claims; nothing fires.
//! - `worst_case`: 12 earlier claims on the policy and by the claimant, 8 other claimants behind
//!   each identifier, a provider four times its peers' median, an early claim just under an
//!   authority limit: five rules and the anomaly alert fire, every sentence is written.
//!
//! Run: cargo bench -p redflag-insurance --bench detector

use std::hint::black_box;

use chrono::Duration;
use criterion::{Criterion, criterion_group, criterion_main};
use redflag_core::{Activity, Detector, History};
use redflag_insurance::{Claim, InsuranceConfig, InsuranceDetector};
use redflag_ml_core::{IsolationForestParams, train_isolation_forest};
use serde_json::json;

/// Fills each window the claim is observed through: `earlier(kind)` gives, for a window of that
/// kind, how many earlier entries and whose (the counterparty of the i-th).
fn history(
    detector: &InsuranceDetector,
    claim: &Claim,
    earlier: impl Fn(&str) -> (u32, Box<dyn Fn(u32) -> String>),
) -> History {
    let mut history = History::new();
    for observation in detector.observations(claim) {
        let key = observation.key.to_string();
        let kind = key.split(':').nth(1).unwrap_or_default().to_owned();
        let (count, whose) = earlier(&kind);
        let entries = (0..count)
            .map(|i| {
                Activity::new(
                    claim.at - Duration::hours(1 + i64::from(i) * 40),
                    &format!("C{i}"),
                    1_000.0 + f64::from(i % 17) * 150.0,
                    0.0,
                    &whose(i),
                )
            })
            .collect();
        history.insert(observation.key, entries);
    }
    history
}

fn detector(c: &mut Criterion) {
    let artifact = train_isolation_forest(
        &redflag_insurance::model::synthetic(5_000, 1),
        IsolationForestParams::default(),
    )
    .expect("trains");
    let detector = InsuranceDetector::new(InsuranceConfig::default())
        .expect("the default settings are valid")
        .with_model(artifact);
    let claim = |amount: f64, start: &str| {
        let body = json!({
            "claim_id": "CLM-BENCH", "policy_id": "POL-1", "claim_amount": amount,
            "estimated_value": amount * 0.95, "claim_type": "health", "claimant_id": "CL-1",
            "provider_id": "CLINIC-9", "policy_start_date": start, "incident_date": "2026-02-01",
            "report_date": "2026-02-05", "coverage_limit": 50_000, "deductible": 500,
            "claimant_phone": "+1 555 010 2030", "claimant_email": "someone@example.com",
            "claimant_bank_account": "GB29NWBK60161331926819", "claimant_address": "1 Main St, Springfield",
            "timestamp": "2026-02-05T10:00:00Z"
        });
        detector.parse(&body, chrono::Utc::now()).expect("valid")
    };

    let ordinary = claim(1_730.0, "2023-06-01");
    let ordinary_history = history(&detector, &ordinary, |kind| match kind {
        "claim-type" => (200, Box::new(|i| format!("CLINIC-{}", i % 30))),
        _ => (1, Box::new(|_| "CL-1".to_owned())),
    });
    let verdict = detector.detect(&ordinary, &ordinary_history);
    assert!(verdict.alerts.is_empty(), "{:?}", verdict.alerts);
    c.bench_function("insurance/detect_ordinary_claim", |b| {
        b.iter(|| detector.detect(black_box(&ordinary), black_box(&ordinary_history)))
    });

    let worst = claim(9_800.0, "2026-01-20");
    let worst_history = history(&detector, &worst, |kind| match kind {
        "claim-type" => (200, Box::new(|i| format!("CLINIC-{}", i % 30))),
        "identifier" => (8, Box::new(|i| format!("CL-{}", i + 2))),
        _ => (12, Box::new(|i| format!("POL-{}", i % 3))),
    });
    let verdict = detector.detect(&worst, &worst_history);
    assert_eq!(verdict.alerts.len(), 6, "{:?}", verdict.alerts);
    c.bench_function("insurance/detect_worst_case", |b| {
        b.iter(|| detector.detect(black_box(&worst), black_box(&worst_history)))
    });
}

criterion_group!(benches, detector);
criterion_main!(benches);
