//! The credit engine through its public library API: what a lender embedding it relies on.

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
    Application {
        monthly_debt_payments: Some(600.0),
        credit_history_months: Some(180),
        open_accounts: Some(6),
        revolving_balance: Some(1_200.0),
        revolving_limit: Some(15_000.0),
        late_payments_12m: Some(0),
        delinquencies_24m: Some(0),
        bankruptcies: Some(0),
        recent_inquiries_6m: Some(0),
        account_types: Some(AccountTypes {
            revolving: 3,
            installment: 2,
            mortgage: 1,
        }),
        requested_amount: Some(15_000.0),
        loan_term_months: Some(48),
        ..Application::new("STRONG-1", 9_000.0, 96)
    }
}

/// An applicant any lender would decline: late payments, maxed-out cards, a short file.
pub fn weak() -> Application {
    Application {
        monthly_debt_payments: Some(700.0),
        credit_history_months: Some(10),
        open_accounts: Some(2),
        credit_utilization: Some(0.97),
        late_payments_12m: Some(4),
        delinquencies_24m: Some(2),
        recent_inquiries_6m: Some(5),
        account_types: Some(AccountTypes {
            revolving: 2,
            ..AccountTypes::default()
        }),
        ..Application::new("WEAK-1", 2_500.0, 3)
    }
}

pub fn assess(application: &Application) -> CreditAssessment {
    CreditDetector::new(CreditConfig::default())
        .assess(application)
        .expect("a valid application")
}

/// Earlier applications by the same applicant, `days_ago` each with the income it stated.
pub fn earlier(application: &Application, past: &[(i64, f64)]) -> History {
    let detector = CreditDetector::new(CreditConfig::default());
    let observation = detector.observations(application).remove(0);
    let activities = past
        .iter()
        .enumerate()
        .map(|(i, (days_ago, income))| Activity {
            at: application.at - Duration::days(*days_ago),
            reference: format!("APP-{i}"),
            amount: *income,
            ..observation.activity.clone()
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
