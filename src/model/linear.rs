//! Linear layer (`torch.nn.Linear`): out = inp · Wᵀ + b.
//!
//! Shapes (legend: N = rows, i.e. batch · time; C = input features; OC = output features):
//! inp: (N, C), W: (OC, C) as in PyTorch, b: (OC), out: (N, OC).
//! Source: llm.c `matmul_forward` / `matmul_backward`.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

/// out = inp · Wᵀ + b, written into `out`.
/// inp: (N, C), w: (OC, C), b: (OC), out: (N, OC)
pub fn linear_forward(
    mut out: ArrayViewMut2<'_, f32>,
    inp: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
    b: Option<ArrayView1<'_, f32>>,
) {
    general_mat_mul(1.0, &inp, &w.t(), 0.0, &mut out);
    if let Some(b) = b {
        out += &b;
    }
}

/// In the forward pass this was `out = inp · Wᵀ + b`, so now:
/// dinp += dout · W, dW += doutᵀ · inp, db += Σ_rows dout. Gradients accumulate (`+=`).
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
        general_mat_mul(1.0, &dout, &w, 1.0, &mut dinp);
    }
    general_mat_mul(1.0, &dout.t(), &inp, 1.0, &mut dw);
    if let Some(mut db) = db {
        for row in dout.outer_iter() {
            db += &row;
        }
    }
}
