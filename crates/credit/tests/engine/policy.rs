use redflag_credit::Decision;

use super::*;

/// The policy alerts an assessment raised, as (rule, message).
fn policy_alerts(verdict: &CreditAssessment) -> Vec<(String, String)> {
    verdict
        .alerts
        .iter()
        .filter(|alert| alert.code == "policy_rule")
        .map(|alert| (alert.rule.clone(), alert.reason.clone()))
        .collect()
}

#[test]
fn debt_to_income_above_43_percent_including_the_new_loan_declines() {
    // 2,200 existing + 332.14 new instalment (10,000 over 36 months at 12%) on 5,500: 46%.
    let application = strong()
        .to_builder()
        .monthly_debt_payments(2_200.0)
        .requested_amount(10_000.0)
        .loan_term_months(36)
        .build()
        .expect("a valid application");
    let application = application
        .to_builder()
        .monthly_income(5_500.0)
        .build()
        .expect("a valid application");
    let verdict = assess(&application);
    assert_eq!(verdict.decision, Decision::Declined);
    assert_eq!(
        policy_alerts(&verdict),
        [(
            "DebtToIncomePolicy".to_owned(),
            "Excessive obligations in relation to income: debt-to-income 46% ($2200.00 existing debt payments and a $332.14 new instalment on $5500.00 monthly income) exceeds the 43% maximum".to_owned()
        )]
    );
    assert_eq!(verdict.reasons[0].code, "debt_to_income_limit");
    assert_eq!(verdict.reasons[0].points_lost, None);
    assert_eq!(verdict.debt_to_income, Some(0.46));
    let affordable = application
        .to_builder()
        .monthly_debt_payments(1_900.0)
        .build()
        .expect("a valid application");
    let verdict = assess(&affordable);
    assert!(policy_alerts(&verdict).is_empty(), "41% is within policy");
    assert_eq!(verdict.decision, Decision::Approved);
}

#[test]
fn a_new_loan_alone_over_the_limit_declines_as_at_least_that_ratio() {
    let application = Application::builder("A", 6_000.0, 48)
        .requested_amount(30_000.0)
        .loan_term_months(12)
        .build()
        .expect("a valid application");
    let (_, message) = policy_alerts(&assess(&application)).remove(0);
    assert!(
        message.contains("debt-to-income at least 44% (a $2665.46 new instalment on $6000.00"),
        "{message}"
    );
}

#[test]
fn a_bankruptcy_on_file_declines_whatever_the_score() {
    let application = strong()
        .to_builder()
        .bankruptcies(1)
        .build()
        .expect("a valid application");
    let verdict = assess(&application);
    assert_eq!(verdict.decision, Decision::Declined);
    assert_eq!(
        policy_alerts(&verdict),
        [(
            "BankruptcyPolicy".to_owned(),
            "Bankruptcy: 1 on file; policy declines applicants with a bankruptcy on file"
                .to_owned()
        )]
    );
    assert_eq!(verdict.reasons[0].code, "bankruptcy_on_file");
    assert_eq!(
        verdict.reasons[1].code, "bankruptcies",
        "the points it cost follow"
    );
    let lenient = CreditDetector::new(CreditConfig {
        decline_on_bankruptcy: false,
        ..CreditConfig::default()
    })
    .expect("valid settings");
    let verdict = lenient.assess(&application).expect("valid");
    assert!(policy_alerts(&verdict).is_empty());
}

#[test]
fn income_below_the_minimum_declines() {
    let application = strong()
        .to_builder()
        .monthly_income(850.0)
        .requested_amount(None)
        .monthly_debt_payments(0.0)
        .build()
        .expect("a valid application");
    let verdict = assess(&application);
    assert_eq!(verdict.decision, Decision::Declined);
    assert_eq!(
        policy_alerts(&verdict),
        [(
            "MinimumIncomePolicy".to_owned(),
            "Income insufficient for amount of credit requested: monthly income $850.00 is below the $1000.00 minimum".to_owned()
        )]
    );
    let at_minimum = application
        .to_builder()
        .monthly_income(1_000.0)
        .build()
        .expect("a valid application");
    assert!(policy_alerts(&assess(&at_minimum)).is_empty());
}

#[test]
fn a_loan_above_annual_income_declines() {
    let application = strong()
        .to_builder()
        .requested_amount(120_000.0)
        .loan_term_months(360)
        .build()
        .expect("a valid application");
    let verdict = assess(&application);
    assert_eq!(verdict.decision, Decision::Declined);
    assert_eq!(
        policy_alerts(&verdict),
        [(
            "LoanToIncomePolicy".to_owned(),
            "Amount requested too high for income: $120000.00 is 1.11x annual income $108000.00 (maximum 1.00x)".to_owned()
        )]
    );
    let mortgage_lender = CreditDetector::new(CreditConfig {
        max_loan_to_annual_income: 4.5,
        ..CreditConfig::default()
    })
    .expect("valid settings");
    let verdict = mortgage_lender.assess(&application).expect("valid");
    assert_eq!(verdict.decision, Decision::Approved);
}

#[test]
fn several_breaches_are_all_alerted_and_the_reasons_stay_at_four() {
    let application = weak()
        .to_builder()
        .monthly_income(900.0)
        .bankruptcies(2)
        .requested_amount(50_000.0)
        .build()
        .expect("a valid application");
    let verdict = assess(&application);
    let rules: Vec<String> = policy_alerts(&verdict)
        .into_iter()
        .map(|(rule, _)| rule)
        .collect();
    assert_eq!(
        rules,
        [
            "MinimumIncomePolicy",
            "DebtToIncomePolicy",
            "BankruptcyPolicy",
            "LoanToIncomePolicy"
        ]
    );
    assert_eq!(verdict.reasons.len(), 4);
    assert!(
        verdict
            .reasons
            .iter()
            .all(|reason| reason.points_lost.is_none())
    );
    assert_eq!(
        verdict
            .alerts
            .iter()
            .filter(|alert| alert.code == "reason_code")
            .count(),
        0,
        "no room is left for scorecard reasons"
    );
}
