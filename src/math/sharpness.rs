//! Why attention scores are divided by √d (Vaswani et al. 2017, §3.2.1, footnote 4).
//!
//! If q, k ~ N(0, I_d) independently, q·k = Σ_i q_i k_i is a sum of d independent terms of mean 0
//! and variance 1, so Var(q·k) = d and Var(q·k/√d) = 1. Unscaled scores grow like √d, the softmax
//! saturates onto one key, and its Jacobian J = diag(p) − ppᵀ → 0: the gradient reaching W_Q and
//! W_K vanishes. Entropy H(p) = −Σ p ln p (nats); exp H is the "effective number of keys attended".

use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::ChiSquared;

use super::stats::{entropy, fill_randn, randn, variance};
use crate::model::softmax::softmax;

/// n scores x_i ~ N(0, 1), seeded (the lecture's "Gaussian random vector").
pub fn gaussian_scores(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| randn(&mut rng) as f32).collect()
}

/// What the lecture reads off one softmax.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftmaxStats {
    /// p = softmax(scale · x).
    pub p: Vec<f32>,
    /// H(p) in nats.
    pub entropy: f64,
    /// H(p) / ln n: 1 for uniform, 0 for one-hot.
    pub entropy_fraction: f64,
    /// max_i p_i.
    pub max_weight: f64,
    /// exp H(p): how many keys share the attention, effectively.
    pub effective_tokens: f64,
}

/// softmax(scale · x) and its statistics.
pub fn softmax_stats(x: &[f32], scale: f32) -> SoftmaxStats {
    let scaled: Vec<f32> = x.iter().map(|v| v * scale).collect();
    let p = softmax(&scaled);
    let pd: Vec<f64> = p.iter().map(|&v| f64::from(v)).collect();
    let h = entropy(&pd);
    let n = x.len().max(1) as f64;
    SoftmaxStats {
        entropy: h,
        entropy_fraction: if n > 1.0 { h / n.ln() } else { 0.0 },
        max_weight: pd.iter().copied().fold(0.0, f64::max),
        effective_tokens: h.exp(),
        p,
    }
}

/// softmax(scale · x) in f64, max-shifted. In f32 (what the model computes in) weights below
/// ~1e-45 round to exactly 0; the Jacobian panel shows the mathematical curve, so it uses f64.
pub fn softmax_f64(x: &[f32], scale: f64) -> Vec<f64> {
    let z: Vec<f64> = x.iter().map(|&v| f64::from(v) * scale).collect();
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

/// The softmax Jacobian J = ∂p/∂z = diag(p) − ppᵀ at p. p: (n) → (n, n)
pub fn softmax_jacobian(p: &[f64]) -> Array2<f64> {
    let n = p.len();
    Array2::from_shape_fn((n, n), |(i, j)| {
        let (pi, pj) = (p[i], p[j]);
        if i == j { pi - pi * pi } else { -pi * pj }
    })
}

/// Frobenius norm of the softmax Jacobian at p = softmax(scale · x) (computed in f64).
pub fn jacobian_norm(x: &[f32], scale: f64) -> f64 {
    softmax_jacobian(&softmax_f64(x, scale))
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
}

/// ‖q‖ for q ~ N(0, I_d): the square root of one χ²_d draw (‖q‖² = Σ q_i² is χ² with d degrees
/// of freedom, by definition), so it costs one Gamma(d/2, 2) sample instead of d normals.
/// d = 0 gives 0.
pub struct GaussianNorm(Option<ChiSquared<f64>>);

impl GaussianNorm {
    pub fn new(d: usize) -> Self {
        GaussianNorm(ChiSquared::new(d as f64).ok().filter(|_| d > 0))
    }

    pub fn sample(&self, rng: &mut StdRng) -> f64 {
        self.0.as_ref().map_or(0.0, |chi2| rng.sample(chi2).sqrt())
    }
}

/// `pairs` samples of q·k with q, k ~ N(0, I_d) independent (unscaled).
///
/// Given q, the key k ~ N(0, I_d) is rotation invariant, so its component along q is
/// z ~ N(0, 1) independent of q, and q·k = ‖q‖·z exactly in distribution; ‖q‖ is drawn as
/// √χ²_d ([`GaussianNorm`]). Two draws per pair instead of 2d, whatever d: the d = 1024 slider
/// and the table up to d = 1024 cost the same as d = 1 (in the browser, which has no thread
/// to sample on, the table took 106 ms per seed with d + 1 normals per pair).
pub fn dot_products(d: usize, pairs: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed ^ (d as u64).wrapping_mul(0x9E37_79B9));
    let norm = GaussianNorm::new(d);
    (0..pairs)
        .map(|_| {
            let q = norm.sample(&mut rng);
            q * randn(&mut rng)
        })
        .collect()
}

/// The dimensions of the variance table: 1, 2, 4, …, 1024.
pub const TABLE_DIMS: [usize; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/// Empirical Var(q·k) and Var(q·k/√d) for each d (theory: d and 1).
pub fn variance_table(dims: &[usize], pairs: usize, seed: u64) -> Vec<(usize, f64, f64)> {
    dims.iter()
        .map(|&d| {
            let dots = dot_products(d, pairs, seed);
            let v = variance(&dots);
            (d, v, v / d as f64)
        })
        .collect()
}

/// Mean entropy (nats) of softmax over `keys` random keys for `queries` random queries, all
/// N(0, I_d); scores divided by √d when `scaled`.
pub fn mean_attention_entropy(
    d: usize,
    keys: usize,
    queries: usize,
    scaled: bool,
    seed: u64,
) -> f64 {
    // The same seed with and without scaling: the two curves see the same queries and keys.
    let mut rng = StdRng::seed_from_u64(seed ^ 0xE27 ^ (d as u64) << 20 ^ (keys as u64) << 40);
    let scale = if scaled { 1.0 / (d as f64).sqrt() } else { 1.0 };
    let mut total = 0.0;
    let (gaussian_norm, mut z) = (GaussianNorm::new(d), vec![0.0; keys]);
    for _ in 0..queries {
        // q·k_j = ‖q‖·z_j exactly in distribution (see `dot_products`); the keys' components
        // z_j along one q are independent N(0, 1).
        let norm = gaussian_norm.sample(&mut rng);
        fill_randn(&mut z, &mut rng);
        let scores: Vec<f32> = z.iter().map(|zj| (norm * zj * scale) as f32).collect();
        let p: Vec<f64> = softmax(&scores).iter().map(|&v| f64::from(v)).collect();
        total += entropy(&p);
    }
    total / queries.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobian_rows_sum_to_zero() {
        let x = gaussian_scores(6, 1);
        let j = softmax_jacobian(&softmax_f64(&x, 1.0));
        for row in j.outer_iter() {
            assert!(row.sum().abs() < 1e-7);
        }
    }

    #[test]
    fn saturation_shrinks_the_jacobian() {
        let x = gaussian_scores(8, 0);
        assert!(jacobian_norm(&x, 100.0) < 0.01 * jacobian_norm(&x, 1.0));
    }

    /// q·k = ‖q‖·z has E[(q·k)⁴] = E‖q‖⁴·E z⁴ = d(d + 2)·3, so its kurtosis E x⁴ / (E x²)² is
    /// 3(d + 2)/d: 9 at d = 1 (the product of two normals), 4.5 at d = 4, → 3 (a normal) as d
    /// grows. A wrong ‖q‖ (say √d for every q) would give 3 at every d.
    #[test]
    fn dot_products_have_the_full_products_fourth_moment() {
        for d in [1usize, 4, 64] {
            let x = dot_products(d, 400_000, 7);
            let m2 = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
            let m4 = x.iter().map(|v| v.powi(4)).sum::<f64>() / x.len() as f64;
            let (kurtosis, theory) = (m4 / (m2 * m2), 3.0 * (d as f64 + 2.0) / d as f64);
            assert!((m2 / d as f64 - 1.0).abs() < 0.02, "d = {d}: E x² = {m2}");
            assert!(
                (kurtosis / theory - 1.0).abs() < 0.06,
                "d = {d}: {kurtosis} vs {theory}"
            );
        }
        assert!(dot_products(0, 10, 1).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn variance_grows_like_d_and_scaling_fixes_it() {
        for (d, unscaled, scaled) in variance_table(&[4, 256], 4000, 0) {
            assert!((unscaled / d as f64 - 1.0).abs() < 0.1, "{d}: {unscaled}");
            assert!((scaled - 1.0).abs() < 0.1, "{d}: {scaled}");
        }
    }
}
