//! What custom rules can read of a credit application: its validated fields, the scorecard's and
//! the affordability figures, and the applicant's earlier applications (published at
//! GET /api/rules/credit/features/).
//!
//! A custom credit rule that fires changes the decision as the built-in ones do: a critical one is
//! a policy rule (the application is declined), any other refers an approval to review, and a
//! supporting one is only reported.

use chrono::Duration;
use redflag_core::Activity;
use redflag_rules::{FeatureKind, FeatureSpec, FeatureValue};

use crate::Application;

use FeatureKind::{Count, Number, Text};

const MONEY: &str = "currency units a month";

/// The credit features, in index order.
pub const CATALOGUE: &[FeatureSpec] = &[
    FeatureSpec::new("event.applicant_id", Text, "", "The applicant."),
    FeatureSpec::new("event.monthly_income", Number, MONEY, "Stated income."),
    FeatureSpec::new(
        "event.employment_length",
        Count,
        "months",
        "Time in current employment.",
    ),
    FeatureSpec::new(
        "event.requested_amount",
        Number,
        "currency units",
        "The loan applied for (optional).",
    ),
    FeatureSpec::new(
        "event.loan_term_months",
        Count,
        "months",
        "Its term (optional).",
    ),
    FeatureSpec::new(
        "event.monthly_debt_payments",
        Number,
        MONEY,
        "Existing debt service (optional).",
    ),
    FeatureSpec::new(
        "event.credit_history_months",
        Count,
        "months",
        "Age of the credit file (optional).",
    ),
    FeatureSpec::new("event.open_accounts", Count, "accounts", "(optional)."),
    FeatureSpec::new(
        "event.revolving_balance",
        Number,
        "currency units",
        "(optional).",
    ),
    FeatureSpec::new(
        "event.revolving_limit",
        Number,
        "currency units",
        "(optional).",
    ),
    FeatureSpec::new(
        "event.credit_utilization",
        Number,
        "ratio",
        "Revolving balance over limit, 0..1 (optional; derived from them when absent).",
    ),
    FeatureSpec::new("event.late_payments_12m", Count, "payments", "(optional)."),
    FeatureSpec::new(
        "event.delinquencies_24m",
        Count,
        "delinquencies",
        "(optional).",
    ),
    FeatureSpec::new("event.bankruptcies", Count, "bankruptcies", "(optional)."),
    FeatureSpec::new(
        "event.recent_inquiries_6m",
        Count,
        "inquiries",
        "As the credit bureau reports them (optional).",
    ),
    FeatureSpec::new(
        "hour_of_day",
        Number,
        "hours, UTC",
        "The application time's hour, minutes as a fraction (13.5 is 13:30).",
    ),
    FeatureSpec::new(
        "debt_to_income",
        Number,
        "ratio",
        "Existing debts plus the new instalment over income; missing without either.",
    ),
    FeatureSpec::new(
        "new_instalment",
        Number,
        MONEY,
        "The estimated instalment of the loan applied for; missing without an amount.",
    ),
    FeatureSpec::new(
        "loan_to_income",
        Number,
        "ratio",
        "The amount applied for over a year's income; missing without an amount.",
    ),
    FeatureSpec::new(
        "credit_score",
        Count,
        "points, 300-850",
        "The scorecard's score.",
    ),
    FeatureSpec::new(
        "probability_of_default",
        Number,
        "0..1",
        "The default model's estimate; missing without a model.",
    ),
    FeatureSpec::new(
        "applications_seen",
        Count,
        "applications",
        "The applicant's earlier applications here within credit.inquiry_window_days.",
    ),
    FeatureSpec::new(
        "income_change",
        Number,
        "ratio",
        "This income over the one stated at the applicant's latest earlier application, less 1 (-0.4: 40% lower); missing without one.",
    ),
];

/// What the credit features are read from: the application, the figures the engine worked out
/// and the applicant's earlier applications.
pub(crate) struct Facts<'a> {
    pub application: &'a Application,
    pub debt_to_income: Option<f64>,
    pub new_instalment: Option<f64>,
    pub credit_score: u32,
    pub probability_of_default: Option<f64>,
    /// The earlier applications (income as the amount), oldest first.
    pub earlier: &'a [Activity],
    pub inquiry_window: Duration,
}

impl Facts<'_> {
    /// Feature `index` of [`CATALOGUE`].
    pub(crate) fn value(&self, index: usize) -> FeatureValue {
        let application = self.application;
        let count = |value: Option<i64>| value.map_or(FeatureValue::Missing, FeatureValue::Count);
        match CATALOGUE.get(index).map(|feature| feature.name) {
            Some("event.applicant_id") => FeatureValue::Text(application.applicant_id.clone()),
            Some("event.monthly_income") => FeatureValue::Number(application.monthly_income),
            Some("event.employment_length") => FeatureValue::Count(application.employment_length),
            Some("event.requested_amount") => FeatureValue::number(application.requested_amount),
            Some("event.loan_term_months") => count(application.loan_term_months),
            Some("event.monthly_debt_payments") => {
                FeatureValue::number(application.monthly_debt_payments)
            }
            Some("event.credit_history_months") => count(application.credit_history_months),
            Some("event.open_accounts") => count(application.open_accounts),
            Some("event.revolving_balance") => FeatureValue::number(application.revolving_balance),
            Some("event.revolving_limit") => FeatureValue::number(application.revolving_limit),
            Some("event.credit_utilization") => FeatureValue::number(application.utilization()),
            Some("event.late_payments_12m") => count(application.late_payments_12m),
            Some("event.delinquencies_24m") => count(application.delinquencies_24m),
            Some("event.bankruptcies") => count(application.bankruptcies),
            Some("event.recent_inquiries_6m") => count(application.recent_inquiries_6m),
            Some("hour_of_day") => FeatureValue::Number(redflag_core::hour_of_day(application.at)),
            Some("debt_to_income") => FeatureValue::number(self.debt_to_income),
            Some("new_instalment") => FeatureValue::number(self.new_instalment),
            Some("loan_to_income") => FeatureValue::number(
                application
                    .requested_amount
                    .filter(|_| application.monthly_income > 0.0)
                    .map(|amount| amount / (12.0 * application.monthly_income)),
            ),
            Some("credit_score") => FeatureValue::Count(i64::from(self.credit_score)),
            Some("probability_of_default") => FeatureValue::number(self.probability_of_default),
            Some("applications_seen") => {
                let since = application.at - self.inquiry_window;
                FeatureValue::count(
                    self.earlier
                        .iter()
                        .filter(|earlier| earlier.at >= since && earlier.at <= application.at)
                        .count(),
                )
            }
            Some("income_change") => FeatureValue::number(
                self.earlier
                    .iter()
                    .rev()
                    .find(|earlier| earlier.at <= application.at && earlier.amount > 0.0)
                    .map(|earlier| application.monthly_income / earlier.amount - 1.0),
            ),
            _ => FeatureValue::Missing,
        }
    }
}
