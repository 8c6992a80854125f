//! A model checked on a team's own history before it is switched on: trained on one labelled
//! table, measured on another (`redflag model evaluate`).

use ndarray::Array2;
use serde::Serialize;

use crate::metrics::{average_precision, brier, kolmogorov_smirnov, roc_auc};
use crate::{
    BoostedTrees, BoostedTreesParams, IsolationForest, IsolationForestParams, LabelledTable,
    LogisticModel, ModelError, Scorecard, ScorecardParams,
};

/// The models a team can evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Supervised: learns the labels; its scores are probabilities.
    Logistic,
    /// Supervised: binned features, weights of evidence, a regression on them and points per
    /// bin; its scores are probabilities of the bad outcome.
    Scorecard,
    /// Unsupervised: learns what the training rows look like (labels only measure it); its
    /// scores are anomaly scores, not probabilities. Numeric columns only.
    IsolationForest,
    /// Supervised: gradient-boosted trees, monotone in each feature in the direction the
    /// training rows show ([`crate::BoostedTrees`]); its scores are probabilities.
    Gbm,
}

/// Scores in one tenth of the test rows (by score), against what happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationBin {
    pub rows: usize,
    pub lowest_score: f64,
    pub highest_score: f64,
    pub mean_score: f64,
    /// The share of positives among the bin's rows.
    pub positive_rate: f64,
}

/// How the model did on the test table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub kind: ModelKind,
    pub training_rows: usize,
    pub training_positives: usize,
    pub test_rows: usize,
    pub test_positives: usize,
    /// `None` when the test table lacks a class.
    pub roc_auc: Option<f64>,
    pub average_precision: Option<f64>,
    pub ks: Option<f64>,
    /// 2 x ROC AUC - 1, as credit teams report it.
    pub gini: Option<f64>,
    /// Only for models whose scores are probabilities.
    pub brier: Option<f64>,
    /// Ten bins of equal size by score, lowest first.
    pub calibration: Vec<CalibrationBin>,
    /// Each feature's weight, largest first: the logistic model's mean absolute share of the
    /// log-odds on the test rows, the scorecard's information value, the boosted trees' share of
    /// split gain, the forest's mean share of isolating splits.
    pub top_features: Vec<(String, f64)>,
    /// Each test row's score, in the test table's order.
    pub scores: Vec<f64>,
}

/// Trains `kind` on `training` and measures it on `test` (read with
/// [`LabelledTable::read_like`]); `seed` makes the forest reproducible.
pub fn evaluate(
    kind: ModelKind,
    training: &LabelledTable,
    test: &LabelledTable,
    seed: u64,
) -> Result<Evaluation, ModelError> {
    let (scores, top_features) = match kind {
        ModelKind::Logistic => {
            let model = LogisticModel::fit(
                training.features.clone(),
                &training.filled_rows(),
                &training.labels,
                1.0,
            )?;
            let mut weights = vec![0.0; training.features.len()];
            let mut scores = Vec::with_capacity(test.rows.len());
            for row in &test.filled_rows() {
                scores.push(model.probability(row)?);
                for (weight, (_, contribution)) in weights.iter_mut().zip(model.contributions(row)?)
                {
                    *weight += contribution.abs();
                }
            }
            (scores, mean_weights(training, weights, test.rows.len()))
        }
        ModelKind::Scorecard => {
            let card = Scorecard::fit(
                training.features.clone(),
                &training.rows,
                &training.labels,
                &ScorecardParams::default(),
            )?;
            let scores = test
                .rows
                .iter()
                .map(|row| card.score(row).map(|scored| scored.probability))
                .collect::<Result<Vec<_>, _>>()?;
            (scores, card.information_values)
        }
        ModelKind::Gbm => {
            let model = BoostedTrees::fit(
                &training.features,
                &training.rows,
                &training.labels,
                &BoostedTreesParams::default(),
            )?;
            let names = training.features.iter().map(|spec| spec.name.clone());
            let mut top: Vec<(String, f64)> = names.zip(model.importance()).collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1));
            (model.probabilities(&test.rows), top)
        }
        ModelKind::IsolationForest => {
            let numbers = |table: &LabelledTable| {
                table.numeric_rows().ok_or_else(|| {
                    ModelError::InvalidParameter(
                        "an Isolation Forest reads numbers only: drop or encode the categorical \
                         columns"
                            .to_owned(),
                    )
                })
            };
            let train_rows = numbers(training)?;
            let width = training.features.len();
            let flat: Vec<f64> = train_rows.into_iter().flatten().collect();
            let data = Array2::from_shape_vec((flat.len() / width.max(1), width), flat)
                .map_err(|e| ModelError::InvalidParameter(e.to_string()))?;
            let forest = IsolationForest::fit(
                data.view(),
                IsolationForestParams {
                    seed,
                    ..IsolationForestParams::default()
                },
            )?;
            let mut weights = vec![0.0; width];
            let mut scores = Vec::with_capacity(test.rows.len());
            for row in numbers(test)? {
                scores.push(forest.score(&row)?);
                for (weight, share) in weights.iter_mut().zip(forest.explain(&row)?) {
                    *weight += share;
                }
            }
            (scores, mean_weights(training, weights, test.rows.len()))
        }
    };
    let labels = &test.labels;
    let auc = roc_auc(labels, &scores);
    Ok(Evaluation {
        kind,
        training_rows: training.rows.len(),
        training_positives: training.labels.iter().filter(|label| **label).count(),
        test_rows: test.rows.len(),
        test_positives: labels.iter().filter(|label| **label).count(),
        roc_auc: auc,
        average_precision: average_precision(labels, &scores),
        ks: kolmogorov_smirnov(labels, &scores),
        gini: auc.map(|auc| 2.0 * auc - 1.0),
        brier: match kind {
            ModelKind::Logistic | ModelKind::Scorecard | ModelKind::Gbm => brier(labels, &scores),
            ModelKind::IsolationForest => None,
        },
        calibration: calibration(labels, &scores, 10),
        top_features,
        scores,
    })
}

/// Each feature with its summed weight over `rows` test rows averaged, largest first.
fn mean_weights(training: &LabelledTable, weights: Vec<f64>, rows: usize) -> Vec<(String, f64)> {
    let rows = rows.max(1) as f64;
    let mut features: Vec<(String, f64)> = training
        .features
        .iter()
        .zip(weights)
        .map(|(feature, weight)| (feature.name.clone(), weight / rows))
        .collect();
    features.sort_by(|a, b| b.1.total_cmp(&a.1));
    features
}

/// `bins` bins of (nearly) equal size by score, lowest first.
fn calibration(labels: &[bool], scores: &[f64], bins: usize) -> Vec<CalibrationBin> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let bins = bins.min(order.len()).max(1);
    (0..bins)
        .filter_map(|bin| {
            let rows = &order[bin * order.len() / bins..(bin + 1) * order.len() / bins];
            let first = *rows.first()?;
            let last = *rows.last()?;
            let n = rows.len() as f64;
            Some(CalibrationBin {
                rows: rows.len(),
                lowest_score: scores[first],
                highest_score: scores[last],
                mean_score: rows.iter().map(|&i| scores[i]).sum::<f64>() / n,
                positive_rate: rows.iter().filter(|&&i| labels[i]).count() as f64 / n,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FeatureKind, FeatureSpec, FeatureValue};

    /// Rows where the risk rises with `debt` and the label follows it (with noise from a fixed
    /// pattern), plus an irrelevant `noise` column.
    fn table(rows: usize, offset: usize) -> LabelledTable {
        let mut table = LabelledTable {
            features: vec![
                FeatureSpec {
                    name: "debt".to_owned(),
                    kind: FeatureKind::Numeric,
                },
                FeatureSpec {
                    name: "noise".to_owned(),
                    kind: FeatureKind::Numeric,
                },
            ],
            rows: Vec::new(),
            labels: Vec::new(),
            lines: Vec::new(),
            fill: vec![FeatureValue::Number(0.0), FeatureValue::Number(0.0)],
        };
        for i in 0..rows {
            let debt = ((i * 37 + offset) % 100) as f64;
            let noise = ((i * 53 + offset) % 17) as f64;
            table.rows.push(vec![
                FeatureValue::Number(debt),
                FeatureValue::Number(noise),
            ]);
            table.labels.push(debt + ((i * 7) % 30) as f64 > 85.0);
            table.lines.push(i as u64 + 2);
        }
        table
    }

    #[test]
    fn a_logistic_model_that_learns_the_risk_ranks_the_test_rows_and_names_the_feature() {
        let report = evaluate(ModelKind::Logistic, &table(600, 0), &table(400, 11), 42)
            .expect("trains and scores");
        assert_eq!((report.training_rows, report.test_rows), (600, 400));
        let auc = report.roc_auc.expect("both classes");
        assert!(auc > 0.85, "{auc}");
        assert_eq!(report.gini, Some(2.0 * auc - 1.0));
        assert!(report.brier.is_some_and(|brier| brier < 0.2));
        assert_eq!(report.top_features[0].0, "debt");
        assert_eq!(report.calibration.len(), 10);
        assert_eq!(
            report.calibration.iter().map(|bin| bin.rows).sum::<usize>(),
            400
        );
        let (low, high) = (&report.calibration[0], &report.calibration[9]);
        assert!(low.positive_rate < high.positive_rate, "{low:?} {high:?}");
        assert_eq!(report.scores.len(), 400);
    }

    #[test]
    fn a_forest_has_no_brier_score_and_refuses_categories() {
        let report = evaluate(
            ModelKind::IsolationForest,
            &table(300, 0),
            &table(200, 5),
            7,
        )
        .expect("trains and scores");
        assert_eq!(report.brier, None, "anomaly scores are not probabilities");
        assert!(report.roc_auc.is_some());
        let mut categorical = table(50, 0);
        categorical.features[1].kind = FeatureKind::Categorical {
            levels: vec!["a".to_owned()],
        };
        for row in &mut categorical.rows {
            row[1] = FeatureValue::Category("a".to_owned());
        }
        let refused = evaluate(ModelKind::IsolationForest, &categorical, &categorical, 7)
            .expect_err("categories");
        assert!(refused.to_string().contains("numbers only"), "{refused}");
    }
}
