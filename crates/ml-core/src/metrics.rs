//! Evaluation metrics for training reports, computed as scikit-learn defines them.

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting half (the Mann-Whitney U statistic). `None` without both classes.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Option<f64> {
    let positives = labels.iter().filter(|label| **label).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 || labels.len() != scores.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    // Sum of the (average, for ties) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && scores[order[end + 1]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + end) as f64 / 2.0 + 1.0;
        rank_sum += average_rank * order[start..=end].iter().filter(|i| labels[**i]).count() as f64;
        start = end + 1;
    }
    let positives = positives as f64;
    Some((rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives as f64))
}

/// Average precision: the precision at each threshold weighted by the recall it adds,
/// sum_n (R_n - R_(n-1)) P_n. `None` without positives.
pub fn average_precision(labels: &[bool], scores: &[f64]) -> Option<f64> {
    let positives = labels.iter().filter(|label| **label).count();
    if positives == 0 || labels.len() != scores.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let (mut true_positives, mut seen, mut previous_recall, mut total) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        // Rows with equal scores form one threshold.
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            true_positives += usize::from(labels[order[j]]);
            seen += 1;
            j += 1;
        }
        let recall = true_positives as f64 / positives as f64;
        let precision = true_positives as f64 / seen as f64;
        total += (recall - previous_recall) * precision;
        previous_recall = recall;
        i = j;
    }
    Some(total)
}

/// Kolmogorov-Smirnov: the largest gap between the positives' and negatives' cumulative score
/// distributions (max |TPR - FPR| over thresholds). `None` without both classes.
pub fn kolmogorov_smirnov(labels: &[bool], scores: &[f64]) -> Option<f64> {
    let positives = labels.iter().filter(|label| **label).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 || labels.len() != scores.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let (mut tp, mut fp, mut best) = (0usize, 0usize, 0.0f64);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            if labels[order[j]] {
                tp += 1;
            } else {
                fp += 1;
            }
            j += 1;
        }
        best = best.max((tp as f64 / positives as f64 - fp as f64 / negatives as f64).abs());
        i = j;
    }
    Some(best)
}

/// Brier score: the mean squared difference between predicted probabilities and outcomes
/// (0 is perfect). `None` for no rows.
pub fn brier(labels: &[bool], probabilities: &[f64]) -> Option<f64> {
    if labels.is_empty() || labels.len() != probabilities.len() {
        return None;
    }
    let total: f64 = labels
        .iter()
        .zip(probabilities)
        .map(|(label, p)| (p - f64::from(u8::from(*label))).powi(2))
        .sum();
    Some(total / labels.len() as f64)
}

/// How a model's flags agree with analysts' labels (true: confirmed fraud): what a fraud team asks
/// of a model before trusting it, "of what it flags, how much is fraud, and how much fraud does it
/// flag".
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabelAgreement {
    pub labelled: usize,
    /// Rows labelled fraud.
    pub fraud: usize,
    /// Rows scoring at or above the threshold (an anomaly model's training threshold, the
    /// credit model's probability of default of 0.5).
    pub flagged: usize,
    /// Flagged rows labelled fraud.
    pub true_positives: usize,
    /// True positives over flagged; `None` when nothing was flagged.
    pub precision: Option<f64>,
    /// True positives over fraud; `None` without fraud labels.
    pub recall: Option<f64>,
    /// Threshold-free ranking quality; `None` without both labels.
    pub roc_auc: Option<f64>,
}

impl LabelAgreement {
    /// Compares `scores` (flagged at `threshold` and above) with `labels`, row by row.
    pub fn measure(labels: &[bool], scores: &[f64], threshold: f64) -> Self {
        let flags: Vec<bool> = scores.iter().map(|score| *score >= threshold).collect();
        let fraud = labels.iter().filter(|label| **label).count();
        let flagged = flags.iter().filter(|flag| **flag).count();
        let true_positives = labels
            .iter()
            .zip(&flags)
            .filter(|(label, flag)| **label && **flag)
            .count();
        let share = |part: usize, whole: usize| (whole > 0).then(|| part as f64 / whole as f64);
        Self {
            labelled: labels.len(),
            fraud,
            flagged,
            true_positives,
            precision: share(true_positives, flagged),
            recall: share(true_positives, fraud),
            roc_auc: roc_auc(labels, scores),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: [bool; 4] = [false, false, true, true];
    const SCORES: [f64; 4] = [0.1, 0.4, 0.35, 0.8];

    #[test]
    fn roc_auc_matches_scikit_learn() {
        // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        assert_eq!(roc_auc(&LABELS, &SCORES), Some(0.75));
        assert_eq!(
            roc_auc(&[true, false], &[0.5, 0.5]),
            Some(0.5),
            "ties count half"
        );
        assert_eq!(roc_auc(&[true, true], &[0.1, 0.2]), None);
    }

    #[test]
    fn average_precision_matches_scikit_learn() {
        // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.8333...
        let ap = average_precision(&LABELS, &SCORES).expect("positives exist");
        assert!((ap - 5.0 / 6.0).abs() < 1e-12, "{ap}");
    }

    #[test]
    fn ks_is_the_largest_rate_gap() {
        // Thresholds: 0.8 -> TPR .5 FPR 0; 0.4 -> .5/.5; 0.35 -> 1/.5; 0.1 -> 1/1.
        assert_eq!(kolmogorov_smirnov(&LABELS, &SCORES), Some(0.5));
    }

    #[test]
    fn brier_is_the_mean_squared_error_of_probabilities() {
        let brier = brier(&[true, false], &[0.8, 0.4]).expect("rows");
        assert!((brier - (0.04 + 0.16) / 2.0).abs() < 1e-12);
        assert_eq!(super::brier(&[], &[]), None);
    }

    #[test]
    fn label_agreement_counts_what_the_threshold_flags() {
        // Flagged at 0.35 and above: rows 2 (0.4, not fraud), 3 (0.35, fraud), 4 (0.8, fraud).
        let agreement = LabelAgreement::measure(&LABELS, &SCORES, 0.35);
        assert_eq!(
            (
                agreement.labelled,
                agreement.fraud,
                agreement.flagged,
                agreement.true_positives
            ),
            (4, 2, 3, 2)
        );
        assert_eq!(agreement.precision, Some(2.0 / 3.0));
        assert_eq!(agreement.recall, Some(1.0));
        assert_eq!(agreement.roc_auc, Some(0.75));
        let nothing = LabelAgreement::measure(&[false], &[0.1], 0.5);
        assert_eq!(
            (nothing.precision, nothing.recall, nothing.roc_auc),
            (None, None, None)
        );
    }
}
