use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// An audited action that is not a decision: a token issued or refreshed, a user created, a model
/// trained. Its payload has the fields every audit-log entry reads (`module`, `entity_id`,
/// `actor`, `recorded_at`) plus the action's own `details`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    #[serde(skip)]
    pub kind: &'static str,
    /// The module concerned, for model training.
    pub module: Option<String>,
    /// What the action is about, e.g. `user:analyst` or `model:credit`.
    pub entity_id: String,
    /// Who did it: a username, or `system`.
    pub actor: String,
    pub details: Value,
    pub recorded_at: DateTime<Utc>,
}

impl AuditEvent {
    pub const TOKEN_ISSUED: &'static str = "token.issued";
    pub const TOKEN_REFRESHED: &'static str = "token.refreshed";
    pub const USER_CREATED: &'static str = "user.created";
    pub const PASSWORD_SET: &'static str = "user.password_set";
    pub const MODEL_TRAINED: &'static str = "model.trained";
    /// An anomaly alert's threshold calibrated to the deployment's traffic (set, moved, or
    /// dropped for a new model that is warming up): it changes which events the alert fires on.
    pub const ANOMALY_CALIBRATED: &'static str = "anomaly.calibrated";
    /// The AML peer groups changed (a segment gained or lost its group, or its limits moved).
    pub const PEER_GROUPS_LEARNED: &'static str = "peer_groups.learned";
    pub const CASE_OPENED: &'static str = "case.opened";
    /// A rule-set draft written or changed (its sha256 in the details).
    pub const RULESET_DRAFTED: &'static str = "ruleset.drafted";
    /// A rule-set version published or restored: it is in force from now.
    pub const RULESET_PUBLISHED: &'static str = "ruleset.published";
    /// A backtest of a draft started (the draft's sha256 and the period in the details).
    pub const BACKTEST_STARTED: &'static str = "ruleset.backtest_started";
    /// A draft started shadowing its module's live decisions (the draft's sha256 in the details).
    pub const SHADOW_STARTED: &'static str = "ruleset.shadow_started";
    /// A shadow run stopped: by hand, or because its draft was published.
    pub const SHADOW_STOPPED: &'static str = "ruleset.shadow_stopped";
    /// A new version of a sanctions or PEP list imported (format, entries, sha256, changes).
    pub const SCREENING_LIST_IMPORTED: &'static str = "screening.list_imported";
    /// A name screened through the API (its keyed hash, the threshold, the lists and what
    /// matched): proof that a party was screened, and against which versions.
    pub const SCREENING_SEARCHED: &'static str = "screening.searched";
    /// A list update matched a remembered party: a screening alert.
    pub const SCREENING_MATCH: &'static str = "screening.match";
    /// A screening match resolved as a false positive for that party and entry.
    pub const SCREENING_SUPPRESSED: &'static str = "screening.match_suppressed";
    pub const LIST_UPDATED: &'static str = "list.updated";
    pub const LIST_DELETED: &'static str = "list.deleted";
    pub const CASE_UPDATED: &'static str = "case.updated";

    /// The JSON payload stored in the outbox.
    pub fn to_payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|error| {
            // Serialising plain strings, JSON values and timestamps cannot fail; keep the fact.
            format!("{{\"serialization_error\":\"{error}\"}}")
        })
    }
}
