//! Descriptive statistics the lessons draw: mean, variance, entropy, histograms (f64), and the
//! standard normal samples they are computed from (`rand_distr`).

use rand::RngExt;
use rand::rngs::StdRng;
use rand_distr::StandardNormal;

/// One N(0, 1) sample.
pub fn randn(rng: &mut StdRng) -> f64 {
    rng.sample(StandardNormal)
}

/// Fill `out` with N(0, 1) samples.
pub fn fill_randn(out: &mut [f64], rng: &mut StdRng) {
    for v in out {
        *v = rng.sample(StandardNormal);
    }
}

/// Mean of the values (0 for none).
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

/// Biased variance (divide by n, as PyTorch's normalisation layers do).
pub fn variance(x: &[f64]) -> f64 {
    let m = mean(x);
    if x.is_empty() {
        0.0
    } else {
        x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / x.len() as f64
    }
}

/// Shannon entropy in nats of a probability vector: −Σ p ln p (0 ln 0 = 0).
pub fn entropy(p: &[f64]) -> f64 {
    let sum: f64 = p.iter().filter(|&&v| v > 0.0).map(|&v| v * v.ln()).sum();
    // −0.0 for a one-hot p would print as "-0.000".
    (-sum).max(0.0)
}

/// A histogram of `x` on [lo, hi) with `bins` equal bins, as (bin centre, density) where the
/// density integrates to the fraction of values inside the range. Values outside are left out.
pub fn histogram(x: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<(f64, f64)> {
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    if width > 0.0 {
        for &v in x {
            if v >= lo && v < hi {
                let b = (((v - lo) / width) as usize).min(bins - 1);
                counts[b] += 1;
            }
        }
    }
    let n = x.len().max(1) as f64;
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            (
                lo + (i as f64 + 0.5) * width,
                c as f64 / (n * width.max(f64::MIN_POSITIVE)),
            )
        })
        .collect()
}

/// Standard normal density.
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (std::f64::consts::TAU).sqrt()
}

/// Standard normal CDF Φ(x), via erfc (W. J. Cody's rational approximations are overkill here;
/// this is Numerical Recipes' erfc with fractional error < 1.2e-7).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes `erfcc`, |relative error| < 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_matches_known_values() {
        // Python: [0.5 * math.erfc(-x / math.sqrt(2)) for x in (-1, 0, 1.96)]
        //   = [0.15865525393, 0.5, 0.97500210485]
        for (x, want) in [(-1.0, 0.158_655_25), (0.0, 0.5), (1.96, 0.975_002_10)] {
            assert!((normal_cdf(x) - want).abs() < 2e-7, "{x}");
        }
    }

    #[test]
    fn entropy_of_uniform_is_log_n() {
        assert!((entropy(&[0.25; 4]) - 4f64.ln()).abs() < 1e-12);
        assert_eq!(entropy(&[1.0, 0.0]), 0.0);
    }

    #[test]
    fn histogram_density_integrates_to_one() {
        let x: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let h = histogram(&x, 0.0, 1.0, 10);
        let total: f64 = h.iter().map(|(_, d)| d * 0.1).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
