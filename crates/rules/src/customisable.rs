//! What a rule set needs of a detector: built-in rules it can switch off by name, and a way to
//! run custom rules over the features it publishes.

use std::sync::Arc;

use crate::{CompiledRules, FeatureSpec};

/// A detector a rule set applies to. Each module implements it once, so that the service
/// applies, checks and documents every module's rule sets the same way.
pub trait Customisable: Sized {
    /// The features its custom rules read, in the index order [`CompiledRules::evaluate`] asks
    /// for them (published at GET /api/rules/<module>/features/).
    const CATALOGUE: &'static [FeatureSpec];

    /// Its built-in rules, by name: what a rule set may switch off.
    fn builtin_rules(&self) -> Vec<&'static str>;

    /// With the built-in rules named in `disabled` switched off (an unknown name refused, naming
    /// the rules there are) and `custom`, compiled against [`Self::CATALOGUE`], run after the
    /// built-in ones on every event.
    fn with_rule_set(self, disabled: &[String], custom: Arc<CompiledRules>)
    -> Result<Self, String>;
}
