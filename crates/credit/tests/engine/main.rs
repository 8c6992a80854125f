//! The credit engine through its public library API: what a lender embedding it relies on.

mod custom_rules;
mod history;
mod monotonicity;
mod policy;
mod scoring;
mod validation;

use chrono::{DateTime, Duration, Utc};
use redflag_core::{Activity, Detector, History};
use redflag_credit::{AccountTypes, Application, CreditAssessment, CreditConfig, CreditDetector};

/// An applicant any lender would approve: long clean history, low utilisation, a full mix.
pub fn strong() -> Application {
    Application::builder("STRONG-1", 9_000.0, 96)
        .monthly_debt_payments(600.0)
        .credit_history_months(180)
        .open_accounts(6)
        .revolving_balance(1_200.0)
        .revolving_limit(15_000.0)
        .late_payments_12m(0)
        .delinquencies_24m(0)
        .bankruptcies(0)
        .recent_inquiries_6m(0)
        .account_types(AccountTypes {
            revolving: 3,
            installment: 2,
            mortgage: 1,
        })
        .requested_amount(15_000.0)
        .loan_term_months(48)
        .build()
        .expect("a valid application")
}

/// An applicant any lender would decline: late payments, maxed-out cards, a short file.
pub fn weak() -> Application {
    Application::builder("WEAK-1", 2_500.0, 3)
        .monthly_debt_payments(700.0)
        .credit_history_months(10)
        .open_accounts(2)
        .credit_utilization(0.97)
        .late_payments_12m(4)
        .delinquencies_24m(2)
        .recent_inquiries_6m(5)
        .account_types(AccountTypes {
            revolving: 2,
            ..AccountTypes::default()
        })
        .build()
        .expect("a valid application")
}

pub fn assess(application: &Application) -> CreditAssessment {
    CreditDetector::new(CreditConfig::default())
        .expect("the default settings are valid")
        .assess(application)
        .expect("a valid application")
}

/// Earlier applications by the same applicant, `days_ago` each with the income it stated.
pub fn earlier(application: &Application, past: &[(i64, f64)]) -> History {
    let detector =
        CreditDetector::new(CreditConfig::default()).expect("the default settings are valid");
    let observation = detector.observations(application).remove(0);
    let activities = past
        .iter()
        .enumerate()
        .map(|(i, (days_ago, income))| {
            Activity::new(
                application.at - Duration::days(*days_ago),
                &format!("APP-{i}"),
                *income,
                observation.activity.quantity,
                observation.activity.counterparty(),
            )
        })
        .collect();
    let mut history = History::new();
    history.insert(observation.key, activities);
    history
}

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a valid test timestamp")
        .with_timezone(&Utc)
}
