//! Numerically safe softmax: p_i = exp(x_i − max x) / Σ_j exp(x_j − max x).
//!
//! Subtracting the maximum makes every exponent ≤ 0, so any finite input (even ±1e30) gives
//! finite weights that sum to 1. −∞ entries (the causal mask) get weight exactly 0. A row that is
//! entirely −∞ has no keys to attend to and gets all zeros.
//!
//! Backward (the Jacobian is diag(p) − ppᵀ): dx_i = p_i · (dp_i − Σ_j p_j dp_j).

use ndarray::{ArrayView1, ArrayViewMut1};

/// Softmax of `x` into `out` (same length). Returns the sum of the exponentials after the shift.
pub fn softmax_forward(mut out: ArrayViewMut1<'_, f32>, x: ArrayView1<'_, f32>) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        out.fill(0.0);
        return;
    }
    let mut sum = 0.0_f32;
    for (o, &v) in out.iter_mut().zip(x.iter()) {
        let e = (v - max).exp();
        *o = e;
        sum += e;
    }
    let inv = 1.0 / sum;
    out.mapv_inplace(|e| e * inv);
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
    softmax_forward(ArrayViewMut1::from(&mut out[..]), ArrayView1::from(x));
    out
}
