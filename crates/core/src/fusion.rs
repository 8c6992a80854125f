/// Combines independent finding confidences (each 0..=1) into one probability:
/// `1 - prod(1 - c_i)`.
///
/// Why not the maximum: an event that trips two rules is riskier than one that trips either alone.
/// Why not the sum: the result must stay a probability. Values outside 0..=1 are clamped; no
/// findings give 0.
pub fn noisy_or<I: IntoIterator<Item = f64>>(confidences: I) -> f64 {
    1.0 - confidences
        .into_iter()
        .map(|confidence| 1.0 - confidence.clamp(0.0, 1.0))
        .product::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_findings_mean_no_risk_and_one_finding_is_itself() {
        assert_eq!(noisy_or([]), 0.0);
        assert!((noisy_or([0.78]) - 0.78).abs() < 1e-12);
    }

    #[test]
    fn two_findings_weigh_more_than_either_but_never_exceed_one() {
        let combined = noisy_or([0.5, 0.6]);
        assert!((combined - 0.8).abs() < 1e-12);
        assert_eq!(noisy_or([1.0, 3.0]), 1.0);
    }
}
