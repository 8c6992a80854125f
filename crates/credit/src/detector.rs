use chrono::Duration;
use redflag_core::{
    Activity, Alert, Assessment, Detector, EntityKind, History, Module, Observation, WindowKey,
    WindowMode,
};
use serde::Serialize;

use crate::factors::{WEIGHTS, neutral};
use redflag_ml_core::{FeatureValue, LogisticModel};

use crate::{Application, CreditConfig, Decision, Factors, ReasonCode, RiskTier, model};

/// Lowest and highest attainable credit scores.
const SCORE_FLOOR: f64 = 300.0;
const SCORE_RANGE: f64 = 550.0;
/// Regulation B practice: at most four principal reasons.
const MAX_REASONS: usize = 4;

/// The credit engine: factors, score, tier, decision and adverse-action reasons.
pub struct CreditDetector {
    config: CreditConfig,
    model: Option<LogisticModel>,
}

/// The credit verdict on one application.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreditAssessment {
    pub credit_score: u32,
    pub decision: Decision,
    pub risk_tier: RiskTier,
    pub factors: Factors,
    /// Principal reasons, most costly first; empty when approved.
    pub reasons: Vec<ReasonCode>,
    /// True when neither credit history nor payment record was supplied.
    pub thin_file: bool,
    /// The default model's probability of default (0..=1, three decimals), when there is a model.
    pub probability_of_default: Option<f64>,
}

impl CreditDetector {
    pub fn new(config: CreditConfig) -> Self {
        Self {
            config,
            model: None,
        }
    }

    /// Estimates every applicant's probability of default with this model too (its features:
    /// [`crate::model::FEATURES`]).
    pub fn with_model(mut self, model: LogisticModel) -> Self {
        self.model = Some(model);
        self
    }

    fn decide(&self, score: u32, application: &Application) -> Decision {
        let by_score = if score >= self.config.approve_min_score {
            Decision::Approved
        } else if score >= self.config.review_min_score {
            Decision::Review
        } else {
            Decision::Declined
        };
        if by_score == Decision::Approved && self.unaffordable(application).is_some() {
            Decision::Review
        } else {
            by_score
        }
    }

    /// The debt-to-income ratio when it exceeds the affordability ceiling.
    fn unaffordable(&self, application: &Application) -> Option<f64> {
        application
            .debt_to_income()
            .filter(|dti| *dti > self.config.max_debt_to_income)
    }

    fn reasons(
        &self,
        application: &Application,
        factors: &Factors,
        inquiries: i64,
    ) -> Vec<ReasonCode> {
        let mut reasons: Vec<ReasonCode> = factors
            .pairs()
            .into_iter()
            .zip(WEIGHTS.pairs())
            .map(|((code, value), (_, weight))| ReasonCode {
                code,
                message: explain(
                    code,
                    application,
                    inquiries,
                    self.config.inquiry_window_days,
                ),
                points_lost: ((1.0 - value) * weight * SCORE_RANGE * 10.0).round() / 10.0,
            })
            .filter(|reason| reason.points_lost > 0.0)
            .collect();
        reasons.sort_by(|a, b| b.points_lost.total_cmp(&a.points_lost));
        if let Some(dti) = self.unaffordable(application) {
            reasons.insert(
                0,
                ReasonCode {
                    code: "debt_to_income",
                    message: format!(
                        "Debt-to-income ratio {:.0}% exceeds the {:.0}% maximum",
                        dti * 100.0,
                        self.config.max_debt_to_income * 100.0
                    ),
                    points_lost: 0.0,
                },
            );
        }
        reasons.truncate(MAX_REASONS);
        reasons
    }
}

/// The specific reason behind a factor's lost points, with the applicant's own figures.
fn explain(code: &str, application: &Application, inquiries: i64, window_days: u32) -> String {
    match code {
        "payment_history" => match application.late_payments_12m {
            Some(late) => format!("{late} late payments in the last 12 months"),
            None => format!(
                "No payment record supplied (neutral {:.2} assumed)",
                neutral::PAYMENT_HISTORY
            ),
        },
        "amounts_owed" => {
            let utilization = application
                .credit_utilization
                .map_or("not supplied".to_owned(), |u| format!("{:.0}%", u * 100.0));
            let dti = application
                .debt_to_income()
                .map_or("not supplied".to_owned(), |d| format!("{:.0}%", d * 100.0));
            format!("Amounts owed: revolving utilisation {utilization}, debt-to-income {dti}")
        }
        "length_of_credit" => {
            let history = application
                .credit_history_months
                .map_or("no credit history supplied".to_owned(), |m| {
                    format!("credit history of {m} months")
                });
            format!(
                "Short history: {history}, {} months in current employment",
                application.employment_length
            )
        }
        "new_credit" => {
            format!("{inquiries} recent credit applications in the last {window_days} days")
        }
        _ => format!(
            "No information on the mix of credit accounts (neutral {:.2} assumed)",
            neutral::CREDIT_MIX
        ),
    }
}

fn applicant_window(application: &Application) -> WindowKey {
    WindowKey::new(
        Module::Credit,
        EntityKind::Applicant,
        &application.applicant_id,
    )
}

impl Detector for CreditDetector {
    type Event = Application;
    type Assessment = CreditAssessment;

    const MODULE: Module = Module::Credit;

    fn observations(&self, application: &Application) -> Vec<Observation> {
        let reference = application.application_id.clone().unwrap_or_else(|| {
            format!(
                "{}@{}",
                application.applicant_id,
                application.at.timestamp_micros()
            )
        });
        vec![Observation {
            key: applicant_window(application),
            activity: Activity {
                at: application.at,
                reference,
                amount: application.requested_amount.unwrap_or(0.0),
                quantity: 0.0,
                counterparty: String::new(),
            },
            horizon: Duration::days(i64::from(self.config.inquiry_window_days)),
            mode: WindowMode::Record,
        }]
    }

    fn detect(&self, application: &Application, history: &History) -> CreditAssessment {
        let seen = history.get(&applicant_window(application)).len() as i64;
        let inquiries = application.recent_inquiries_6m.unwrap_or(0).max(seen);
        let factors = Factors::of(application, inquiries);
        let credit_score = (SCORE_FLOOR + SCORE_RANGE * factors.weighted()).round() as u32;
        let decision = self.decide(credit_score, application);
        let reasons = if decision == Decision::Approved {
            Vec::new()
        } else {
            self.reasons(application, &factors, inquiries)
        };
        CreditAssessment {
            credit_score,
            decision,
            risk_tier: RiskTier::of(credit_score),
            factors,
            reasons,
            thin_file: application.credit_history_months.is_none()
                && application.late_payments_12m.is_none(),
            probability_of_default: self.model.as_ref().and_then(|model| {
                let row: Vec<FeatureValue> = model::features(application, inquiries)
                    .into_iter()
                    .map(FeatureValue::Number)
                    .collect();
                model
                    .probability(&row)
                    .ok()
                    .map(|p| (p * 1000.0).round() / 1000.0)
            }),
        }
    }
}

impl Assessment for CreditAssessment {
    /// (850 - score) / 5.5: 0 for a perfect score, 100 for the floor.
    fn risk(&self) -> f64 {
        ((SCORE_FLOOR + SCORE_RANGE - f64::from(self.credit_score)) / 5.5 * 10.0).round() / 10.0
    }

    fn flagged(&self) -> bool {
        self.decision != Decision::Approved
    }

    /// The adverse-action reasons: the findings an analyst or auditor needs. The decision itself
    /// is the assessment's `decision`, not an alert.
    fn alerts(&self) -> Vec<Alert> {
        let severity = self.risk_tier.severity();
        self.reasons
            .iter()
            .map(|reason| {
                Alert::new(
                    "AdverseActionReason",
                    "adverse_action",
                    severity,
                    reason.points_lost / SCORE_RANGE,
                    reason.message.clone(),
                )
                .with_metadata("factor", reason.code)
                .with_metadata("points_lost", reason.points_lost)
            })
            .collect()
    }

    fn decision(&self) -> Option<&str> {
        Some(self.decision.as_str())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::{Value, json};

    use super::*;

    fn assess(body: Value) -> CreditAssessment {
        let application = Application::parse(&body, Utc::now()).expect("a valid application");
        CreditDetector::new(CreditConfig::default()).detect(&application, &History::new())
    }

    #[test]
    fn the_seed_applicant_is_approved_with_a_thin_file() {
        let verdict = assess(
            json!({"applicant_id": "USER-101", "monthly_income": 4200, "employment_length": 24}),
        );
        assert!((300..=850).contains(&verdict.credit_score));
        assert_eq!(verdict.decision, Decision::Approved);
        assert!(verdict.thin_file);
        assert!(verdict.reasons.is_empty());
        assert_eq!(verdict.factors.new_credit, 1.0);
    }

    #[test]
    fn late_payments_and_high_utilisation_decline_with_ranked_reasons() {
        let verdict = assess(
            json!({"applicant_id": "A", "monthly_income": 3000, "employment_length": 3,
            "late_payments_12m": 5, "credit_utilization": 0.95, "credit_history_months": 12,
            "recent_inquiries_6m": 6}),
        );
        assert_eq!(verdict.decision, Decision::Declined);
        assert_eq!(verdict.risk_tier, RiskTier::VeryHigh);
        assert!(!verdict.thin_file);
        assert_eq!(verdict.reasons[0].code, "payment_history");
        assert_eq!(
            verdict.reasons[0].message,
            "5 late payments in the last 12 months"
        );
        assert!(verdict.reasons.len() <= 4);
        assert!(
            verdict
                .reasons
                .windows(2)
                .all(|w| w[0].points_lost >= w[1].points_lost)
        );
    }

    #[test]
    fn the_score_never_falls_when_a_factor_improves() {
        let base = json!({"applicant_id": "A", "monthly_income": 5000, "employment_length": 36,
            "credit_history_months": 60, "credit_utilization": 0.5});
        let mut better = base.clone();
        better["credit_utilization"] = json!(0.2);
        assert!(assess(better).credit_score > assess(base.clone()).credit_score);
        let mut fewer_late = base.clone();
        fewer_late["late_payments_12m"] = json!(0);
        let mut more_late = base;
        more_late["late_payments_12m"] = json!(2);
        assert!(assess(fewer_late).credit_score > assess(more_late).credit_score);
    }

    #[test]
    fn an_unaffordable_loan_is_referred_even_with_a_good_score() {
        let verdict = assess(
            json!({"applicant_id": "A", "monthly_income": 4000, "employment_length": 120,
            "credit_history_months": 200, "late_payments_12m": 0, "credit_utilization": 0.1,
            "monthly_debt_payments": 2000}),
        );
        assert!(
            verdict.credit_score >= 680,
            "score {}",
            verdict.credit_score
        );
        assert_eq!(verdict.decision, Decision::Review);
        assert_eq!(verdict.reasons[0].code, "debt_to_income");
        assert_eq!(
            verdict.reasons[0].message,
            "Debt-to-income ratio 50% exceeds the 43% maximum"
        );
    }

    #[test]
    fn repeated_applications_seen_by_redflag_count_as_new_credit() {
        let body = json!({"applicant_id": "A", "monthly_income": 4000, "employment_length": 24});
        let application = Application::parse(&body, Utc::now()).expect("valid");
        let detector = CreditDetector::new(CreditConfig::default());
        let observation = detector.observations(&application).remove(0);
        let mut history = History::new();
        let past = (0..4)
            .map(|i| Activity {
                reference: format!("old-{i}"),
                ..observation.activity.clone()
            })
            .collect();
        history.insert(observation.key, past);
        let verdict = detector.detect(&application, &history);
        assert_eq!(verdict.factors.new_credit, 0.52);
    }
}
