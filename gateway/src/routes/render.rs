//! The pieces of the contract's response bodies that several modules share.

use redflag_core::Alert;
use serde_json::{Map, Value, json};

/// How a module's contract spells its alerts.
#[derive(Clone, Copy)]
pub(super) enum AlertShape {
    /// AML: `{rule, severity, confidence, reason, metadata}`, severity in lower case.
    Metadata,
    /// Insurance: `{rule, severity, confidence, reason, evidence}`, severity in lower case.
    Evidence,
    /// Market: `{rule, alert_type, severity, confidence, reason, evidence}`, severity in upper case.
    TypedEvidence,
}

/// The alerts in the module's shape.
pub(super) fn alerts(alerts: &[Alert], shape: AlertShape) -> Vec<Value> {
    alerts
        .iter()
        .map(|alert| {
            let severity = match shape {
                AlertShape::TypedEvidence => alert.severity.as_upper(),
                AlertShape::Metadata | AlertShape::Evidence => alert.severity.as_str(),
            };
            let mut body = Map::new();
            body.insert("rule".to_owned(), json!(alert.rule));
            if let AlertShape::TypedEvidence = shape {
                body.insert("alert_type".to_owned(), json!(alert.code));
            }
            body.insert("severity".to_owned(), json!(severity));
            body.insert("confidence".to_owned(), json!(alert.confidence));
            body.insert("reason".to_owned(), json!(alert.reason));
            match shape {
                AlertShape::Metadata => body.insert("metadata".to_owned(), json!(alert.metadata)),
                AlertShape::Evidence | AlertShape::TypedEvidence => {
                    body.insert("evidence".to_owned(), json!(alert.evidence))
                }
            };
            Value::Object(body)
        })
        .collect()
}

/// The object inside a `json!({...})` literal.
pub(super) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Adds an optional figure (a model's score) under `key` when there is one.
pub(super) fn insert_optional(
    body: &mut Map<String, Value>,
    key: &str,
    value: Option<impl Into<Value>>,
) {
    if let Some(value) = value {
        body.insert(key.to_owned(), value.into());
    }
}
