//! A claims team's own rules on the insurance engine: a second claimant paid into the same bank
//! account (read as a count, never the account), a claim soon after the policy started, a
//! switched-off typology, and the feature catalogue.

use std::sync::Arc;

use redflag_core::{History, Severity};
use redflag_insurance::features::CATALOGUE;
use redflag_insurance::{InsuranceConfig, InsuranceDetector};
use redflag_rules::{CompiledRules, CustomRule, Customisable, FeatureKind, Lists};
use serde_json::json;

use crate::{Scenario, alert, rules};

fn rule(name: &str, when: &str, reason: &str) -> CustomRule {
    CustomRule {
        name: name.to_owned(),
        description: String::new(),
        when: when.to_owned(),
        severity: Severity::High,
        confidence: 0.8,
        reason: reason.to_owned(),
        supporting: false,
    }
}

fn detector(custom: &[CustomRule], disabled: &[String]) -> InsuranceDetector {
    let compiled = CompiledRules::compile("insurance", 2, custom, CATALOGUE, Lists::default())
        .expect("the rules compile");
    Scenario::detector(InsuranceConfig::default())
        .with_rule_set(disabled, Arc::new(compiled))
        .expect("known rules")
}

#[test]
fn a_second_claimant_on_one_bank_account_fires_without_the_account_showing() {
    let shared = rule(
        "Account paid to two claimants",
        "bank_account_shared_by >= 1 && event.claim_amount > 1000.0",
        "the bank account was given by {{bank_account_shared_by}} other claimant(s)",
    );
    let scenario = Scenario::with_detector(detector(&[shared], &[]));
    let first = scenario.claim(
        "C1",
        "P1",
        2_400.0,
        json!({"claimant_id": "ALICE", "claimant_bank_account": "GB29 NWBK 6016 1331 9268 19"}),
    );
    assert!(alert(&first, "Account paid to two claimants").is_none());
    let same_person = scenario.claim(
        "C2",
        "P1",
        2_400.0,
        json!({"claimant_id": "ALICE", "claimant_bank_account": "GB29NWBK60161331926819"}),
    );
    assert!(
        alert(&same_person, "Account paid to two claimants").is_none(),
        "the claimant's own earlier claim is no one else"
    );
    let second = scenario.claim(
        "C3",
        "P2",
        2_400.0,
        json!({"claimant_id": "BOB", "claimant_bank_account": "gb29nwbk60161331926819"}),
    );
    let fired = alert(&second, "Account paid to two claimants").expect("fires");
    assert_eq!(
        fired.reason,
        "the bank account was given by 1 other claimant(s)"
    );
    let text = serde_json::to_string(fired).expect("serialises");
    assert!(!text.to_lowercase().contains("nwbk"), "{text}");
}

#[test]
fn dates_and_ratios_read_as_days_and_fractions() {
    let early = rule(
        "Early large claim",
        "days_since_policy_start < 30.0 && amount_to_coverage > 0.9",
        "{{days_since_policy_start}} days into the policy, {{amount_to_coverage}} of the limit",
    );
    let scenario = Scenario::with_detector(detector(&[early], &[]));
    let fired = scenario.claim(
        "E1",
        "P9",
        9_500.0,
        json!({"policy_start_date": "2026-03-01", "incident_date": "2026-03-12",
               "coverage_limit": 10_000.0}),
    );
    let alert = alert(&fired, "Early large claim").expect("fires");
    assert_eq!(alert.reason, "11 days into the policy, 0.95 of the limit");
    let later = scenario.claim(
        "E2",
        "P10",
        9_500.0,
        json!({"policy_start_date": "2025-03-01", "incident_date": "2026-03-12",
               "coverage_limit": 10_000.0}),
    );
    assert!(
        rules(&later)
            .iter()
            .all(|rule| *rule != "Early large claim")
    );
}

#[test]
fn a_switched_off_typology_stays_silent_and_every_feature_has_a_value_of_its_kind() {
    let claim = json!({"coverage_limit": 10_000});
    let on = Scenario::with_detector(detector(&[], &[]));
    let off = Scenario::with_detector(detector(&[], &["ExcessiveClaimRule".to_owned()]));
    assert!(rules(&on.claim("X1", "P1", 12_000.0, claim.clone())).contains(&"ExcessiveClaimRule"));
    assert!(!rules(&off.claim("X1", "P1", 12_000.0, claim)).contains(&"ExcessiveClaimRule"));

    let mut names: Vec<&str> = CATALOGUE.iter().map(|feature| feature.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CATALOGUE.len());
    let probes: Vec<CustomRule> = CATALOGUE
        .iter()
        .map(|feature| {
            let when = match feature.kind {
                FeatureKind::Number | FeatureKind::Count => {
                    format!("{} >= 0.0 || true", feature.name)
                }
                FeatureKind::Text => format!("{} != '' || true", feature.name),
                FeatureKind::Flag => format!("{} || true", feature.name),
            };
            rule(&format!("probe {}", feature.name), &when, "probe")
        })
        .collect();
    let detector = detector(&probes, &[]);
    let body = json!({"claim_id": "F1", "policy_id": "P1", "claim_amount": 100.0,
                      "claimant_id": "A", "claimant_phone": "+44 20 7946 0000"});
    let claim = detector.parse(&body, chrono::Utc::now()).expect("valid");
    let verdict = redflag_core::Detector::detect(&detector, &claim, &History::new());
    assert_eq!(
        verdict
            .alerts
            .iter()
            .filter(|alert| alert.code == "custom_rule")
            .count(),
        CATALOGUE.len()
    );
}
