//! Training a module's model from a `TrainingSet` (synthetic or CSV), with a held-out report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Utc;
use ndarray::{Array2, Axis};

use crate::metrics::{average_precision, brier, kolmogorov_smirnov, roc_auc};
use crate::sampler::Sampler;
use crate::{
    ARTIFACT_FORMAT_VERSION, Artifact, Classifier, FeatureKind, FeatureProfile, FeatureSpec,
    FeatureValue, IsolationForest, IsolationForestParams, LogisticModel, ModelError, Scorecard,
    ScorecardParams, contamination_threshold,
};

/// The share of rows held out for the training report.
const HOLDOUT_SHARE: f64 = 0.2;
/// The anomaly rate assumed when unlabelled data gives none: the score threshold flags this share.
pub const DEFAULT_CONTAMINATION: f64 = 0.05;

/// Rows of named numeric features, optionally labelled (true: anomaly, or default).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSet {
    pub features: Vec<String>,
    pub rows: Array2<f64>,
    pub labels: Option<Vec<bool>>,
}

/// Why a training set could not be read or a model not trained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainingError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error(
        "{path} does not have the expected columns: missing [{missing}], unexpected [{unexpected}]; expected the features [{expected}]{label}"
    )]
    Columns {
        path: PathBuf,
        missing: String,
        unexpected: String,
        expected: String,
        label: String,
    },
    #[error("{path} line {line}, column `{column}`: `{value}` is not a finite number")]
    NotANumber {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
    },
    #[error(
        "{path} line {line}, column `{column}`: `{value}` is not a label (use 0/1 or true/false)"
    )]
    NotALabel {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
    },
    #[error("this model is supervised: give the label column")]
    NoLabels,
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl TrainingSet {
    /// Draws `rows` labelled rows from a seeded generator: each call of `draw` returns one row's
    /// features (in the order of `features`) and its label.
    pub fn generate<const N: usize>(
        features: &[&str; N],
        rows: usize,
        seed: u64,
        mut draw: impl FnMut(&mut Sampler) -> ([f64; N], bool),
    ) -> Self {
        let mut sampler = Sampler::new(seed);
        let mut values = Vec::with_capacity(rows * N);
        let mut labels = Vec::with_capacity(rows);
        for _ in 0..rows {
            let (row, label) = draw(&mut sampler);
            values.extend(row);
            labels.push(label);
        }
        Self {
            features: features.iter().map(|f| (*f).to_owned()).collect(),
            rows: Array2::from_shape_vec((rows, N), values)
                .expect("exactly rows x N values were drawn"),
            labels: Some(labels),
        }
    }

    /// An unlabelled set from rows already in `features` order (e.g. the figures stored with past
    /// decisions); rows of another width, or with a value that is not finite, are left out.
    pub fn from_rows(features: &[&str], rows: &[Vec<f64>]) -> Self {
        let width = features.len();
        let kept: Vec<&Vec<f64>> = rows
            .iter()
            .filter(|row| row.len() == width && row.iter().all(|value| value.is_finite()))
            .collect();
        let values: Vec<f64> = kept.iter().flat_map(|row| row.iter().copied()).collect();
        Self {
            features: features.iter().map(|f| (*f).to_owned()).collect(),
            rows: Array2::from_shape_vec((kept.len(), width), values)
                .expect("every kept row has exactly `width` values"),
            labels: None,
        }
    }

    /// A labelled set from rows in `features` order and their labels (true: anomaly, or
    /// default), e.g. decisions analysts resolved; unusable rows are left out with their labels.
    pub fn from_labelled_rows(features: &[&str], rows: &[(Vec<f64>, bool)]) -> Self {
        let usable =
            |row: &Vec<f64>| row.len() == features.len() && row.iter().all(|v| v.is_finite());
        let (kept, labels): (Vec<Vec<f64>>, Vec<bool>) =
            rows.iter().filter(|(row, _)| usable(row)).cloned().unzip();
        Self {
            labels: Some(labels),
            ..Self::from_rows(features, &kept)
        }
    }

    /// Reads a CSV whose header names exactly `features` (any order) plus, when given, the
    /// `label` column.
    pub fn from_csv(
        path: &Path,
        features: &[&str],
        label: Option<&str>,
    ) -> Result<Self, TrainingError> {
        let read_error = |reason: String| TrainingError::Read {
            path: path.to_owned(),
            reason,
        };
        let mut reader = csv::Reader::from_path(path).map_err(|e| read_error(e.to_string()))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| read_error(e.to_string()))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let wanted: Vec<&str> = features.iter().copied().chain(label).collect();
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|w| !header.iter().any(|h| h == w))
            .collect();
        let unexpected: Vec<&str> = header
            .iter()
            .map(String::as_str)
            .filter(|h| !wanted.contains(h))
            .collect();
        if !missing.is_empty() || !unexpected.is_empty() {
            return Err(TrainingError::Columns {
                path: path.to_owned(),
                missing: missing.join(", "),
                unexpected: unexpected.join(", "),
                expected: features.join(", "),
                label: label.map_or(String::new(), |l| format!(" and the label `{l}`")),
            });
        }
        let positions: Vec<usize> = features
            .iter()
            .filter_map(|f| header.iter().position(|h| h == f))
            .collect();
        let label_position = label.and_then(|l| header.iter().position(|h| h == l));
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| read_error(e.to_string()))?;
            let line = record.position().map_or(0, csv::Position::line);
            for (feature, &position) in features.iter().zip(&positions) {
                let raw = record.get(position).unwrap_or_default().trim();
                let value = raw
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| TrainingError::NotANumber {
                        path: path.to_owned(),
                        line,
                        column: (*feature).to_owned(),
                        value: raw.to_owned(),
                    })?;
                values.push(value);
            }
            if let (Some(position), Some(column)) = (label_position, label) {
                let raw = record.get(position).unwrap_or_default().trim();
                let value = match raw.to_ascii_lowercase().as_str() {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => {
                        return Err(TrainingError::NotALabel {
                            path: path.to_owned(),
                            line,
                            column: column.to_owned(),
                            value: raw.to_owned(),
                        });
                    }
                };
                labels.push(value);
            }
        }
        let rows = values.len() / features.len().max(1);
        let rows = Array2::from_shape_vec((rows, features.len()), values)
            .map_err(|e| read_error(e.to_string()))?;
        Ok(Self {
            features: features.iter().map(|f| (*f).to_owned()).collect(),
            rows,
            labels: label.map(|_| labels),
        })
    }

    /// A seeded 80/20 split of row indices: (training, held out).
    fn split(&self, seed: u64) -> (Vec<usize>, Vec<usize>) {
        let n = self.rows.nrows();
        let order = Sampler::new(seed ^ 0x5EED).sample_without_replacement(n, n);
        let held_out = ((n as f64 * HOLDOUT_SHARE).round() as usize).min(n.saturating_sub(1));
        let (test, train) = order.split_at(held_out);
        (train.to_vec(), test.to_vec())
    }

    fn labels_of(&self, indices: &[usize]) -> Option<Vec<bool>> {
        self.labels
            .as_ref()
            .map(|labels| indices.iter().map(|i| labels[*i]).collect())
    }
}

fn artifact<M>(
    kind: &str,
    set: &TrainingSet,
    seed: u64,
    rows: usize,
    metrics: BTreeMap<String, f64>,
    model: M,
) -> Artifact<M> {
    Artifact {
        format_version: ARTIFACT_FORMAT_VERSION,
        kind: kind.to_owned(),
        features: set.features.clone(),
        training_rows: rows,
        seed,
        metrics,
        created_at: Utc::now(),
        source: String::new(),
        profile: set
            .features
            .iter()
            .enumerate()
            .filter_map(|(j, feature)| {
                FeatureProfile::of(feature, set.rows.column(j).iter().copied())
            })
            .collect(),
        model,
    }
}

/// Trains an Isolation Forest on 80% of the rows. With labels, the report has the held-out ROC
/// AUC and average precision, and the score threshold flags the labelled anomaly share of the
/// training rows; without, it flags [`DEFAULT_CONTAMINATION`].
pub fn train_isolation_forest(
    set: &TrainingSet,
    params: IsolationForestParams,
) -> Result<Artifact<IsolationForest>, TrainingError> {
    let (train, test) = set.split(params.seed);
    let train_rows = set.rows.select(Axis(0), &train);
    let forest = IsolationForest::fit(train_rows.view(), params)?;
    let train_scores = forest.score_batch(train_rows.view())?;
    let contamination = set
        .labels_of(&train)
        .map(|labels| labels.iter().filter(|l| **l).count() as f64 / labels.len().max(1) as f64)
        .filter(|rate| *rate > 0.0 && *rate < 1.0)
        .unwrap_or(DEFAULT_CONTAMINATION);
    let mut metrics = BTreeMap::from([
        ("contamination".to_owned(), contamination),
        (
            "threshold".to_owned(),
            contamination_threshold(train_scores.as_slice().unwrap_or(&[]), contamination)?,
        ),
    ]);
    if let Some(labels) = set.labels_of(&test) {
        let scores = forest
            .score_batch(set.rows.select(Axis(0), &test).view())?
            .to_vec();
        if let Some(auc) = roc_auc(&labels, &scores) {
            metrics.insert("roc_auc".to_owned(), auc);
        }
        if let Some(ap) = average_precision(&labels, &scores) {
            metrics.insert("average_precision".to_owned(), ap);
        }
    }
    Ok(artifact(
        "isolation_forest",
        set,
        params.seed,
        train.len(),
        metrics,
        forest,
    ))
}

/// Trains logistic regression on 80% of the labelled rows (every feature numeric) and reports
/// held-out ROC AUC, average precision, KS and Brier score.
pub fn train_logistic(
    set: &TrainingSet,
    alpha: f64,
    seed: u64,
) -> Result<Artifact<LogisticModel>, TrainingError> {
    train_classifier(set, seed, "logistic", |specs, rows, labels| {
        LogisticModel::fit(specs, rows, labels, alpha)
    })
}

/// Trains a scorecard on 80% of the labelled rows (every feature numeric) and reports as
/// [`train_logistic`] does.
pub fn train_scorecard(
    set: &TrainingSet,
    params: &ScorecardParams,
    seed: u64,
) -> Result<Artifact<Scorecard>, TrainingError> {
    train_classifier(set, seed, "scorecard", |specs, rows, labels| {
        Scorecard::fit(specs, rows, labels, params)
    })
}

/// Fits a model of the labelled bad outcome on the training rows and measures it on the
/// held-out ones.
fn train_classifier<M: Classifier>(
    set: &TrainingSet,
    seed: u64,
    kind: &str,
    fit: impl FnOnce(Vec<FeatureSpec>, &[Vec<FeatureValue>], &[bool]) -> Result<M, ModelError>,
) -> Result<Artifact<M>, TrainingError> {
    let labels = set.labels.as_ref().ok_or(TrainingError::NoLabels)?;
    let (train, test) = set.split(seed);
    let specs: Vec<FeatureSpec> = set
        .features
        .iter()
        .map(|name| FeatureSpec {
            name: name.clone(),
            kind: FeatureKind::Numeric,
        })
        .collect();
    let rows = |indices: &[usize]| -> Vec<Vec<FeatureValue>> {
        indices
            .iter()
            .map(|i| {
                set.rows
                    .row(*i)
                    .iter()
                    .map(|v| FeatureValue::Number(*v))
                    .collect()
            })
            .collect()
    };
    let train_labels: Vec<bool> = train.iter().map(|i| labels[*i]).collect();
    let model = fit(specs, &rows(&train), &train_labels)?;
    let test_labels: Vec<bool> = test.iter().map(|i| labels[*i]).collect();
    let probabilities = rows(&test)
        .iter()
        .map(|row| model.probability(row))
        .collect::<Result<Vec<f64>, _>>()?;
    let mut metrics = BTreeMap::new();
    let measures = [
        ("roc_auc", roc_auc(&test_labels, &probabilities)),
        (
            "average_precision",
            average_precision(&test_labels, &probabilities),
        ),
        ("ks", kolmogorov_smirnov(&test_labels, &probabilities)),
        ("brier", brier(&test_labels, &probabilities)),
    ];
    for (name, value) in measures {
        if let Some(value) = value {
            metrics.insert(name.to_owned(), value);
        }
    }
    Ok(artifact(kind, set, seed, train.len(), metrics, model))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("data.csv");
        std::fs::write(&path, text).expect("written");
        path
    }

    #[test]
    fn a_csv_with_the_features_in_any_order_and_a_label_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(&dir, "b,label,a\n2,1,1\n4,0,3\n");
        let set = TrainingSet::from_csv(&path, &["a", "b"], Some("label")).expect("valid");
        assert_eq!(set.rows, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(set.labels, Some(vec![true, false]));
    }

    #[test]
    fn stored_rows_of_another_width_or_not_finite_are_left_out() {
        let rows = vec![
            vec![1.0, 2.0],
            vec![1.0],
            vec![f64::NAN, 2.0],
            vec![3.0, 4.0],
        ];
        let set = TrainingSet::from_rows(&["a", "b"], &rows);
        assert_eq!(set.rows, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(set.labels, None);
    }

    #[test]
    fn labelled_rows_keep_each_label_with_its_row_when_others_are_left_out() {
        let rows = vec![
            (vec![1.0, 2.0], true),
            (vec![f64::INFINITY, 2.0], true),
            (vec![3.0, 4.0], false),
        ];
        let set = TrainingSet::from_labelled_rows(&["a", "b"], &rows);
        assert_eq!(set.rows, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(set.labels, Some(vec![true, false]));
    }

    #[test]
    fn wrong_columns_and_bad_values_are_explained_with_the_file_and_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(&dir, "a,c\n1,2\n");
        let error = TrainingSet::from_csv(&path, &["a", "b"], Some("label"))
            .expect_err("columns")
            .to_string();
        assert!(
            error.contains("missing [b, label], unexpected [c]"),
            "{error}"
        );
        assert!(
            error.contains("expected the features [a, b] and the label `label`"),
            "{error}"
        );
        let path = write(&dir, "a,b\n1,2\n3,NaN\n");
        let error = TrainingSet::from_csv(&path, &["a", "b"], None)
            .expect_err("NaN")
            .to_string();
        assert!(
            error.contains("line 3, column `b`: `NaN` is not a finite number"),
            "{error}"
        );
        let path = write(&dir, "a,label\n1,maybe\n");
        let error = TrainingSet::from_csv(&path, &["a"], Some("label"))
            .expect_err("label")
            .to_string();
        assert!(error.contains("`maybe` is not a label"), "{error}");
    }

    #[test]
    fn training_reports_held_out_metrics_and_a_threshold() {
        let mut random = Sampler::new(3);
        let rows = 1000;
        let labels: Vec<bool> = (0..rows).map(|i| i % 20 == 0).collect();
        let data = Array2::from_shape_fn((rows, 2), |(i, _)| {
            let noise = random.unit();
            if labels[i] { 8.0 + noise } else { noise }
        });
        let set = TrainingSet {
            features: vec!["x".to_owned(), "y".to_owned()],
            rows: data,
            labels: Some(labels),
        };
        let forest =
            train_isolation_forest(&set, IsolationForestParams::default()).expect("trains");
        assert_eq!(forest.training_rows, 800);
        assert!(forest.metrics["roc_auc"] > 0.95, "{:?}", forest.metrics);
        assert!((forest.metrics["contamination"] - 0.05).abs() < 0.02);
        let logistic = train_logistic(&set, 1.0, 1).expect("trains");
        assert!(logistic.metrics["roc_auc"] > 0.95, "{:?}", logistic.metrics);
        assert!(logistic.metrics.contains_key("brier") && logistic.metrics.contains_key("ks"));
        let scorecard = train_scorecard(&set, &ScorecardParams::default(), 1).expect("trains");
        assert_eq!(
            (scorecard.kind.as_str(), scorecard.training_rows),
            ("scorecard", 800)
        );
        assert!(
            scorecard.metrics["roc_auc"] > 0.95,
            "{:?}",
            scorecard.metrics
        );
        assert!(scorecard.metrics.contains_key("brier") && scorecard.metrics.contains_key("ks"));
        let unlabelled = TrainingSet {
            labels: None,
            ..set
        };
        assert!(matches!(
            train_logistic(&unlabelled, 1.0, 1),
            Err(TrainingError::NoLabels)
        ));
        assert!(matches!(
            train_scorecard(&unlabelled, &ScorecardParams::default(), 1),
            Err(TrainingError::NoLabels)
        ));
        let forest =
            train_isolation_forest(&unlabelled, IsolationForestParams::default()).expect("trains");
        assert_eq!(forest.metrics["contamination"], DEFAULT_CONTAMINATION);
        assert!(!forest.metrics.contains_key("roc_auc"));
    }
}
