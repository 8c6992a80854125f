//! The credit default model's inputs, and the synthetic applicants it is trained on by default.

use redflag_ml_core::TrainingSet;

use crate::scorecard::{Evidence, assumed};

/// The features, in the order the model takes them.
pub const FEATURES: [&str; 9] = [
    "log_monthly_income",
    "employment_months",
    "debt_to_income",
    "credit_utilization",
    "late_payments_12m",
    "delinquencies_24m",
    "bankruptcies",
    "credit_history_months",
    "recent_inquiries",
];

/// The features of one application. Missing figures take the scorecard's population averages
/// ([`crate::scorecard::assumed`]), so that a missing figure is neither a penalty nor a bonus;
/// debt-to-income includes the new instalment.
pub fn features(evidence: &Evidence<'_>) -> [f64; 9] {
    let application = evidence.application;
    let count = |value: Option<i64>, average: f64| value.map_or(average, |n| n as f64);
    [
        application.monthly_income.ln_1p(),
        application.employment_length as f64,
        evidence.affordability.scored_ratio(assumed::DEBT_TO_INCOME),
        application
            .utilization()
            .unwrap_or(assumed::CREDIT_UTILIZATION)
            .min(1.5),
        count(application.late_payments_12m, assumed::LATE_PAYMENTS_12M),
        count(application.delinquencies_24m, assumed::DELINQUENCIES_24M),
        count(application.bankruptcies, assumed::BANKRUPTCIES),
        count(
            application.credit_history_months,
            assumed::CREDIT_HISTORY_MONTHS,
        ),
        evidence.inquiries.scored(),
    ]
}

/// Monthly income log-normal (median ~4,000, sigma 0.5); months employed exponential (mean 48);
/// debt-to-income Beta(2, 6) (mean 0.25); utilisation Beta(2, 3) (mean 0.4); late payments
/// Poisson(0.4); delinquencies Poisson(0.3); a bankruptcy with probability 0.02; credit history
/// exponential (mean 90 months); inquiries Poisson(1): the averages [`assumed`] takes. Default
/// follows log-odds -2.9 + 2.5 utilisation + 2.0 debt-to-income + 0.55 late payments
/// + 0.45 delinquencies + 1.5 bankruptcy - 0.006 history months - 0.5 (ln income - 8.3)
/// + 0.15 inquiries - 0.004 months employed.
pub fn synthetic(rows: usize, seed: u64) -> TrainingSet {
    TrainingSet::generate(&FEATURES, rows, seed, |s| {
        let log_income = s.normal(8.3, 0.5);
        let employment = s.exponential(48.0).round();
        let dti = s.beta(2.0, 6.0);
        let utilization = s.beta(2.0, 3.0);
        let late = s.poisson(0.4);
        let delinquencies = s.poisson(0.3);
        let bankruptcies = if s.chance(0.02) { 1.0 } else { 0.0 };
        let history = s.exponential(90.0).round();
        let inquiries = s.poisson(1.0);
        let log_odds = -2.9
            + 2.5 * utilization
            + 2.0 * dti
            + 0.55 * late
            + 0.45 * delinquencies
            + 1.5 * bankruptcies
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
                delinquencies,
                bankruptcies,
                history,
                inquiries,
            ],
            defaulted,
        )
    })
}

#[cfg(test)]
mod tests {
    use redflag_ml_core::train_logistic;

    use super::*;
    use crate::scorecard::Inquiries;
    use crate::{Affordability, Application, CreditConfig};

    #[test]
    fn missing_figures_take_the_assumed_population_means() {
        let application = Application::builder("A", 4200.0, 24)
            .build()
            .expect("a valid application");
        let evidence = Evidence {
            application: &application,
            affordability: Affordability::of(&application, &CreditConfig::default()),
            inquiries: Inquiries {
                reported: None,
                seen: 2,
                window_days: 180,
            },
        };
        assert_eq!(
            features(&evidence),
            [
                4200f64.ln_1p(),
                24.0,
                assumed::DEBT_TO_INCOME,
                assumed::CREDIT_UTILIZATION,
                assumed::LATE_PAYMENTS_12M,
                assumed::DELINQUENCIES_24M,
                assumed::BANKRUPTCIES,
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
