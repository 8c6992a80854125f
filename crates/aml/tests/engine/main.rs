//! The AML engine through its public API, over real in-process windows (redflag-windows): each
//! typology's scenario and its near miss, the laundering patterns through mule accounts, the
//! anomaly model's alert and the learned peer groups.

mod anomaly;
mod custom_rules;
mod laundering;
mod peer_groups;
mod typologies;

use chrono::{DateTime, Duration, Utc};
use redflag_aml::{AmlAssessment, AmlConfig, AmlDetector, Transaction};
use redflag_core::Detector;
use redflag_windows::InProcessWindows;
use serde_json::{Value, json};

/// Transfers through the detector as the gateway sends them, over in-process windows.
pub struct Scenario {
    detector: AmlDetector,
    windows: InProcessWindows,
}

impl Default for Scenario {
    fn default() -> Self {
        Self::with(AmlConfig::default())
    }
}

impl Scenario {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(config: AmlConfig) -> Self {
        Self::with_detector(AmlDetector::new(config).expect("the scenario's settings are valid"))
    }

    pub fn with_detector(detector: AmlDetector) -> Self {
        Self {
            detector,
            windows: InProcessWindows::new(10_000),
        }
    }

    /// Scores one transfer; `extra` adds request fields.
    pub fn send(
        &mut self,
        id: &str,
        sender: &str,
        receiver: &str,
        amount: f64,
        at: &str,
        extra: Value,
    ) -> AmlAssessment {
        let mut body = json!({"transaction_id": id, "user_id": "U", "amount": amount,
                              "sender_id": sender, "receiver_id": receiver, "timestamp": at});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        let transaction = Transaction::parse(&body, Utc::now()).expect("a valid transfer");
        self.detector.score(&transaction, &mut self.windows)
    }

    /// The rules one transfer raises.
    pub fn rules(
        &mut self,
        id: &str,
        sender: &str,
        receiver: &str,
        amount: f64,
        at: &str,
    ) -> Vec<String> {
        rules(&self.send(id, sender, receiver, amount, at, json!({})))
    }
}

pub fn rules(verdict: &AmlAssessment) -> Vec<String> {
    verdict
        .alerts
        .iter()
        .map(|alert| alert.rule.clone())
        .collect()
}

/// `hours` after 2026-02-01 09:00 UTC, in RFC 3339: fixed event times, whatever the clock says.
pub fn at(hours: f64) -> String {
    let start = DateTime::parse_from_rfc3339("2026-02-01T09:00:00Z")
        .expect("valid")
        .with_timezone(&Utc);
    (start + Duration::seconds((hours * 3600.0) as i64)).to_rfc3339()
}
