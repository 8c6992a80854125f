//! POST /api/insurance/detect/ in the contract's shape.

use chrono::{DateTime, Utc};
use redflag_core::ValidationErrors;
use redflag_insurance::{Claim, InsuranceAssessment, InsuranceDetector};
use serde_json::{Map, Value, json};

use super::Endpoint;
use super::render::{AlertShape, alerts, insert_optional, object};
use crate::state::Detectors;

impl Endpoint for InsuranceDetector {
    const REFERENCE_FIELD: &'static str = "claim_id";

    fn select(detectors: &Detectors) -> &Self {
        &detectors.insurance
    }

    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<Claim, ValidationErrors> {
        InsuranceDetector::parse(self, body, now)
    }

    fn reference(claim: &Claim) -> Option<&str> {
        Some(&claim.claim_id)
    }

    fn entity(claim: &Claim) -> &str {
        &claim.policy_id
    }

    fn event_time(claim: &Claim) -> DateTime<Utc> {
        claim.at
    }

    fn render(
        claim: &Claim,
        assessment: &InsuranceAssessment,
        timestamp: String,
    ) -> Map<String, Value> {
        let mut body = object(json!({
            "claim_id": claim.claim_id,
            "policy_id": claim.policy_id,
            "claim_amount": claim.claim_amount,
            "fraud_risk": assessment.risk,
            "timestamp": timestamp,
            "alerts": alerts(&assessment.alerts, AlertShape::Evidence),
            "fraud_probability": (assessment.probability * 100.0).round() / 100.0,
            "flagged": assessment.flagged,
        }));
        insert_optional(&mut body, "model_score", assessment.model_score);
        body
    }
}
