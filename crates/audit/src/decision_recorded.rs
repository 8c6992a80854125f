use chrono::{DateTime, Utc};
use redflag_core::{Alert, Module};
use serde::Serialize;

/// The audit record of one decision: who asked, about what, what was decided and why.
///
/// It names the rules that fired with their severities and confidences, so that an auditor can
/// reconstruct the reason for a decision without the detector's code of the day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRecorded {
    pub module: Module,
    /// The business id (`transaction_id`, `claim_id`, ...), when the event has one.
    pub reference: Option<String>,
    /// The entity the decision is about (sender, applicant, policy, symbol).
    pub entity_id: String,
    /// The authenticated user who submitted the event.
    pub actor: String,
    pub risk: f64,
    pub flagged: bool,
    pub decision: Option<String>,
    /// SHA-256 of the validated request as stored with the decision: proves which input was
    /// decided on without copying it into the log.
    pub request_sha256: String,
    /// The model that scored the event, as its artifact names it.
    pub model_version: Option<String>,
    /// The module's rule-set version that decided it (absent on decisions from before rule
    /// sets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ruleset_version: Option<i64>,
    /// Milliseconds from receipt to the decision being ready to store.
    pub latency_ms: f64,
    pub findings: Vec<Finding>,
    /// The rules not checked because the event's history could not be read (the windows' store
    /// was unreachable): absent on every decision taken with its history.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_rules: Vec<String>,
    pub event_time: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

/// One rule finding as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: String,
    pub confidence: f64,
}

impl Finding {
    /// The findings of a decision's alerts, in order.
    pub fn of_alerts(alerts: &[Alert]) -> Vec<Self> {
        alerts
            .iter()
            .map(|alert| Self {
                rule: alert.rule.clone(),
                severity: alert.severity.as_str().to_owned(),
                confidence: alert.confidence,
            })
            .collect()
    }
}

impl DecisionRecorded {
    /// The outbox `kind` of these records.
    pub const KIND: &'static str = "decision.recorded";

    /// The JSON payload stored in the outbox.
    pub fn to_payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|error| {
            // Serialising plain strings, numbers and timestamps cannot fail; keep the fact anyway.
            format!("{{\"serialization_error\":\"{error}\"}}")
        })
    }
}
