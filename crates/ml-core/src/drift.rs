//! Drift: how far the traffic a model scores has moved from what it was trained on, per feature,
//! as the population stability index (PSI) over the training data's deciles.
//!
//! PSI = Σ (actual − expected) × ln(actual / expected) over the bins. Below 0.1 the population is
//! stable; 0.1-0.25 it has shifted; above 0.25 the model is scoring a different population and
//! its alerts mean little until it is retrained.

use serde::{Deserialize, Serialize};

/// Bins per feature: the training data's deciles.
const BINS: usize = 10;
/// The least share a bin is given, so that an empty bin does not make the index infinite.
const MIN_SHARE: f64 = 1e-4;

/// One feature's training distribution: the cut points between its bins (the distinct deciles;
/// a feature with few values has fewer) and the share of the training rows in each bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureProfile {
    pub feature: String,
    /// Ascending; a value goes to the first bin whose cut point it does not exceed.
    pub cuts: Vec<f64>,
    /// `cuts.len() + 1` shares summing to 1.
    pub shares: Vec<f64>,
}

impl FeatureProfile {
    /// The profile of `values` (the finite ones; `None` when there are none).
    pub fn of(feature: &str, values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut sorted: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        // The largest value of each tenth: a bin holds the values up to its cut.
        let mut cuts: Vec<f64> = (1..BINS)
            .map(|decile| sorted[(decile * sorted.len() / BINS).saturating_sub(1)])
            .collect();
        cuts.dedup();
        // The top cut equal to the maximum would leave the last bin empty by construction.
        if cuts.last() == sorted.last() {
            cuts.pop();
        }
        let shares = shares(&cuts, &sorted);
        Some(Self {
            feature: feature.to_owned(),
            cuts,
            shares,
        })
    }

    /// The population stability index of `values` against this profile (`None` without a
    /// finite value).
    pub fn stability(&self, values: impl IntoIterator<Item = f64>) -> Option<f64> {
        let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            return None;
        }
        let actual = shares(&self.cuts, &finite);
        Some(
            actual
                .iter()
                .zip(&self.shares)
                .map(|(actual, expected)| {
                    let (a, e) = (actual.max(MIN_SHARE), expected.max(MIN_SHARE));
                    (a - e) * (a / e).ln()
                })
                .sum(),
        )
    }
}

/// The share of `values` in each bin the cut points make.
fn shares(cuts: &[f64], values: &[f64]) -> Vec<f64> {
    let mut counts = vec![0usize; cuts.len() + 1];
    for value in values {
        counts[cuts.partition_point(|cut| cut < value)] += 1;
    }
    counts
        .into_iter()
        .map(|count| count as f64 / values.len() as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_population_is_stable_and_a_shifted_one_is_not() {
        let training = (0..1000).map(|i| f64::from(i) / 10.0);
        let profile = FeatureProfile::of("amount", training).expect("finite values");
        assert_eq!(profile.cuts.len(), 9);
        assert!(
            profile
                .shares
                .iter()
                .all(|share| (share - 0.1).abs() < 1e-9)
        );
        let same = profile
            .stability((0..500).map(|i| f64::from(i) / 5.0 + 0.05))
            .expect("values");
        assert!(same < 0.01, "{same}");
        // Everything above the training maximum: one bin holds it all.
        let moved = profile
            .stability((0..500).map(|i| 200.0 + f64::from(i)))
            .expect("values");
        assert!(moved > 1.0, "{moved}");
        // A third of it moved up: a shift, not a new population.
        let partly = profile
            .stability((0..900).map(|i| {
                if i % 3 == 0 {
                    150.0
                } else {
                    f64::from(i % 1000) / 9.0
                }
            }))
            .expect("values");
        assert!(partly > 0.1 && partly < 2.0, "{partly}");
    }

    #[test]
    fn a_feature_with_few_values_keeps_their_shares() {
        // 70% zeros, 20% ones, 10% twos: the deciles repeat.
        let values = (0..100).map(|i| match i {
            0..70 => 0.0,
            70..90 => 1.0,
            _ => 2.0,
        });
        let profile = FeatureProfile::of("count", values).expect("finite values");
        assert_eq!(profile.cuts, [0.0, 1.0]);
        assert_eq!(profile.shares, [0.7, 0.2, 0.1]);
        assert!(
            profile
                .stability([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0])
                .expect("values")
                < 1e-9
        );
        assert_eq!(FeatureProfile::of("empty", [f64::NAN]), None);
    }
}
