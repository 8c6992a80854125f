use serde::Serialize;
use serde_json::{Map, Value};

use crate::Severity;

/// One rule's finding about one event, with the figures that justify it.
///
/// Every alert explains itself: `reason` is a sentence with the numbers in it, `metadata` holds the
/// same numbers for machines, and `evidence` lists the individual observations for an analyst.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The rule's display name, e.g. `StructuringRule` or `Pump And Dump`.
    pub rule: String,
    /// A stable snake_case code for the typology, e.g. `structuring`, `pump_and_dump`.
    pub code: String,
    pub severity: Severity,
    /// How sure the rule is, in 0..=1.
    pub confidence: f64,
    pub reason: String,
    pub metadata: Map<String, Value>,
    pub evidence: Vec<String>,
}

impl Alert {
    /// Starts an alert; the confidence is clamped into 0..=1 and rounded to two decimals, as shown
    /// to analysts.
    pub fn new(
        rule: impl Into<String>,
        code: impl Into<String>,
        severity: Severity,
        confidence: f64,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            rule: rule.into(),
            code: code.into(),
            severity,
            confidence: round2(confidence.clamp(0.0, 1.0)),
            reason: reason.into(),
            metadata: Map::new(),
            evidence: Vec::new(),
        }
    }

    /// Adds one figure to the machine-readable metadata.
    pub fn with_metadata(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }

    /// Marks the alert as a supporting signal: it adds to the risk of an event that a typology
    /// flags, and orders the rest, but never flags an event by itself ([`crate::Verdict::ranked`]).
    /// Shown to analysts as `"supporting": true` in the metadata.
    pub fn supporting(self) -> Self {
        self.with_metadata("supporting", true)
    }

    /// Whether the alert is a supporting signal (see [`Alert::supporting`]).
    pub fn is_supporting(&self) -> bool {
        self.metadata.get("supporting") == Some(&Value::Bool(true))
    }

    /// Adds one human-readable observation.
    pub fn with_evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }
}

/// Rounds to two decimals, the precision in which confidences and ratios are reported.
pub(crate) fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_is_clamped_and_rounded() {
        let alert = Alert::new("R", "r", Severity::Low, 1.7, "x");
        assert_eq!(alert.confidence, 1.0);
        let alert = Alert::new("R", "r", Severity::Low, 0.78123, "x");
        assert_eq!(alert.confidence, 0.78);
    }
}
