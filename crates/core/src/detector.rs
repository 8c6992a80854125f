use chrono::Duration;

use crate::{Alert, Event, History, Module, ModuleSpec, Observation};

/// A fraud detector for one module: pure, deterministic, free of IO.
///
/// The caller asks which windows an event needs ([`Detector::observations`]), lets its store record
/// the event in them and load their recent contents atomically, then calls [`Detector::detect`]
/// with that history. The same event and history always give the same assessment, which makes
/// replay, backfill and tests exact.
pub trait Detector: Send + Sync {
    /// The validated event this detector scores.
    type Event: Event;
    /// What the detector concludes about one event.
    type Assessment: Assessment;

    /// The module, described once: its fields, windows, model and flag level.
    const SPEC: ModuleSpec;
    /// The module whose decisions this detector makes.
    const MODULE: Module = Self::SPEC.module;

    /// The windows the event must be recorded in, and how far back each is needed.
    fn observations(&self, event: &Self::Event) -> Vec<Observation>;

    /// Scores the event against its recent history.
    fn detect(&self, event: &Self::Event, history: &History) -> Self::Assessment;

    /// How far back its longest window reaches: a replay starts this long before its period,
    /// so that every window holds what it held live.
    fn history_horizon(&self) -> Duration;

    /// Decides the event again beside `decided`, which another rule set of the same module
    /// reached on the same event and history with the same model: what a shadowed draft does on
    /// the live path. The result equals [`Detector::detect`]'s; an engine may reuse what cannot
    /// differ between rule sets (the model's score) instead of computing it twice.
    fn detect_beside(
        &self,
        event: &Self::Event,
        history: &History,
        _decided: &Self::Assessment,
    ) -> Self::Assessment {
        self.detect(event, history)
    }

    /// The rules that read recent history, by name: what a decision taken without its history
    /// (the windows' store unreachable) could not check, and must say it did not.
    fn history_rules(&self) -> Vec<&'static str>;

    /// Records the event in its windows and scores it against what they held before it: the one
    /// call an embedder scoring events in process needs.
    fn score<W: Windows + ?Sized>(&self, event: &Self::Event, windows: &mut W) -> Self::Assessment {
        let history = windows.observe(&self.observations(event));
        self.detect(event, &history)
    }
}

/// Recent-activity windows read and updated synchronously, in the caller's process: what
/// [`Detector::score`] records an event in (`redflag-windows` offers a bounded, sharded one).
pub trait Windows {
    /// Records every observation and returns each window's contents before this event, over the
    /// observation's horizon.
    fn observe(&mut self, observations: &[Observation]) -> History;
}

/// What every module's assessment offers to persistence and statistics, whatever its own shape.
pub trait Assessment {
    /// Risk on the common 0..=100 scale (higher is riskier), so that modules can be compared.
    fn risk(&self) -> f64;
    /// Whether the event needs an analyst's attention.
    fn flagged(&self) -> bool;
    /// The rule findings, in the order the response lists them.
    fn alerts(&self) -> Vec<Alert>;
    /// The names of the rules that raised them, in the same order: what a backtest compares,
    /// without copying each alert's figures and evidence.
    fn alert_rules(&self) -> Vec<String> {
        self.alerts().into_iter().map(|alert| alert.rule).collect()
    }
    /// The module's own decision word, for modules that decide (credit: APPROVED, REVIEW, DECLINED).
    fn decision(&self) -> Option<&str> {
        None
    }
    /// The figures the module's model reads, in its feature order (empty when it has none): kept
    /// with each decision so that the worker can retrain the model on real traffic.
    fn model_features(&self) -> &[f64] {
        &[]
    }
}

/// One typology check inside a detector: the strategy pattern of the engines.
///
/// A rule is a small type holding its own thresholds; it sees the event and its history and either
/// stays quiet or returns an alert that explains itself with the figures.
pub trait Rule<E>: Send + Sync {
    /// The rule's display name, as alerts show it.
    fn name(&self) -> &'static str;

    fn evaluate(&self, event: &E, history: &History) -> Option<Alert>;

    /// Whether the rule reads the event's history. Rules that do are listed as skipped when a
    /// decision is taken without history; a rule that reads only the event overrides this.
    fn needs_history(&self) -> bool {
        true
    }
}
