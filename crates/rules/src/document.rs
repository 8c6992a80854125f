//! A rule set as analysts write it and the store keeps it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use redflag_core::Severity;

/// One module's rule set: the built-in typologies' thresholds and switches, and the team's own
/// rules. Everything left out keeps the deployment's settings (`[aml]`, ... in the config file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSetDocument {
    /// Settings of the module's section to use instead of the config file's, by name
    /// (`{"structuring_min_transactions": 4, "flag_risk_score": 60}`).
    pub thresholds: Map<String, Value>,
    /// Built-in rules switched off, by name (`["RoundAmountRule"]`).
    pub disabled: Vec<String>,
    /// The team's own rules, evaluated after the built-in ones.
    pub rules: Vec<CustomRule>,
}

/// A rule an analyst wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    /// Unique within the rule set; alerts carry it as their rule.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The condition: a CEL expression over the module's features that is true or false.
    pub when: String,
    pub severity: Severity,
    /// How sure the rule is when it fires, 0..=1: it adds to the event's risk as every alert does.
    pub confidence: f64,
    /// The alert's explanation; `{{feature}}` is replaced by the feature's value on the event.
    pub reason: String,
    /// A supporting signal ranks an event but never flags it alone, as velocity does; a rule is a
    /// typology (can flag) unless this is true.
    #[serde(default)]
    pub supporting: bool,
}
