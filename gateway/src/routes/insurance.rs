//! POST /api/insurance/detect/ in the contract's shape.

use chrono::{DateTime, Utc};
use redflag_core::ValidationErrors;
use redflag_insurance::{Claim, InsuranceAssessment, InsuranceDetector};
use serde_json::{Map, Value, json};

use super::Endpoint;
use super::aml::into_map;
use crate::state::Detectors;

impl Endpoint for InsuranceDetector {
    const REFERENCE_FIELD: &'static str = "claim_id";

    fn select(detectors: &Detectors) -> &Self {
        &detectors.insurance
    }

    fn parse(body: &Value, now: DateTime<Utc>) -> Result<Claim, ValidationErrors> {
        Claim::parse(body, now)
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
        let alerts: Vec<Value> = assessment
            .alerts
            .iter()
            .map(|alert| {
                json!({
                    "rule": alert.rule,
                    "severity": alert.severity.as_str(),
                    "confidence": alert.confidence,
                    "reason": alert.reason,
                    "evidence": alert.evidence,
                })
            })
            .collect();
        let mut body = into_map(json!({
            "claim_id": claim.claim_id,
            "policy_id": claim.policy_id,
            "claim_amount": claim.claim_amount,
            "fraud_risk": assessment.risk,
            "timestamp": timestamp,
            "alerts": alerts,
            "fraud_probability": (assessment.probability * 100.0).round() / 100.0,
            "flagged": assessment.flagged,
        }));
        if let Some(score) = assessment.model_score {
            body.insert("model_score".to_owned(), json!(score));
        }
        body
    }
}
