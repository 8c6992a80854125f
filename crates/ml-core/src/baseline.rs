/// Mean and standard deviation of an entity's recent figures.
///
/// Why: "unusual" only means something against the entity's own history; a trade of 12,000 shares
/// is routine for one symbol and extraordinary for another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub count: usize,
    pub mean: f64,
    pub std_dev: f64,
}

impl Baseline {
    /// The baseline of `values`, or `None` when there are none (no history, no baseline).
    pub fn of<I: IntoIterator<Item = f64>>(values: I) -> Option<Self> {
        // Welford's algorithm: one pass, numerically stable for large sums.
        let (mut count, mut mean, mut m2) = (0usize, 0.0f64, 0.0f64);
        for value in values {
            count += 1;
            let delta = value - mean;
            mean += delta / count as f64;
            m2 += delta * (value - mean);
        }
        (count > 0).then(|| Self {
            count,
            mean,
            std_dev: (m2 / count as f64).sqrt(),
        })
    }

    /// How many times the mean `value` is; `None` when the mean is not positive.
    pub fn ratio(&self, value: f64) -> Option<f64> {
        (self.mean > 0.0).then(|| value / self.mean)
    }

    /// How many standard deviations `value` lies above the mean; `None` without spread.
    pub fn z_score(&self, value: f64) -> Option<f64> {
        (self.std_dev > 0.0).then(|| (value - self.mean) / self.std_dev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_of_known_values() {
        let baseline = Baseline::of([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).expect("values");
        assert_eq!(baseline.count, 8);
        assert!((baseline.mean - 5.0).abs() < 1e-12);
        assert!((baseline.std_dev - 2.0).abs() < 1e-12);
        assert_eq!(baseline.ratio(10.0), Some(2.0));
        assert_eq!(baseline.z_score(9.0), Some(2.0));
    }

    #[test]
    fn no_values_no_baseline_and_no_spread_no_z_score() {
        assert_eq!(Baseline::of(std::iter::empty()), None);
        let flat = Baseline::of([3.0, 3.0]).expect("values");
        assert_eq!(flat.z_score(4.0), None);
    }
}
