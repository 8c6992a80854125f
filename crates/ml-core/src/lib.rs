#![doc = include_str!("../README.md")]

mod anomaly;
mod artifact;
mod classifier;
mod drift;
mod error;
mod evaluation;
mod gbm;
mod isolation_forest;
mod logistic;
pub mod metrics;
mod sampler;
mod scorecard;
mod table;
mod training;

pub use anomaly::{AnomalyModel, anomaly_alert, verdict_with_model, verdict_with_score};
pub use artifact::{
    ARTIFACT_FORMAT_VERSION, Artifact, ArtifactError, ModelShape, SYNTHETIC_SOURCE,
};
pub use classifier::Classifier;
pub use drift::FeatureProfile;
pub use error::ModelError;
pub use evaluation::{CalibrationBin, Evaluation, ModelKind, evaluate};
pub use gbm::{BoostedTrees, BoostedTreesParams};
pub use isolation_forest::{
    IsolationForest, IsolationForestParams, average_path_length, contamination_threshold,
};
pub use logistic::{FeatureKind, FeatureSpec, FeatureValue, LogisticModel};
pub use sampler::Sampler;
pub use scorecard::{Bin, BinRange, Characteristic, Scorecard, ScorecardParams, ScoredRow};
pub use table::{LabelledTable, MISSING_LEVEL, Positive, TableError};
pub use training::{
    DEFAULT_CONTAMINATION, TrainingError, TrainingSet, train_isolation_forest, train_logistic,
    train_scorecard,
};
