#![doc = include_str!("../README.md")]

mod activity;
mod alert;
mod config_error;
mod detector;
mod figures;
mod fusion;
mod hours;
mod keyed;
mod module;
mod module_spec;
pub mod request_schema;
mod secret;
mod severity;
mod validation;
mod verdict;

pub use activity::{
    Activity, EntityKind, History, Observation, WindowKey, WindowMode, funding_depth,
};
pub use alert::Alert;
pub use config_error::ConfigError;
pub use detector::{Assessment, Detector, Rule, Windows};
pub use figures::{Fixed, Money};
pub use fusion::noisy_or;
pub use hours::hour_of_day;
pub use keyed::{derive_key, keyed_hash};
pub use module::{Module, UnknownModule};
pub use module_spec::{Event, Learning, ModuleSpec};
pub use secret::Secret;
pub use severity::{Severity, UnknownSeverity};
pub use validation::{
    FieldReader, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TEXT_LENGTH, NumberBounds, ValidationErrors,
    json_type, messages,
};
pub use verdict::{RuleSet, Verdict};
