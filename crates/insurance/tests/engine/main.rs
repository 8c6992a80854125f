//! The insurance engine through its public API, over real in-process windows (redflag-windows):
//! each rule's scenario, its near miss, and what never leaves the request in clear.

mod claims;
mod custom_rules;
mod history;
mod privacy;

use chrono::Utc;
use redflag_core::{Alert, Detector};
use redflag_insurance::{InsuranceAssessment, InsuranceConfig, InsuranceDetector};
use redflag_windows::InProcessWindows;
use serde_json::{Value, json};

/// Claims through the detector as the gateway sends them.
pub struct Scenario {
    pub detector: InsuranceDetector,
    windows: InProcessWindows,
}

impl Default for Scenario {
    fn default() -> Self {
        Self::with(InsuranceConfig::default())
    }
}

impl Scenario {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(config: InsuranceConfig) -> Self {
        Self::with_detector(Self::detector(config))
    }

    /// The engine as the scenarios run it (with a test key for contact identifiers).
    pub fn detector(config: InsuranceConfig) -> InsuranceDetector {
        InsuranceDetector::new(InsuranceConfig {
            identifier_key: redflag_core::Secret::new("test-key"),
            ..config
        })
        .expect("the scenario's settings are valid")
    }

    pub fn with_detector(detector: InsuranceDetector) -> Self {
        Self {
            detector,
            windows: InProcessWindows::new(10_000),
        }
    }

    /// Sends one claim: `extra` adds fields to a minimal claim of `amount` on `policy`.
    pub fn claim(&self, id: &str, policy: &str, amount: f64, extra: Value) -> InsuranceAssessment {
        let mut body = json!({"claim_id": id, "policy_id": policy, "claim_amount": amount});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        let claim = self
            .detector
            .parse(&body, Utc::now())
            .expect("a valid claim");
        self.detector.score(&claim, &mut &self.windows)
    }
}

/// The alert of `rule`, if it fired.
pub fn alert<'a>(verdict: &'a InsuranceAssessment, rule: &str) -> Option<&'a Alert> {
    verdict.alerts.iter().find(|alert| alert.rule == rule)
}

/// The rules that fired.
pub fn rules(verdict: &InsuranceAssessment) -> Vec<&str> {
    verdict
        .alerts
        .iter()
        .map(|alert| alert.rule.as_str())
        .collect()
}
