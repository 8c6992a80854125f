//! Seeded sampling with fixed arithmetic, so results do not depend on the `rand` version.
//! Training, subsampling and the synthetic data generators all draw from it.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// A deterministic random source: ChaCha8 (a stream cipher, so its output is fixed by its seed on
/// every platform) with every draw computed here rather than by a library that may change them.
pub struct Sampler(ChaCha8Rng);

impl Sampler {
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..bound (bound > 0), without modulo bias (Lemire's method).
    pub fn below(&mut self, bound: usize) -> usize {
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
    pub fn sample_without_replacement(&mut self, population: usize, count: usize) -> Vec<usize> {
        let mut indices: Vec<usize> = (0..population).collect();
        let count = count.min(population);
        for i in 0..count {
            let j = i + self.below(population - i);
            indices.swap(i, j);
        }
        indices.truncate(count);
        indices
    }

    /// Uniform in [low, high).
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Normal (Box-Muller).
    pub fn normal(&mut self, mean: f64, std_dev: f64) -> f64 {
        let u = 1.0 - self.unit(); // in (0, 1], so the logarithm is finite
        let v = self.unit();
        mean + std_dev * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Log-normal: exp of a normal with this `mu` and `sigma`.
    pub fn log_normal(&mut self, mu: f64, sigma: f64) -> f64 {
        self.normal(mu, sigma).exp()
    }

    /// Exponential with this mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Poisson (Knuth's product method; meant for the small means of event counts).
    pub fn poisson(&mut self, mean: f64) -> f64 {
        let limit = (-mean).exp();
        let (mut count, mut product) = (0.0, self.unit());
        while product > limit {
            count += 1.0;
            product *= self.unit();
        }
        count
    }

    /// Beta(a, b) for a, b >= 1, by rejection under the density's peak.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let mode = (a - 1.0) / (a + b - 2.0).max(f64::EPSILON);
        let peak = mode.powf(a - 1.0) * (1.0 - mode).powf(b - 1.0);
        loop {
            let x = self.unit();
            if self.unit() * peak <= x.powf(a - 1.0) * (1.0 - x).powf(b - 1.0) {
                return x;
            }
        }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_have_their_means() {
        let mut s = Sampler::new(5);
        let n = 20_000;
        let mean = |s: &mut Sampler, f: &dyn Fn(&mut Sampler) -> f64| {
            (0..n).map(|_| f(s)).sum::<f64>() / n as f64
        };
        assert!((mean(&mut s, &|s| s.normal(3.0, 2.0)) - 3.0).abs() < 0.05);
        assert!((mean(&mut s, &|s| s.poisson(2.5)) - 2.5).abs() < 0.05);
        assert!((mean(&mut s, &|s| s.exponential(4.0)) - 4.0).abs() < 0.1);
        assert!((mean(&mut s, &|s| s.beta(2.0, 6.0)) - 0.25).abs() < 0.01);
        assert!((mean(&mut s, &|s| s.log_normal(0.0, 0.5)) - (0.125f64).exp()).abs() < 0.03);
    }

    #[test]
    fn draws_are_fixed_by_the_seed_and_within_bounds() {
        let mut a = Sampler::new(7);
        let mut b = Sampler::new(7);
        for _ in 0..1000 {
            let (x, y) = (a.unit(), b.unit());
            assert_eq!(x, y);
            assert!((0.0..1.0).contains(&x));
            assert!(a.below(10) < 10);
            b.below(10);
        }
        let sample = Sampler::new(1).sample_without_replacement(100, 20);
        let mut sorted = sample.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 20, "distinct");
    }
}
