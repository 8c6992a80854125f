use std::sync::Arc;

use chrono::{DateTime, Utc};
use redflag_core::{
    ConfigError, Detector, EntityKind, History, Learning, Module, ModuleSpec, Observation, Rule,
    RuleSet, ValidationErrors, Verdict,
};
use redflag_ml_core::{AnomalyModel, Artifact, IsolationForest, verdict_with_model};
use redflag_rules::{CompiledRules, Customisable, FeatureSpec};
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
    model: Option<AnomalyModel>,
    /// A rule set's custom rules, run after the built-in ones.
    custom: Option<Arc<CompiledRules>>,
}

/// The insurance verdict on one claim.
pub type InsuranceAssessment = Verdict;

impl InsuranceDetector {
    /// The engine, valuing claims without a market value from `config.valuation_file` (the
    /// bundled table when empty); contact identifiers are hashed with `config.identifier_key`.
    /// Refuses settings that make the rules meaningless, and a valuation table it cannot read.
    pub fn new(config: InsuranceConfig) -> Result<Self, ConfigError> {
        config.check()?;
        let valuations =
            ValuationTable::load(&config.valuation_file).map_err(|error| ConfigError {
                problems: vec![format!("insurance.valuation_file: {error}")],
            })?;
        let valuations = Arc::new(valuations);
        Ok(Self {
            hasher: IdentifierHasher::new(config.identifier_key.expose().as_bytes()),
            rules: rules(&config, Arc::clone(&valuations)),
            valuations,
            config,
            model: None,
            custom: None,
        })
    }

    /// Scores every claim with the artifact's anomaly model too (its features:
    /// [`crate::model::FEATURES`]), alerting from the score measured on its training data.
    pub fn with_model(mut self, artifact: Artifact<IsolationForest>) -> Self {
        self.model = Some(AnomalyModel::from_artifact(artifact));
        self
    }

    /// Alerts from this score instead of the one measured on the training data (a deployment's
    /// calibration to its own traffic); `None` keeps the anomaly alert silent, as while the
    /// calibration warms up, and the score still ranks events. Call it after `with_model`.
    pub fn with_anomaly_threshold(mut self, threshold: Option<f64>) -> Self {
        if let Some(model) = &mut self.model {
            model.threshold = threshold;
        }
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

/// The claims rules; the inflation rule values items from `valuations`.
fn rules(config: &InsuranceConfig, valuations: Arc<ValuationTable>) -> RuleSet<Claim> {
    let rules: Vec<Box<dyn Rule<Claim>>> = vec![
        Box::new(PropertyInflationRule::new(config, valuations)),
        Box::new(ExcessiveClaimRule::new(config)),
        Box::new(EarlyClaimRule::new(config)),
        Box::new(LateReportingRule::new(config)),
        Box::new(RepeatClaimsRule::new(config)),
        Box::new(DuplicateClaimRule),
        Box::new(RoundAmountRule::new(config)),
        Box::new(AuthorityLimitRule::new(config)),
        Box::new(SharedIdentifierRule::new(config)),
        Box::new(ProviderOutlierRule::new(config)),
    ];
    RuleSet::new(rules)
}

impl Customisable for InsuranceDetector {
    const CATALOGUE: &'static [FeatureSpec] = crate::features::CATALOGUE;

    fn builtin_rules(&self) -> Vec<&'static str> {
        self.rules.names()
    }

    fn with_rule_set(
        mut self,
        disabled: &[String],
        custom: Arc<CompiledRules>,
    ) -> Result<Self, String> {
        self.rules.disable(disabled)?;
        self.custom = Some(custom).filter(|custom| !custom.is_empty());
        Ok(self)
    }
}

impl Detector for InsuranceDetector {
    type Event = Claim;
    type Assessment = InsuranceAssessment;

    const SPEC: ModuleSpec = ModuleSpec {
        module: Module::Insurance,
        reference_field: "claim_id",
        entity_field: "policy_id",
        event_time_field: "timestamp",
        windows: &[
            EntityKind::Policy,
            EntityKind::Claimant,
            EntityKind::ClaimType,
            EntityKind::SharedIdentifier,
        ],
        model_features: &model::FEATURES,
        learning: Learning::Anomaly,
    };

    fn observations(&self, claim: &Claim) -> Vec<Observation> {
        windows::observations(claim, &self.config)
    }

    /// The rules' alerts plus the anomaly alert; the fraud probability is their noisy-OR,
    /// 1 - prod(1 - confidence), flagged from `flag_probability`.
    fn detect(&self, claim: &Claim, history: &History) -> InsuranceAssessment {
        let row = model::features(claim, history, &self.valuations);
        let mut alerts = self.rules.evaluate(claim, history);
        if let Some(custom) = &self.custom {
            // Scored here only for a rule that reads `model_score` (the verdict scores again).
            let score = || {
                self.model
                    .as_ref()
                    .and_then(|model| model.forest.score(&row).ok())
            };
            alerts.extend(
                custom.evaluate(&mut |index| crate::features::value(index, claim, history, &score)),
            );
        }
        verdict_with_model(
            alerts,
            self.config.flag_probability * 100.0,
            self.model.as_ref(),
            &model::FEATURES,
            &row,
        )
    }
    fn history_rules(&self) -> Vec<&'static str> {
        self.rules.history_rules()
    }
    fn history_horizon(&self) -> chrono::Duration {
        let c = &self.config;
        chrono::Duration::days(i64::from(
            c.repeat_claims_window_days
                .max(c.ring_window_days)
                .max(c.provider_peer_window_days),
        ))
    }
}
