//! The residual connection (He et al. 2016, "Deep residual learning"; in a transformer block
//! x ← x + f(x), Vaswani et al. 2017 §3.1): the block adds its sub-layer's output to its input,
//! so the gradient has a path around every sub-layer. Source: llm.c `residual_forward` /
//! `residual_backward`. With `skip` false the connection is cut — out = b — the plain stack of
//! the lesson "Residuals, the MLP and the stack", where the gradient has no path around a layer.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip};

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

/// In the forward pass this was out = a + b, so now da = dout and db = dout: one gradient, left
/// where it is. `dout`'s buffer becomes da (in the GPT, `a` is also read by a norm, whose
/// backward adds its part into it afterwards: `norm_backward`'s `+=`), and db is returned as a
/// view of the same buffer, so nothing is copied. Without the skip (out = b): db = dout, copied
/// into `db_copy` and returned, and da = 0 (dout's buffer zeroed).
///
/// (Before, both gradients were written into buffers of their own: two copies of dout per
/// residual. Leaving it in place took 1/1.011 of the large training step's time, one process
/// alternating the two step by step, 2026-12-03, 206 pairs, quartiles 0.997–1.030; the same
/// bits, since the norm then adds into the same values.)
/// dout (becomes da), db_copy: (N, C); returns db: (N, C)
pub fn residual_backward<'a>(
    dout: &'a mut Array2<f32>,
    db_copy: &'a mut Array2<f32>,
    skip: bool,
) -> ArrayView2<'a, f32> {
    if skip {
        return dout.view();
    }
    if db_copy.dim() != dout.dim() {
        *db_copy = Array2::zeros(dout.dim());
    }
    db_copy.assign(dout);
    dout.fill(0.0);
    db_copy.view()
}
