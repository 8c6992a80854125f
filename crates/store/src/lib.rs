#![doc = include_str!("../README.md")]

mod audit_log;
mod audit_queue;
mod backtests;
mod calibrations;
mod case_state;
mod cases;
mod connection;
mod decisions;
mod error;
mod group_commit;
mod outbox;
mod review;
mod rollup;
mod rule_sets;
mod schema;
#[cfg(feature = "scratch")]
pub mod scratch;
mod screening;
mod shadows;
mod statistics;
mod training;
mod users;
mod webhooks;
mod windows;

pub use audit_log::{
    Applied, AuditEntry, AuditOutcome, AuditProgress, ChainReport, MAX_ATTEMPTS, OutboxPass,
    QueuedAudit,
};
pub use audit_queue::{Delivery, RedisAuditQueue};
pub use backtests::{BacktestStartError, ReplayedDecision, StoredBacktest};
pub use calibrations::StoredRequest;
pub use case_state::{CaseStatus, Resolution, UnknownName};
pub use cases::{CaseChange, CaseError, CaseEvent, CaseFile, CaseRecord, RuleLabels};
pub use connection::{Backend, Database};
pub use decisions::{DecisionId, DecisionToRecord, Recorded, StoredDecision};
pub use error::StoreError;
pub use group_commit::{DecisionLookups, DecisionWriter};
pub use outbox::OutboxCounts;
pub use review::{AlertFilter, DecisionRecord, DecisionSummary, QueuedAlert, StoredAlert};
pub use rollup::Rollup;
pub use rule_sets::{DraftContent, ListImportError, RuleSetError, StoredList, StoredRuleSet};
pub use screening::{
    ListVersionError, ListVersionToWrite, PartyToRemember, SCREENING_MODULE,
    ScreeningAlertToRecord, ScreeningStamp, StoredListVersion, StoredSuppression,
    SuppressionToWrite,
};
pub use shadows::{
    Outcome, ShadowStartError, ShadowToRecord, ShadowedDecision, Started, StoredShadow,
};
pub use statistics::{
    HourBucket, ModuleHour, ModuleStatistics, RuleCount, SeverityCount, Statistics,
};
pub use training::{LabelledDecision, ScoredDecision};
pub use users::{User, UserId};
pub use webhooks::{
    AttemptOutcome, DeliveryCounts, NewSubscription, StoredDelivery, StoredSubscription,
    SubscriptionChange, event_types as webhook_event_types,
};
pub use windows::{
    ActivityWindows, InProcessWindows, RedisWindows, Sweep, WindowError, WindowFuture,
};
