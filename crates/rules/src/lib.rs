#![doc = include_str!("../README.md")]

mod compile;
mod customisable;
mod document;
mod evaluate;
mod feature;
mod lists;
mod template;

pub use evaluate::RULE_FAILURES;

pub use compile::{CompiledRules, MAX_EXPRESSION_LENGTH, MAX_NESTING, MAX_RULES, RuleError};
pub use customisable::Customisable;
pub use document::{CustomRule, RuleSetDocument};
pub use feature::{FeatureKind, FeatureSpec, FeatureValue};
pub use lists::Lists;
