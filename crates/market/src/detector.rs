use redflag_core::{
    ConfigError, Detector, EntityKind, History, Learning, Module, ModuleSpec, Observation, Rule,
    RuleSet, Verdict,
};
use std::sync::Arc;

use redflag_ml_core::{AnomalyModel, Artifact, IsolationForest, verdict_with_model};
use redflag_rules::{CompiledRules, Customisable, FeatureSpec};

use crate::features::FeatureReader;
use crate::session::Session;
use crate::{
    DumpAfterPump, DumpAfterRunUp, MarketConfig, MarketEvent, MarkingTheClose, MultiDayPump,
    PumpAndDump, RunUpBuilding, RunUpReversing, SpoofingRule, UnusualActivity, WashTradeRule,
    model, windows,
};

/// The market engine: surveillance rules over the symbol's, the trader's and the trading pair's
/// recent events, plus the anomaly model.
pub struct MarketDetector {
    config: MarketConfig,
    rules: RuleSet<MarketEvent>,
    model: Option<AnomalyModel>,
    /// A rule set's custom rules, run after the built-in ones.
    custom: Option<Arc<CompiledRules>>,
    features: FeatureReader,
}

/// The market verdict on one event.
pub type MarketAssessment = Verdict;

impl MarketDetector {
    /// The engine; refuses settings that make the rules meaningless, and a session (zone, open,
    /// close) that cannot be read.
    pub fn new(config: MarketConfig) -> Result<Self, ConfigError> {
        config.check()?;
        let session = Session::from_config(&config)?;
        let rules: Vec<Box<dyn Rule<MarketEvent>>> = vec![
            Box::new(PumpAndDump::new(&config)),
            Box::new(DumpAfterPump::new(&config)),
            Box::new(MultiDayPump::new(&config)),
            Box::new(RunUpBuilding::new(&config)),
            Box::new(DumpAfterRunUp::new(&config)),
            Box::new(RunUpReversing::new(&config)),
            Box::new(SpoofingRule::new(&config)),
            Box::new(WashTradeRule::new(&config)),
            Box::new(MarkingTheClose::new(&config, session)),
            Box::new(UnusualActivity::new(&config)),
        ];
        Ok(Self {
            features: FeatureReader::new(&config),
            config,
            rules: RuleSet::new(rules),
            model: None,
            custom: None,
        })
    }

    /// Scores every event with the artifact's anomaly model too (its features:
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
}

impl Customisable for MarketDetector {
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

impl Detector for MarketDetector {
    type Event = MarketEvent;
    type Assessment = MarketAssessment;

    const SPEC: ModuleSpec = ModuleSpec {
        module: Module::Market,
        reference_field: "trade_id/order_id",
        entity_field: "symbol",
        event_time_field: "timestamp",
        windows: &[
            EntityKind::Symbol,
            EntityKind::Trader,
            EntityKind::SymbolDailyVolume,
            EntityKind::SymbolDailyNotional,
            EntityKind::TraderPair,
        ],
        model_features: &model::FEATURES,
        learning: Learning::Anomaly,
    };

    fn observations(&self, event: &MarketEvent) -> Vec<Observation> {
        windows::observations(event, &self.config)
    }

    /// The rules' alerts plus the anomaly alert; manipulation risk is 100 x their noisy-OR,
    /// 1 - prod(1 - confidence), flagged from `flag_risk_score`.
    fn detect(&self, event: &MarketEvent, history: &History) -> MarketAssessment {
        let row = model::features(event, history, &self.config);
        let mut alerts = self.rules.evaluate(event, history);
        if let Some(custom) = &self.custom {
            // Scored here only for a rule that reads `model_score` (the verdict scores again).
            let score = || {
                self.model
                    .as_ref()
                    .and_then(|model| model.forest.score(&row).ok())
            };
            alerts.extend(
                custom.evaluate(&mut |index| self.features.value(index, event, history, &score)),
            );
        }
        verdict_with_model(
            alerts,
            self.config.flag_risk_score,
            self.model.as_ref(),
            &model::FEATURES,
            &row,
        )
    }
    fn history_rules(&self) -> Vec<&'static str> {
        self.rules.history_rules()
    }
    fn history_horizon(&self) -> chrono::Duration {
        windows::longest_horizon(&self.config)
    }
}
