//! A credit scorecard as risk teams build one: each feature cut into bins (monotone in risk for a
//! numeric feature), each bin's weight of evidence, the information value that says which features
//! matter, a logistic regression on the weights of evidence, and points per bin on the familiar
//! scale (600 points at 50:1 good:bad odds, 20 points to double the odds, within 300-850). A
//! score explains itself: the points of each bin, and the reasons are the bins that lost most
//! against the best bin of their feature.

use serde::{Deserialize, Serialize};

use crate::{FeatureKind, FeatureSpec, FeatureValue, ModelError};

/// How the bins are cut and which features are kept. The defaults measured best on two public
/// credit data sets (EVALUATION.md): coarser bins (5-10%), the textbook cut of uninformative
/// features (information value under 0.02) and a stronger ridge each cost ROC AUC there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorecardParams {
    /// Quantile bins a numeric feature starts from, before merging.
    pub fine_bins: usize,
    /// The smallest share of the rows a bin may hold (3%).
    pub min_bin_share: f64,
    /// Features whose information value is below this are left out (0: none; 0.02 gives the
    /// leaner card of the textbooks).
    pub min_information_value: f64,
    /// The ridge penalty of the regression on the weights of evidence, per row (0.001).
    pub ridge: f64,
}

impl Default for ScorecardParams {
    fn default() -> Self {
        Self {
            fine_bins: 20,
            min_bin_share: 0.03,
            min_information_value: 0.0,
            ridge: 0.001,
        }
    }
}

/// Where a bin's rows come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BinRange {
    /// Numbers below `upper` (and from the previous bin's upper bound); the last bin is unbounded.
    Below { upper: Option<f64> },
    /// The rows whose number is missing.
    Missing,
    /// These categories.
    Levels { levels: Vec<String> },
}

/// One bin of one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    pub range: BinRange,
    pub rows: usize,
    pub bad: usize,
    /// ln(share of the goods / share of the bads): above 0 is safer than average.
    pub woe: f64,
    /// The bin's points in the score.
    pub points: f64,
}

/// One feature of the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Characteristic {
    pub name: String,
    /// The feature's position in the rows the scorecard reads.
    pub column: usize,
    pub bins: Vec<Bin>,
    pub information_value: f64,
    /// The regression's weight on the feature's weight of evidence.
    pub coefficient: f64,
}

/// A fitted scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub features: Vec<FeatureSpec>,
    /// The characteristics kept (information value at least `min_information_value`).
    pub characteristics: Vec<Characteristic>,
    /// Every feature's information value, kept or not, largest first.
    pub information_values: Vec<(String, f64)>,
    pub intercept: f64,
}

/// A scored row.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredRow {
    /// The probability of the bad outcome.
    pub probability: f64,
    /// The points, 300-850.
    pub score: f64,
    /// Each characteristic's points.
    pub points: Vec<(String, f64)>,
    /// The characteristics that lost most points against their best bin, most first, with the
    /// points lost (only those that lost any).
    pub reasons: Vec<(String, f64)>,
}

/// Points at the anchor odds, the anchor (good:bad) and points to double the odds.
const ANCHOR_POINTS: f64 = 600.0;
const ANCHOR_ODDS: f64 = 50.0;
const POINTS_TO_DOUBLE: f64 = 20.0;
const LOWEST_SCORE: f64 = 300.0;
const HIGHEST_SCORE: f64 = 850.0;

impl Scorecard {
    /// Bins each feature against `bad` (true: the bad outcome), keeps the informative ones and
    /// fits the regression on their weights of evidence.
    pub fn fit(
        features: Vec<FeatureSpec>,
        rows: &[Vec<FeatureValue>],
        bad: &[bool],
        params: &ScorecardParams,
    ) -> Result<Self, ModelError> {
        let bads = bad.iter().filter(|bad| **bad).count();
        if rows.len() != bad.len() || bads == 0 || bads == bad.len() {
            return Err(ModelError::InvalidParameter(
                "a scorecard needs rows of both outcomes, one label per row".to_owned(),
            ));
        }
        let mut information_values = Vec::new();
        let mut characteristics = Vec::new();
        for (column, feature) in features.iter().enumerate() {
            let bins = match &feature.kind {
                FeatureKind::Numeric => {
                    let values: Vec<f64> = rows
                        .iter()
                        .map(|row| number(&row[column]))
                        .collect::<Result<_, _>>()?;
                    numeric_bins(&values, bad, params)
                }
                FeatureKind::Categorical { .. } => {
                    let values: Vec<&str> = rows
                        .iter()
                        .map(|row| category(&row[column]))
                        .collect::<Result<_, _>>()?;
                    categorical_bins(&values, bad, params)
                }
            };
            let bins = with_woe(bins, bads, bad.len() - bads);
            let iv = information_value(&bins, bads, bad.len() - bads);
            information_values.push((feature.name.clone(), iv));
            if iv >= params.min_information_value && bins.len() > 1 {
                characteristics.push(Characteristic {
                    name: feature.name.clone(),
                    column,
                    bins,
                    information_value: iv,
                    coefficient: 0.0,
                });
            }
        }
        information_values.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut card = Self {
            features,
            characteristics,
            information_values,
            intercept: 0.0,
        };
        let woes: Vec<Vec<f64>> = rows
            .iter()
            .map(|row| card.woes(row))
            .collect::<Result<_, _>>()?;
        let (intercept, coefficients) = fit_logistic(&woes, bad, params.ridge);
        card.intercept = intercept;
        for (characteristic, coefficient) in card.characteristics.iter_mut().zip(coefficients) {
            characteristic.coefficient = coefficient;
        }
        card.assign_points();
        Ok(card)
    }

    /// The weight of evidence of each characteristic's bin for `row`.
    fn woes(&self, row: &[FeatureValue]) -> Result<Vec<f64>, ModelError> {
        self.characteristics
            .iter()
            .map(|characteristic| Ok(characteristic.bins[bin_of(characteristic, row)?].woe))
            .collect()
    }

    /// Points per bin: the score is the anchor plus `POINTS_TO_DOUBLE / ln 2` x ln(good:bad
    /// odds), and ln(odds) = -(intercept + sum of coefficient x WoE); the intercept and anchor
    /// are shared equally by the characteristics.
    fn assign_points(&mut self) {
        let factor = POINTS_TO_DOUBLE / std::f64::consts::LN_2;
        let offset = ANCHOR_POINTS - factor * ANCHOR_ODDS.ln();
        let share = self.characteristics.len().max(1) as f64;
        let intercept = self.intercept;
        for characteristic in &mut self.characteristics {
            for bin in &mut characteristic.bins {
                bin.points = offset / share
                    - factor * (characteristic.coefficient * bin.woe + intercept / share);
                bin.points = (bin.points * 10.0).round() / 10.0;
            }
        }
    }

    /// Scores a row in the order of `features`.
    pub fn score(&self, row: &[FeatureValue]) -> Result<ScoredRow, ModelError> {
        if row.len() != self.features.len() {
            return Err(ModelError::InvalidParameter(format!(
                "a row of {} values for a scorecard of {} features",
                row.len(),
                self.features.len()
            )));
        }
        let mut log_odds_bad = self.intercept;
        let mut points = Vec::with_capacity(self.characteristics.len());
        let mut reasons = Vec::new();
        for characteristic in &self.characteristics {
            let bin = &characteristic.bins[bin_of(characteristic, row)?];
            log_odds_bad += characteristic.coefficient * bin.woe;
            points.push((characteristic.name.clone(), bin.points));
            let best = characteristic
                .bins
                .iter()
                .map(|bin| bin.points)
                .fold(f64::NEG_INFINITY, f64::max);
            if best - bin.points > 0.05 {
                reasons.push((
                    characteristic.name.clone(),
                    ((best - bin.points) * 10.0).round() / 10.0,
                ));
            }
        }
        reasons.sort_by(|a, b| b.1.total_cmp(&a.1));
        let total: f64 = points.iter().map(|(_, points)| points).sum();
        Ok(ScoredRow {
            probability: 1.0 / (1.0 + (-log_odds_bad).exp()),
            score: total.clamp(LOWEST_SCORE, HIGHEST_SCORE),
            points,
            reasons,
        })
    }
}

/// A numeric feature's value: a finite number, or NaN for a missing one (binned apart).
fn number(value: &FeatureValue) -> Result<f64, ModelError> {
    match value {
        FeatureValue::Number(number) if !number.is_infinite() => Ok(*number),
        _ => Err(ModelError::InvalidParameter(
            "a numeric feature holds an infinite or categorical value".to_owned(),
        )),
    }
}

fn category(value: &FeatureValue) -> Result<&str, ModelError> {
    match value {
        FeatureValue::Category(level) => Ok(level),
        FeatureValue::Number(_) => Err(ModelError::InvalidParameter(
            "a categorical feature holds a number".to_owned(),
        )),
    }
}

/// The index of the bin `row` falls in; an unknown category falls in the largest bin.
fn bin_of(characteristic: &Characteristic, row: &[FeatureValue]) -> Result<usize, ModelError> {
    let value = &row[characteristic.column];
    let bins = &characteristic.bins;
    match &bins[0].range {
        BinRange::Below { .. } | BinRange::Missing => {
            let number = number(value)?;
            let missing = bins.iter().position(|bin| bin.range == BinRange::Missing);
            if number.is_nan() {
                // Missing where training had none: the largest bin.
                return Ok(missing.unwrap_or_else(|| {
                    (0..bins.len())
                        .max_by_key(|&i| bins[i].rows)
                        .unwrap_or_default()
                }));
            }
            Ok(bins
                .iter()
                .position(|bin| match bin.range {
                    BinRange::Below { upper: Some(upper) } => number < upper,
                    BinRange::Below { upper: None } => true,
                    _ => false,
                })
                .unwrap_or(bins.len() - 1))
        }
        BinRange::Levels { .. } => {
            let level = category(value)?;
            let found = bins.iter().position(|bin| match &bin.range {
                BinRange::Levels { levels } => levels.iter().any(|known| known == level),
                BinRange::Below { .. } | BinRange::Missing => false,
            });
            Ok(found.unwrap_or_else(|| {
                (0..bins.len())
                    .max_by_key(|&i| bins[i].rows)
                    .unwrap_or_default()
            }))
        }
    }
}

/// A bin before its weight of evidence: its range, rows and bads.
type Tally = (BinRange, usize, usize);

/// Quantile bins merged until each holds `min_bin_share` of the rows and the bad rate moves one
/// way across them (the direction with the larger information value, so the feature's risk is
/// monotone as the domain expects: more income, less risk). A feature of a few values (a code,
/// a small count) keeps a bin per value, merged only when too small: its risk need not be
/// monotone. Missing values get a bin of their own.
fn numeric_bins(values: &[f64], bad: &[bool], params: &ScorecardParams) -> Vec<Tally> {
    let mut order: Vec<usize> = (0..values.len()).filter(|&i| !values[i].is_nan()).collect();
    order.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
    let missing: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_nan()).collect();
    let missing_bin = (!missing.is_empty()).then(|| {
        let bads = missing.iter().filter(|&&i| bad[i]).count();
        (BinRange::Missing, missing.len(), bads)
    });
    let mut distinct: Vec<f64> = order.iter().map(|&i| values[i]).collect();
    distinct.dedup();
    let few_values = distinct.len() <= FEW_VALUES;
    // Cut points: each value of a feature of few values, else distinct quantiles.
    let mut cuts: Vec<f64> = if few_values {
        distinct.iter().skip(1).copied().collect()
    } else {
        (1..params.fine_bins.max(1))
            .map(|q| values[order[q * order.len() / params.fine_bins]])
            .collect()
    };
    cuts.dedup();
    let mut bins: Vec<(Option<f64>, usize, usize)> = Vec::new();
    let mut at = 0;
    for upper in cuts.iter().copied().map(Some).chain([None]) {
        let (mut rows, mut bads) = (0, 0);
        while at < order.len() && upper.is_none_or(|upper| values[order[at]] < upper) {
            rows += 1;
            bads += usize::from(bad[order[at]]);
            at += 1;
        }
        if rows > 0 {
            bins.push((upper, rows, bads));
        }
    }
    let min_rows = (params.min_bin_share * values.len() as f64).ceil() as usize;
    let goods = bad.len() - bad.iter().filter(|b| **b).count();
    let bads = bad.len() - goods;
    let tallies = |merged: Vec<(Option<f64>, usize, usize)>| -> Vec<Tally> {
        merged
            .into_iter()
            .map(|(upper, rows, bads)| (BinRange::Below { upper }, rows, bads))
            .chain(missing_bin.clone())
            .collect()
    };
    if few_values {
        return tallies(merge_small(bins, min_rows));
    }
    let candidates = [true, false].map(|increasing| {
        let binned = tallies(monotone(bins.clone(), increasing, min_rows));
        let iv = information_value(&with_woe(binned.clone(), bads, goods), bads, goods);
        (iv, binned)
    });
    let [first, second] = candidates;
    if first.0 >= second.0 {
        first.1
    } else {
        second.1
    }
}

/// Distinct values up to which a numeric feature is binned per value (a code, a small count).
const FEW_VALUES: usize = 10;

/// Merges each bin under `min_rows` into its smaller neighbour, the smallest first.
fn merge_small(
    mut bins: Vec<(Option<f64>, usize, usize)>,
    min_rows: usize,
) -> Vec<(Option<f64>, usize, usize)> {
    while bins.len() > 1 {
        let Some(small) = (0..bins.len())
            .filter(|&i| bins[i].1 < min_rows)
            .min_by_key(|&i| bins[i].1)
        else {
            break;
        };
        // The bin that goes is the right one of the merged pair; the left takes its bound.
        let right = if small == 0 {
            1
        } else if small + 1 == bins.len() || bins[small - 1].1 <= bins[small + 1].1 {
            small
        } else {
            small + 1
        };
        let merged = bins.remove(right);
        let left = &mut bins[right - 1];
        left.0 = merged.0;
        left.1 += merged.1;
        left.2 += merged.2;
    }
    bins
}

/// Merges adjacent bins until every bin holds `min_rows` and the bad rate rises (`increasing`)
/// or falls across them.
fn monotone(
    mut bins: Vec<(Option<f64>, usize, usize)>,
    increasing: bool,
    min_rows: usize,
) -> Vec<(Option<f64>, usize, usize)> {
    let rate = |bin: &(Option<f64>, usize, usize)| bin.2 as f64 / bin.1.max(1) as f64;
    loop {
        let small = bins.iter().position(|bin| bin.1 < min_rows);
        let violation = (1..bins.len()).find(|&i| {
            let (before, after) = (rate(&bins[i - 1]), rate(&bins[i]));
            if increasing {
                after < before
            } else {
                after > before
            }
        });
        let merge_at = match (small, violation) {
            (_, Some(i)) => i,
            (Some(0), None) => 1,
            (Some(i), None) => i,
            (None, None) => return bins,
        };
        if bins.len() < 2 || merge_at >= bins.len() {
            return bins;
        }
        let right = bins.remove(merge_at);
        let left = &mut bins[merge_at - 1];
        left.0 = right.0;
        left.1 += right.1;
        left.2 += right.2;
    }
}

/// One bin per level, levels under `min_bin_share` pooled into one bin.
fn categorical_bins(values: &[&str], bad: &[bool], params: &ScorecardParams) -> Vec<Tally> {
    let mut levels: std::collections::BTreeMap<&str, (usize, usize)> =
        std::collections::BTreeMap::new();
    for (value, bad) in values.iter().zip(bad) {
        let tally = levels.entry(value).or_default();
        tally.0 += 1;
        tally.1 += usize::from(*bad);
    }
    let min_rows = (params.min_bin_share * values.len() as f64).ceil() as usize;
    let mut bins: Vec<Tally> = Vec::new();
    let mut pooled: Tally = (BinRange::Levels { levels: Vec::new() }, 0, 0);
    for (level, (rows, bads)) in levels {
        if rows >= min_rows {
            bins.push((
                BinRange::Levels {
                    levels: vec![level.to_owned()],
                },
                rows,
                bads,
            ));
        } else {
            if let BinRange::Levels { levels } = &mut pooled.0 {
                levels.push(level.to_owned());
            }
            pooled.1 += rows;
            pooled.2 += bads;
        }
    }
    if pooled.1 > 0 {
        bins.push(pooled);
    }
    bins
}

/// Each bin with its weight of evidence (counts smoothed by a half, so that a bin without bads
/// or goods stays finite).
fn with_woe(bins: Vec<Tally>, bads: usize, goods: usize) -> Vec<Bin> {
    bins.into_iter()
        .map(|(range, rows, bin_bads)| {
            let good_share = ((rows - bin_bads) as f64 + 0.5) / (goods as f64 + 0.5);
            let bad_share = (bin_bads as f64 + 0.5) / (bads as f64 + 0.5);
            Bin {
                range,
                rows,
                bad: bin_bads,
                woe: (good_share / bad_share).ln(),
                points: 0.0,
            }
        })
        .collect()
}

/// Sum over bins of (good share - bad share) x WoE.
fn information_value(bins: &[Bin], bads: usize, goods: usize) -> f64 {
    bins.iter()
        .map(|bin| {
            let good_share = (bin.rows - bin.bad) as f64 / goods.max(1) as f64;
            let bad_share = bin.bad as f64 / bads.max(1) as f64;
            (good_share - bad_share) * bin.woe
        })
        .sum()
}

/// Logistic regression of `bad` on `x` by Newton's method with a small ridge on the weights;
/// returns the intercept and the weights.
fn fit_logistic(x: &[Vec<f64>], bad: &[bool], ridge: f64) -> (f64, Vec<f64>) {
    let width = x.first().map_or(0, Vec::len) + 1;
    let mut beta = vec![0.0; width];
    let rows = x.len() as f64;
    for _ in 0..50 {
        let mut gradient = vec![0.0; width];
        let mut hessian = vec![vec![0.0; width]; width];
        for (row, bad) in x.iter().zip(bad) {
            let features: Vec<f64> = std::iter::once(1.0).chain(row.iter().copied()).collect();
            let z: f64 = features.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let y = f64::from(u8::from(*bad));
            for i in 0..width {
                gradient[i] += (p - y) * features[i];
                for j in 0..width {
                    hessian[i][j] += p * (1.0 - p) * features[i] * features[j];
                }
            }
        }
        for i in 1..width {
            gradient[i] += ridge * rows * beta[i];
            hessian[i][i] += ridge * rows;
        }
        let Some(step) = solve(hessian, gradient) else {
            break;
        };
        let mut largest: f64 = 0.0;
        for (b, s) in beta.iter_mut().zip(&step) {
            *b -= s;
            largest = largest.max(s.abs());
        }
        if largest < 1e-9 {
            break;
        }
    }
    let intercept = beta[0];
    (intercept, beta[1..].to_vec())
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None` when singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let (above, below) = a.split_at_mut(row);
            let (pivot_row, target) = (&above[col], &mut below[0]);
            let factor = target[col] / pivot_row[col];
            for (cell, pivot_cell) in target[col..].iter_mut().zip(&pivot_row[col..]) {
                *cell -= factor * pivot_cell;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let sum: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - sum) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applicants whose bad rate falls with income and depends on housing; `noise` says nothing.
    fn applicants(count: usize) -> (Vec<FeatureSpec>, Vec<Vec<FeatureValue>>, Vec<bool>) {
        let features = vec![
            FeatureSpec {
                name: "income".to_owned(),
                kind: FeatureKind::Numeric,
            },
            FeatureSpec {
                name: "housing".to_owned(),
                kind: FeatureKind::Categorical {
                    levels: vec!["own".to_owned(), "rent".to_owned()],
                },
            },
            FeatureSpec {
                name: "noise".to_owned(),
                kind: FeatureKind::Numeric,
            },
        ];
        let mut rows = Vec::new();
        let mut bad = Vec::new();
        for i in 0..count {
            let income = 1_000.0 + ((i * 7_919) % 5_000) as f64;
            let rent = i % 3 == 0;
            let noise = ((i * 31) % 97) as f64;
            // Risk falls with income; renting adds some; a fixed pseudo-random draw decides.
            let risk = 0.45 - income / 15_000.0 + if rent { 0.1 } else { 0.0 };
            let draw = ((i * 2_654_435_761) % 1_000) as f64 / 1_000.0;
            rows.push(vec![
                FeatureValue::Number(income),
                FeatureValue::Category(if rent { "rent" } else { "own" }.to_owned()),
                FeatureValue::Number(noise),
            ]);
            bad.push(draw < risk);
        }
        (features, rows, bad)
    }

    #[test]
    fn income_bins_are_monotone_uninformative_noise_can_be_left_out_and_points_explain_the_score() {
        let (features, rows, bad) = applicants(4_000);
        // The textbook cut: features under 0.02 information value are left out.
        let params = ScorecardParams {
            min_information_value: 0.02,
            ..ScorecardParams::default()
        };
        let card = Scorecard::fit(features, &rows, &bad, &params).expect("fits");
        let names: Vec<&str> = card
            .characteristics
            .iter()
            .map(|characteristic| characteristic.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["income", "housing"],
            "{:?}",
            card.information_values
        );
        let income = &card.characteristics[0];
        let rates: Vec<f64> = income
            .bins
            .iter()
            .map(|bin| bin.bad as f64 / bin.rows as f64)
            .collect();
        assert!(rates.windows(2).all(|pair| pair[1] <= pair[0]), "{rates:?}");
        assert!(income.bins.len() >= 3, "{:?}", income.bins);
        let points: Vec<f64> = income.bins.iter().map(|bin| bin.points).collect();
        assert!(
            points.windows(2).all(|pair| pair[1] >= pair[0]),
            "more income, more points: {points:?}"
        );

        // A low-income renter scores lower than a high-income owner, and is told why.
        let poor = [
            FeatureValue::Number(1_100.0),
            FeatureValue::Category("rent".to_owned()),
            FeatureValue::Number(3.0),
        ];
        let rich = [
            FeatureValue::Number(5_900.0),
            FeatureValue::Category("own".to_owned()),
            FeatureValue::Number(3.0),
        ];
        let (poor, rich) = (
            card.score(&poor).expect("scores"),
            card.score(&rich).expect("scores"),
        );
        assert!(poor.score < rich.score && poor.probability > rich.probability);
        assert_eq!(poor.reasons[0].0, "income");
        assert_eq!(poor.reasons.len(), 2);
        assert!(rich.reasons.is_empty(), "{:?}", rich.reasons);
        let total: f64 = poor.points.iter().map(|(_, points)| points).sum();
        assert!((total.clamp(300.0, 850.0) - poor.score).abs() < 1e-9);
        // The score follows the odds: 20 points double them.
        let odds = |row: &ScoredRow| (1.0 - row.probability) / row.probability;
        let doubling = (odds(&rich) / odds(&poor)).log2();
        assert!(
            ((rich.score - poor.score) / 20.0 - doubling).abs() < 0.05,
            "{doubling}"
        );
    }

    #[test]
    fn one_outcome_only_is_refused() {
        let (features, rows, _) = applicants(100);
        let all_good = vec![false; 100];
        assert!(Scorecard::fit(features, &rows, &all_good, &ScorecardParams::default()).is_err());
    }
}
