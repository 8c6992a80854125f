//! Improving any single figure of any applicant never lowers the score: a property checked over
//! seeded random applicants.

use redflag_ml_core::Sampler;

use super::*;

/// Draws a figure, then leaves it out one time in five.
fn maybe<T>(s: &mut Sampler, draw: impl FnOnce(&mut Sampler) -> T) -> Option<T> {
    let value = draw(s);
    s.chance(0.8).then_some(value)
}

fn count(s: &mut Sampler, mean: f64) -> Option<i64> {
    maybe(s, |s| s.poisson(mean) as i64)
}

fn random_applicant(s: &mut Sampler, i: usize) -> Application {
    let limit = s.uniform(500.0, 30_000.0);
    let utilization = s.uniform(0.0, 1.1);
    let revolving = s.chance(0.5);
    Application::builder(
        format!("P-{i}"),
        s.log_normal(8.3, 0.6).max(1.0),
        s.exponential(48.0).round().min(720.0) as i64,
    )
    .requested_amount(maybe(s, |s| s.uniform(1_000.0, 60_000.0)))
    .loan_term_months(maybe(s, |s| s.below(72) as i64 + 6))
    .monthly_debt_payments(maybe(s, |s| s.uniform(0.0, 3_000.0)))
    .credit_history_months(maybe(s, |s| s.exponential(90.0).round() as i64))
    .open_accounts(count(s, 4.0))
    .revolving_balance(revolving.then_some(limit * utilization))
    .revolving_limit(revolving.then_some(limit))
    .credit_utilization(maybe(s, |s| s.unit()).filter(|_| !revolving))
    .late_payments_12m(count(s, 1.0))
    .delinquencies_24m(count(s, 0.5))
    .bankruptcies(count(s, 0.1))
    .recent_inquiries_6m(count(s, 1.5))
    .account_types(maybe(s, |s| AccountTypes {
        revolving: s.poisson(1.5) as i64,
        installment: s.poisson(0.8) as i64,
        mortgage: s.poisson(0.3) as i64,
    }))
    .build()
    .expect("a valid application")
}

/// Every single-figure improvement of an application, by name.
fn improvements(a: &Application) -> Vec<(&'static str, Application)> {
    let fewer = |value: Option<i64>| value.map(|n| (n - 1).max(0));
    let mut better = vec![
        (
            "more income",
            a.to_builder()
                .monthly_income(a.monthly_income * 1.2)
                .build()
                .expect("a valid application"),
        ),
        (
            "longer employment",
            a.to_builder()
                .employment_length((a.employment_length + 12).min(720))
                .build()
                .expect("a valid application"),
        ),
        (
            "smaller loan",
            a.to_builder()
                .requested_amount(a.requested_amount.map(|r| r * 0.8))
                .build()
                .expect("a valid application"),
        ),
        (
            "longer term",
            a.to_builder()
                .loan_term_months((a.loan_term_months.unwrap_or(36) + 12).min(480))
                .build()
                .expect("a valid application"),
        ),
        (
            "fewer debts",
            a.to_builder()
                .monthly_debt_payments(a.monthly_debt_payments.map(|d| d * 0.8))
                .build()
                .expect("a valid application"),
        ),
        (
            "longer history",
            a.to_builder()
                .credit_history_months(a.credit_history_months.map(|m| m + 12))
                .build()
                .expect("a valid application"),
        ),
        (
            "smaller balance",
            a.to_builder()
                .revolving_balance(a.revolving_balance.map(|b| b * 0.8))
                .build()
                .expect("a valid application"),
        ),
        (
            "higher limit",
            a.to_builder()
                .revolving_limit(a.revolving_limit.map(|l| l * 1.25))
                .build()
                .expect("a valid application"),
        ),
        (
            "lower utilisation",
            a.to_builder()
                .credit_utilization(a.credit_utilization.map(|u| u * 0.8))
                .build()
                .expect("a valid application"),
        ),
        (
            "fewer late payments",
            a.to_builder()
                .late_payments_12m(fewer(a.late_payments_12m))
                .build()
                .expect("a valid application"),
        ),
        (
            "fewer delinquencies",
            a.to_builder()
                .delinquencies_24m(fewer(a.delinquencies_24m))
                .build()
                .expect("a valid application"),
        ),
        (
            "fewer bankruptcies",
            a.to_builder()
                .bankruptcies(fewer(a.bankruptcies))
                .build()
                .expect("a valid application"),
        ),
        (
            "fewer inquiries",
            a.to_builder()
                .recent_inquiries_6m(fewer(a.recent_inquiries_6m))
                .build()
                .expect("a valid application"),
        ),
    ];
    if let Some(types) = a.account_types {
        for (kind, added) in [
            (
                "another kind: installment",
                AccountTypes {
                    installment: types.installment.max(1),
                    ..types
                },
            ),
            (
                "another kind: mortgage",
                AccountTypes {
                    mortgage: types.mortgage.max(1),
                    ..types
                },
            ),
            (
                "another kind: revolving",
                AccountTypes {
                    revolving: types.revolving.max(1),
                    ..types
                },
            ),
        ] {
            better.push((
                kind,
                a.to_builder()
                    .account_types(added)
                    .build()
                    .expect("a valid application"),
            ));
        }
    }
    better
}

#[test]
fn improving_any_single_figure_never_lowers_the_score() {
    let detector =
        CreditDetector::new(CreditConfig::default()).expect("the default settings are valid");
    let mut sampler = Sampler::new(20_261_126);
    let mut rises = 0;
    for i in 0..2_000 {
        let application = random_applicant(&mut sampler, i);
        let base = detector
            .assess(&application)
            .expect("random applicants are valid");
        for (change, improved) in improvements(&application) {
            let after = detector.assess(&improved).expect("improvements stay valid");
            assert!(
                after.credit_score >= base.credit_score,
                "{change} lowered the score {} -> {} for {application:?}",
                base.credit_score,
                after.credit_score
            );
            if after.credit_score > base.credit_score {
                rises += 1;
            }
        }
    }
    assert!(
        rises > 5_000,
        "the improvements must move scores, not just leave them: {rises}"
    );
}
