//! GELU, tanh approximation (PyTorch `nn.GELU(approximate="tanh")`, as GPT-2):
//! gelu(x) = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))).
//! The MLP itself is linear (C → 4C) → GELU → linear (4C → C); its linears are in `linear.rs`.
//! Source: llm.c `gelu_forward` / `gelu_backward`.

use ndarray::{ArrayView, ArrayViewMut, Dimension};

use crate::engine::simd::{multiversion, on_rows, rows};

const GELU_SCALE: f32 = 0.797_884_6; // √(2/π)

/// tanh as a 13/6 rational function on [−7.9, 7.9] (Eigen's `generic_fast_tanh_float`), within
/// 5e-7 of libm's `tanhf` (tested: a few ulp) and several times faster: libm's tanh was a third of a
/// training step.
#[inline]
#[allow(clippy::excessive_precision)] // the coefficients as published
pub fn fast_tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let mut p = x2 * -2.760_768_5e-16 + 2.000_187_9e-13;
    p = x2 * p + -8.604_671_5e-11;
    p = x2 * p + 5.122_297e-8;
    p = x2 * p + 1.485_722_4e-5;
    p = x2 * p + 6.372_619_3e-4;
    p = x2 * p + 4.893_524_6e-3;
    p *= x;
    let mut q = x2 * 1.198_258_4e-6 + 1.185_347_1e-4;
    q = x2 * q + 2.268_434_6e-3;
    q = x2 * q + 4.893_525_2e-3;
    // A select, not a branch, so that loops of it vectorize.
    if x.abs() < 4e-4 { x } else { p / q }
}

/// out = gelu(x), elementwise. x, out: (N, 4C)
pub fn gelu_forward<D: Dimension>(mut out: ArrayViewMut<'_, f32, D>, x: ArrayView<'_, f32, D>) {
    let x = rows(&x);
    on_rows(&mut out, |out| gelu_rows(out, &x));
}

/// In the forward pass this was out = ½ x (1 + tanh u), u = √(2/π)(x + 0.044715 x³), so
/// d out/dx = ½ (1 + tanh u) + ½ x (1 − tanh² u) · √(2/π)(1 + 3 · 0.044715 x²);
/// dx += that · dout. dx, x, dout: (N, 4C)
pub fn gelu_backward<D: Dimension>(
    mut dx: ArrayViewMut<'_, f32, D>,
    x: ArrayView<'_, f32, D>,
    dout: ArrayView<'_, f32, D>,
) {
    let (x, dout) = (rows(&x), rows(&dout));
    on_rows(&mut dx, |dx| gelu_backward_rows(dx, &x, &dout));
}

multiversion! {
    /// [`gelu_forward`] on contiguous entries.
    pub fn gelu_rows(out: &mut [f32], x: &[f32]) {
        for (o, &v) in out.iter_mut().zip(x) {
            let cube = 0.044715 * v * v * v;
            *o = 0.5 * v * (1.0 + fast_tanh(GELU_SCALE * (v + cube)));
        }
    }
}

multiversion! {
    /// [`gelu_backward`] on contiguous entries.
    fn gelu_backward_rows(dx: &mut [f32], x: &[f32], dout: &[f32]) {
        for ((d, &v), &g) in dx.iter_mut().zip(x).zip(dout) {
            let u = GELU_SCALE * (v + 0.044715 * v * v * v);
            let t = fast_tanh(u);
            let sech2 = 1.0 - t * t;
            let local =
                0.5 * (1.0 + t) + 0.5 * v * sech2 * GELU_SCALE * (1.0 + 3.0 * 0.044715 * v * v);
            *d += local * g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_matches_libm() {
        let mut worst = 0.0_f32;
        for i in -200_000..=200_000 {
            let x = i as f32 * 1e-4;
            worst = worst.max((fast_tanh(x) - x.tanh()).abs());
        }
        assert!(worst < 5e-7, "max error {worst}");
        assert_eq!(fast_tanh(100.0), fast_tanh(7.905_311));
        assert!((fast_tanh(100.0) - 1.0).abs() < 1e-6);
    }
}
