use redflag_credit::{Decision, RiskTier};
use redflag_ml_core::ScorecardParams;
use serde_json::json;

use super::*;

#[test]
fn the_seed_applicant_is_approved_on_assumed_averages_with_a_thin_file() {
    let verdict = assess(
        &Application::builder("USER-101", 4200.0, 24)
            .build()
            .expect("a valid application"),
    );
    assert_eq!(verdict.decision, Decision::Approved);
    assert_eq!(verdict.credit_score, 738);
    assert_eq!(verdict.risk_tier, RiskTier::Medium);
    assert!(verdict.thin_file);
    assert!(verdict.reasons.is_empty());
    assert!(
        verdict.strengths.is_empty(),
        "assumed figures are never strengths"
    );
    assert_eq!(
        verdict.assumed_fields,
        [
            "late_payments_12m",
            "delinquencies_24m",
            "bankruptcies",
            "credit_utilization",
            "monthly_debt_payments",
            "credit_history_months",
            "recent_inquiries_6m",
            "account_types"
        ]
    );
    assert_eq!(
        serde_json::to_value(verdict.factors).expect("serialises"),
        json!({"payment_history": 0.9, "amounts_owed": 0.75, "length_of_credit": 0.65,
               "new_credit": 0.88, "credit_mix": 0.7})
    );
    assert_eq!(verdict.debt_to_income, None);
    assert_eq!(verdict.new_instalment, None);
}

#[test]
fn a_strong_applicant_is_approved_low_risk_with_strengths_in_their_own_figures() {
    let verdict = assess(&strong());
    assert_eq!(verdict.decision, Decision::Approved);
    assert_eq!(verdict.risk_tier, RiskTier::Low);
    assert!(
        verdict.credit_score >= 800,
        "score {}",
        verdict.credit_score
    );
    assert!(!verdict.thin_file);
    assert!(verdict.assumed_fields.is_empty());
    assert!(verdict.alerts.is_empty(), "{:?}", verdict.alerts);
    assert_eq!(
        verdict.strengths,
        [
            "No late payments in the last 12 months",
            "No delinquencies in the last 24 months",
            "No bankruptcies on file",
            "Low revolving utilisation: 8%",
        ]
    );
    // 15,000 over 48 months at the assumed 12%: 395.01 a month on top of 600 existing.
    assert_eq!(verdict.new_instalment, Some(395.01));
    assert_eq!(verdict.debt_to_income, Some(0.111));
}

#[test]
fn a_weak_applicant_is_declined_with_four_reasons_ranked_by_points_lost() {
    let verdict = assess(&weak());
    assert_eq!(verdict.decision, Decision::Declined);
    assert_eq!(verdict.risk_tier, RiskTier::VeryHigh);
    let codes: Vec<&str> = verdict.reasons.iter().map(|reason| reason.code).collect();
    assert_eq!(
        codes,
        [
            "late_payments",
            "utilization",
            "credit_history_length",
            "delinquencies"
        ]
    );
    let points: Vec<f64> = verdict
        .reasons
        .iter()
        .map(|reason| reason.points_lost.expect("scorecard reasons cost points"))
        .collect();
    assert!(
        points.windows(2).all(|pair| pair[0] >= pair[1]),
        "{points:?}"
    );
    assert_eq!(
        verdict.reasons[1].message,
        "Proportion of balances to credit limits is too high: 97% revolving utilisation (points are lost above 30%)"
    );
    assert_eq!(
        verdict.reasons[0].message,
        "Delinquent past or present credit obligations: 4 late payments in the last 12 months"
    );
    // One reason_code alert per reason, in the same order, with the tier's severity.
    let alerts: Vec<(&str, &str, &str)> = verdict
        .alerts
        .iter()
        .map(|alert| {
            (
                alert.code.as_str(),
                alert.severity.as_str(),
                alert.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(alerts.len(), 4);
    assert!(
        alerts
            .iter()
            .all(|(code, severity, _)| *code == "reason_code" && *severity == "critical")
    );
    assert_eq!(alerts[0].2, verdict.reasons[0].message);
    assert!(verdict.strengths.is_empty());
}

#[test]
fn the_points_every_characteristic_lost_add_up_to_the_distance_from_850() {
    for application in [
        strong(),
        weak(),
        Application::builder("THIN", 3000.0, 6)
            .build()
            .expect("a valid application"),
    ] {
        let verdict = assess(&application);
        let lost: f64 = verdict
            .characteristics
            .iter()
            .map(|scored| scored.points_lost)
            .sum();
        let distance = 850.0 - f64::from(verdict.credit_score);
        assert!(
            (lost - distance).abs() <= 1.0,
            "{}: lost {lost}, distance {distance}",
            application.applicant_id
        );
    }
}

#[test]
fn a_missing_figure_scores_between_a_good_and_a_bad_reported_one() {
    let base = Application::builder("A", 5000.0, 36)
        .credit_history_months(60)
        .build()
        .expect("a valid application");
    let score = |late: Option<i64>| {
        assess(
            &base
                .clone()
                .to_builder()
                .late_payments_12m(late)
                .build()
                .expect("a valid application"),
        )
        .credit_score
    };
    assert!(
        score(Some(0)) > score(None),
        "a clean record beats no record"
    );
    assert!(
        score(None) > score(Some(2)),
        "no record is not punished as bad"
    );
}

#[test]
fn thin_files_are_marked_and_explained_as_assumptions_when_referred() {
    let unknown = Application::builder("THIN-1", 1500.0, 2)
        .build()
        .expect("a valid application");
    let empty = unknown
        .clone()
        .to_builder()
        .open_accounts(0)
        .build()
        .expect("a valid application");
    assert!(
        assess(&empty).credit_score < assess(&unknown).credit_score,
        "a file known to be empty scores below an unknown one"
    );
    let thin = empty
        .to_builder()
        .late_payments_12m(3)
        .build()
        .expect("a valid application");
    let verdict = assess(&thin);
    assert!(verdict.thin_file);
    assert_ne!(verdict.decision, Decision::Approved);
    let messages: Vec<&str> = verdict.reasons.iter().map(|r| r.message.as_str()).collect();
    assert!(
        messages.contains(&"No open credit accounts"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"Length of employment is too short: 2 months (full points from 60)"),
        "{messages:?}"
    );
    let seasoned = strong()
        .to_builder()
        .credit_history_months(5)
        .build()
        .expect("a valid application");
    assert!(
        assess(&seasoned).thin_file,
        "under six months of history is thin"
    );
    assert!(!assess(&strong()).thin_file);
}

#[test]
fn the_default_model_gives_a_probability_and_its_odds_scaled_score() {
    let set = redflag_credit::model::synthetic(4000, 3);
    let scorecard =
        redflag_ml_core::train_scorecard(&set, &ScorecardParams::default(), 3).expect("trains");
    let logistic = redflag_ml_core::train_logistic(&set, 1.0, 3).expect("trains");
    let rules = || CreditDetector::new(CreditConfig::default()).expect("the default settings");
    for detector in [rules().with_model(scorecard), rules().with_model(logistic)] {
        let good = detector.assess(&strong()).expect("valid");
        let bad = detector.assess(&weak()).expect("valid");
        let (good_p, bad_p) = (
            good.probability_of_default.expect("a model"),
            bad.probability_of_default.expect("a model"),
        );
        assert!(good_p < 0.05 && bad_p > 0.5, "{good_p} {bad_p}");
        assert_eq!(
            good.model_score,
            Some(redflag_credit::OddsScaling::STANDARD.score(good_p))
        );
        assert!(good.model_score > bad.model_score);
    }
}
