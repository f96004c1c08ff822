//! GELU, tanh approximation (PyTorch `nn.GELU(approximate="tanh")`, as GPT-2):
//! gelu(x) = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))).
//! The MLP itself is linear (C → 4C) → GELU → linear (4C → C); its linears are in `linear.rs`.
//! Source: llm.c `gelu_forward` / `gelu_backward`.

use ndarray::{ArrayView, ArrayViewMut, Dimension};

use crate::engine::simd::{multiversion, on_rows, rows};

const GELU_SCALE: f32 = 0.797_884_6; // √(2/π)

/// tanh as a 13/6 rational function, branch-free (`engine::simd::tanh`: Eigen's
/// `generic_fast_tanh_float`), within 5e-7 of libm's `tanhf` (tested below).
pub use crate::engine::simd::tanh as fast_tanh;

/// The cubic's coefficient in the tanh approximation.
const GELU_CUBIC: f32 = 0.044715;

/// out = gelu(x), elementwise. x, out: (N, 4C)
pub fn gelu_forward<D: Dimension>(mut out: ArrayViewMut<'_, f32, D>, x: ArrayView<'_, f32, D>) {
    let x = rows(&x);
    on_rows(&mut out, |out| gelu_rows(out, &x));
}

/// In the forward pass this was out = ½ x (1 + tanh u), u = √(2/π)(x + 0.044715 x³), so
/// d out/dx = ½ (1 + tanh u) + ½ x (1 − tanh² u) · √(2/π)(1 + 3 · 0.044715 x²);
/// dx = that · dout (written: the GELU is the only reader of x). dx, x, dout: (N, 4C)
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
            let cube = GELU_CUBIC * v * v * v;
            *o = 0.5 * v * (1.0 + fast_tanh(GELU_SCALE * (v + cube)));
        }
    }
}

multiversion! {
    /// [`gelu_backward`] on contiguous entries.
    pub fn gelu_backward_rows(dx: &mut [f32], x: &[f32], dout: &[f32]) {
        for ((d, &v), &g) in dx.iter_mut().zip(x).zip(dout) {
            let u = GELU_SCALE * (v + GELU_CUBIC * v * v * v);
            *d = slope(v, fast_tanh(u)) * g;
        }
    }
}

/// d gelu/dx at x, given t = tanh u: ½ (1 + t) + ½ x (1 − t²) · √(2/π)(1 + 3 · 0.044715 x²)
/// (the derivative in [`gelu_backward`]'s comment).
#[inline(always)]
fn slope(v: f32, t: f32) -> f32 {
    let sech2 = 1.0 - t * t;
    0.5 * (1.0 + t) + 0.5 * v * sech2 * GELU_SCALE * (1.0 + 3.0 * GELU_CUBIC * v * v)
}

multiversion! {
    /// [`gelu_forward`] for a pass whose x is kept only for [`gelu_backward`] (a training
    /// step's), on contiguous entries: out = gelu(x), and x is overwritten with GELU's slope
    /// gelu'(x), computed from the same tanh. The backward is then one product, dx = slope · dout,
    /// with [`gelu_backward`]'s bits (the same expressions; tested): each entry's tanh is computed
    /// once per step instead of twice. The large training step took 1/1.009–1/1.015 of the time,
    /// the medium 1/1.017 (one process alternating the two step by step, 236–419 pairs,
    /// 2026-12-03). The training pass applies it in the store of the product that makes x
    /// (`linear_forward_then`), and the product in the store of the one that makes dout
    /// (`linear_backward_through`).
    pub fn gelu_slope_rows(out: &mut [f32], x: &mut [f32]) {
        for (o, x) in out.iter_mut().zip(x) {
            let v = *x;
            let cube = GELU_CUBIC * v * v * v;
            let t = fast_tanh(GELU_SCALE * (v + cube));
            *o = 0.5 * v * (1.0 + t);
            *x = slope(v, t);
        }
    }
}

/// [`gelu_rows`] and [`gelu_backward_rows`] on a whole row against the same loops one entry at a
/// time, bit for bit, for x from −10 to 10: a row goes through the loop as the compiler
/// vectorized it and a single entry through its scalar remainder, so this checks that the two
/// agree (the browser test calls it, through `window.attentionLabCheckKernels`; the unit tests
/// call it on the native build). The training pass's way ([`gelu_slope_rows`], then dout ⊙=
/// slope as `linear_backward_through` makes it) must give the same bits too, row and single
/// entry. Ok(entries checked) or the first that differs.
pub fn check_rows_against_single_entries() -> Result<usize, String> {
    let n = 4001;
    let x: Vec<f32> = (0..n)
        .map(|i| -10.0 + 20.0 * i as f32 / (n - 1) as f32)
        .collect();
    let g: Vec<f32> = (0..n)
        .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
        .collect();
    let mut out = vec![0.0; n];
    gelu_rows(&mut out, &x);
    let mut dx = vec![0.5; n];
    gelu_backward_rows(&mut dx, &x, &g);
    // The training pass's way: the slope kept by the forward, then one product.
    let (mut kept_out, mut kept) = (vec![0.0; n], x.clone());
    gelu_slope_rows(&mut kept_out, &mut kept);
    let mut kept_dx = g.clone();
    crate::engine::simd::mul_assign(&mut kept_dx, &kept);
    for i in 0..n {
        let (mut one, mut d) = ([0.0], [0.5]);
        gelu_rows(&mut one, &x[i..=i]);
        gelu_backward_rows(&mut d, &x[i..=i], &g[i..=i]);
        let (mut one_kept, mut s) = ([0.0], [x[i]]);
        gelu_slope_rows(&mut one_kept, &mut s);
        let got = [
            one[0],
            d[0],
            kept_out[i],
            kept_dx[i],
            one_kept[0],
            g[i] * s[0],
        ];
        if got.map(f32::to_bits) != [out[i], dx[i], out[i], dx[i], out[i], dx[i]].map(f32::to_bits)
        {
            return Err(format!(
                "GELU at x = {}: the row gives {} and {}, one entry {} and {}; keeping the slope, \
                 the row {} and {}, one entry {} and {}",
                x[i],
                out[i],
                dx[i],
                one[0],
                d[0],
                kept_out[i],
                kept_dx[i],
                one_kept[0],
                g[i] * s[0]
            ));
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_single_entries_agree_bit_for_bit() {
        assert_eq!(check_rows_against_single_entries(), Ok(4001));
    }

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
