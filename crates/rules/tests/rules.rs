//! Writing, checking and running custom rules as an analyst would.

use redflag_core::Severity;
use redflag_rules::{
    CompiledRules, CustomRule, FeatureKind, FeatureSpec, FeatureValue, Lists, MAX_NESTING,
    RuleError,
};
use serde_json::json;

const CATALOGUE: &[FeatureSpec] = &[
    FeatureSpec::new(
        "event.amount",
        FeatureKind::Number,
        "currency units",
        "the amount",
    ),
    FeatureSpec::new("event.receiver_id", FeatureKind::Text, "", "who is paid"),
    FeatureSpec::new("event.channel", FeatureKind::Text, "", "where it was made"),
    FeatureSpec::new(
        "sender_count_24h",
        FeatureKind::Count,
        "transfers",
        "earlier transfers",
    ),
    FeatureSpec::new(
        "sender_sum_24h",
        FeatureKind::Number,
        "currency units",
        "their total",
    ),
    FeatureSpec::new(
        "receiver_high_risk",
        FeatureKind::Flag,
        "",
        "high-risk country",
    ),
];

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

fn mules() -> Lists {
    let mut lists = Lists::default();
    lists.insert("mule_accounts", ["M-1".to_owned(), "M-2".to_owned()]);
    lists
}

fn compile(rules: &[CustomRule]) -> Result<CompiledRules, Vec<RuleError>> {
    CompiledRules::compile("aml", 3, rules, CATALOGUE, mules())
}

fn only_error(rules: &[CustomRule]) -> RuleError {
    let mut errors = compile(rules).expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.remove(0)
}

/// The event: 9,500 to M-1 online, 4 earlier transfers summing 30,000.5.
fn event(index: usize) -> FeatureValue {
    match index {
        0 => FeatureValue::Number(9_500.0),
        1 => FeatureValue::Text("M-1".to_owned()),
        2 => FeatureValue::Missing,
        3 => FeatureValue::Count(4),
        4 => FeatureValue::Number(30_000.5),
        5 => FeatureValue::Flag(true),
        _ => unreachable!("the catalogue has six features"),
    }
}

#[test]
fn a_rule_fires_with_its_figures_in_the_reason_and_the_metadata() {
    let rules = compile(&[
        rule(
            "Mule pass-through",
            "in_list('mule_accounts', event.receiver_id) && sender_count_24h >= 3 && event.amount > 9000",
            "{{sender_count_24h}} transfers ({{ sender_sum_24h }}) in 24h, then {{event.amount}} to a listed mule",
        ),
        rule("Quiet", "sender_sum_24h > 100000.0", "never"),
    ])
    .expect("compiles");
    let alerts = rules.evaluate(&mut event);
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.rule, "Mule pass-through");
    assert_eq!(alert.code, "custom_rule");
    assert_eq!(alert.severity, Severity::High);
    assert_eq!(alert.confidence, 0.8);
    assert_eq!(
        alert.reason,
        "4 transfers (30000.5) in 24h, then 9500 to a listed mule"
    );
    assert_eq!(
        serde_json::Value::Object(alert.metadata.clone()),
        json!({"event.amount": 9500.0, "event.receiver_id": "M-1", "sender_count_24h": 4})
    );
    assert!(!alert.is_supporting());
}

#[test]
fn a_supporting_rule_is_marked_so_and_a_name_off_the_list_does_not_fire() {
    let mut supporting = rule("Busy", "sender_count_24h > 2", "busy");
    supporting.supporting = true;
    let listed = rule(
        "Listed",
        "in_list('mule_accounts', event.receiver_id)",
        "listed",
    );
    let rules = compile(&[supporting, listed]).expect("compiles");
    let alerts = rules.evaluate(&mut |index| match index {
        1 => FeatureValue::Text("A-9".to_owned()),
        other => event(other),
    });
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, "Busy");
    assert!(alerts[0].is_supporting());
}

#[test]
fn a_rule_reading_a_missing_field_does_not_fire_and_the_others_still_do() {
    let rules = compile(&[
        rule("Channel", "event.channel == 'atm'", "atm"),
        rule("Big", "event.amount >= 9500.0", "big"),
    ])
    .expect("compiles");
    let names: Vec<String> = rules
        .evaluate(&mut event)
        .into_iter()
        .map(|a| a.rule)
        .collect();
    assert_eq!(names, ["Big"]);
    // has() tests an optional field without failing.
    let rules = compile(&[rule("No channel", "!has(event.channel)", "none")]).expect("compiles");
    assert_eq!(rules.evaluate(&mut event).len(), 1);
}

#[test]
fn a_division_by_zero_at_run_time_does_not_fire() {
    let rules = compile(&[rule(
        "Ratio",
        "sender_count_24h / (sender_count_24h - 4) > 1",
        "r",
    )])
    .expect("the sample values divide by a non-zero count");
    assert!(rules.evaluate(&mut event).is_empty());
}

#[test]
fn syntax_errors_name_the_rule_the_field_and_the_position() {
    let error = only_error(&[
        rule("Ok", "true", "x"),
        rule("Broken", "event.amount >= && 3", "x"),
    ]);
    assert_eq!(error.index, 1);
    assert_eq!(error.name, "Broken");
    assert_eq!(error.field, "when");
    assert_eq!((error.line, error.column), (Some(1), Some(17)));
    assert!(
        error.message.starts_with("syntax error"),
        "{}",
        error.message
    );
}

#[test]
fn unknown_features_fields_and_lists_are_refused_where_they_are_written() {
    let error = only_error(&[rule(
        "R",
        "event.amount > 1.0 &&\n  sender_cnt_24h > 3",
        "x",
    )]);
    assert_eq!(error.message, "unknown feature `sender_cnt_24h`");
    assert_eq!((error.line, error.column), (Some(2), Some(3)));

    let error = only_error(&[rule("R", "event.iban == 'x'", "x")]);
    assert_eq!(error.message, "the event has no field `iban`");
    assert_eq!(error.column, Some(6));

    let error = only_error(&[rule("R", "in_list('pep', event.receiver_id)", "x")]);
    assert_eq!(
        error.message,
        "no list is named `pep`; the lists are mule_accounts"
    );
    assert_eq!(error.column, Some(9));

    let error = only_error(&[rule("R", "true", "{{sender_count_24h}} and {{nope}}")]);
    assert_eq!(error.field, "reason");
    assert_eq!(error.message, "unknown feature `nope`");
    assert_eq!(error.column, Some(26));
}

#[test]
fn wrong_types_and_non_boolean_conditions_are_refused() {
    let error = only_error(&[rule("R", "event.amount > 'big'", "x")]);
    assert!(error.message.starts_with("type error"), "{}", error.message);
    let error = only_error(&[rule("R", "3 * event.amount", "x")]);
    assert!(error.message.starts_with("type error"), "{}", error.message);
    let error = only_error(&[rule("R", "3.0 * event.amount", "x")]);
    assert_eq!(
        error.message,
        "the condition must be true or false; it gives a number"
    );
}

#[test]
fn loops_oversize_and_deep_nesting_are_refused() {
    let error = only_error(&[rule("R", "[1, 2].exists(x, x > sender_count_24h)", "x")]);
    assert!(error.message.starts_with("loops"), "{}", error.message);

    let long = format!("event.amount > 1.0{}", " && true".repeat(300));
    let error = only_error(&[rule("R", &long, "x")]);
    assert_eq!(error.message, "a condition has at most 2000 characters");

    let deep = format!(
        "{}true{}",
        "(".repeat(MAX_NESTING + 1),
        ")".repeat(MAX_NESTING + 1)
    );
    let error = only_error(&[rule("R", &deep, "x")]);
    assert_eq!(error.message, "a condition nests at most 32 levels deep");
    assert_eq!(error.column, Some(MAX_NESTING + 1));
    // Brackets inside text do not count.
    let quoted = format!("event.channel == '{}'", "(".repeat(40));
    compile(&[rule("R", &quoted, "x")]).expect("brackets in a string are text");
}

#[test]
fn names_must_be_unique_and_confidences_in_range() {
    let mut wild = rule("B", "true", "x");
    wild.confidence = 1.5;
    let errors =
        compile(&[rule("A", "true", "x"), rule(" A ", "true", "x"), wild]).expect_err("refused");
    let found: Vec<(usize, &str, &str)> = errors
        .iter()
        .map(|e| (e.index, e.field, e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (1, "name", "another rule is named `A`"),
            (2, "confidence", "the confidence must lie in 0..=1"),
        ]
    );
}

#[test]
fn a_rule_set_reads_from_json_and_refuses_unknown_fields() {
    let document: redflag_rules::RuleSetDocument = serde_json::from_value(json!({
        "thresholds": {"structuring_min_transactions": 4},
        "disabled": ["RoundAmountRule"],
        "rules": [{"name": "Big", "when": "event.amount > 9000", "severity": "high",
                   "confidence": 0.6, "reason": "{{event.amount}}"}]
    }))
    .expect("a rule set");
    assert_eq!(document.disabled, ["RoundAmountRule"]);
    assert_eq!(document.rules[0].severity, Severity::High);
    assert!(
        !document.rules[0].supporting,
        "a typology unless marked supporting"
    );
    compile(&document.rules).expect("compiles");
    let error = serde_json::from_value::<redflag_rules::RuleSetDocument>(json!({"rule": []}))
        .expect_err("unknown field");
    assert!(
        error.to_string().starts_with("unknown field `rule`"),
        "{error}"
    );
}
