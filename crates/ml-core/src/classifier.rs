//! What the credit engine asks of its default model, whichever kind a team trained.

use crate::{FeatureValue, LogisticModel, ModelError, ModelShape, Scorecard};

/// A model of the probability of a bad outcome from one row: logistic regression, or the
/// scorecard that measured better on public credit data (EVALUATION.md) and explains itself in
/// points. A team that trained one kind on its own labels keeps it; new models are scorecards.
pub trait Classifier: ModelShape + Send + Sync {
    /// The probability of the bad outcome, 0-1.
    fn probability(&self, row: &[FeatureValue]) -> Result<f64, ModelError>;
}

impl Classifier for LogisticModel {
    fn probability(&self, row: &[FeatureValue]) -> Result<f64, ModelError> {
        LogisticModel::probability(self, row)
    }
}

impl Classifier for Scorecard {
    fn probability(&self, row: &[FeatureValue]) -> Result<f64, ModelError> {
        Ok(self.score(row)?.probability)
    }
}

impl ModelShape for Scorecard {
    fn width(&self) -> usize {
        self.features.len()
    }
}
