//! Numerically safe softmax: p_i = exp(x_i − max x) / Σ_j exp(x_j − max x).
//!
//! Subtracting the maximum makes every exponent ≤ 0, so any finite input (even ±1e30) gives
//! finite weights that sum to 1. −∞ entries (the causal mask) get weight exactly 0. A row that is
//! entirely −∞ has no keys to attend to and gets all zeros.
//!
//! Backward (the Jacobian is diag(p) − ppᵀ): dx_i = p_i · (dp_i − Σ_j p_j dp_j).
//! The exponentials are `simd::exp` (within 2 ulp of libm's, and vectorized).

use ndarray::{ArrayView1, ArrayViewMut1};

use crate::engine::simd::{self, multiversion};

/// Softmax of `x` into `out` (same length), on contiguous slices: the body of
/// [`softmax_slice`], inlined into callers that are already compiled for AVX2 (the attention
/// rows), so that a short row costs no call.
#[inline(always)]
pub fn softmax_inline(out: &mut [f32], x: &[f32]) {
    let max = simd::max(x);
    if max == f32::NEG_INFINITY {
        out.fill(0.0);
        return;
    }
    for (o, &v) in out.iter_mut().zip(x) {
        *o = simd::exp(v - max);
    }
    let inv = 1.0 / simd::sum(out);
    for o in out.iter_mut() {
        *o *= inv;
    }
}

/// [`softmax_inline`], 16 lanes at a time where the CPU has AVX-512 (`simd::softmax16`: the same
/// operations in the same order, so the same bits; tested below).
#[inline(always)]
pub fn softmax_row(out: &mut [f32], x: &[f32]) {
    if !simd::softmax16(out, x) {
        softmax_inline(out, x);
    }
}

multiversion! {
    /// Softmax of `x` into `out` (same length), on contiguous slices.
    pub fn softmax_slice(out: &mut [f32], x: &[f32]) {
        softmax_inline(out, x);
    }
}

/// Softmax of `x` into `out` (same length).
pub fn softmax_forward(mut out: ArrayViewMut1<'_, f32>, x: ArrayView1<'_, f32>) {
    if let (Some(o), Some(xs)) = (out.as_slice_mut(), x.as_slice()) {
        softmax_slice(o, xs);
        return;
    }
    let xs: Vec<f32> = x.to_vec();
    let mut o = vec![0.0; xs.len()];
    softmax_slice(&mut o, &xs);
    out.assign(&ArrayView1::from(&o[..]));
}

/// In the forward pass this was p = softmax(x), so dx_i += p_i · (dp_i − Σ_j p_j dp_j).
pub fn softmax_backward(
    mut dx: ArrayViewMut1<'_, f32>,
    dp: ArrayView1<'_, f32>,
    p: ArrayView1<'_, f32>,
) {
    let dot: f32 = p.iter().zip(dp.iter()).map(|(a, b)| a * b).sum();
    for ((d, &pi), &dpi) in dx.iter_mut().zip(p.iter()).zip(dp.iter()) {
        *d += pi * (dpi - dot);
    }
}

/// Softmax of a slice, as a new vector (for lessons and tests).
pub fn softmax(x: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    softmax_slice(&mut out, x);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine's 16-lane softmax (where the CPU has AVX-512) gives the plain softmax's bits:
    /// every length from 0 to 140 (whole vectors, partial ones, and 8-entry halves), entries
    /// from −200 to 200 (so that some e^(x − max) fall below exp's range and are 0), masked
    /// (−∞) entries, NaN, +∞, all −∞, and signed zeros.
    #[test]
    fn the_wide_softmax_gives_the_plain_softmax_bits() {
        if !simd::avx512() {
            return;
        }
        let mut cases: Vec<Vec<f32>> = Vec::new();
        for n in 0..=140_usize {
            let scale = [0.01_f32, 1.0, 30.0, 200.0][n % 4];
            let x: Vec<f32> = (0..n)
                .map(|i| (((i * 7919 + n * 31) % 1009) as f32 / 504.5 - 1.0) * scale)
                .collect();
            let mut masked = x.clone();
            for (i, v) in masked.iter_mut().enumerate() {
                if (i * 5 + n) % 3 == 0 || i > n / 2 + 3 {
                    *v = f32::NEG_INFINITY;
                }
            }
            cases.push(x);
            cases.push(masked);
        }
        cases.push(vec![f32::NEG_INFINITY; 37]);
        cases.push(vec![
            0.5,
            f32::NAN,
            -1.0,
            2.0,
            3.0,
            1.0,
            0.0,
            -0.0,
            9.0,
            1.5,
        ]);
        cases.push(vec![1.0, f32::INFINITY, -2.0]);
        cases.push(vec![-0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0]);
        cases.push(vec![f32::NAN; 20]);
        for x in &cases {
            let mut want = vec![7.0; x.len()];
            softmax_inline(&mut want, x);
            let mut got = vec![7.0; x.len()];
            assert!(simd::softmax16(&mut got, x));
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "x = {x:?}");
        }
    }
}
