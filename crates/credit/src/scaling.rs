//! Points-to-double-odds scaling: how a probability of default becomes a score a lender reads on
//! the familiar 300-850 scale.

use crate::scorecard::{SCORE_FLOOR, SCORE_RANGE};

/// score = offset + factor x ln(odds good:bad), factor = PDO / ln 2, offset chosen so that
/// `base_odds` scores `base_points`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OddsScaling {
    pub base_points: f64,
    pub base_odds: f64,
    pub points_to_double_odds: f64,
}

impl OddsScaling {
    /// The common setting (Siddiqi): 600 points at 50:1 good:bad odds, 20 points to double them.
    pub const STANDARD: Self = Self {
        base_points: 600.0,
        base_odds: 50.0,
        points_to_double_odds: 20.0,
    };

    /// The score of a probability of default, rounded and held within 300..=850.
    pub fn score(&self, probability_of_default: f64) -> u32 {
        let p = probability_of_default.clamp(1e-9, 1.0 - 1e-9);
        let factor = self.points_to_double_odds / std::f64::consts::LN_2;
        let offset = self.base_points - factor * self.base_odds.ln();
        let points = offset + factor * ((1.0 - p) / p).ln();
        points.round().clamp(SCORE_FLOOR, SCORE_FLOOR + SCORE_RANGE) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_odds_score_base_points_and_doubling_adds_the_pdo() {
        let scaling = OddsScaling::STANDARD;
        // 50:1 good:bad is a probability of default of 1/51.
        assert_eq!(scaling.score(1.0 / 51.0), 600);
        assert_eq!(scaling.score(1.0 / 101.0), 620);
        assert_eq!(scaling.score(1.0 / 26.0), 580);
        assert_eq!(scaling.score(0.999), 300);
        assert_eq!(scaling.score(0.0), 850);
    }
}
