#![doc = include_str!("../README.md")]

mod anomaly;
mod artifact;
mod error;
mod isolation_forest;
mod logistic;
pub mod metrics;
mod sampler;
mod training;

pub use anomaly::{anomaly_alert, verdict_with_model};
pub use artifact::{ARTIFACT_FORMAT_VERSION, Artifact, ArtifactError, ModelShape};
pub use error::ModelError;
pub use isolation_forest::{
    IsolationForest, IsolationForestParams, average_path_length, contamination_threshold,
};
pub use logistic::{FeatureKind, FeatureSpec, FeatureValue, LogisticModel};
pub use sampler::Sampler;
pub use training::{
    DEFAULT_CONTAMINATION, TrainingError, TrainingSet, train_isolation_forest, train_logistic,
};
