//! Seeded sampling with fixed arithmetic, so results do not depend on the `rand` version.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// A deterministic random source: ChaCha8 (a stream cipher, so its output is fixed by its seed on
/// every platform) with uniform draws computed here rather than by a library that may change them.
pub(crate) struct Random(ChaCha8Rng);

impl Random {
    pub(crate) fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..bound (bound > 0), without modulo bias (Lemire's method).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        let bound = bound as u64;
        loop {
            let product = u128::from(self.0.next_u64()) * u128::from(bound);
            let low = product as u64;
            if low >= bound.wrapping_neg() % bound {
                return (product >> 64) as usize;
            }
        }
    }

    /// `count` distinct indices of 0..population, in random order (partial Fisher-Yates).
    pub(crate) fn sample_without_replacement(
        &mut self,
        population: usize,
        count: usize,
    ) -> Vec<usize> {
        let mut indices: Vec<usize> = (0..population).collect();
        let count = count.min(population);
        for i in 0..count {
            let j = i + self.below(population - i);
            indices.swap(i, j);
        }
        indices.truncate(count);
        indices
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_fixed_by_the_seed_and_within_bounds() {
        let mut a = Random::new(7);
        let mut b = Random::new(7);
        for _ in 0..1000 {
            let (x, y) = (a.unit(), b.unit());
            assert_eq!(x, y);
            assert!((0.0..1.0).contains(&x));
            assert!(a.below(10) < 10);
            b.below(10);
        }
        let sample = Random::new(1).sample_without_replacement(100, 20);
        let mut sorted = sample.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 20, "distinct");
    }
}
