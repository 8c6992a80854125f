use serde::Serialize;

use crate::{Alert, Assessment, History, Rule, noisy_or};

/// The rules of one engine, run in order over each event: the strategy pattern of the detectors.
pub struct RuleSet<E> {
    rules: Vec<Box<dyn Rule<E>>>,
    /// Rules switched off by name (a published rule set's `disabled`): kept, so that an engine
    /// reconfigured later still knows them, but never run.
    disabled: Vec<String>,
}

impl<E> RuleSet<E> {
    pub fn new(rules: Vec<Box<dyn Rule<E>>>) -> Self {
        Self {
            rules,
            disabled: Vec::new(),
        }
    }

    /// Every rule's name, in rule order, switched off or not.
    pub fn names(&self) -> Vec<&'static str> {
        self.rules.iter().map(|rule| rule.name()).collect()
    }

    /// Switches off the rules of these names; refuses a name no rule has, naming it.
    pub fn disable(&mut self, names: &[String]) -> Result<(), String> {
        let known = self.names();
        if let Some(unknown) = names.iter().find(|name| !known.contains(&name.as_str())) {
            return Err(format!(
                "no built-in rule is named `{unknown}`; the rules are {}",
                known.join(", ")
            ));
        }
        self.disabled = names.to_vec();
        Ok(())
    }

    fn enabled(&self) -> impl Iterator<Item = &dyn Rule<E>> {
        self.rules
            .iter()
            .map(|rule| rule.as_ref())
            .filter(|rule| !self.disabled.iter().any(|name| name == rule.name()))
    }

    /// Adds a rule after the others.
    pub fn push(&mut self, rule: Box<dyn Rule<E>>) {
        self.rules.push(rule);
    }

    /// Puts `rule` in the place of the rule of the same name (an engine reconfigured with what
    /// it learned keeps its rule order); adds it after the others when there is none.
    pub fn replace(&mut self, rule: Box<dyn Rule<E>>) {
        match self.rules.iter_mut().find(|old| old.name() == rule.name()) {
            Some(old) => *old = rule,
            None => self.rules.push(rule),
        }
    }

    /// The names of the rules that read history, in rule order (see [`Rule::needs_history`]).
    pub fn history_rules(&self) -> Vec<&'static str> {
        self.enabled()
            .filter(|rule| rule.needs_history())
            .map(|rule| rule.name())
            .collect()
    }

    /// Every rule's alert for this event, in rule order.
    pub fn evaluate(&self, event: &E, history: &History) -> Vec<Alert> {
        self.enabled()
            .filter_map(|rule| rule.evaluate(event, history))
            .collect()
    }
}

/// The share of the flag level that supporting signals alone can reach at most: below it after
/// rounding to one decimal.
const SUPPORTING_CEILING: f64 = 0.98;

/// A rule engine's conclusion about one event: its alerts, how likely at least one of them is
/// right, and whether that crosses the engine's flagging threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The noisy-OR of the alert confidences, 0..=1, unrounded.
    pub probability: f64,
    /// `probability` x 100, one decimal: the contract's risk figure.
    pub risk: f64,
    pub flagged: bool,
    pub alerts: Vec<Alert>,
    /// The engine's anomaly model score (0..=1, near 1 is anomalous), when it has a model.
    pub model_score: Option<f64>,
    /// The figures the engine's model scores the event on, in the model's feature order; stored
    /// with the decision so that models can be retrained on real traffic. Not part of the
    /// response.
    #[serde(skip)]
    pub model_features: Vec<f64>,
    /// `model_score` before rounding: what a second decision on the same event and model (a
    /// shadowed rule set's) reuses instead of scoring again. Not part of the response.
    #[serde(skip)]
    pub exact_model_score: Option<f64>,
}

impl Verdict {
    /// Combines the alerts so that the risk ranks events, flagged when it reaches `flag_at_risk`
    /// (0-100). With a typology among them, the risk is the noisy-OR of every alert's confidence,
    /// 1 - prod(1 - confidence), the supporting ones adding to it. With supporting alerts only
    /// (velocity, a fan, a round amount, unusual activity, the anomaly model) it is their noisy-OR
    /// scaled to just under `flag_at_risk`: no number of weak signals flags an event, yet the
    /// busiest of the unflagged still rank above the quiet ones. Every engine's verdict is made
    /// here, so no engine can let a supporting signal flag alone.
    pub fn from_alerts(alerts: Vec<Alert>, flag_at_risk: f64) -> Self {
        Self::ranked(alerts, 0.0, flag_at_risk)
    }

    /// As [`Verdict::from_alerts`], with `background` (a confidence, 0-1) for an event no
    /// typology speaks for: evidence too weak for an alert of its own (the anomaly model's score
    /// below its alert threshold) that joins the supporting signals' noisy-OR, so that the
    /// events with no alert, most of them, are ranked too instead of all tying at 0. A typology's
    /// risk, and so every flag, is left as its alerts make it.
    pub fn ranked(alerts: Vec<Alert>, background: f64, flag_at_risk: f64) -> Self {
        let typology = alerts.iter().any(|alert| !alert.is_supporting());
        let background = if typology {
            0.0
        } else {
            background.clamp(0.0, 1.0)
        };
        let mut probability = noisy_or(
            alerts
                .iter()
                .map(|alert| alert.confidence)
                .chain(std::iter::once(background)),
        );
        if !typology {
            probability *= (flag_at_risk / 100.0).clamp(0.0, 1.0) * SUPPORTING_CEILING;
        }
        Self {
            probability,
            risk: (probability * 1000.0).round() / 10.0,
            flagged: typology && probability * 100.0 >= flag_at_risk,
            alerts,
            model_score: None,
            model_features: Vec::new(),
            exact_model_score: None,
        }
    }

    /// Adds the anomaly model's score, rounded to three decimals.
    pub fn with_model_score(mut self, score: Option<f64>) -> Self {
        self.model_score = score.map(|score| (score * 1000.0).round() / 1000.0);
        self.exact_model_score = score;
        self
    }

    /// Keeps the model's input row with the verdict (see [`Verdict::model_features`]).
    pub fn with_model_features(mut self, row: &[f64]) -> Self {
        self.model_features = row.to_vec();
        self
    }
}

impl Assessment for Verdict {
    fn risk(&self) -> f64 {
        self.risk
    }

    fn flagged(&self) -> bool {
        self.flagged
    }

    fn alerts(&self) -> Vec<Alert> {
        self.alerts.clone()
    }

    fn alert_rules(&self) -> Vec<String> {
        self.alerts.iter().map(|alert| alert.rule.clone()).collect()
    }

    fn model_features(&self) -> &[f64] {
        &self.model_features
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    #[test]
    fn no_alerts_is_no_risk_and_two_alerts_outweigh_one() {
        let quiet = Verdict::from_alerts(Vec::new(), 50.0);
        assert_eq!((quiet.risk, quiet.flagged), (0.0, false));
        let alert = |confidence| Alert::new("R", "r", Severity::Medium, confidence, "why");
        let one = Verdict::from_alerts(vec![alert(0.4)], 50.0);
        assert_eq!((one.risk, one.flagged), (40.0, false));
        let two = Verdict::from_alerts(vec![alert(0.4), alert(0.4)], 50.0);
        assert_eq!((two.risk, two.flagged), (64.0, true));
    }

    #[test]
    fn supporting_signals_rank_below_the_flag_level_however_many_and_add_to_a_typology() {
        let alert = |confidence| Alert::new("R", "r", Severity::Medium, confidence, "why");
        let weak = |confidence| alert(confidence).supporting();
        let many = Verdict::from_alerts(vec![weak(0.9), weak(0.9), weak(0.9)], 50.0);
        assert!(!many.flagged && many.risk < 50.0, "{}", many.risk);
        let one = Verdict::from_alerts(vec![weak(0.3)], 50.0);
        assert!(
            one.risk > 0.0 && one.risk < many.risk,
            "{} {}",
            one.risk,
            many.risk
        );
        let typology = Verdict::from_alerts(vec![alert(0.6), weak(0.5)], 50.0);
        assert_eq!((typology.risk, typology.flagged), (80.0, true));
    }

    #[test]
    fn background_evidence_ranks_the_events_without_a_typology_and_never_moves_a_typology() {
        let alert = |confidence| Alert::new("R", "r", Severity::Medium, confidence, "why");
        let quiet = Verdict::ranked(Vec::new(), 0.0, 50.0);
        assert_eq!((quiet.risk, quiet.flagged), (0.0, false));
        let unusual = Verdict::ranked(Vec::new(), 0.2, 50.0);
        assert_eq!((unusual.risk, unusual.flagged), (9.8, false), "0.2 x 49");
        let more = Verdict::ranked(Vec::new(), 0.9, 50.0);
        assert!(!more.flagged && more.risk < 50.0 && more.risk > unusual.risk);
        let supported = Verdict::ranked(vec![alert(0.3).supporting()], 0.2, 50.0);
        assert_eq!(supported.risk, 21.6, "(1 - 0.7 x 0.8) x 49");
        let typology = Verdict::ranked(vec![alert(0.45)], 0.9, 50.0);
        assert_eq!(typology, Verdict::from_alerts(vec![alert(0.45)], 50.0));
    }
}
