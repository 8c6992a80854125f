//! The credit default model's inputs, and the synthetic applicants it is trained on by default.

use redflag_ml_core::TrainingSet;

use crate::Application;

/// The features, in the order the model takes them.
pub const FEATURES: [&str; 7] = [
    "log_monthly_income",
    "employment_months",
    "debt_to_income",
    "credit_utilization",
    "late_payments_12m",
    "credit_history_months",
    "recent_inquiries",
];

/// The population means the model assumes for figures an applicant did not supply, so that a
/// missing figure is neither a penalty nor a bonus.
pub mod assumed {
    pub const DEBT_TO_INCOME: f64 = 0.25;
    pub const CREDIT_UTILIZATION: f64 = 0.4;
    pub const LATE_PAYMENTS_12M: f64 = 0.4;
    pub const CREDIT_HISTORY_MONTHS: f64 = 90.0;
}

/// The features of one application; `inquiries` are the recent credit searches known.
pub fn features(application: &Application, inquiries: i64) -> [f64; 7] {
    [
        application.monthly_income.ln_1p(),
        application.employment_length as f64,
        application
            .debt_to_income()
            .unwrap_or(assumed::DEBT_TO_INCOME),
        application
            .credit_utilization
            .unwrap_or(assumed::CREDIT_UTILIZATION),
        application
            .late_payments_12m
            .map_or(assumed::LATE_PAYMENTS_12M, |late| late as f64),
        application
            .credit_history_months
            .map_or(assumed::CREDIT_HISTORY_MONTHS, |months| months as f64),
        inquiries as f64,
    ]
}

/// `rows` synthetic applicants labelled with whether they defaulted.
///
/// Monthly income log-normal (median ~4,000, sigma 0.5); months employed exponential (mean 48);
/// debt-to-income Beta(2, 6) (mean 0.25); utilisation Beta(2, 3) (mean 0.4); late payments
/// Poisson(0.4); credit history exponential (mean 90 months); inquiries Poisson(1). Default
/// follows log-odds -2.6 + 2.5 utilisation + 2.0 debt-to-income + 0.55 late payments
/// - 0.006 history months - 0.5 (ln income - 8.3) + 0.15 inquiries - 0.004 months employed.
pub fn synthetic(rows: usize, seed: u64) -> TrainingSet {
    TrainingSet::generate(&FEATURES, rows, seed, |s| {
        let log_income = s.normal(8.3, 0.5);
        let employment = s.exponential(48.0).round();
        let dti = s.beta(2.0, 6.0);
        let utilization = s.beta(2.0, 3.0);
        let late = s.poisson(0.4);
        let history = s.exponential(90.0).round();
        let inquiries = s.poisson(1.0);
        let log_odds = -2.6 + 2.5 * utilization + 2.0 * dti + 0.55 * late
            - 0.006 * history
            - 0.5 * (log_income - 8.3)
            + 0.15 * inquiries
            - 0.004 * employment;
        let defaulted = s.chance(1.0 / (1.0 + (-log_odds).exp()));
        (
            [
                log_income,
                employment,
                dti,
                utilization,
                late,
                history,
                inquiries,
            ],
            defaulted,
        )
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use redflag_ml_core::train_logistic;

    use super::*;

    #[test]
    fn missing_figures_take_the_assumed_population_means() {
        let body = serde_json::json!({"applicant_id": "A", "monthly_income": 4200, "employment_length": 24});
        let application = Application::parse(&body, Utc::now()).expect("valid");
        assert_eq!(
            features(&application, 2),
            [
                4200f64.ln_1p(),
                24.0,
                assumed::DEBT_TO_INCOME,
                assumed::CREDIT_UTILIZATION,
                assumed::LATE_PAYMENTS_12M,
                assumed::CREDIT_HISTORY_MONTHS,
                2.0
            ]
        );
    }

    #[test]
    fn the_default_model_learns_the_synthetic_risk_drivers() {
        let artifact = train_logistic(&synthetic(6000, 1), 1.0, 1).expect("trains");
        assert!(artifact.metrics["roc_auc"] > 0.65, "{:?}", artifact.metrics);
    }
}
