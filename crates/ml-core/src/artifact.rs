use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `source` of a model trained on a module's synthetic defaults: it has not seen the
/// deployment's traffic.
pub const SYNTHETIC_SOURCE: &str = "synthetic defaults";

/// The artifact layout this build writes and reads.
pub const ARTIFACT_FORMAT_VERSION: u32 = 1;

/// What a model must tell its artifact so that loading can check it against the metadata.
pub trait ModelShape {
    /// The number of features one input row has.
    fn width(&self) -> usize;
}

/// A trained model with everything needed to trust it later: what it is, which features in which
/// order, what it was trained on and how well it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact<M> {
    pub format_version: u32,
    /// e.g. `isolation_forest`.
    pub kind: String,
    /// Feature names in the order the model expects them.
    pub features: Vec<String>,
    pub training_rows: usize,
    pub seed: u64,
    /// Held-out metrics of the training report (`roc_auc`, `brier`, ...).
    pub metrics: BTreeMap<String, f64>,
    pub created_at: DateTime<Utc>,
    /// What it was trained on, in words ([`SYNTHETIC_SOURCE`], "the 20000 most recent market
    /// decisions", a file): whether a deployment's model has learned its own traffic yet. Empty
    /// in artifacts written before it was kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// Each feature's training distribution, which drift is measured against (empty in
    /// artifacts written before it was kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<crate::FeatureProfile>,
    pub model: M,
}

/// Why an artifact could not be used; every message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    #[error("cannot read model artifact {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write model artifact {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("model artifact {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "model artifact {path} has format version {found}; this build reads version {expected}"
    )]
    Version {
        path: PathBuf,
        found: u64,
        expected: u32,
    },
    #[error(
        "model artifact {path} holds a `{found}` model where a `{expected}` model was expected"
    )]
    Kind {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error(
        "model artifact {path} was trained on features [{found}] but the detector sends [{expected}]"
    )]
    Features {
        path: PathBuf,
        found: String,
        expected: String,
    },
}

impl<M> Artifact<M> {
    /// How decisions name the model that scored them: kind, training time, rows and seed.
    pub fn version(&self) -> String {
        format!(
            "{} {} ({} rows, seed {})",
            self.kind,
            self.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
            self.training_rows,
            self.seed
        )
    }
}

impl<M: Serialize + DeserializeOwned + ModelShape> Artifact<M> {
    /// Writes the artifact as JSON, atomically: a crash mid-write leaves the old file intact.
    pub fn save(&self, path: &Path) -> Result<(), ArtifactError> {
        let write_error = |source| ArtifactError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(write_error)?;
        }
        let json = serde_json::to_vec_pretty(self).map_err(|error| ArtifactError::Corrupt {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        let partial = path.with_extension("partial");
        std::fs::write(&partial, json).map_err(write_error)?;
        std::fs::rename(&partial, path).map_err(write_error)
    }

    /// Reads an artifact and checks its format version, kind and features, and that the model's
    /// own width matches its feature list.
    pub fn load(path: &Path, kind: &str, features: &[&str]) -> Result<Self, ArtifactError> {
        let corrupt = |reason: String| ArtifactError::Corrupt {
            path: path.to_owned(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|source| ArtifactError::Read {
            path: path.to_owned(),
            source,
        })?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("not JSON ({e})")))?;
        let version = value
            .get("format_version")
            .and_then(Value::as_u64)
            .ok_or_else(|| corrupt("no format_version".to_owned()))?;
        if version != u64::from(ARTIFACT_FORMAT_VERSION) {
            return Err(ArtifactError::Version {
                path: path.to_owned(),
                found: version,
                expected: ARTIFACT_FORMAT_VERSION,
            });
        }
        let found_kind = value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if found_kind != kind {
            return Err(ArtifactError::Kind {
                path: path.to_owned(),
                found: found_kind.to_owned(),
                expected: kind.to_owned(),
            });
        }
        let artifact: Self = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        if artifact
            .features
            .iter()
            .map(String::as_str)
            .ne(features.iter().copied())
        {
            return Err(ArtifactError::Features {
                path: path.to_owned(),
                found: artifact.features.join(", "),
                expected: features.join(", "),
            });
        }
        if artifact.model.width() != artifact.features.len() {
            return Err(corrupt(format!(
                "the model takes {} features but the artifact lists {}",
                artifact.model.width(),
                artifact.features.len()
            )));
        }
        Ok(artifact)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::{IsolationForest, IsolationForestParams};

    fn artifact() -> Artifact<IsolationForest> {
        let data = Array2::from_shape_fn((50, 2), |(i, j)| (i * 7 + j * 3) as f64 % 11.0);
        let params = IsolationForestParams {
            trees: 10,
            subsample: 32,
            seed: 1,
        };
        Artifact {
            format_version: ARTIFACT_FORMAT_VERSION,
            kind: "isolation_forest".to_owned(),
            features: vec!["amount".to_owned(), "hour".to_owned()],
            training_rows: 50,
            seed: 1,
            metrics: BTreeMap::from([("roc_auc".to_owned(), 0.9)]),
            created_at: DateTime::from_timestamp(1_770_000_000, 0).expect("valid time"),
            source: SYNTHETIC_SOURCE.to_owned(),
            profile: Vec::new(),
            model: IsolationForest::fit(data.view(), params).expect("fits"),
        }
    }

    #[test]
    fn an_artifact_round_trips_with_its_scores() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("models/aml.json");
        let saved = artifact();
        saved.save(&path).expect("written");
        let loaded =
            Artifact::<IsolationForest>::load(&path, "isolation_forest", &["amount", "hour"])
                .expect("read");
        assert_eq!(loaded, saved);
        assert_eq!(
            loaded.model.score(&[3.0, 4.0]),
            saved.model.score(&[3.0, 4.0])
        );
    }

    #[test]
    fn each_problem_is_named_with_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("aml.json");
        let load = |features: &[&str]| {
            Artifact::<IsolationForest>::load(&path, "isolation_forest", features)
        };

        let missing = load(&["amount", "hour"]).expect_err("no file");
        assert!(matches!(missing, ArtifactError::Read { .. }));

        artifact().save(&path).expect("written");
        let wrong = load(&["hour", "amount"])
            .expect_err("features differ")
            .to_string();
        assert!(
            wrong.contains("aml.json")
                && wrong.contains("[amount, hour]")
                && wrong.contains("[hour, amount]"),
            "{wrong}"
        );
        let kind = Artifact::<IsolationForest>::load(&path, "logistic", &["amount", "hour"])
            .expect_err("kind differs");
        assert!(matches!(kind, ArtifactError::Kind { .. }), "{kind}");

        std::fs::write(
            &path,
            b"{\"format_version\": 1, \"kind\": \"isolation_forest\", \"features\": [",
        )
        .expect("written");
        let corrupt = load(&["amount", "hour"])
            .expect_err("truncated")
            .to_string();
        assert!(
            corrupt.contains("aml.json") && corrupt.contains("corrupt"),
            "{corrupt}"
        );

        let mut future = serde_json::to_value(artifact()).expect("serialises");
        future["format_version"] = 99.into();
        std::fs::write(&path, future.to_string()).expect("written");
        assert!(matches!(
            load(&["amount", "hour"]),
            Err(ArtifactError::Version { found: 99, .. })
        ));

        let mut narrow = serde_json::to_value(artifact()).expect("serialises");
        narrow["features"] = serde_json::json!(["amount"]);
        std::fs::write(&path, narrow.to_string()).expect("written");
        let mismatch = load(&["amount"]).expect_err("width differs").to_string();
        assert!(mismatch.contains("takes 2 features"), "{mismatch}");
    }
}
