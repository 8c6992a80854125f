use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

use crate::ModelError;
use crate::artifact::ModelShape;

/// One input column of a tabular model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub name: String,
    pub kind: FeatureKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FeatureKind {
    Numeric,
    /// One-hot encoded; a level not listed here is refused at scoring time.
    Categorical {
        levels: Vec<String>,
    },
}

/// One value of an input row, in the order of the model's features.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureValue {
    Number(f64),
    Category(String),
}

/// Logistic regression (fitted by smartcore) over standardised numeric columns and one-hot
/// categorical columns, with the probability and each feature's share of the log-odds.
///
/// Every encoded column is standardised with its training mean and spread, so a feature's
/// contribution, `weight * standardised value`, is measured against the average training row:
/// positive contributions push towards the positive class (default), which is what reason codes
/// rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    features: Vec<FeatureSpec>,
    /// Per encoded column: (mean, standard deviation) from training.
    scaling: Vec<(f64, f64)>,
    weights: Vec<f64>,
    intercept: f64,
}

impl LogisticModel {
    /// Fits the model; `labels` are true for the positive class. `alpha` is the L2 penalty
    /// (1.0 matches scikit-learn's default C = 1).
    pub fn fit(
        features: Vec<FeatureSpec>,
        rows: &[Vec<FeatureValue>],
        labels: &[bool],
        alpha: f64,
    ) -> Result<Self, ModelError> {
        if rows.is_empty() {
            return Err(ModelError::Empty);
        }
        if rows.len() != labels.len() {
            return Err(ModelError::InvalidParameter(format!(
                "{} rows but {} labels",
                rows.len(),
                labels.len()
            )));
        }
        if labels.iter().all(|l| *l) || labels.iter().all(|l| !*l) {
            return Err(ModelError::InvalidParameter(
                "training needs both classes".to_owned(),
            ));
        }
        let mut model = Self {
            features,
            scaling: Vec::new(),
            weights: Vec::new(),
            intercept: 0.0,
        };
        let width = model.encoded_width();
        let mut encoded = Array2::zeros((rows.len(), width));
        for (index, row) in rows.iter().enumerate() {
            let mut target = vec![0.0; width];
            model.encode_raw(row, index, &mut target)?;
            encoded.row_mut(index).assign(&Array1::from(target));
        }
        model.scaling = encoded
            .columns()
            .into_iter()
            .map(|column| {
                let mean = column.mean().unwrap_or(0.0);
                let std = column.std(0.0);
                (mean, if std > 0.0 { std } else { 1.0 })
            })
            .collect();
        for mut row in encoded.rows_mut() {
            for (value, (mean, std)) in row.iter_mut().zip(&model.scaling) {
                *value = (*value - mean) / std;
            }
        }
        let targets: Array1<i32> = labels.iter().map(|l| i32::from(*l)).collect();
        let fitted = LogisticRegression::fit(
            &encoded,
            &targets,
            LogisticRegressionParameters::default().with_alpha(alpha),
        )
        .map_err(|error| {
            ModelError::InvalidParameter(format!("logistic regression did not fit: {error}"))
        })?;
        model.weights = fitted.coefficients().iter().copied().collect();
        model.intercept = fitted.intercept().iter().copied().next().unwrap_or(0.0);
        Ok(model)
    }

    /// The probability of the positive class.
    pub fn probability(&self, row: &[FeatureValue]) -> Result<f64, ModelError> {
        let log_odds = self.intercept + self.contributions_iter(row)?.iter().sum::<f64>();
        Ok(1.0 / (1.0 + (-log_odds).exp()))
    }

    /// Each feature's contribution to the log-odds, by feature name, in feature order.
    pub fn contributions(&self, row: &[FeatureValue]) -> Result<Vec<(String, f64)>, ModelError> {
        Ok(self
            .features
            .iter()
            .map(|feature| feature.name.clone())
            .zip(self.contributions_iter(row)?)
            .collect())
    }

    pub fn features(&self) -> &[FeatureSpec] {
        &self.features
    }

    fn contributions_iter(&self, row: &[FeatureValue]) -> Result<Vec<f64>, ModelError> {
        let mut encoded = vec![0.0; self.encoded_width()];
        self.encode_raw(row, 0, &mut encoded)?;
        let mut contributions = Vec::with_capacity(self.features.len());
        let mut column = 0;
        for feature in &self.features {
            let span = match &feature.kind {
                FeatureKind::Numeric => 1,
                FeatureKind::Categorical { levels } => levels.len(),
            };
            let share: f64 = (column..column + span)
                .map(|j| {
                    let (mean, std) = self.scaling[j];
                    self.weights[j] * (encoded[j] - mean) / std
                })
                .sum();
            contributions.push(share);
            column += span;
        }
        Ok(contributions)
    }

    fn encoded_width(&self) -> usize {
        self.features
            .iter()
            .map(|feature| match &feature.kind {
                FeatureKind::Numeric => 1,
                FeatureKind::Categorical { levels } => levels.len(),
            })
            .sum()
    }

    /// Writes the row's unscaled encoding (numbers as they are, one-hot indicators) into `target`.
    fn encode_raw(
        &self,
        row: &[FeatureValue],
        index: usize,
        target: &mut [f64],
    ) -> Result<(), ModelError> {
        if row.len() != self.features.len() {
            return Err(ModelError::WrongWidth {
                expected: self.features.len(),
                actual: row.len(),
            });
        }
        let mut column = 0;
        for (feature_index, (feature, value)) in self.features.iter().zip(row).enumerate() {
            match (&feature.kind, value) {
                (FeatureKind::Numeric, FeatureValue::Number(number)) => {
                    if !number.is_finite() {
                        return Err(ModelError::NotFinite {
                            row: index,
                            feature: feature_index,
                        });
                    }
                    target[column] = *number;
                    column += 1;
                }
                (FeatureKind::Categorical { levels }, FeatureValue::Category(level)) => {
                    let position =
                        levels
                            .iter()
                            .position(|known| known == level)
                            .ok_or_else(|| {
                                ModelError::InvalidParameter(format!(
                                    "`{level}` is not a level of `{}` (expected one of: {})",
                                    feature.name,
                                    levels.join(", ")
                                ))
                            })?;
                    target[column + position] = 1.0;
                    column += levels.len();
                }
                _ => {
                    return Err(ModelError::InvalidParameter(format!(
                        "`{}` expects a {} value",
                        feature.name,
                        match feature.kind {
                            FeatureKind::Numeric => "numeric",
                            FeatureKind::Categorical { .. } => "categorical",
                        }
                    )));
                }
            }
        }
        Ok(())
    }
}

impl ModelShape for LogisticModel {
    fn width(&self) -> usize {
        self.features.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::roc_auc;
    use crate::sampler::Sampler;

    fn specs() -> Vec<FeatureSpec> {
        vec![
            FeatureSpec {
                name: "utilization".to_owned(),
                kind: FeatureKind::Numeric,
            },
            FeatureSpec {
                name: "housing".to_owned(),
                kind: FeatureKind::Categorical {
                    levels: vec!["own".to_owned(), "rent".to_owned()],
                },
            },
        ]
    }

    /// Defaults grow with utilisation and are likelier for renters.
    fn data(rows: usize, seed: u64) -> (Vec<Vec<FeatureValue>>, Vec<bool>) {
        let mut random = Sampler::new(seed);
        (0..rows)
            .map(|_| {
                let utilization = random.unit();
                let rent = random.unit() < 0.5;
                let log_odds = -3.0 + 4.0 * utilization + if rent { 1.0 } else { 0.0 };
                let default = random.unit() < 1.0 / (1.0 + (-log_odds).exp());
                let housing = if rent { "rent" } else { "own" };
                (
                    vec![
                        FeatureValue::Number(utilization),
                        FeatureValue::Category(housing.to_owned()),
                    ],
                    default,
                )
            })
            .unzip()
    }

    #[test]
    fn learns_the_direction_of_each_feature_and_separates_the_classes() {
        let (rows, labels) = data(3000, 1);
        let model = LogisticModel::fit(specs(), &rows, &labels, 1.0).expect("fits");
        let low = vec![
            FeatureValue::Number(0.1),
            FeatureValue::Category("own".to_owned()),
        ];
        let high = vec![
            FeatureValue::Number(0.9),
            FeatureValue::Category("rent".to_owned()),
        ];
        let (p_low, p_high) = (
            model.probability(&low).expect("p"),
            model.probability(&high).expect("p"),
        );
        assert!(p_low < 0.15 && p_high > 0.5, "{p_low} {p_high}");
        let reasons = model.contributions(&high).expect("contributions");
        assert_eq!(reasons[0].0, "utilization");
        assert!(
            reasons.iter().all(|(_, share)| *share > 0.0),
            "both push towards default: {reasons:?}"
        );
        let (test_rows, test_labels) = data(2000, 2);
        let scores: Vec<f64> = test_rows
            .iter()
            .map(|r| model.probability(r).expect("p"))
            .collect();
        let auc = roc_auc(&test_labels, &scores).expect("both classes");
        assert!(auc > 0.7, "{auc}");
    }

    #[test]
    fn refuses_unknown_levels_non_finite_numbers_and_wrong_widths() {
        let (rows, labels) = data(500, 3);
        let model = LogisticModel::fit(specs(), &rows, &labels, 1.0).expect("fits");
        let unknown = vec![
            FeatureValue::Number(0.5),
            FeatureValue::Category("boat".to_owned()),
        ];
        let error = model
            .probability(&unknown)
            .expect_err("unknown level")
            .to_string();
        assert!(
            error.contains("`boat` is not a level of `housing`"),
            "{error}"
        );
        let nan = vec![
            FeatureValue::Number(f64::NAN),
            FeatureValue::Category("own".to_owned()),
        ];
        assert_eq!(
            model.probability(&nan),
            Err(ModelError::NotFinite { row: 0, feature: 0 })
        );
        assert!(matches!(
            model.probability(&nan[..1]),
            Err(ModelError::WrongWidth { .. })
        ));
        let swapped = vec![
            FeatureValue::Category("own".to_owned()),
            FeatureValue::Number(0.5),
        ];
        assert!(model.probability(&swapped).is_err());
        assert!(
            LogisticModel::fit(specs(), &rows, &vec![true; rows.len()], 1.0).is_err(),
            "one class"
        );
    }

    #[test]
    fn the_same_data_fits_the_same_model() {
        let (rows, labels) = data(500, 4);
        let a = LogisticModel::fit(specs(), &rows, &labels, 1.0).expect("fits");
        let b = LogisticModel::fit(specs(), &rows, &labels, 1.0).expect("fits");
        assert_eq!(a, b);
    }
}
