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
}
