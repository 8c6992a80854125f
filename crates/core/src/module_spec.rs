use chrono::{DateTime, Utc};

use crate::{EntityKind, Module};

/// A module described once, in its own crate (`SPEC` on its detector): what the service, the API
/// document and the command line read instead of listing the modules again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModuleSpec {
    pub module: Module,
    /// The request field whose value makes a resend idempotent, as conflict messages name it.
    pub reference_field: &'static str,
    /// The request field naming the entity a decision is filed, reviewed and audited under.
    pub entity_field: &'static str,
    /// The request field carrying the event time; without it the time of receipt.
    pub event_time_field: &'static str,
    /// The entities whose recent activity the module keeps windows on.
    pub windows: &'static [EntityKind],
    /// The features its model reads, in order.
    pub model_features: &'static [&'static str],
    /// How its model learns.
    pub learning: Learning,
}

/// How a module's model learns, which decides how the service trains, retrains and calibrates
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learning {
    /// From unlabelled traffic: an anomaly model, retrained on recent decisions, whose alert is
    /// calibrated to the deployment's alert rate.
    Anomaly,
    /// From labelled outcomes (analysts' closed cases), on demand.
    Supervised,
}

/// What the service reads of every module's event, whatever its shape.
pub trait Event {
    /// The business id that makes a resend idempotent, when the event has one.
    fn reference(&self) -> Option<&str>;
    /// The entity the decision is about ([`ModuleSpec::entity_field`]).
    fn entity(&self) -> &str;
    /// When it happened: the body's event time, or the time of receipt.
    fn event_time(&self) -> DateTime<Utc>;
}
