/// Why a model could not be trained or could not score an input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("no training rows")]
    Empty,
    #[error("expected {expected} features, got {actual}")]
    WrongWidth { expected: usize, actual: usize },
    #[error("feature {feature} of row {row} is not a finite number")]
    NotFinite { row: usize, feature: usize },
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
}

/// Checks that every value of a row is finite.
pub(crate) fn check_row(row: &[f64], expected: usize, index: usize) -> Result<(), ModelError> {
    if row.len() != expected {
        return Err(ModelError::WrongWidth {
            expected,
            actual: row.len(),
        });
    }
    match row.iter().position(|value| !value.is_finite()) {
        Some(feature) => Err(ModelError::NotFinite {
            row: index,
            feature,
        }),
        None => Ok(()),
    }
}
