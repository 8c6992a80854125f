//! A credit team's own rules on the credit engine: a critical rule declines as a policy rule
//! does, another refers an approval to review, a supporting one only reports; built-in rules
//! switch off by name; and the feature catalogue.

use std::sync::Arc;

use redflag_core::{Detector, History, Severity};
use redflag_credit::Decision;
use redflag_credit::features::CATALOGUE;
use redflag_rules::{CompiledRules, CustomRule, Customisable, FeatureKind, Lists};

use super::*;

fn rule(name: &str, when: &str, severity: Severity, supporting: bool) -> CustomRule {
    CustomRule {
        name: name.to_owned(),
        description: String::new(),
        when: when.to_owned(),
        severity,
        confidence: 0.9,
        reason: format!(
            "{name}: score {{{{credit_score}}}}, debt to income {{{{debt_to_income}}}}"
        ),
        supporting,
    }
}

fn detector(custom: &[CustomRule], disabled: &[&str]) -> CreditDetector {
    let compiled = CompiledRules::compile("credit", 2, custom, CATALOGUE, Lists::default())
        .expect("the rules compile");
    let disabled: Vec<String> = disabled.iter().map(|name| (*name).to_owned()).collect();
    CreditDetector::new(CreditConfig::default())
        .expect("default settings")
        .with_rule_set(&disabled, Arc::new(compiled))
        .expect("known rules")
}

#[test]
fn a_critical_rule_declines_another_refers_and_a_supporting_one_only_reports() {
    let application = strong();
    let baseline = detector(&[], &[]).detect(&application, &History::new());
    assert_eq!(baseline.decision, Decision::Approved);

    let large = "event.requested_amount >= 15000.0 && loan_to_income > 0.1";
    let declined = detector(&[rule("Large loan", large, Severity::Critical, false)], &[])
        .detect(&application, &History::new());
    assert_eq!(declined.decision, Decision::Declined);
    assert_eq!(declined.reasons[0].code, "custom_rule");
    let score = baseline.credit_score;
    assert_eq!(baseline.debt_to_income, Some(0.111));
    assert_eq!(
        declined.reasons[0].message,
        format!("Large loan: score {score}, debt to income 0.11"),
        "figures shown to two decimals"
    );
    assert_eq!(declined.credit_score, score, "the score is the scorecard's");

    let referred = detector(&[rule("Large loan", large, Severity::High, false)], &[])
        .detect(&application, &History::new());
    assert_eq!(referred.decision, Decision::Review);
    assert!(
        referred
            .alerts
            .iter()
            .any(|alert| alert.rule == "Large loan")
    );

    let reported = detector(&[rule("Large loan", large, Severity::High, true)], &[])
        .detect(&application, &History::new());
    assert_eq!(
        reported.decision,
        Decision::Approved,
        "supporting: reported only"
    );
    assert!(
        reported
            .alerts
            .iter()
            .any(|alert| alert.rule == "Large loan")
    );
}

#[test]
fn earlier_applications_are_features_and_built_in_signals_switch_off() {
    let application = strong();
    // The latest earlier application stated 15,000; this one states 9,000.
    let history = earlier(&application, &[(20, 9_000.0), (3, 15_000.0)]);
    let falling = rule(
        "Income fell",
        "income_change < -0.2 && applications_seen >= 2",
        Severity::High,
        false,
    );
    let verdict = detector(std::slice::from_ref(&falling), &[]).detect(&application, &history);
    let fell = verdict
        .alerts
        .iter()
        .find(|alert| alert.rule == "Income fell")
        .expect("fires");
    assert_eq!(fell.metadata["income_change"], serde_json::json!(-0.4));
    // The latest earlier application stated 9,000 too: no fall from it.
    let steady = earlier(&application, &[(20, 15_000.0), (3, 9_000.0)]);
    let verdict = detector(&[falling], &[]).detect(&application, &steady);
    assert!(
        verdict
            .alerts
            .iter()
            .all(|alert| alert.rule != "Income fell")
    );

    let velocity = detector(&[], &[]).detect(&application, &history);
    assert!(
        velocity
            .alerts
            .iter()
            .any(|alert| alert.rule == "ApplicationVelocityRule")
    );
    let off = detector(&[], &["ApplicationVelocityRule", "IncomeInconsistencyRule"])
        .detect(&application, &history);
    assert!(
        off.alerts
            .iter()
            .all(|alert| alert.rule != "ApplicationVelocityRule")
    );
    assert_eq!(off.decision, Decision::Approved);
    let refused = CreditDetector::new(CreditConfig::default())
        .expect("default settings")
        .with_rule_set(
            &["VelocityRule".to_owned()],
            Arc::new(
                CompiledRules::compile("credit", 2, &[], CATALOGUE, Lists::default())
                    .expect("empty"),
            ),
        )
        .err()
        .expect("refused");
    assert!(refused.contains("ApplicationVelocityRule"), "{refused}");
}

#[test]
fn every_catalogue_feature_has_a_unique_name_and_a_value_of_its_kind() {
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
            rule(
                &format!("probe {}", feature.name),
                &when,
                Severity::Low,
                true,
            )
        })
        .collect();
    let verdict = detector(&probes, &[]).detect(&weak(), &History::new());
    assert_eq!(
        verdict
            .alerts
            .iter()
            .filter(|alert| alert.code == "custom_rule")
            .count(),
        CATALOGUE.len()
    );
}
