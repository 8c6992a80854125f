//! The pieces of the contract's response bodies that several modules share.

use redflag_core::Alert;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An AML alert: the rule, how severe and sure it is, why, and the figures behind it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetadataAlert {
    #[schema(example = "StructuringRule")]
    pub rule: String,
    /// `low`, `medium`, `high` or `critical`.
    #[schema(example = "high")]
    pub severity: &'static str,
    #[schema(example = 0.8)]
    pub confidence: f64,
    pub reason: String,
    /// The figures the rule decided on (counts, totals, windows), by name.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
}

/// An insurance alert: as AML's, with evidence lines instead of figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceAlert {
    pub rule: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: &'static str,
    pub confidence: f64,
    pub reason: String,
    pub evidence: Vec<String>,
}

/// A market-surveillance alert: with the typology's code, and the severity in upper case.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypedEvidenceAlert {
    #[schema(example = "Pump And Dump")]
    pub rule: String,
    #[schema(example = "pump_and_dump")]
    pub alert_type: String,
    /// `LOW`, `MEDIUM`, `HIGH` or `CRITICAL`.
    pub severity: &'static str,
    pub confidence: f64,
    pub reason: String,
    pub evidence: Vec<String>,
}

pub(super) fn metadata_alerts(alerts: &[Alert]) -> Vec<MetadataAlert> {
    alerts
        .iter()
        .map(|alert| MetadataAlert {
            rule: alert.rule.clone(),
            severity: alert.severity.as_str(),
            confidence: alert.confidence,
            reason: alert.reason.clone(),
            metadata: alert.metadata.clone(),
        })
        .collect()
}

pub(super) fn evidence_alerts(alerts: &[Alert]) -> Vec<EvidenceAlert> {
    alerts
        .iter()
        .map(|alert| EvidenceAlert {
            rule: alert.rule.clone(),
            severity: alert.severity.as_str(),
            confidence: alert.confidence,
            reason: alert.reason.clone(),
            evidence: alert.evidence.clone(),
        })
        .collect()
}

pub(super) fn typed_evidence_alerts(alerts: &[Alert]) -> Vec<TypedEvidenceAlert> {
    alerts
        .iter()
        .map(|alert| TypedEvidenceAlert {
            rule: alert.rule.clone(),
            alert_type: alert.code.clone(),
            severity: alert.severity.as_upper(),
            confidence: alert.confidence,
            reason: alert.reason.clone(),
            evidence: alert.evidence.clone(),
        })
        .collect()
}

/// A response body as the JSON object the detection pipeline stores and extends.
pub(super) fn object(body: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(body) {
        Ok(Value::Object(map)) => map,
        // Response types are structs of strings, numbers and lists: always an object.
        _ => Map::new(),
    }
}
