use serde::Serialize;

use crate::Application;

/// The five FICO-style factor scores, each 0..1 where 1 is the best attainable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Factors {
    pub payment_history: f64,
    pub amounts_owed: f64,
    pub length_of_credit: f64,
    pub new_credit: f64,
    pub credit_mix: f64,
}

/// Each factor's share of the score (FICO's published weights).
pub(crate) const WEIGHTS: Factors = Factors {
    payment_history: 0.35,
    amounts_owed: 0.30,
    length_of_credit: 0.15,
    new_credit: 0.10,
    credit_mix: 0.10,
};

/// The assumptions made for figures the applicant did not supply.
pub(crate) mod neutral {
    pub const PAYMENT_HISTORY: f64 = 0.85;
    pub const UTILIZATION_SCORE: f64 = 0.75;
    pub const DEBT_TO_INCOME_SCORE: f64 = 0.8;
    pub const CREDIT_HISTORY_SCORE: f64 = 0.5;
    pub const CREDIT_MIX: f64 = 0.7;
}

/// Debt-to-income at which the affordability component reaches zero.
const DTI_AT_ZERO: f64 = 0.6;

impl Factors {
    /// Scores an application; `inquiries` is the number of recent credit searches known.
    pub fn of(application: &Application, inquiries: i64) -> Self {
        let payment_history = application
            .late_payments_12m
            .map_or(neutral::PAYMENT_HISTORY, |late| 1.0 - 0.15 * late as f64);
        let utilization_score = application
            .credit_utilization
            .map_or(neutral::UTILIZATION_SCORE, utilization_score);
        let dti_score = application
            .debt_to_income()
            .map_or(neutral::DEBT_TO_INCOME_SCORE, |dti| 1.0 - dti / DTI_AT_ZERO);
        let history_score = application
            .credit_history_months
            .map_or(neutral::CREDIT_HISTORY_SCORE, |months| {
                months as f64 / 120.0
            });
        let employment_score = application.employment_length as f64 / 60.0;
        Self {
            payment_history: unit(payment_history),
            amounts_owed: unit(0.6 * unit(utilization_score) + 0.4 * unit(dti_score)),
            length_of_credit: unit(0.7 * unit(history_score) + 0.3 * unit(employment_score)),
            new_credit: unit(1.0 - 0.12 * inquiries as f64),
            credit_mix: neutral::CREDIT_MIX,
        }
    }

    /// The weighted sum, 0..1.
    pub fn weighted(&self) -> f64 {
        self.pairs()
            .iter()
            .zip(WEIGHTS.pairs())
            .map(|((_, value), (_, weight))| value * weight)
            .sum()
    }

    /// Each factor by name, in the order the contract lists them.
    pub fn pairs(&self) -> [(&'static str, f64); 5] {
        [
            ("payment_history", self.payment_history),
            ("amounts_owed", self.amounts_owed),
            ("length_of_credit", self.length_of_credit),
            ("new_credit", self.new_credit),
            ("credit_mix", self.credit_mix),
        ]
    }
}

/// Up to 30% utilisation costs nothing (the usual advice); above it the score falls linearly to 0
/// at full utilisation.
fn utilization_score(utilization: f64) -> f64 {
    if utilization <= 0.3 {
        1.0
    } else {
        1.0 - (utilization - 0.3) / 0.7
    }
}

/// Clamps into 0..1 and rounds to the two decimals the response shows, so that the score is
/// computed from exactly the factors the applicant is shown.
fn unit(value: f64) -> f64 {
    (value.clamp(0.0, 1.0) * 100.0).round() / 100.0
}
