//! The residual connection (He et al. 2016, "Deep residual learning"; in a transformer block
//! x ← x + f(x), Vaswani et al. 2017 §3.1): the block adds its sub-layer's output to its input,
//! so the gradient has a path around every sub-layer. Source: llm.c `residual_forward` /
//! `residual_backward`.

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

/// out = a + b. a, b, out: (N, C)
pub fn residual_forward(
    out: ArrayViewMut2<'_, f32>,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
) {
    Zip::from(out)
        .and(a)
        .and(b)
        .for_each(|o, &x, &y| *o = x + y);
}

/// In the forward pass this was out = a + b, so now da += dout and db += dout.
/// dout, da, db: (N, C)
pub fn residual_backward(
    da: ArrayViewMut2<'_, f32>,
    db: ArrayViewMut2<'_, f32>,
    dout: ArrayView2<'_, f32>,
) {
    Zip::from(da).and(db).and(dout).for_each(|a, b, &d| {
        *a += d;
        *b += d;
    });
}
