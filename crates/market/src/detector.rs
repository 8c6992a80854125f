use redflag_core::{Detector, History, Module, Observation, Rule, RuleSet, Verdict};
use redflag_ml_core::{IsolationForest, verdict_with_model};

use crate::session::{Session, SessionError};
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
    model: Option<IsolationForest>,
    anomaly_threshold: Option<f64>,
}

/// The market verdict on one event.
pub type MarketAssessment = Verdict;

impl MarketDetector {
    /// The engine; fails only on session settings that cannot be read (zone, open, close).
    pub fn new(config: MarketConfig) -> Result<Self, SessionError> {
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
            config,
            rules: RuleSet::new(rules),
            model: None,
            anomaly_threshold: None,
        })
    }

    /// Scores every event with this anomaly model too (its features: [`crate::model::FEATURES`]).
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
}

impl Detector for MarketDetector {
    type Event = MarketEvent;
    type Assessment = MarketAssessment;

    const MODULE: Module = Module::Market;

    fn observations(&self, event: &MarketEvent) -> Vec<Observation> {
        windows::observations(event, &self.config)
    }

    /// The rules' alerts plus the anomaly alert; manipulation risk is 100 x their noisy-OR,
    /// 1 - prod(1 - confidence), flagged from `flag_risk_score`.
    fn detect(&self, event: &MarketEvent, history: &History) -> MarketAssessment {
        verdict_with_model(
            self.rules.evaluate(event, history),
            self.config.flag_risk_score,
            self.model.as_ref(),
            &model::FEATURES,
            &model::features(event, history, &self.config),
            self.anomaly_threshold,
        )
    }
    fn history_rules(&self) -> Vec<&'static str> {
        self.rules.history_rules()
    }
}
