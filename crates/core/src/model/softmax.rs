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
