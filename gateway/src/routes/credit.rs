//! POST /api/credit/assess/ in the contract's shape.

use chrono::{DateTime, Utc};
use redflag_core::{Assessment, ValidationErrors};
use std::collections::BTreeMap;

use redflag_credit::{
    Application, CreditAssessment, CreditDetector, Decision, Factors, ReasonCode, RiskTier,
};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::Endpoint;
use super::render::object;
use crate::state::Detectors;

impl Endpoint for CreditDetector {
    fn select(detectors: &Detectors) -> &Self {
        &detectors.credit
    }

    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<Application, ValidationErrors> {
        Application::parse(body, now)
    }

    fn optional_reference_field(_body: &Map<String, Value>) -> Option<&'static str> {
        Some("application_id")
    }

    fn read_stored(
        stored: &Value,
        event_time: DateTime<Utc>,
    ) -> Result<Application, ValidationErrors> {
        Application::parse(stored, event_time)
    }

    fn render(
        application: &Application,
        assessment: &CreditAssessment,
        timestamp: String,
    ) -> Map<String, Value> {
        // The contract lists the decision itself first, as a `reason_code` entry; then the
        // policy-rule and referral alerts and the adverse-action reasons; an approval lists its
        // strengths instead.
        let decision = CreditAlert {
            kind: "reason_code".to_owned(),
            message: assessment.decision.as_str().to_owned(),
            severity: assessment.risk_tier.severity().as_str(),
        };
        let strengths = assessment.strengths.iter().map(|strength| CreditAlert {
            kind: "positive_factor".to_owned(),
            message: strength.clone(),
            severity: "low",
        });
        let alerts = std::iter::once(decision)
            .chain(assessment.alerts().iter().map(|alert| CreditAlert {
                kind: alert.code.clone(),
                message: alert.reason.clone(),
                severity: alert.severity.as_str(),
            }))
            .chain(strengths)
            .collect();
        let points_lost = assessment
            .characteristics
            .iter()
            .map(|scored| (scored.characteristic.code().to_owned(), scored.points_lost))
            .collect();
        object(&CreditDecision {
            applicant_id: application.applicant_id.clone(),
            risk_score: assessment.credit_score,
            decision: assessment.decision,
            timestamp,
            alerts,
            credit_score: assessment.credit_score,
            risk_tier: assessment.risk_tier,
            factors: assessment.factors,
            reason_codes: assessment.reasons.clone(),
            points_lost,
            thin_file: assessment.thin_file,
            assumed_fields: assessment.assumed_fields.clone(),
            debt_to_income: assessment.debt_to_income,
            new_instalment: assessment.new_instalment,
            probability_of_default: assessment.probability_of_default,
            model_score: assessment.model_score,
            application_id: application.application_id.clone(),
        })
    }
}

/// One line of a credit decision's `alerts`: the decision, a policy or referral finding, or a
/// strength.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditAlert {
    /// `reason_code` (the decision), a finding's code, or `positive_factor`.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub severity: &'static str,
}

/// The assessment of one credit application (without its `id`, which the pipeline adds first).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditDecision {
    #[schema(example = "APP-3001")]
    pub applicant_id: String,
    /// The credit score (300-850), as the contract's risk figure.
    pub risk_score: u32,
    #[schema(value_type = String, example = "APPROVED")]
    pub decision: Decision,
    /// The event time, RFC 3339 UTC with milliseconds.
    pub timestamp: String,
    pub alerts: Vec<CreditAlert>,
    pub credit_score: u32,
    #[schema(value_type = String, example = "PRIME")]
    pub risk_tier: RiskTier,
    /// The scorecard's inputs as derived from the application.
    #[schema(value_type = Object)]
    pub factors: Factors,
    /// The principal reasons of an adverse decision, most important first.
    #[schema(value_type = Vec<Object>)]
    pub reason_codes: Vec<ReasonCode>,
    /// Points each characteristic lost against its best attribute.
    pub points_lost: BTreeMap<String, f64>,
    /// Too little credit history to score from the file alone.
    pub thin_file: bool,
    /// Optional fields that were absent and assumed.
    pub assumed_fields: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debt_to_income: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_instalment: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability_of_default: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_score: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
}
