use std::sync::Arc;

use chrono::{DateTime, Utc};
use redflag_core::{
    Detector, History, Module, Observation, Rule, RuleSet, ValidationErrors, Verdict,
};
use redflag_ml_core::{IsolationForest, verdict_with_model};
use serde_json::Value;

use crate::amounts::{AuthorityLimitRule, RoundAmountRule};
use crate::contacts::IdentifierHasher;
use crate::duplicate::DuplicateClaimRule;
use crate::excessive::ExcessiveClaimRule;
use crate::provider::ProviderOutlierRule;
use crate::rings::SharedIdentifierRule;
use crate::timing::{EarlyClaimRule, LateReportingRule};
use crate::valuation::ValuationTable;
use crate::{Claim, InsuranceConfig, PropertyInflationRule, RepeatClaimsRule, model, windows};

/// The insurance engine: claims-fraud rules over the claim and its policy's, claimant's, shared
/// identifiers' and peers' recent claims, plus the anomaly model.
pub struct InsuranceDetector {
    config: InsuranceConfig,
    rules: RuleSet<Claim>,
    valuations: Arc<ValuationTable>,
    hasher: IdentifierHasher,
    model: Option<IsolationForest>,
    anomaly_threshold: Option<f64>,
}

/// The insurance verdict on one claim.
pub type InsuranceAssessment = Verdict;

impl InsuranceDetector {
    /// The engine with its valuation table (for claims without a market value); contact
    /// identifiers are hashed with `config.identifier_key`.
    pub fn new(config: InsuranceConfig, valuations: ValuationTable) -> Self {
        let valuations = Arc::new(valuations);
        let rules: Vec<Box<dyn Rule<Claim>>> = vec![
            Box::new(PropertyInflationRule::new(&config, Arc::clone(&valuations))),
            Box::new(ExcessiveClaimRule::new(&config)),
            Box::new(EarlyClaimRule::new(&config)),
            Box::new(LateReportingRule::new(&config)),
            Box::new(RepeatClaimsRule::new(&config)),
            Box::new(DuplicateClaimRule),
            Box::new(RoundAmountRule::new(&config)),
            Box::new(AuthorityLimitRule::new(&config)),
            Box::new(SharedIdentifierRule::new(&config)),
            Box::new(ProviderOutlierRule::new(&config)),
        ];
        Self {
            hasher: IdentifierHasher::new(config.identifier_key.expose().as_bytes()),
            config,
            rules: RuleSet::new(rules),
            valuations,
            model: None,
            anomaly_threshold: None,
        }
    }

    /// Scores every claim with this anomaly model too (its features: [`crate::model::FEATURES`]).
    pub fn with_model(mut self, model: IsolationForest) -> Self {
        self.model = Some(model);
        self
    }

    /// Raises an `AnomalyRule` alert when the model's score reaches `threshold` (the artifact's
    /// `threshold` metric); without it the score is only reported.
    pub fn with_anomaly_threshold(mut self, threshold: f64) -> Self {
        self.anomaly_threshold = Some(threshold);
        self
    }

    /// Reads a claim from a request body, hashing its contact identifiers with this engine's key.
    pub fn parse(&self, body: &Value, now: DateTime<Utc>) -> Result<Claim, ValidationErrors> {
        Claim::parse(body, now, &self.hasher)
    }

    /// The hasher of contact identifiers, for callers that build claims in code.
    pub fn hasher(&self) -> &IdentifierHasher {
        &self.hasher
    }
}

impl Detector for InsuranceDetector {
    type Event = Claim;
    type Assessment = InsuranceAssessment;

    const MODULE: Module = Module::Insurance;

    fn observations(&self, claim: &Claim) -> Vec<Observation> {
        windows::observations(claim, &self.config)
    }

    /// The rules' alerts plus the anomaly alert; the fraud probability is their noisy-OR,
    /// 1 - prod(1 - confidence), flagged from `flag_probability`.
    fn detect(&self, claim: &Claim, history: &History) -> InsuranceAssessment {
        verdict_with_model(
            self.rules.evaluate(claim, history),
            self.config.flag_probability * 100.0,
            self.model.as_ref(),
            &model::FEATURES,
            &model::features(claim, history, &self.valuations),
            self.anomaly_threshold,
        )
    }
    fn history_rules(&self) -> Vec<&'static str> {
        self.rules.history_rules()
    }
}
