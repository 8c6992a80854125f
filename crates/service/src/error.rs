use std::path::PathBuf;

use redflag_core::Module;
use redflag_ml_core::{ArtifactError, TableError, TrainingError};
use redflag_store::{StoreError, WindowError};

use crate::models::ModelError;

/// What can go wrong in the work the commands share: each cause kept with its own type, so that
/// a caller can still tell an outage from a bug ([`ServiceError::is_unavailable`]) and a log line
/// names what failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Redis: the windows or the audit stream.
    #[error(transparent)]
    Redis(#[from] WindowError),
    /// Boxed: a model error carries paths and reasons, and keeps every other result small.
    #[error(transparent)]
    Model(Box<ModelError>),
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    #[error(transparent)]
    Training(#[from] TrainingError),
    /// A model that cannot score a row (a feature count it was not trained on).
    #[error(transparent)]
    Scoring(#[from] redflag_ml_core::ModelError),
    /// A user's CSV that does not read as a labelled table.
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    User(#[from] crate::users::UserError),
    /// A published rule set that no longer applies (the config file or a list changed under it).
    #[error("the {module} rule set in force does not apply: {problems}")]
    RuleSet { module: Module, problems: String },
    #[error("the {0} model is not an anomaly model")]
    NotAnomaly(Module),
    #[error("no {0} model is installed yet")]
    NotInstalled(Module),
    /// Too few labelled (credit) or usable (anomaly) decisions to train on yet.
    #[error("{0}")]
    TooFewDecisions(String),
    #[error("audit log broken at entry {entry_id} ({event_id}): {problem}")]
    AuditChainBroken {
        entry_id: i64,
        event_id: String,
        problem: String,
    },
    /// A calibration or record that cannot be written as JSON, or a stored one that no longer
    /// reads as this version's.
    #[error("the {what} does not read or write as JSON: {source}")]
    Json {
        what: String,
        source: serde_json::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A command's report that cannot be written, or a runtime that cannot start.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A sanctions or PEP list that was not imported (boxed: it may hold a service error).
    #[error(transparent)]
    ListImport(#[from] Box<crate::screening::ImportError>),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A webhook secret that is not a `whsec_` base64 key, or no randomness to make one.
    #[error("webhook secret: {0}")]
    Secret(String),
    /// The webhook client could not be built (its TLS roots).
    #[error("webhook client: {0}")]
    Webhook(String),
    /// The work panicked or was cancelled on the blocking pool.
    #[error("the blocking work did not finish: {0}")]
    Blocking(#[from] tokio::task::JoinError),
}

impl From<ModelError> for ServiceError {
    fn from(error: ModelError) -> Self {
        Self::Model(Box::new(error))
    }
}

impl ServiceError {
    /// The `what` of a JSON error, for `map_err`.
    pub(crate) fn json(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> Self {
        let what = what.into();
        move |source| Self::Json { what, source }
    }

    /// Whether a backing service did not answer (retry later), not a bug or bad data.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Store(error) => error.is_unavailable(),
            Self::Redis(_) => true,
            _ => false,
        }
    }
}
