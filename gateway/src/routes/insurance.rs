//! POST /api/insurance/detect/ in the contract's shape.

use chrono::{DateTime, Utc};
use redflag_core::ValidationErrors;
use redflag_insurance::{Claim, InsuranceAssessment, InsuranceDetector};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::Endpoint;
use super::render::{EvidenceAlert, evidence_alerts, object};
use crate::state::Detectors;

impl Endpoint for InsuranceDetector {
    fn select(detectors: &Detectors) -> &Self {
        &detectors.insurance
    }

    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<Claim, ValidationErrors> {
        InsuranceDetector::parse(self, body, now)
    }

    fn read_stored(stored: &Value, event_time: DateTime<Utc>) -> Result<Claim, ValidationErrors> {
        Claim::from_stored(stored, event_time)
    }

    fn render(
        claim: &Claim,
        assessment: &InsuranceAssessment,
        timestamp: String,
    ) -> Map<String, Value> {
        object(&InsuranceDecision {
            claim_id: claim.claim_id.clone(),
            policy_id: claim.policy_id.clone(),
            claim_amount: claim.claim_amount,
            fraud_risk: assessment.risk,
            timestamp,
            alerts: evidence_alerts(&assessment.alerts),
            fraud_probability: (assessment.probability * 100.0).round() / 100.0,
            flagged: assessment.flagged,
            model_score: assessment.model_score,
        })
    }
}

/// The assessment of one claim (without its `id`, which the pipeline adds first).
#[derive(Debug, Serialize, ToSchema)]
pub struct InsuranceDecision {
    #[schema(example = "CLM-2001")]
    pub claim_id: String,
    pub policy_id: String,
    pub claim_amount: f64,
    /// 0-100: `fraud_probability` x 100, one decimal.
    pub fraud_risk: f64,
    /// The event time, RFC 3339 UTC with milliseconds.
    pub timestamp: String,
    pub alerts: Vec<EvidenceAlert>,
    /// 0-1, two decimals: the noisy-OR of the alerts' confidences.
    pub fraud_probability: f64,
    pub flagged: bool,
    /// The anomaly model's score, 0-1 (near 1 is anomalous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_score: Option<f64>,
}
