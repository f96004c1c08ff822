//! Elementwise loops at the CPU's vector width, chosen at run time.
//!
//! The crate is compiled for baseline x86-64 (SSE2), so that it runs on any laptop. The
//! [`multiversion!`] macro compiles a loop twice — once as is and once with AVX2 and FMA enabled,
//! where LLVM vectorizes it 8 floats wide — and picks the second when the CPU has them. Rust never
//! fuses a·b + c on its own, so both versions compute bit-identical results.
//!
//! Sums are taken over 8 interleaved partial sums ([`sum`], [`dot`]) so that they vectorize
//! (LLVM may not reorder a sequential float sum); the order is fixed, so results are
//! deterministic. [`exp`] is a branch-free e^x that vectorizes, unlike libm's `expf`.

/// Does this CPU have AVX2 and FMA? (The standard library caches the answer.)
#[inline]
pub fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Does this CPU have AVX-512 (F: 512-bit vectors and their fused multiply-add)? Cached, as
/// [`avx2`].
#[inline]
pub fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f") && avx2()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Define `fn name(args) -> ret { body }` so that its body runs compiled for AVX2 + FMA when the
/// CPU has them (see the top of this file). Arguments are plain `name: Type` (rebind with
/// `let mut` inside the body).
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn wide($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if $crate::engine::simd::avx2() {
                    // SAFETY: the CPU has AVX2 and FMA (checked just now).
                    return unsafe { wide($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// An array's entries as one row-major slice, as the vector loops take them: borrowed when the
/// array is laid out that way (every activation and parameter is), copied when it is a strided
/// view.
pub fn rows<'a, D: ndarray::Dimension>(
    a: &'a ndarray::ArrayView<'_, f32, D>,
) -> std::borrow::Cow<'a, [f32]> {
    match a.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(a.iter().copied().collect()),
    }
}

/// Run `f` on an array's entries as one row-major slice (through a copy, written back, when it
/// is a strided view).
pub fn on_rows<D: ndarray::Dimension>(
    a: &mut ndarray::ArrayViewMut<'_, f32, D>,
    f: impl FnOnce(&mut [f32]),
) {
    if let Some(s) = a.as_slice_mut() {
        return f(s);
    }
    let mut tmp: Vec<f32> = a.iter().copied().collect();
    f(&mut tmp);
    for (dst, src) in a.iter_mut().zip(&tmp) {
        *dst = *src;
    }
}

/// Lanes of the partial sums.
const LANES: usize = 8;

/// Σ x, over 8 interleaved partial sums.
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let mut acc = [0.0_f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    for (a, v) in acc.iter_mut().zip(rest) {
        *a += v;
    }
    reduce(acc)
}

/// Σ x·y, over 8 interleaved partial sums.
#[inline(always)]
pub fn dot(x: &[f32], y: &[f32]) -> f32 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0.0_f32; LANES];
    let (cx, cy) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let (rx, ry) = (cx.remainder(), cy.remainder());
    for (a8, b8) in cx.zip(cy) {
        for ((a, u), v) in acc.iter_mut().zip(a8).zip(b8) {
            *a += u * v;
        }
    }
    for ((a, u), v) in acc.iter_mut().zip(rx).zip(ry) {
        *a += u * v;
    }
    reduce(acc)
}

/// Σ f(x), over 8 interleaved partial sums.
#[inline(always)]
pub fn sum_map(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0_f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    for (a, &v) in acc.iter_mut().zip(rest) {
        *a += f(v);
    }
    reduce(acc)
}

/// Σ f(x_j, y_j, z_j) over the common length, over 8 interleaved partial sums.
#[inline(always)]
pub fn sum_map3(x: &[f32], y: &[f32], z: &[f32], f: impl Fn(f32, f32, f32) -> f32) -> f32 {
    let n = x.len().min(y.len()).min(z.len());
    let (x, y, z) = (&x[..n], &y[..n], &z[..n]);
    let mut acc = [0.0_f32; LANES];
    let (cx, cy, cz) = (
        x.chunks_exact(LANES),
        y.chunks_exact(LANES),
        z.chunks_exact(LANES),
    );
    let (rx, ry, rz) = (cx.remainder(), cy.remainder(), cz.remainder());
    for ((a8, b8), c8) in cx.zip(cy).zip(cz) {
        for (((a, &u), &v), &w) in acc.iter_mut().zip(a8).zip(b8).zip(c8) {
            *a += f(u, v, w);
        }
    }
    for (((a, &u), &v), &w) in acc.iter_mut().zip(rx).zip(ry).zip(rz) {
        *a += f(u, v, w);
    }
    reduce(acc)
}

/// max x (−∞ for an empty slice; NaN entries are skipped, as `f32::max` does).
#[inline(always)]
pub fn max(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = a.max(v);
        }
    }
    for (a, &v) in acc.iter_mut().zip(rest) {
        *a = a.max(v);
    }
    acc.iter().copied().fold(f32::NEG_INFINITY, f32::max)
}

/// The sum of 8 partial sums, in the fixed order every function here uses.
#[inline(always)]
pub fn reduce(a: [f32; LANES]) -> f32 {
    ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}

/// e^x without branches, so that loops of it vectorize. Cody–Waite reduction
/// x = n·ln 2 + r (|r| ≤ ½ ln 2) and Cephes' degree-6 polynomial for e^r (`expf.c`, S. Moshier),
/// then 2ⁿ through exponent bits. Within 2 ulp of libm's `expf` for x ≥ −87.3 (tested);
/// below that (where e^x < 1.2e-38) it returns 0, and e^−∞ = 0 exactly. Above 88.7 it returns
/// e^88.7 ≈ 3.4e38, finite (callers take e^x of x − max x ≤ 0).
#[inline(always)]
#[allow(clippy::excessive_precision)] // the coefficients as published
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LO: f32 = -87.336_544;
    const HI: f32 = 88.722_83;
    // 1.5 · 2²³: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let xc = x.clamp(LO, HI);
    let shifted = xc * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = xc - n * 0.693_359_375 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let e = p * (r * r) + r + 1.0;
    // n as an integer from the low bits of `shifted` (a cast would not vectorize: it saturates),
    // then 2ⁿ as 2^(n − n/2) · 2^(n/2): n runs from −126 to 128, past one exponent field.
    let n = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    let half = n >> 1;
    let pow2 = |k: i32| f32::from_bits(((k + 127) as u32) << 23);
    if x < LO {
        0.0
    } else {
        e * pow2(n - half) * pow2(half)
    }
}

/// tanh as a 13/6 rational function on [−7.9, 7.9] (Eigen's `generic_fast_tanh_float`), within
/// 5e-7 of libm's `tanhf` (tested in `model::mlp`: a few ulp) and several times faster: libm's
/// tanh was a third of a training step. Branch-free, so that loops of it vectorize.
#[inline]
pub fn tanh(x: f32) -> f32 {
    let x = x.clamp(-TANH_CLAMP, TANH_CLAMP);
    let x2 = x * x;
    let mut p = x2 * TANH_P[0] + TANH_P[1];
    p = x2 * p + TANH_P[2];
    p = x2 * p + TANH_P[3];
    p = x2 * p + TANH_P[4];
    p = x2 * p + TANH_P[5];
    p = x2 * p + TANH_P[6];
    p *= x;
    let mut q = x2 * TANH_Q[0] + TANH_Q[1];
    q = x2 * q + TANH_Q[2];
    q = x2 * q + TANH_Q[3];
    // A select, not a branch, so that loops of it vectorize.
    if x.abs() < TANH_SMALL { x } else { p / q }
}

/// [`tanh`]'s numerator (in x², highest power first; times x) and denominator, as published.
#[allow(clippy::excessive_precision)]
const TANH_P: [f32; 7] = [
    -2.760_768_5e-16,
    2.000_187_9e-13,
    -8.604_671_5e-11,
    5.122_297e-8,
    1.485_722_4e-5,
    6.372_619_3e-4,
    4.893_524_6e-3,
];
#[allow(clippy::excessive_precision)]
const TANH_Q: [f32; 4] = [
    1.198_258_4e-6,
    1.185_347_1e-4,
    2.268_434_6e-3,
    4.893_525_2e-3,
];
/// Past this |x|, tanh x is 1 in f32; below [`TANH_SMALL`], tanh x = x.
const TANH_CLAMP: f32 = 7.905_311;
const TANH_SMALL: f32 = 4e-4;

/// The settings of one AdamW update (`model::optim`'s `update`, and its 4-lane twin
/// `lanes4::adamw` in the browser): this step's learning rate, β₁, β₂, ε, the weight decay,
/// the clip factor and the two bias corrections 1 − βᵗ.
#[derive(Clone, Copy)]
pub struct AdamWKnobs {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub wd: f32,
    pub clip: f32,
    pub bc1: f32,
    pub bc2: f32,
}

/// The browser's 4-lane versions of the elementwise loops that were a large part of a training
/// step there. The browser build is optimised for size (the `.wasm` budget is 8 MB), and LLVM
/// vectorizes no loop then: measured in headless Chromium (2026-12-02), GELU forward and
/// backward took 13–15 % of a training step of the live lesson's model. Each function does the
/// operations of the scalar loop it stands for (`model::mlp`, `model::optim`), in the same order,
/// lane by lane (WebAssembly has no fused multiply-add here), so the results are bit-identical;
/// each handles the largest multiple of 4 entries and returns the rest for the scalar loop.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod lanes4 {
    use core::arch::wasm32::{
        f32x4_abs, f32x4_add, f32x4_div, f32x4_lt, f32x4_max, f32x4_min, f32x4_mul, f32x4_splat,
        f32x4_sub, v128, v128_bitselect, v128_load, v128_store,
    };

    use super::{TANH_CLAMP, TANH_P, TANH_Q, TANH_SMALL};

    /// [`super::tanh`] on 4 lanes.
    #[inline(always)]
    fn tanh(x: v128) -> v128 {
        let c = f32x4_splat;
        let x = f32x4_max(f32x4_min(x, c(TANH_CLAMP)), c(-TANH_CLAMP));
        let x2 = f32x4_mul(x, x);
        let mut p = f32x4_add(f32x4_mul(x2, c(TANH_P[0])), c(TANH_P[1]));
        for &k in &TANH_P[2..] {
            p = f32x4_add(f32x4_mul(x2, p), c(k));
        }
        p = f32x4_mul(p, x);
        let mut q = f32x4_add(f32x4_mul(x2, c(TANH_Q[0])), c(TANH_Q[1]));
        for &k in &TANH_Q[2..] {
            q = f32x4_add(f32x4_mul(x2, q), c(k));
        }
        v128_bitselect(x, f32x4_div(p, q), f32x4_lt(f32x4_abs(x), c(TANH_SMALL)))
    }

    /// 4 floats from `s[i..i + 4]`.
    #[inline(always)]
    fn load(s: &[f32], i: usize) -> v128 {
        assert!(i + 4 <= s.len());
        // SAFETY: the 16 bytes at s[i..i + 4] are inside `s` (asserted; unaligned loads are
        // allowed in WebAssembly).
        unsafe { v128_load(s.as_ptr().add(i).cast::<v128>()) }
    }

    #[inline(always)]
    fn store(s: &mut [f32], i: usize, v: v128) {
        assert!(i + 4 <= s.len());
        // SAFETY: as in `load`, and `s` is borrowed mutably.
        unsafe { v128_store(s.as_mut_ptr().add(i).cast::<v128>(), v) }
    }

    /// out = ½ x (1 + tanh(s·(x + a·x³))) (`model::mlp::gelu_rows`, with s = √(2/π) and
    /// a = 0.044715); returns the entries left for the scalar loop.
    pub fn gelu_rows<'a, 'b>(
        out: &'a mut [f32],
        x: &'b [f32],
        s: f32,
        a: f32,
    ) -> (&'a mut [f32], &'b [f32]) {
        let n = out.len().min(x.len()) / 4 * 4;
        let c = f32x4_splat;
        for i in (0..n).step_by(4) {
            let v = load(x, i);
            let cube = f32x4_mul(f32x4_mul(f32x4_mul(c(a), v), v), v);
            let t = tanh(f32x4_mul(c(s), f32x4_add(v, cube)));
            store(
                out,
                i,
                f32x4_mul(f32x4_mul(c(0.5), v), f32x4_add(c(1.0), t)),
            );
        }
        (&mut out[n..], &x[n..])
    }

    /// dx += (½ (1 + t) + ½ x (1 − t²) · s · (1 + 3a·x²)) · dout with t = tanh(s·(x + a·x³))
    /// (`model::mlp::gelu_backward_rows`); returns the entries left for the scalar loop.
    pub fn gelu_backward_rows<'a, 'b>(
        dx: &'a mut [f32],
        x: &'b [f32],
        dout: &'b [f32],
        s: f32,
        a: f32,
    ) -> (&'a mut [f32], &'b [f32], &'b [f32]) {
        let n = dx.len().min(x.len()).min(dout.len()) / 4 * 4;
        let c = f32x4_splat;
        for i in (0..n).step_by(4) {
            let (v, g) = (load(x, i), load(dout, i));
            let cube = f32x4_mul(f32x4_mul(f32x4_mul(c(a), v), v), v);
            let t = tanh(f32x4_mul(c(s), f32x4_add(v, cube)));
            let sech2 = f32x4_sub(c(1.0), f32x4_mul(t, t));
            let slope = f32x4_add(c(1.0), f32x4_mul(f32x4_mul(c(3.0 * a), v), v));
            let local = f32x4_add(
                f32x4_mul(c(0.5), f32x4_add(c(1.0), t)),
                f32x4_mul(
                    f32x4_mul(f32x4_mul(f32x4_mul(c(0.5), v), sech2), c(s)),
                    slope,
                ),
            );
            store(dx, i, f32x4_add(load(dx, i), f32x4_mul(local, g)));
        }
        (&mut dx[n..], &x[n..], &dout[n..])
    }

    /// `model::optim`'s update 4 entries at a time, each operation as in its scalar loop (√ and
    /// ÷ are exact in both, so the bits are the same); returns the entries left for that loop.
    /// Measured in headless Chromium (2026-12-02, `attentionLabTrainingRate` of the live
    /// lesson's model, two pages side by side, eight rounds): 1.13× the training rate of the
    /// same build with the scalar loop (median; rounds 0.87–1.36).
    #[allow(clippy::type_complexity)]
    pub fn adamw<'a, 'b>(
        p: &'a mut [f32],
        m: &'a mut [f32],
        v: &'a mut [f32],
        g: &'b [f32],
        k: super::AdamWKnobs,
    ) -> (&'a mut [f32], &'a mut [f32], &'a mut [f32], &'b [f32]) {
        use core::arch::wasm32::f32x4_sqrt;
        let n = p.len().min(m.len()).min(v.len()).min(g.len()) / 4 * 4;
        let c = f32x4_splat;
        for i in (0..n).step_by(4) {
            let gi = f32x4_mul(load(g, i), c(k.clip));
            let mi = f32x4_add(
                f32x4_mul(c(k.beta1), load(m, i)),
                f32x4_mul(c(1.0 - k.beta1), gi),
            );
            let vi = f32x4_add(
                f32x4_mul(c(k.beta2), load(v, i)),
                f32x4_mul(f32x4_mul(c(1.0 - k.beta2), gi), gi),
            );
            store(m, i, mi);
            store(v, i, vi);
            let (mhat, vhat) = (f32x4_div(mi, c(k.bc1)), f32x4_div(vi, c(k.bc2)));
            let pi = load(p, i);
            let step = f32x4_add(
                f32x4_div(mhat, f32x4_add(f32x4_sqrt(vhat), c(k.eps))),
                f32x4_mul(c(k.wd), pi),
            );
            store(p, i, f32x4_sub(pi, f32x4_mul(c(k.lr), step)));
        }
        (&mut p[n..], &mut m[n..], &mut v[n..], &g[n..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut worst = 0;
        let mut x = -87.3_f32;
        while x < 88.7 {
            let u = ulps(exp(x), x.exp());
            assert!(u <= 2, "exp({x}) = {} vs {}", exp(x), x.exp());
            worst = worst.max(u);
            x += 1.7e-3;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(-100.0), 0.0);
        assert!(exp(1000.0).is_finite());
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn sums_match_f64() {
        let x: Vec<f32> = (0..1037)
            .map(|i| ((i * 37) % 101) as f32 * 0.01 - 0.5)
            .collect();
        let y: Vec<f32> = (0..1037)
            .map(|i| ((i * 13) % 97) as f32 * 0.02 - 1.0)
            .collect();
        let s64: f64 = x.iter().map(|&v| f64::from(v)).sum();
        let d64: f64 = x
            .iter()
            .zip(&y)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum();
        assert!((f64::from(sum(&x)) - s64).abs() < 1e-3);
        assert!((f64::from(dot(&x, &y)) - d64).abs() < 1e-3);
        assert_eq!(max(&x), x.iter().copied().fold(f32::NEG_INFINITY, f32::max));
        assert_eq!(max(&[]), f32::NEG_INFINITY);
        assert_eq!(sum(&[]), 0.0);
    }

    multiversion! {
        fn double_all(x: &mut [f32]) {
            for v in x.iter_mut() {
                *v *= 2.0;
            }
        }
    }

    #[test]
    fn multiversion_runs_the_body() {
        let mut x = [1.0, 2.5, -3.0];
        double_all(&mut x);
        assert_eq!(x, [2.0, 5.0, -6.0]);
    }
}
