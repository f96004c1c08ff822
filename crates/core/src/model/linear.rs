//! Linear layer (`torch.nn.Linear`): out = inp · Wᵀ + b.
//!
//! Shapes (legend: N = rows, i.e. batch · time; C = input features; OC = output features):
//! inp: (N, C), W: (OC, C) as in PyTorch, b: (OC), out: (N, OC).
//! Source: llm.c `matmul_forward` / `matmul_backward`; the products are `engine/gemm.rs`.

use crate::engine::gemm::{Rhs, RowMap, gemm, gemm_bias, gemm_bias_then, gemm_times};
use crate::engine::simd::multiversion;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

/// out = inp · Wᵀ + b, written into `out`.
/// inp: (N, C), w: (OC, C), b: (OC), out: (N, OC)
pub fn linear_forward(
    out: ArrayViewMut2<'_, f32>,
    inp: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
    b: Option<ArrayView1<'_, f32>>,
) {
    // The bias rides along in the product's store instead of taking a pass of its own.
    gemm_bias(1.0, inp, Rhs::Matrix(w.t()), 0.0, out, b);
}

/// [`linear_forward`], then an elementwise function of its output applied to each block of rows
/// in the product's store, while the block is in the cache: out = inp · Wᵀ + b, then `f(y_i,
/// out_i)` for every row i, with the bits of the two passes (tested). A training pass's MLP:
/// f = `mlp::gelu_slope_rows` writes gelu(out) into y and GELU's slope over out. Against the
/// product followed by that pass, the large training step took 1/1.009–1/1.010 of the time, the
/// medium 1/1.003 (one process alternating the two step by step, 243–459 pairs, 2026-12-03).
/// inp: (N, C), w: (OC, C), b: (OC); out, y: (N, OC)
pub fn linear_forward_then(
    out: ArrayViewMut2<'_, f32>,
    inp: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
    b: Option<ArrayView1<'_, f32>>,
    y: ArrayViewMut2<'_, f32>,
    f: RowMap,
) {
    gemm_bias_then(1.0, inp, Rhs::Matrix(w.t()), out, b, y, f);
}

/// In the forward pass this was `out = inp · Wᵀ + b`, so now:
/// dinp = dout · W (written: in the GPT the layer is its input's only reader), and
/// dW += doutᵀ · inp, db += Σ_rows dout (a parameter's gradient accumulates: over the batch's
/// shards, and the tied `wte` over its two uses).
/// dout: (N, OC), inp: (N, C), w: (OC, C); dinp: (N, C), dw: (OC, C), db: (OC)
pub fn linear_backward(
    dinp: Option<ArrayViewMut2<'_, f32>>,
    mut dw: ArrayViewMut2<'_, f32>,
    db: Option<ArrayViewMut1<'_, f32>>,
    dout: ArrayView2<'_, f32>,
    inp: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
) {
    if let Some(mut dinp) = dinp {
        gemm(1.0, dout, w, 0.0, dinp.view_mut());
    }
    gemm(1.0, dout.t(), inp, 1.0, dw.view_mut());
    if let Some(mut db) = db {
        match (db.as_slice_mut(), dout.as_slice()) {
            (Some(db), Some(d)) => sum_rows(db, d),
            _ => {
                for row in dout.outer_iter() {
                    db += &row;
                }
            }
        }
    }
}

/// [`linear_backward`] for a layer whose input came out of an elementwise function f, inp =
/// f(pre), whose slope f'(pre) the forward pass kept (a training pass's GELU): the input
/// gradient is carried on through f in the product's store, dpre = (dout · W) ⊙ slope, with the
/// bits of [`linear_backward`] followed by that product (tested). dW and db as in
/// [`linear_backward`]. Against the product, then the slope's pass over dinp read back from the
/// cache levels it had left: the large training step took 1/1.009–1/1.011 of the time, the
/// medium 1/1.008 (one process alternating the two step by step, 229–432 pairs, 2026-12-03).
/// dout: (N, OC), inp, slope, dpre: (N, C), w: (OC, C)
pub fn linear_backward_through(
    dpre: ArrayViewMut2<'_, f32>,
    slope: ArrayView2<'_, f32>,
    dw: ArrayViewMut2<'_, f32>,
    db: Option<ArrayViewMut1<'_, f32>>,
    dout: ArrayView2<'_, f32>,
    inp: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
) {
    gemm_times(1.0, dout, w, dpre, slope);
    linear_backward(None, dw, db, dout, inp, w);
}

multiversion! {
    /// acc += Σ_rows rows (row length acc.len()).
    fn sum_rows(acc: &mut [f32], rows: &[f32]) {
        if acc.is_empty() {
            return;
        }
        for row in rows.chunks_exact(acc.len()) {
            for (a, v) in acc.iter_mut().zip(row) {
                *a += v;
            }
        }
    }
}
