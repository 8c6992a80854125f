//! Gradient-boosted trees on a labelled table, monotone in every feature in the direction the
//! training data shows: the model credit teams weigh a scorecard against. Built on forust-ml
//! (XGBoost's algorithm). Missing numbers stay missing (each split learns where they go); a
//! category is read as its rank by the training rows' positive rate, so that it too can be
//! monotone.

use std::collections::HashMap;

use forust_ml::constraints::{Constraint, ConstraintMap};
use forust_ml::gradientbooster::ImportanceMethod;
use forust_ml::{GradientBooster, Matrix};

use crate::{FeatureKind, FeatureSpec, FeatureValue, ModelError};

/// How the ensemble is grown: small trees, many of them, slowly (no tuning per data set).
#[derive(Debug, Clone, PartialEq)]
pub struct BoostedTreesParams {
    pub trees: usize,
    pub learning_rate: f32,
    pub max_depth: usize,
    /// Least hessian (about rows x p(1-p)) a leaf holds: keeps leaves from memorising a few rows.
    pub min_leaf_weight: f32,
    /// Rank correlation with the label under which a feature is left unconstrained (too weak to
    /// say which way risk goes).
    pub min_direction: f64,
}

impl Default for BoostedTreesParams {
    fn default() -> Self {
        Self {
            trees: 300,
            learning_rate: 0.05,
            max_depth: 3,
            min_leaf_weight: 5.0,
            min_direction: 0.02,
        }
    }
}

/// A trained ensemble and how it reads each column.
pub struct BoostedTrees {
    booster: GradientBooster,
    columns: Vec<Column>,
}

enum Column {
    Number,
    /// Each level's rank by its training positive rate, lowest first.
    Ranked(HashMap<String, f64>),
}

impl BoostedTrees {
    /// Trains on `rows` (numbers may be NaN: missing) and `labels`.
    pub fn fit(
        features: &[FeatureSpec],
        rows: &[Vec<FeatureValue>],
        labels: &[bool],
        params: &BoostedTreesParams,
    ) -> Result<Self, ModelError> {
        if rows.is_empty() || rows.len() != labels.len() {
            return Err(ModelError::Empty);
        }
        let columns: Vec<Column> = features
            .iter()
            .enumerate()
            .map(|(j, spec)| match &spec.kind {
                FeatureKind::Numeric => Column::Number,
                FeatureKind::Categorical { .. } => Column::Ranked(rank_levels(rows, labels, j)),
            })
            .collect();
        let data = column_major(&columns, rows);
        let y: Vec<f64> = labels
            .iter()
            .map(|label| f64::from(u8::from(*label)))
            .collect();
        let constraints: ConstraintMap = (0..columns.len())
            .map(|j| {
                let values = &data[j * rows.len()..(j + 1) * rows.len()];
                let direction = rank_correlation(values, &y);
                let constraint = if direction >= params.min_direction {
                    Constraint::Positive
                } else if direction <= -params.min_direction {
                    Constraint::Negative
                } else {
                    Constraint::Unconstrained
                };
                (j, constraint)
            })
            .collect();
        let mut booster = GradientBooster::default()
            .set_iterations(params.trees)
            .set_learning_rate(params.learning_rate)
            .set_max_depth(params.max_depth)
            .set_min_leaf_weight(params.min_leaf_weight)
            .set_parallel(false)
            .set_monotone_constraints(Some(constraints));
        booster
            .fit_unweighted(&Matrix::new(&data, rows.len(), columns.len()), &y, None)
            .map_err(|e| ModelError::InvalidParameter(e.to_string()))?;
        Ok(Self { booster, columns })
    }

    /// The probability of the positive class for each row.
    pub fn probabilities(&self, rows: &[Vec<FeatureValue>]) -> Vec<f64> {
        let data = column_major(&self.columns, rows);
        self.booster
            .predict(&Matrix::new(&data, rows.len(), self.columns.len()), false)
            .into_iter()
            .map(|log_odds| 1.0 / (1.0 + (-log_odds).exp()))
            .collect()
    }

    /// Each feature's share of the ensemble's total split gain.
    pub fn importance(&self) -> Vec<f64> {
        let gains = self
            .booster
            .calculate_feature_importance(ImportanceMethod::TotalGain, true);
        (0..self.columns.len())
            .map(|j| gains.get(&j).copied().map_or(0.0, f64::from))
            .collect()
    }
}

/// The rows as one column after another, as forust reads them; an unknown level is missing.
fn column_major(columns: &[Column], rows: &[Vec<FeatureValue>]) -> Vec<f64> {
    let mut data = Vec::with_capacity(columns.len() * rows.len());
    for (j, column) in columns.iter().enumerate() {
        data.extend(rows.iter().map(|row| match (column, row.get(j)) {
            (Column::Number, Some(FeatureValue::Number(number))) => *number,
            (Column::Ranked(ranks), Some(FeatureValue::Category(level))) => {
                ranks.get(level).copied().unwrap_or(f64::NAN)
            }
            _ => f64::NAN,
        }));
    }
    data
}

/// Each level of column `j` with its rank by the rows' positive rate (ties by name).
fn rank_levels(rows: &[Vec<FeatureValue>], labels: &[bool], j: usize) -> HashMap<String, f64> {
    let mut counts: HashMap<String, (f64, f64)> = HashMap::new();
    for (row, label) in rows.iter().zip(labels) {
        if let Some(FeatureValue::Category(level)) = row.get(j) {
            let entry = counts.entry(level.clone()).or_default();
            entry.0 += f64::from(u8::from(*label));
            entry.1 += 1.0;
        }
    }
    // A level's rate shrunk towards even odds by one row each way: a level seen once is not
    // ranked as certain.
    let mut levels: Vec<(String, f64)> = counts
        .into_iter()
        .map(|(level, (positives, total))| (level, (positives + 1.0) / (total + 2.0)))
        .collect();
    levels.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    levels
        .into_iter()
        .enumerate()
        .map(|(rank, (level, _))| (level, rank as f64))
        .collect()
}

/// Spearman's correlation of `values` (missing left out) with `labels`.
fn rank_correlation(values: &[f64], labels: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = values
        .iter()
        .zip(labels)
        .filter(|(value, _)| value.is_finite())
        .map(|(value, label)| (*value, *label))
        .collect();
    if pairs.len() < 3 {
        return 0.0;
    }
    let ranks = |key: &dyn Fn(&(f64, f64)) -> f64| -> Vec<f64> {
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.sort_by(|&a, &b| key(&pairs[a]).total_cmp(&key(&pairs[b])));
        let mut ranks = vec![0.0; pairs.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start;
            while end + 1 < order.len() && key(&pairs[order[end + 1]]) == key(&pairs[order[start]])
            {
                end += 1;
            }
            let mean = (start + end) as f64 / 2.0;
            for &i in &order[start..=end] {
                ranks[i] = mean;
            }
            start = end + 1;
        }
        ranks
    };
    let (x, y) = (ranks(&|pair| pair.0), ranks(&|pair| pair.1));
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(&y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, kind: FeatureKind) -> FeatureSpec {
        FeatureSpec {
            name: name.to_owned(),
            kind,
        }
    }

    /// Risk falls with income and rises with a "renter" level; income is sometimes missing.
    fn table(rows: usize, offset: usize) -> (Vec<FeatureSpec>, Vec<Vec<FeatureValue>>, Vec<bool>) {
        let features = vec![
            spec("income", FeatureKind::Numeric),
            spec(
                "housing",
                FeatureKind::Categorical {
                    levels: vec!["owner".to_owned(), "renter".to_owned()],
                },
            ),
        ];
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for i in offset..offset + rows {
            let income = 1_000.0 + (i * 7_919 % 5_000) as f64;
            let renter = i % 3 == 0;
            let noise = (i * 104_729 % 1_000) as f64 / 1_000.0;
            let risk = 0.7 - income / 10_000.0 + if renter { 0.2 } else { 0.0 };
            labels.push(noise < risk);
            data.push(vec![
                if i % 11 == 0 {
                    FeatureValue::Number(f64::NAN)
                } else {
                    FeatureValue::Number(income)
                },
                FeatureValue::Category(if renter { "renter" } else { "owner" }.to_owned()),
            ]);
        }
        (features, data, labels)
    }

    #[test]
    fn risk_is_monotone_in_income_and_ranks_held_out_rows() {
        let (features, rows, labels) = table(1_500, 0);
        let model = BoostedTrees::fit(&features, &rows, &labels, &BoostedTreesParams::default())
            .expect("trains");
        // Monotone: more income never raises the probability, whatever the housing.
        for housing in ["owner", "renter"] {
            let curve = model.probabilities(
                &(0..60)
                    .map(|k| {
                        vec![
                            FeatureValue::Number(1_000.0 + 100.0 * f64::from(k)),
                            FeatureValue::Category(housing.to_owned()),
                        ]
                    })
                    .collect::<Vec<_>>(),
            );
            assert!(
                curve.windows(2).all(|pair| pair[1] <= pair[0] + 1e-12),
                "{housing}: {curve:?}"
            );
        }
        let (_, test_rows, test_labels) = table(1_000, 10_000);
        let scores = model.probabilities(&test_rows);
        let auc = crate::metrics::roc_auc(&test_labels, &scores).expect("both classes");
        // The best any model can do here: the true risk, where income is known.
        let truth: Vec<f64> = test_rows
            .iter()
            .map(|row| match (&row[0], &row[1]) {
                (FeatureValue::Number(income), FeatureValue::Category(housing))
                    if income.is_finite() =>
                {
                    0.7 - income / 10_000.0 + if housing == "renter" { 0.2 } else { 0.0 }
                }
                _ => 0.5,
            })
            .collect();
        let best = crate::metrics::roc_auc(&test_labels, &truth).expect("both classes");
        assert!(auc > best - 0.03, "{auc} against the true risk's {best}");
        let importance = model.importance();
        assert!(importance[0] > importance[1], "{importance:?}");
    }

    #[test]
    fn an_unknown_level_or_a_missing_income_is_scored_not_refused() {
        let (features, rows, labels) = table(600, 0);
        let model = BoostedTrees::fit(&features, &rows, &labels, &BoostedTreesParams::default())
            .expect("trains");
        let scores = model.probabilities(&[vec![
            FeatureValue::Number(f64::NAN),
            FeatureValue::Category("boat".to_owned()),
        ]]);
        assert!(scores[0] > 0.0 && scores[0] < 1.0, "{scores:?}");
    }
}
