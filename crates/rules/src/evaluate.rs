//! Running a compiled rule set on one event.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::objects::Key;
use cel::{Context, Env, ExecutionError, Value};
use redflag_core::Alert;

use crate::compile::CompiledRules;
use crate::template::Segment;
use crate::{FeatureSpec, FeatureValue, Lists};

/// Counted for each rule that could not be evaluated on an event (and so did not fire).
pub const RULE_FAILURES: &str = "redflag_rule_failures_total";

/// The features of one event as an expression sees them: each present feature under its name,
/// and the event's fields together under `event`.
pub(crate) struct Scope {
    variables: Vec<(&'static str, Box<dyn Val>)>,
    event: Option<Box<dyn Val>>,
}

impl Scope {
    /// `values` pairs catalogue indices with the event's values; missing ones are left out, so
    /// that a condition reading one fails (and does not fire) instead of reading a default.
    pub(crate) fn new(catalogue: &[FeatureSpec], values: &[(usize, FeatureValue)]) -> Self {
        let mut variables = Vec::with_capacity(values.len());
        let mut event = std::collections::HashMap::new();
        let mut reads_event = false;
        for (index, value) in values {
            let feature = &catalogue[*index];
            reads_event |= feature.event_field().is_some();
            let Some(value) = value.to_cel() else {
                continue;
            };
            match feature.event_field() {
                Some(field) => {
                    event.insert(Key::from(field), value);
                }
                None => {
                    if let Ok(boxed) = Box::<dyn Val>::try_from(value) {
                        variables.push((feature.name, boxed));
                    }
                }
            }
        }
        // Present even when every field read is missing, so that `has(event.channel)` answers.
        let event = if reads_event {
            Box::<dyn Val>::try_from(Value::from(event)).ok()
        } else {
            None
        };
        Self { variables, event }
    }

    /// Runs `work` in a context holding these features, with `in_list` over `lists` when asked.
    pub(crate) fn run<T>(
        &self,
        env: &Arc<Env>,
        lists: &Arc<Lists>,
        with_lists: bool,
        work: impl FnOnce(&Context) -> T,
    ) -> T {
        let mut context = Context::with_env(env.clone());
        if with_lists {
            let lists = lists.clone();
            // Declared once per context: the name never clashes with the standard library's.
            let _declared = context
                .add_function("in_list", move |name: Arc<String>, value: Arc<String>| {
                    lists.contains(&name, &value)
                });
        }
        context.set_variable_resolver(self);
        work(&context)
    }
}

impl VariableResolver for Scope {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        if variable == "event" {
            return self.event.as_deref().map(CowVal::Borrowed);
        }
        self.variables
            .iter()
            .find(|(name, _)| *name == variable)
            .map(|(_, value)| CowVal::Borrowed(value.as_ref()))
    }
}

impl CompiledRules {
    /// The alerts of the rules whose condition holds on this event. `value` gives a catalogue
    /// feature's value by index; only the features some rule reads are asked for. A rule whose
    /// condition fails on the event (a missing field, a division by zero) does not fire.
    pub fn evaluate(&self, value: &mut dyn FnMut(usize) -> FeatureValue) -> Vec<Alert> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        let values: Vec<(usize, FeatureValue)> = self
            .needed
            .iter()
            .map(|&index| (index, value(index)))
            .collect();
        let scope = Scope::new(self.catalogue, &values);
        let value_of = |index: usize| {
            values
                .binary_search_by_key(&index, |(at, _)| *at)
                .map_or(&FeatureValue::Missing, |found| &values[found].1)
        };
        scope.run(&self.env, &self.lists, self.uses_lists, |context| {
            self.rules
                .iter()
                .filter_map(|compiled| {
                    let outcome = compiled.program.execute(context);
                    match outcome {
                        Ok(Value::Bool(true)) => {}
                        Ok(Value::Bool(false)) => return None,
                        Ok(other) => {
                            self.failed(&compiled.rule.name, &format!("gave {other:?}"));
                            return None;
                        }
                        Err(error) => {
                            self.failed(&compiled.rule.name, &describe(&error));
                            return None;
                        }
                    }
                    let reason: String = compiled
                        .reason
                        .iter()
                        .map(|segment| match segment {
                            Segment::Text(text) => text.clone(),
                            Segment::Feature(index) => value_of(*index).display(),
                        })
                        .collect();
                    let rule = &compiled.rule;
                    let mut alert = Alert::new(
                        &rule.name,
                        "custom_rule",
                        rule.severity,
                        rule.confidence,
                        reason,
                    );
                    for &index in &compiled.reads {
                        alert = alert
                            .with_metadata(self.catalogue[index].name, value_of(index).to_json());
                    }
                    if rule.supporting {
                        alert = alert.supporting();
                    }
                    Some(alert)
                })
                .collect()
        })
    }

    /// Counts a rule that could not be evaluated; logs the first failure of this version.
    fn failed(&self, rule: &str, error: &str) {
        metrics::counter!(RULE_FAILURES, "module" => self.module, "rule" => rule.to_owned())
            .increment(1);
        if !self.failure_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                module = self.module,
                version = self.version,
                rule,
                error,
                "a custom rule could not be evaluated and did not fire (logged once per rule-set version; counted in redflag_rule_failures_total)"
            );
        }
    }
}

fn describe(error: &ExecutionError) -> String {
    match error {
        ExecutionError::UndeclaredReference(name) => format!("`{name}` is missing on this event"),
        other => other.to_string(),
    }
}
