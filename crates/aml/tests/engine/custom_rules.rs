//! A team's own rules and switches on the AML engine: a pass-through mule rule over a list, its
//! figures in the reason, a switched-off typology, and the feature catalogue they read.

use std::sync::Arc;

use redflag_aml::features::CATALOGUE;
use redflag_aml::{AmlConfig, AmlDetector};
use redflag_core::Severity;
use redflag_rules::{CompiledRules, CustomRule, Customisable, Lists};
use serde_json::json;

use crate::{Scenario, rules};

fn mule_rule() -> CustomRule {
    CustomRule {
        name: "Listed mule pass-through".to_owned(),
        description: "Money received and sent on within a day to a listed mule".to_owned(),
        when: "in_list('mule_accounts', event.receiver_id) && sender_received_24h >= 0.8 * event.amount"
            .to_owned(),
        severity: Severity::Critical,
        confidence: 0.9,
        reason: "{{event.amount}} sent to a listed mule after receiving {{sender_received_24h}} in 24h"
            .to_owned(),
        supporting: false,
    }
}

fn detector(rules: &[CustomRule], disabled: &[String]) -> AmlDetector {
    let mut lists = Lists::default();
    lists.insert("mule_accounts", ["MULE-1".to_owned()]);
    let compiled =
        CompiledRules::compile("aml", 2, rules, CATALOGUE, lists).expect("the rules compile");
    AmlDetector::new(AmlConfig::default())
        .expect("default settings")
        .with_rule_set(disabled, Arc::new(compiled))
        .expect("known rules")
}

#[test]
fn a_custom_rule_flags_a_pass_through_to_a_listed_mule_with_its_figures() {
    let mut scenario = Scenario::with_detector(detector(&[mule_rule()], &[]));
    scenario.send(
        "c1",
        "VICTIM",
        "ACC-7",
        4_000.0,
        "2026-03-02T09:00:00Z",
        json!({}),
    );
    let verdict = scenario.send(
        "c2",
        "ACC-7",
        "MULE-1",
        3_900.0,
        "2026-03-02T11:00:00Z",
        json!({}),
    );
    assert!(rules(&verdict).contains(&"Listed mule pass-through".to_owned()));
    assert!(
        verdict.flagged,
        "a typology-level custom rule flags: {verdict:?}"
    );
    let alert = verdict
        .alerts
        .iter()
        .find(|alert| alert.code == "custom_rule")
        .expect("the custom alert");
    assert_eq!(
        alert.reason,
        "3900 sent to a listed mule after receiving 4000 in 24h"
    );
    assert_eq!(alert.severity, Severity::Critical);
    assert_eq!(alert.metadata["sender_received_24h"], json!(4000.0));

    // The same movement to an account off the list, and a listed mule paid from savings, do not.
    let mut scenario = Scenario::with_detector(detector(&[mule_rule()], &[]));
    scenario.send(
        "d1",
        "VICTIM",
        "ACC-8",
        4_000.0,
        "2026-03-02T09:00:00Z",
        json!({}),
    );
    let other = scenario.send(
        "d2",
        "ACC-8",
        "SHOP-1",
        3_900.0,
        "2026-03-02T11:00:00Z",
        json!({}),
    );
    let saver = scenario.send(
        "d3",
        "SAVER",
        "MULE-1",
        3_900.0,
        "2026-03-02T11:00:00Z",
        json!({}),
    );
    for verdict in [other, saver] {
        assert!(!rules(&verdict).contains(&"Listed mule pass-through".to_owned()));
    }
}

#[test]
fn a_switched_off_typology_stays_silent_and_unknown_names_are_refused() {
    let structuring = |scenario: &mut Scenario| {
        for (i, hour) in ["09", "11", "13"].iter().enumerate() {
            let verdict = scenario.send(
                &format!("s{i}"),
                "SMURF",
                "BANK",
                9_500.0,
                &format!("2026-03-02T{hour}:00:00Z"),
                json!({}),
            );
            if i == 2 {
                return rules(&verdict);
            }
        }
        unreachable!("three transfers")
    };
    assert!(structuring(&mut Scenario::new()).contains(&"StructuringRule".to_owned()));
    let off = detector(&[], &["StructuringRule".to_owned()]);
    assert!(!off.builtin_rules().is_empty());
    assert!(
        !structuring(&mut Scenario::with_detector(off)).contains(&"StructuringRule".to_owned())
    );

    let refused = AmlDetector::new(AmlConfig::default())
        .expect("default settings")
        .with_rule_set(
            &["StructuringRul".to_owned()],
            Arc::new(
                CompiledRules::compile("aml", 1, &[], CATALOGUE, Lists::default()).expect("empty"),
            ),
        )
        .err()
        .expect("refused");
    assert!(
        refused.starts_with(
            "no built-in rule is named `StructuringRul`; the rules are StructuringRule, "
        ),
        "{refused}"
    );
}

#[test]
fn every_catalogue_feature_has_a_value_and_a_unique_name() {
    // A rule reading every feature compiles, and on a transfer with every optional field fires.
    let mut names: Vec<&str> = CATALOGUE.iter().map(|feature| feature.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CATALOGUE.len());
    let reason: String = CATALOGUE
        .iter()
        .map(|feature| format!("{{{{{}}}}};", feature.name))
        .collect();
    let everything = CustomRule {
        name: "Everything".to_owned(),
        description: String::new(),
        when: "true".to_owned(),
        severity: Severity::Low,
        confidence: 0.1,
        reason,
        supporting: true,
    };
    let mut scenario = Scenario::with_detector(detector(&[everything], &[]));
    scenario.send(
        "e0",
        "PAYER",
        "ACC",
        2_000.0,
        "2026-03-01T10:00:00Z",
        json!({}),
    );
    let verdict = scenario.send(
        "e1",
        "ACC",
        "SHOP",
        1_500.0,
        "2026-03-01T13:30:00Z",
        json!({"transaction_type": "wire", "channel": "online", "sender_country": "IR",
               "receiver_country": "DE", "sender_segment": "retail", "receiver_segment": "business",
               "description": "invoice 7"}),
    );
    let alert = verdict
        .alerts
        .iter()
        .find(|alert| alert.rule == "Everything")
        .expect("fires");
    // Every feature has its value; the model score alone is missing (`?`): no model here.
    assert_eq!(
        alert.reason,
        "1500;USD;wire;online;ACC;SHOP;U;IR;DE;retail;business;invoice 7;13.5;\
         0;0;0;0;0;0;0;0;0;0;0;0;2000;true;false;0.15;?;"
    );
    assert!(alert.is_supporting());
}

/// A draft shadowing the live engine decides beside it on the live history, reusing the live
/// decision's model score: it must reach exactly what it would deciding alone.
#[test]
fn a_draft_deciding_beside_the_live_engine_reaches_what_it_decides_alone() {
    use redflag_core::{Detector, Windows};
    use redflag_ml_core::{IsolationForestParams, train_isolation_forest};

    let artifact = train_isolation_forest(
        &redflag_aml::model::synthetic(3000, 5),
        IsolationForestParams::default(),
    )
    .expect("trains");
    let live = AmlDetector::new(AmlConfig::default())
        .expect("default settings")
        .with_model(artifact.clone());
    let unusual = CustomRule {
        name: "Unusual and large".to_owned(),
        when: "model_score > 0.55 && event.amount > 1000.0".to_owned(),
        reason: "model score {{model_score}}".to_owned(),
        ..mule_rule()
    };
    let draft =
        detector(&[mule_rule(), unusual], &["StructuringRule".to_owned()]).with_model(artifact);
    let mut windows = redflag_windows::InProcessWindows::new(10_000);
    let transfers = [
        ("e1", "VICTIM", "ACC-7", 4_000.0, "2026-03-02T09:00:00Z"),
        ("e2", "ACC-7", "MULE-1", 3_900.0, "2026-03-02T11:00:00Z"),
        ("e3", "SMURF", "BANK", 9_500.0, "2026-03-02T12:00:00Z"),
        ("e4", "SMURF", "BANK", 9_600.0, "2026-03-02T13:00:00Z"),
        ("e5", "SMURF", "BANK", 9_700.0, "2026-03-02T14:00:00Z"),
        ("e6", "P", "SHOP", 18.5, "2026-03-03T03:00:00Z"),
    ];
    let mut differed = 0;
    for (id, sender, receiver, amount, at) in transfers {
        let body = json!({"transaction_id": id, "user_id": "U", "amount": amount,
                          "sender_id": sender, "receiver_id": receiver, "timestamp": at});
        let transfer =
            redflag_aml::Transaction::parse(&body, chrono::Utc::now()).expect("a valid transfer");
        let history = windows.observe(&live.observations(&transfer));
        let decided = live.detect(&transfer, &history);
        let beside = draft.detect_beside(&transfer, &history, &decided);
        assert_eq!(beside, draft.detect(&transfer, &history), "{id}");
        differed += usize::from(beside.alerts != decided.alerts);
    }
    assert!(differed >= 2, "the draft changes some outcomes");
}
