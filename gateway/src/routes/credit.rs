//! POST /api/credit/assess/ in the contract's shape.

use chrono::{DateTime, Utc};
use redflag_core::{Assessment, ValidationErrors};
use redflag_credit::{Application, CreditAssessment, CreditDetector};
use serde_json::{Map, Value, json};

use super::Endpoint;
use super::render::{insert_optional, object};
use crate::state::Detectors;

impl Endpoint for CreditDetector {
    const REFERENCE_FIELD: &'static str = "application_id";

    fn select(detectors: &Detectors) -> &Self {
        &detectors.credit
    }

    fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<Application, ValidationErrors> {
        Application::parse(body, now)
    }

    fn reference(application: &Application) -> Option<&str> {
        application.application_id.as_deref()
    }

    fn entity(application: &Application) -> &str {
        &application.applicant_id
    }

    fn event_time(application: &Application) -> DateTime<Utc> {
        application.at
    }

    fn render(
        application: &Application,
        assessment: &CreditAssessment,
        timestamp: String,
    ) -> Map<String, Value> {
        // The contract lists the decision itself first, as a `reason_code` entry; then the
        // policy-rule and referral alerts and the adverse-action reasons; an approval lists its
        // strengths instead.
        let decision = json!({
            "type": "reason_code",
            "message": assessment.decision,
            "severity": assessment.risk_tier.severity().as_str(),
        });
        let strengths = assessment.strengths.iter().map(
            |strength| json!({"type": "positive_factor", "message": strength, "severity": "low"}),
        );
        let alerts: Vec<Value> = std::iter::once(decision)
            .chain(assessment.alerts().iter().map(|alert| {
                json!({
                    "type": alert.code,
                    "message": alert.reason,
                    "severity": alert.severity.as_str(),
                })
            }))
            .chain(strengths)
            .collect();
        let points_lost: Map<String, Value> = assessment
            .characteristics
            .iter()
            .map(|scored| {
                (
                    scored.characteristic.code().to_owned(),
                    json!(scored.points_lost),
                )
            })
            .collect();
        let mut body = object(json!({
            "applicant_id": application.applicant_id,
            "risk_score": assessment.credit_score,
            "decision": assessment.decision,
            "timestamp": timestamp,
            "alerts": alerts,
            "credit_score": assessment.credit_score,
            "risk_tier": assessment.risk_tier,
            "factors": assessment.factors,
            "reason_codes": assessment.reasons,
            "points_lost": points_lost,
            "thin_file": assessment.thin_file,
            "assumed_fields": assessment.assumed_fields,
        }));
        insert_optional(&mut body, "debt_to_income", assessment.debt_to_income);
        insert_optional(&mut body, "new_instalment", assessment.new_instalment);
        insert_optional(
            &mut body,
            "probability_of_default",
            assessment.probability_of_default,
        );
        insert_optional(&mut body, "model_score", assessment.model_score);
        if let Some(application_id) = &application.application_id {
            body.insert("application_id".to_owned(), json!(application_id));
        }
        body
    }
}
