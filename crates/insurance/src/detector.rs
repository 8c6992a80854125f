use chrono::Duration;
use redflag_core::{
    Activity, Detector, EntityKind, History, Module, Observation, Rule, RuleSet, Verdict,
    WindowKey, WindowMode,
};

use redflag_ml_core::IsolationForest;

use crate::{Claim, InsuranceConfig, PropertyInflationRule, RepeatClaimsRule, model};

/// The insurance engine: claims-fraud rules over the policy's recent claims.
pub struct InsuranceDetector {
    config: InsuranceConfig,
    rules: RuleSet<Claim>,
    model: Option<IsolationForest>,
}

/// The insurance verdict on one claim.
pub type InsuranceAssessment = Verdict;

impl InsuranceDetector {
    pub fn new(config: InsuranceConfig) -> Self {
        let rules: Vec<Box<dyn Rule<Claim>>> = vec![
            Box::new(PropertyInflationRule::new(&config)),
            Box::new(RepeatClaimsRule::new(&config)),
        ];
        Self {
            config,
            rules: RuleSet::new(rules),
            model: None,
        }
    }

    /// Scores every claim with this anomaly model too (its features: [`crate::model::FEATURES`]).
    pub fn with_model(mut self, model: IsolationForest) -> Self {
        self.model = Some(model);
        self
    }
}

pub(crate) fn policy_window(claim: &Claim) -> WindowKey {
    WindowKey::new(Module::Insurance, EntityKind::Policy, &claim.policy_id)
}

impl Detector for InsuranceDetector {
    type Event = Claim;
    type Assessment = InsuranceAssessment;

    const MODULE: Module = Module::Insurance;

    fn observations(&self, claim: &Claim) -> Vec<Observation> {
        vec![Observation {
            key: policy_window(claim),
            activity: Activity {
                at: claim.at,
                reference: claim.claim_id.clone(),
                amount: claim.claim_amount,
                quantity: claim.estimated_value.unwrap_or(0.0),
                counterparty: String::new(),
            },
            horizon: Duration::days(i64::from(self.config.repeat_claims_window_days)),
            mode: WindowMode::Record,
        }]
    }

    fn detect(&self, claim: &Claim, history: &History) -> InsuranceAssessment {
        let model_score = self
            .model
            .as_ref()
            .and_then(|model| model.score(&model::features(claim, history)).ok());
        Verdict::from_alerts(
            self.rules.evaluate(claim, history),
            self.config.flag_probability * 100.0,
        )
        .with_model_score(model_score)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::{Value, json};

    use super::*;

    fn claim(body: Value) -> Claim {
        Claim::parse(&body, Utc::now()).expect("a valid claim")
    }

    fn detector() -> InsuranceDetector {
        InsuranceDetector::new(InsuranceConfig::default())
    }

    #[test]
    fn an_estimate_far_above_market_value_is_inflation_with_the_figures() {
        let claim = claim(
            json!({"claim_id": "CLM-001", "policy_id": "POL-9", "claim_amount": 45000,
                                 "estimated_value": 52000, "market_value": 32000}),
        );
        let verdict = detector().detect(&claim, &History::new());
        assert_eq!(verdict.alerts.len(), 1);
        let alert = &verdict.alerts[0];
        assert_eq!(alert.rule, "PropertyInflationRule");
        assert_eq!(
            alert.evidence,
            ["Estimated value $52000.00 is 1.6x higher than market value $32000.00"]
        );
        assert_eq!(alert.confidence, 0.58);
        assert_eq!(
            alert.reason,
            "Property claim inflation suspected (score: 0.58)"
        );
        assert_eq!((verdict.probability * 100.0).round() / 100.0, 0.58);
        assert_eq!(verdict.risk, 58.0);
        assert!(verdict.flagged);
    }

    #[test]
    fn the_seed_claim_without_market_value_is_not_inflation() {
        let claim = claim(
            json!({"claim_id": "CLM-001", "policy_id": "POL-9", "claim_amount": 45000,
                                 "estimated_value": 52000}),
        );
        let verdict = detector().detect(&claim, &History::new());
        assert!(verdict.alerts.is_empty());
        assert_eq!(verdict.risk, 0.0);
        assert!(!verdict.flagged);
    }

    #[test]
    fn a_claim_far_above_the_estimate_is_inflation() {
        let claim = claim(
            json!({"claim_id": "C", "policy_id": "P", "claim_amount": 20000,
                                 "estimated_value": 10000}),
        );
        let verdict = detector().detect(&claim, &History::new());
        assert_eq!(
            verdict.alerts[0].evidence,
            ["Claim amount $20000.00 is 2.0x the estimated value $10000.00"]
        );
    }

    #[test]
    fn the_third_claim_on_a_policy_within_a_year_is_a_repeat_pattern() {
        let detector = detector();
        let third = claim(json!({"claim_id": "C3", "policy_id": "P", "claim_amount": 1000}));
        let observation = detector.observations(&third).remove(0);
        let earlier = |id: &str, days: i64| Activity {
            at: third.at - Duration::days(days),
            reference: id.to_owned(),
            amount: 1500.0,
            quantity: 0.0,
            counterparty: String::new(),
        };
        let mut history = History::new();
        history.insert(observation.key.clone(), vec![earlier("C1", 200)]);
        assert!(detector.detect(&third, &history).alerts.is_empty());
        history.insert(observation.key, vec![earlier("C1", 200), earlier("C2", 30)]);
        let verdict = detector.detect(&third, &history);
        assert_eq!(verdict.alerts[0].rule, "RepeatClaimsRule");
        assert_eq!(
            verdict.alerts[0].reason,
            "Repeat claims: 3 claims totaling $4000.00 on policy P in 365 days"
        );
    }
}
