use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::artifact::ModelShape;
use crate::error::check_row;
use crate::sampler::Sampler;

/// Euler-Mascheroni constant, for the harmonic-number approximation H(i) = ln(i) + gamma.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Marks a leaf in the node arena.
const LEAF: u32 = u32::MAX;

/// c(n): the average path length of an unsuccessful search in a binary search tree of n nodes,
/// 2H(n-1) - 2(n-1)/n, with c(2) = 1 and c(n) = 0 for n <= 1. It normalises path lengths and
/// stands in for the subtree a leaf of `n` rows would have grown.
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// How a forest is grown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsolationForestParams {
    /// t, the number of trees (paper and scikit-learn default: 100).
    pub trees: usize,
    /// psi, the rows drawn (without replacement) for each tree (default 256).
    pub subsample: usize,
    pub seed: u64,
}

impl Default for IsolationForestParams {
    fn default() -> Self {
        Self {
            trees: 100,
            subsample: 256,
            seed: 42,
        }
    }
}

/// A trained Isolation Forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsolationForest {
    params: IsolationForestParams,
    /// The width of the rows it was trained on.
    features: usize,
    /// The subsample size actually used: psi, or fewer when training had fewer rows.
    subsample: usize,
    trees: Vec<Tree>,
}

/// One isolation tree as a flat arena of nodes in depth-first order: a split's left child is
/// always the next node, so a node needs only its right child's index (16 bytes a node, which
/// keeps a 100-tree forest's walks in cache).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "TreeRecord", try_from = "TreeRecord")]
struct Tree {
    nodes: Vec<Node>,
}

/// A split (`feature` < `value` goes to the next node, otherwise to `right`) or, when `feature`
/// is [`LEAF`], a leaf whose `value` is c(rows that reached it).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    feature: u32,
    right: u32,
    value: f64,
}

/// A tree as artifacts store it, with both children's indices (the format artifacts have
/// always had).
#[derive(Serialize, Deserialize)]
struct TreeRecord {
    nodes: Vec<NodeRecord>,
}

#[derive(Serialize, Deserialize)]
struct NodeRecord {
    feature: u32,
    left: u32,
    right: u32,
    value: f64,
}

impl From<Tree> for TreeRecord {
    fn from(tree: Tree) -> Self {
        let nodes = tree
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| {
                let leaf = node.feature == LEAF;
                NodeRecord {
                    feature: node.feature,
                    left: if leaf { 0 } else { index as u32 + 1 },
                    right: node.right,
                    value: node.value,
                }
            })
            .collect();
        Self { nodes }
    }
}

impl TryFrom<TreeRecord> for Tree {
    type Error = String;

    /// Accepts only depth-first trees whose children lie after their parent, so that every walk
    /// ends.
    fn try_from(record: TreeRecord) -> Result<Self, String> {
        let count = record.nodes.len();
        let mut nodes = Vec::with_capacity(count);
        for (index, node) in record.nodes.into_iter().enumerate() {
            let leaf = node.feature == LEAF;
            let children_ok = leaf
                || (node.left as usize == index + 1
                    && (node.right as usize) > index + 1
                    && (node.right as usize) < count);
            if !children_ok || !node.value.is_finite() {
                return Err(format!(
                    "isolation tree node {index} is not a depth-first split or leaf"
                ));
            }
            nodes.push(Node {
                feature: node.feature,
                right: if leaf { 0 } else { node.right },
                value: node.value,
            });
        }
        if nodes.is_empty() {
            return Err("an isolation tree has no nodes".to_owned());
        }
        Ok(Self { nodes })
    }
}

impl IsolationForest {
    /// Grows a forest on `data` (one row per observation); every value must be finite.
    pub fn fit(
        data: ArrayView2<'_, f64>,
        params: IsolationForestParams,
    ) -> Result<Self, ModelError> {
        if params.trees == 0 || params.subsample < 2 {
            return Err(ModelError::InvalidParameter(
                "an Isolation Forest needs at least 1 tree and a subsample of at least 2"
                    .to_owned(),
            ));
        }
        let (rows, features) = data.dim();
        if rows == 0 || features == 0 {
            return Err(ModelError::Empty);
        }
        for (index, row) in data.rows().into_iter().enumerate() {
            let row = row.to_vec();
            check_row(&row, features, index)?;
        }
        let subsample = params.subsample.min(rows);
        let height_limit = (subsample as f64).log2().ceil() as usize;
        let mut random = Sampler::new(params.seed);
        let trees = (0..params.trees)
            .map(|_| {
                let mut sample = random.sample_without_replacement(rows, subsample);
                let mut tree = Tree {
                    nodes: Vec::with_capacity(2 * subsample),
                };
                tree.grow(&data, &mut sample, 0, height_limit, &mut random);
                tree
            })
            .collect();
        Ok(Self {
            params,
            features,
            subsample,
            trees,
        })
    }

    /// The anomaly score of one row, in (0, 1]: near 1 is anomalous, below 0.5 ordinary.
    pub fn score(&self, row: &[f64]) -> Result<f64, ModelError> {
        check_row(row, self.features, 0)?;
        Ok(self.score_unchecked(row))
    }

    /// The scores of many rows at once.
    pub fn score_batch(&self, data: ArrayView2<'_, f64>) -> Result<Array1<f64>, ModelError> {
        let mut scores = Array1::zeros(data.nrows());
        let mut row = vec![0.0; self.features];
        for (index, (values, score)) in data.rows().into_iter().zip(scores.iter_mut()).enumerate() {
            row.clear();
            row.extend(values.iter().copied());
            check_row(&row, self.features, index)?;
            *score = self.score_unchecked(&row);
        }
        Ok(scores)
    }

    /// Why a row scores as it does: each feature's share of the splits on the row's paths through
    /// the trees. An anomaly is isolated in few splits, so the features it is isolated by dominate.
    pub fn explain(&self, row: &[f64]) -> Result<Vec<f64>, ModelError> {
        check_row(row, self.features, 0)?;
        let mut splits = vec![0.0; self.features];
        for tree in &self.trees {
            tree.count_splits(row, &mut splits);
        }
        let total: f64 = splits.iter().sum();
        if total > 0.0 {
            for share in &mut splits {
                *share /= total;
            }
        }
        Ok(splits)
    }

    fn score_unchecked(&self, row: &[f64]) -> f64 {
        let total: f64 = self.trees.iter().map(|tree| tree.path_length(row)).sum();
        let mean = total / self.trees.len() as f64;
        let normaliser = average_path_length(self.subsample);
        if normaliser == 0.0 {
            return 0.5;
        }
        (-mean / normaliser).exp2()
    }

    pub fn params(&self) -> IsolationForestParams {
        self.params
    }
}

impl ModelShape for IsolationForest {
    fn width(&self) -> usize {
        self.features
    }
}

impl Tree {
    /// Grows the subtree for `rows` and returns its root's index.
    fn grow(
        &mut self,
        data: &ArrayView2<'_, f64>,
        rows: &mut [usize],
        depth: usize,
        height_limit: usize,
        random: &mut Sampler,
    ) -> u32 {
        let index = self.nodes.len() as u32;
        let leaf = Node {
            feature: LEAF,
            right: 0,
            value: average_path_length(rows.len()),
        };
        if depth >= height_limit || rows.len() <= 1 {
            self.nodes.push(leaf);
            return index;
        }
        // The attributes that can still split these rows; a constant one cannot.
        let splittable: Vec<(usize, f64, f64)> = (0..data.ncols())
            .filter_map(|feature| {
                let (min, max) =
                    rows.iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &row| {
                            let value = data[[row, feature]];
                            (lo.min(value), hi.max(value))
                        });
                (max > min).then_some((feature, min, max))
            })
            .collect();
        if splittable.is_empty() {
            self.nodes.push(leaf);
            return index;
        }
        let (feature, min, max) = splittable[random.below(splittable.len())];
        let threshold = min + random.unit() * (max - min);
        let mut boundary = 0;
        for i in 0..rows.len() {
            if data[[rows[i], feature]] < threshold {
                rows.swap(i, boundary);
                boundary += 1;
            }
        }
        self.nodes.push(Node {
            feature: feature as u32,
            right: 0,
            value: threshold,
        });
        let (left_rows, right_rows) = rows.split_at_mut(boundary);
        // The left subtree starts at the next node: depth-first order is the layout.
        self.grow(data, left_rows, depth + 1, height_limit, random);
        let right = self.grow(data, right_rows, depth + 1, height_limit, random);
        self.nodes[index as usize].right = right;
        index
    }

    /// Adds one to each split feature on `row`'s path.
    fn count_splits(&self, row: &[f64], splits: &mut [f64]) {
        let mut index = 0usize;
        loop {
            let node = &self.nodes[index];
            if node.feature == LEAF {
                return;
            }
            splits[node.feature as usize] += 1.0;
            index = if row[node.feature as usize] < node.value {
                index + 1
            } else {
                node.right as usize
            };
        }
    }

    /// The depth at which `row` leaves the tree, plus c(size) of the leaf it reaches.
    fn path_length(&self, row: &[f64]) -> f64 {
        let mut index = 0usize;
        let mut depth = 0.0;
        loop {
            let node = &self.nodes[index];
            if node.feature == LEAF {
                return depth + node.value;
            }
            index = if row[node.feature as usize] < node.value {
                index + 1
            } else {
                node.right as usize
            };
            depth += 1.0;
        }
    }
}

/// The score cut-off that flags a share `rate` (0 < rate < 1) of `scores` (typically the training
/// rows' own scores): at least that share scores at or above it.
pub fn contamination_threshold(scores: &[f64], rate: f64) -> Result<f64, ModelError> {
    if !(rate > 0.0 && rate < 1.0) {
        return Err(ModelError::InvalidParameter(format!(
            "the contamination rate must be between 0 and 1, got {rate}"
        )));
    }
    if scores.is_empty() {
        return Err(ModelError::Empty);
    }
    if let Some(row) = scores.iter().position(|score| !score.is_finite()) {
        return Err(ModelError::NotFinite { row, feature: 0 });
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let flagged = ((rate * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Ok(sorted[sorted.len() - flagged])
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    /// A seeded cloud of `rows` points around the origin, roughly Gaussian (sum of uniforms).
    fn gaussian_cloud(rows: usize, features: usize, seed: u64) -> Array2<f64> {
        let mut random = Sampler::new(seed);
        Array2::from_shape_fn((rows, features), |_| {
            (0..12).map(|_| random.unit()).sum::<f64>() - 6.0
        })
    }

    #[test]
    fn c_of_n_matches_its_known_values() {
        assert_eq!(average_path_length(0), 0.0);
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        // 2(ln 255 + gamma) - 2 * 255/256
        assert!((average_path_length(256) - 10.244_770_920_119_918).abs() < 1e-9);
        assert!(
            (average_path_length(3) - (2.0 * (2f64.ln() + EULER_GAMMA) - 4.0 / 3.0)).abs() < 1e-12
        );
    }

    #[test]
    fn the_score_is_two_to_the_minus_mean_path_over_c_psi() {
        // A one-tree forest over two distinct rows splits once: each row ends at depth 1 in a leaf
        // of one row (c(1) = 0), so E[h] = 1 and s = 2^(-1 / c(2)) = 0.5.
        let data = Array2::from_shape_vec((2, 1), vec![0.0, 1.0]).expect("shape");
        let params = IsolationForestParams {
            trees: 1,
            subsample: 2,
            seed: 3,
        };
        let forest = IsolationForest::fit(data.view(), params).expect("fits");
        assert_eq!(forest.score(&[0.0]).expect("scores"), 0.5);
    }

    #[test]
    fn an_obvious_outlier_scores_high_and_inliers_low() {
        let data = gaussian_cloud(2000, 2, 11);
        let forest =
            IsolationForest::fit(data.view(), IsolationForestParams::default()).expect("fits");
        let outlier = forest.score(&[8.0, -8.0]).expect("scores");
        let centre = forest.score(&[0.0, 0.0]).expect("scores");
        assert!(outlier > 0.6, "outlier {outlier}");
        assert!(centre < 0.5, "centre {centre}");
        let scores = forest.score_batch(data.view()).expect("scores");
        let typical = scores.iter().filter(|s| **s < 0.5).count() as f64 / scores.len() as f64;
        assert!(typical > 0.8, "most inliers score below 0.5: {typical}");
    }

    #[test]
    fn an_outlier_in_one_feature_is_explained_by_that_feature() {
        let data = gaussian_cloud(2000, 3, 13);
        let forest =
            IsolationForest::fit(data.view(), IsolationForestParams::default()).expect("fits");
        let shares = forest.explain(&[0.0, 9.0, 0.0]).expect("explains");
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(shares[1] > shares[0] && shares[1] > shares[2], "{shares:?}");
        assert!(forest.explain(&[f64::NAN, 0.0, 0.0]).is_err());
    }

    #[test]
    fn a_stored_forest_reads_back_identical_and_a_tampered_tree_is_refused() {
        let data = gaussian_cloud(500, 2, 21);
        let forest =
            IsolationForest::fit(data.view(), IsolationForestParams::default()).expect("fits");
        let json = serde_json::to_value(&forest).expect("serialises");
        let root = &json["trees"][0]["nodes"][0];
        assert_eq!(
            root["left"], 1,
            "artifacts keep both children, as they always have"
        );
        let back: IsolationForest = serde_json::from_value(json.clone()).expect("reads back");
        assert_eq!(back, forest);
        assert_eq!(
            back.score(&[3.0, -3.0]).ok(),
            forest.score(&[3.0, -3.0]).ok()
        );
        let mut tampered = json;
        tampered["trees"][0]["nodes"][0]["right"] = serde_json::json!(0);
        let error = serde_json::from_value::<IsolationForest>(tampered).expect_err("a loop");
        assert!(
            error
                .to_string()
                .contains("node 0 is not a depth-first split or leaf"),
            "{error}"
        );
    }

    #[test]
    fn the_same_seed_and_data_grow_the_same_forest() {
        let data = gaussian_cloud(500, 3, 5);
        let params = IsolationForestParams {
            seed: 9,
            ..IsolationForestParams::default()
        };
        let a = IsolationForest::fit(data.view(), params).expect("fits");
        let b = IsolationForest::fit(data.view(), params).expect("fits");
        assert_eq!(
            serde_json::to_string(&a).expect("serialises"),
            serde_json::to_string(&b).expect("serialises")
        );
        let other = IsolationForest::fit(data.view(), IsolationForestParams { seed: 10, ..params })
            .expect("fits");
        assert_ne!(a, other, "another seed grows another forest");
    }

    #[test]
    fn non_finite_and_misshapen_input_is_refused() {
        let mut data = gaussian_cloud(10, 2, 1);
        let forest =
            IsolationForest::fit(data.view(), IsolationForestParams::default()).expect("fits");
        assert_eq!(
            forest.score(&[f64::NAN, 0.0]),
            Err(ModelError::NotFinite { row: 0, feature: 0 })
        );
        assert_eq!(
            forest.score(&[1.0]),
            Err(ModelError::WrongWidth {
                expected: 2,
                actual: 1
            })
        );
        data[[4, 1]] = f64::INFINITY;
        assert_eq!(
            IsolationForest::fit(data.view(), IsolationForestParams::default()),
            Err(ModelError::NotFinite { row: 4, feature: 1 })
        );
        assert_eq!(
            IsolationForest::fit(
                Array2::<f64>::zeros((0, 2)).view(),
                IsolationForestParams::default()
            ),
            Err(ModelError::Empty)
        );
    }

    #[test]
    fn the_contamination_threshold_flags_the_requested_share() {
        let scores: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
        let threshold = contamination_threshold(&scores, 0.1).expect("valid");
        assert_eq!(threshold, 0.9);
        assert_eq!(scores.iter().filter(|s| **s >= threshold).count(), 10);
        assert!(contamination_threshold(&scores, 0.0).is_err());
        assert!(contamination_threshold(&[], 0.1).is_err());
    }
}
