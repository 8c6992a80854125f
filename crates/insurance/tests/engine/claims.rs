//! Rules that judge a claim on its own figures.

use super::*;

#[test]
fn the_seed_claim_is_inflation_with_the_seed_evidence_when_the_market_value_is_known() {
    let scenario = Scenario::new();
    let verdict = scenario.claim(
        "CLM-001",
        "POL-9",
        45_000.0,
        json!({"estimated_value": 52_000, "market_value": 32_000}),
    );
    let inflation = alert(&verdict, "PropertyInflationRule").expect("inflation");
    assert_eq!(
        inflation.evidence,
        ["Estimated value $52000.00 is 1.6x higher than market value $32000.00"]
    );
    assert_eq!(
        inflation.reason,
        "Property claim inflation suspected (score: 0.58)"
    );
    assert_eq!(inflation.severity.as_str(), "medium");
    // The round 45,000 is a weak second signal: 1 - (1 - 0.58)(1 - 0.2) = 0.664.
    assert_eq!(
        rules(&verdict),
        ["PropertyInflationRule", "RoundAmountRule"]
    );
    assert!(
        (verdict.probability - 0.664).abs() < 1e-9,
        "{}",
        verdict.probability
    );
    assert_eq!(verdict.risk, 66.4);
    assert!(verdict.flagged);

    let unknown = scenario.claim(
        "CLM-002",
        "POL-10",
        45_000.0,
        json!({"estimated_value": 52_000}),
    );
    assert!(
        alert(&unknown, "PropertyInflationRule").is_none(),
        "no reference, no judgement"
    );
}

#[test]
fn without_a_market_value_the_valuation_table_is_the_reference() {
    let scenario = Scenario::new();
    let laptop =
        json!({"claim_type": "property", "item_category": "Laptop", "estimated_value": 2_400});
    let verdict = scenario.claim("C1", "P1", 2_400.0, laptop.clone());
    let inflation = alert(&verdict, "PropertyInflationRule").expect("inflation");
    assert_eq!(
        inflation.evidence,
        [
            "Estimated value $2400.00 is 1.6x higher than the reference value $1500.00 for property laptop (as new, no age given)"
        ]
    );
    let mut aged = laptop.clone();
    aged["estimated_value"] = json!(1_300);
    aged["item_age_years"] = json!(2);
    let verdict = scenario.claim("C2", "P2", 1_300.0, aged);
    assert_eq!(
        alert(&verdict, "PropertyInflationRule")
            .expect("inflation")
            .evidence,
        [
            "Estimated value $1300.00 is 1.5x higher than the reference value $843.75 for property laptop (2.0 years old at 25% a year)"
        ]
    );
    let mut near = laptop.clone();
    near["estimated_value"] = json!(2_200);
    assert!(
        alert(
            &scenario.claim("C3", "P3", 2_200.0, near),
            "PropertyInflationRule"
        )
        .is_none()
    );
    let mut unlisted = laptop;
    unlisted["item_category"] = json!("spaceship");
    assert!(
        alert(
            &scenario.claim("C4", "P4", 2_400.0, unlisted),
            "PropertyInflationRule"
        )
        .is_none()
    );
}

#[test]
fn a_claim_above_the_coverage_limit_or_far_above_the_estimate_is_excessive() {
    let scenario = Scenario::new();
    let over_limit = scenario.claim("C1", "P1", 12_000.0, json!({"coverage_limit": 10_000}));
    let excessive = alert(&over_limit, "ExcessiveClaimRule").expect("excessive");
    assert_eq!(
        excessive.reason,
        "Excessive claim: claim amount $12000.00 exceeds the coverage limit $10000.00 by 20%"
    );
    assert_eq!(excessive.confidence, 0.58);
    let over_estimate = scenario.claim("C2", "P2", 20_500.0, json!({"estimated_value": 10_000}));
    assert_eq!(
        alert(&over_estimate, "ExcessiveClaimRule")
            .expect("excessive")
            .evidence,
        ["Claim amount $20500.00 is 2.1x the estimated value $10000.00"]
    );
    let at_limit = scenario.claim(
        "C3",
        "P3",
        10_000.0,
        json!({"coverage_limit": 10_000, "estimated_value": 7_000}),
    );
    assert!(
        alert(&at_limit, "ExcessiveClaimRule").is_none(),
        "1.43x and at the limit"
    );
}

#[test]
fn an_incident_soon_after_inception_is_early_and_one_before_it_is_worse() {
    let scenario = Scenario::new();
    let claim = |id: &str, incident: &str| {
        scenario.claim(
            id,
            id,
            1_234.0,
            json!({"policy_start_date": "2026-03-01", "incident_date": incident}),
        )
    };
    let early = claim("C1", "2026-03-04");
    let rule = alert(&early, "EarlyClaimRule").expect("early");
    assert_eq!(
        rule.reason,
        "Early claim: incident on 2026-03-04, 3 days after the policy started on 2026-03-01 (threshold 30 days)"
    );
    assert_eq!(rule.confidence, 0.72);
    assert!(
        alert(&claim("C2", "2026-03-30"), "EarlyClaimRule").is_some(),
        "day 29"
    );
    assert!(
        alert(&claim("C3", "2026-03-31"), "EarlyClaimRule").is_none(),
        "day 30"
    );
    let before = claim("C4", "2026-02-20");
    let rule = alert(&before, "EarlyClaimRule").expect("pre-inception");
    assert_eq!(
        rule.reason,
        "Loss before inception: incident on 2026-02-20, 9 days before the policy started on 2026-03-01"
    );
    assert_eq!(rule.severity.as_str(), "high");
}

#[test]
fn a_report_more_than_30_days_after_the_incident_is_late() {
    let scenario = Scenario::new();
    let late = scenario.claim(
        "C1",
        "P1",
        1_234.0,
        json!({"incident_date": "2026-01-01", "report_date": "2026-02-15"}),
    );
    assert_eq!(
        alert(&late, "LateReportingRule").expect("late").reason,
        "Late reporting: reported on 2026-02-15, 45 days after the incident on 2026-01-01 (threshold 30 days)"
    );
    let on_time = scenario.claim(
        "C2",
        "P2",
        1_234.0,
        json!({"incident_date": "2026-01-01", "report_date": "2026-01-31"}),
    );
    assert!(
        alert(&on_time, "LateReportingRule").is_none(),
        "30 days is not late"
    );
    let filed = scenario.claim(
        "C3",
        "P3",
        1_234.0,
        json!({"incident_date": "2026-01-01", "timestamp": "2026-03-02T09:00:00Z"}),
    );
    assert_eq!(
        alert(&filed, "LateReportingRule")
            .expect("late by the claim's date")
            .reason,
        "Late reporting: claimed on 2026-03-02, 60 days after the incident on 2026-01-01 (threshold 30 days)"
    );
}

#[test]
fn round_amounts_and_amounts_just_under_an_authority_limit() {
    let scenario = Scenario::new();
    let round = scenario.claim("C1", "P1", 45_000.0, json!({}));
    assert_eq!(
        alert(&round, "RoundAmountRule").expect("round").reason,
        "Round claim amount: $45000.00 is a whole multiple of $1000.00"
    );
    assert_eq!(round.alerts[0].severity.as_str(), "low");
    assert!(
        alert(
            &scenario.claim("C2", "P2", 4_000.0, json!({})),
            "RoundAmountRule"
        )
        .is_none(),
        "small"
    );
    assert!(
        alert(
            &scenario.claim("C3", "P3", 45_000.5, json!({})),
            "RoundAmountRule"
        )
        .is_none()
    );

    let under = scenario.claim("C4", "P4", 9_800.0, json!({}));
    assert_eq!(
        alert(&under, "AuthorityLimitRule")
            .expect("just under")
            .reason,
        "Amount just under an approval authority limit: $9800.00 is 2.0% below the $10000.00 limit"
    );
    assert!(
        alert(
            &scenario.claim("C5", "P5", 9_400.0, json!({})),
            "AuthorityLimitRule"
        )
        .is_none(),
        "6% below"
    );
    assert!(
        alert(
            &scenario.claim("C6", "P6", 10_000.0, json!({})),
            "AuthorityLimitRule"
        )
        .is_none(),
        "at the limit"
    );
}

#[test]
fn an_ordinary_claim_raises_nothing() {
    let verdict = Scenario::new().claim(
        "C1",
        "P1",
        1_234.56,
        json!({"claim_type": "auto", "estimated_value": 1_300, "market_value": 1_250,
               "policy_start_date": "2024-01-01", "incident_date": "2026-01-10",
               "report_date": "2026-01-12", "coverage_limit": 20_000}),
    );
    assert!(verdict.alerts.is_empty(), "{:?}", verdict.alerts);
    assert_eq!(verdict.risk, 0.0);
    assert!(!verdict.flagged);
}

#[test]
fn the_model_scores_every_claim_and_an_outlier_raises_an_explained_anomaly() {
    let artifact = redflag_ml_core::train_isolation_forest(
        &redflag_insurance::model::synthetic(6_000, 3),
        redflag_ml_core::IsolationForestParams::default(),
    )
    .expect("trains");
    let mut scenario = Scenario::new();
    scenario.detector = InsuranceDetector::new(InsuranceConfig::default())
        .expect("the default settings are valid")
        .with_model(artifact);
    let ordinary = scenario.claim(
        "C1",
        "P1",
        2_345.0,
        json!({"estimated_value": 2_600, "policy_start_date": "2024-05-01", "incident_date": "2026-01-10", "report_date": "2026-01-12"}),
    );
    assert!(
        ordinary.model_score.is_some_and(|score| score < 0.6),
        "{:?}",
        ordinary.model_score
    );
    assert!(ordinary.alerts.is_empty(), "{:?}", ordinary.alerts);
    // Large, and every ratio high but under its rule's threshold: no rule fires, the model sees it.
    let odd = scenario.claim(
        "C2",
        "P2",
        912_345.0,
        json!({"estimated_value": 680_000, "market_value": 500_000, "policy_start_date": "2025-12-01",
               "incident_date": "2026-01-10", "report_date": "2026-02-05"}),
    );
    let anomaly = alert(&odd, "AnomalyRule")
        .unwrap_or_else(|| panic!("an anomaly: {:?} {:?}", odd.model_score, odd.alerts));
    assert_eq!(rules(&odd), ["AnomalyRule"]);
    assert!(
        anomaly
            .reason
            .starts_with("Unusual behaviour: anomaly score "),
        "{}",
        anomaly.reason
    );
    assert_eq!(
        anomaly.evidence.len(),
        3,
        "the three features that isolated it"
    );
    assert!(!odd.flagged, "the model alone does not flag");
    assert!((0.3..=0.45).contains(&anomaly.confidence));
}
