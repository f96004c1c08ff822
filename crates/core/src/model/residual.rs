//! The residual connection (He et al. 2016, "Deep residual learning"; in a transformer block
//! x ← x + f(x), Vaswani et al. 2017 §3.1): the block adds its sub-layer's output to its input,
//! so the gradient has a path around every sub-layer. Source: llm.c `residual_forward` /
//! `residual_backward`. With `skip` false the connection is cut — out = b — the plain stack of
//! the lesson "Residuals, the MLP and the stack", where the gradient has no path around a layer.

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

/// out = a + b (or out = b without the skip). a, b, out: (N, C)
pub fn residual_forward(
    out: ArrayViewMut2<'_, f32>,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    skip: bool,
) {
    if skip {
        Zip::from(out)
            .and(a)
            .and(b)
            .for_each(|o, &x, &y| *o = x + y);
    } else {
        Zip::from(out).and(b).for_each(|o, &y| *o = y);
    }
}

/// In the forward pass this was out = a + b, so now da = dout and db = dout (without the skip,
/// out = b: da = 0 and db = dout). Written, not accumulated: in the GPT, `a` is also read by a
/// norm, whose backward adds its part afterwards (`norm_backward`'s `+=`). dout, da, db: (N, C)
pub fn residual_backward(
    da: ArrayViewMut2<'_, f32>,
    db: ArrayViewMut2<'_, f32>,
    dout: ArrayView2<'_, f32>,
    skip: bool,
) {
    if skip {
        Zip::from(da).and(db).and(dout).for_each(|a, b, &d| {
            *a = d;
            *b = d;
        });
    } else {
        Zip::from(da).and(db).and(dout).for_each(|a, b, &d| {
            *a = 0.0;
            *b = d;
        });
    }
}
