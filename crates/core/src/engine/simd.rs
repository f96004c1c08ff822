//! Elementwise loops at the CPU's vector width, chosen at run time.
//!
//! The crate is compiled for baseline x86-64 (SSE2), so that it runs on any laptop. The
//! `multiversion!` macro compiles a loop three times — as is, with AVX2 and FMA enabled (LLVM
//! vectorizes it 8 floats wide) and with AVX-512F too (16 wide) — and picks the widest the CPU
//! has. Rust never fuses a·b + c on its own and LLVM never reorders a float sum, so every version
//! computes the same bits (three training steps, kernel included, are checked both ways in
//! `train::data_parallel`). The 16-wide loops, measured on the 2-core machine on 2026-12-03:
//! - one thread's training step at the small size, both builds at once on the two cores: 1.065×
//!   (6 rounds, 1.00–1.15); at medium about 1.03× (median of 14 rounds, too noisy to say more);
//! - against PyTorch in the same hour (`attention-lab bench`, medians): small 2.43× before and
//!   2.58× after, medium 1.15× and 1.22×.
//!
//! valgrind emulates no AVX-512, so callgrind cannot count this path.
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
                #[target_feature(enable = "avx512f,avx2,fma")]
                fn wide512($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn wide($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if $crate::engine::simd::avx512() && !$crate::engine::simd::no_avx512() {
                    // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked just now).
                    return unsafe { wide512($($arg),*) };
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

#[cfg(test)]
thread_local! {
    /// Tests of this thread run [`multiversion!`] loops at AVX2 width, and `gemm`'s AVX2
    /// kernel, even where AVX-512 is present, to compare the two.
    pub static NO_AVX512: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Should `multiversion!` loops and `gemm` skip their AVX-512 versions? (Only a test asks.)
#[inline(always)]
pub fn no_avx512() -> bool {
    #[cfg(test)]
    return NO_AVX512.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}

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

multiversion! {
    /// dst ⊙= by (entry by entry; same length).
    pub fn mul_assign(dst: &mut [f32], by: &[f32]) {
        for (d, &b) in dst.iter_mut().zip(by) {
            *d *= b;
        }
    }
}

multiversion! {
    /// Σ x², accumulated in f64 over 4 interleaved partial sums (a gradient's norm, for clipping
    /// and for the per-block norms the lessons plot).
    pub fn sum_squares(x: &[f32]) -> f64 {
        let mut acc = [0.0_f64; 4];
        let chunks = x.chunks_exact(4);
        let rest = chunks.remainder();
        for c in chunks {
            for (a, &v) in acc.iter_mut().zip(c) {
                *a += f64::from(v) * f64::from(v);
            }
        }
        for (a, &v) in acc.iter_mut().zip(rest) {
            *a += f64::from(v) * f64::from(v);
        }
        (acc[0] + acc[2]) + (acc[1] + acc[3])
    }
}

multiversion! {
    /// The largest |x| (0 for no entries; NaN if any entry is NaN), over 8 interleaved lanes:
    /// a maximum is exact, so the lanes give the same result as one pass in order.
    pub fn max_abs(x: &[f32]) -> f32 {
        let mut m = [0.0_f32; LANES];
        let mut nan = false;
        let chunks = x.chunks_exact(LANES);
        let rest = chunks.remainder();
        for c in chunks {
            for (m, &v) in m.iter_mut().zip(c) {
                nan |= v.is_nan();
                *m = m.max(v.abs());
            }
        }
        for &v in rest {
            nan |= v.is_nan();
            m[0] = m[0].max(v.abs());
        }
        if nan { f32::NAN } else { m.into_iter().fold(0.0, f32::max) }
    }
}

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

/// LayerNorm's two row sums in its backward pass, in one pass over the row:
/// (Σ w·d, Σ (w·d)·((x − μ)·r)), each over 8 interleaved partial sums, so with the bits of
/// `dot(w, d)` and `sum_map3(x, d, w, |x, d, w| w * d * ((x - μ) * r))` (tested below).
///
/// On x86-64 the 8 partial sums are two SSE2 vectors (SSE2 is part of x86-64, so no check is
/// needed; elsewhere, the browser included, it is those two functions): LLVM leaves [`dot`] and [`sum_map3`] scalar here (186 scalar arithmetic instructions
/// against 22 vector ones in the AVX-512 build of `norm_backward_rows`), also written over
/// `as_chunks::<8>()`. Measured on the 2-core machine (2026-12-03, one process alternating the
/// two step by step, median of the pairs' time ratios): the large training step took 1/1.017 of
/// the time (204 pairs, quartiles 1.000–1.033), the medium 1/1.017 (492 pairs, 1.004–1.033).
#[inline(always)]
pub fn norm_sums(x: &[f32], d: &[f32], w: &[f32], mu: f32, r: f32) -> (f32, f32) {
    #[cfg(not(target_arch = "x86_64"))]
    return (
        dot(w, d),
        sum_map3(x, d, w, |xj, dj, wj| wj * dj * ((xj - mu) * r)),
    );
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let n = x.len().min(d.len()).min(w.len());
        let (x, d, w) = (&x[..n], &d[..n], &w[..n]);
        let whole = n / LANES * LANES;
        let (mut a, mut b) = ([0.0_f32; LANES], [0.0_f32; LANES]);
        // SAFETY: SSE2 is always present on x86-64; every load reads 4 floats at p + 4q with
        // p + 4q + 4 ≤ whole ≤ n, inside the three slices; the stores write the two 8-float
        // arrays.
        unsafe {
            let (mu4, r4) = (_mm_set1_ps(mu), _mm_set1_ps(r));
            let mut acc = [_mm_setzero_ps(); 4];
            for p in (0..whole).step_by(LANES) {
                for q in 0..2 {
                    let at = |s: &[f32]| _mm_loadu_ps(s.as_ptr().add(p + 4 * q));
                    let wd = _mm_mul_ps(at(w), at(d));
                    acc[q] = _mm_add_ps(acc[q], wd);
                    let norm = _mm_mul_ps(_mm_sub_ps(at(x), mu4), r4);
                    acc[2 + q] = _mm_add_ps(acc[2 + q], _mm_mul_ps(wd, norm));
                }
            }
            _mm_storeu_ps(a.as_mut_ptr(), acc[0]);
            _mm_storeu_ps(a.as_mut_ptr().add(4), acc[1]);
            _mm_storeu_ps(b.as_mut_ptr(), acc[2]);
            _mm_storeu_ps(b.as_mut_ptr().add(4), acc[3]);
        }
        // The last n mod 8 terms into the first partial sums, as `dot` and `sum_map3` add them.
        for l in 0..n - whole {
            let wd = w[whole + l] * d[whole + l];
            a[l] += wd;
            b[l] += wd * ((x[whole + l] - mu) * r);
        }
        (reduce(a), reduce(b))
    }
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
pub fn exp(x: f32) -> f32 {
    let xc = x.clamp(EXP_LO, EXP_HI);
    let shifted = xc * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = EXP_P[0];
    for c in &EXP_P[1..] {
        p = p * r + c;
    }
    let e = p * (r * r) + r + 1.0;
    // n as an integer from the low bits of `shifted` (a cast would not vectorize: it saturates),
    // then 2ⁿ as 2^(n − n/2) · 2^(n/2): n runs from −126 to 128, past one exponent field.
    let n = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    let half = n >> 1;
    let pow2 = |k: i32| f32::from_bits(((k + 127) as u32) << 23);
    if x < EXP_LO {
        0.0
    } else {
        e * pow2(n - half) * pow2(half)
    }
}

/// [`exp`]'s constants: its range, log₂ e, ln 2 in two parts (Cody–Waite) and the polynomial
/// (highest power first), as Cephes publishes them.
#[allow(clippy::excessive_precision)]
const EXP_LO: f32 = -87.336_544;
const EXP_HI: f32 = 88.722_83;
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// 1.5 · 2²³: adding and subtracting it rounds to the nearest integer.
const ROUND: f32 = 12_582_912.0;
#[allow(clippy::excessive_precision)]
const LN2_HI: f32 = 0.693_359_375;
#[allow(clippy::excessive_precision)]
const LN2_LO: f32 = -2.121_944_4e-4;
#[allow(clippy::excessive_precision)]
const EXP_P: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    5.000_000_1e-1,
];

/// Softmax of `x` into `out` (the common length) 16 lanes at a time where the CPU has AVX-512;
/// false, with nothing written, where it has not. The same operations in the same order as the
/// plain softmax (`model::softmax::softmax_inline`: the maximum, [`exp`] of x − max, the sum over
/// 8 interleaved partial sums, then times 1/sum), so the same bits (tested there). Written with
/// intrinsics because LLVM's version of the plain loops spends a short row (the attention rows:
/// 8–128 keys) mostly in loop prologues, remainders and the maximum's NaN handling. Measured on
/// 2026-12-03: one block's attention forward pass at the large bench size (hot caches, minimum
/// of 200 runs) took 1.79 ms with it against 2.04 ms without; the large training step, one
/// process alternating the two step by step, 1/1.006 of the time (147 pairs, quartiles
/// 0.976–1.012), the medium 1/1.002: in the step the rows mostly wait on memory.
#[inline]
#[cfg_attr(not(target_arch = "x86_64"), expect(unused_variables))]
pub fn softmax16(out: &mut [f32], x: &[f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if avx512() && !no_avx512() {
        let n = out.len().min(x.len());
        // SAFETY: the CPU has AVX-512F (checked just now); both slices hold n floats.
        unsafe { x86::softmax(out.as_mut_ptr(), x.as_ptr(), n) };
        return true;
    }
    false
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    use super::{EXP_HI, EXP_LO, EXP_P, LN2_HI, LN2_LO, LOG2E, ROUND, reduce};
    use std::arch::x86_64::*;

    /// [`super::exp`] of 16 lanes, operation for operation (so the same bits in every lane).
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn exp(x: __m512) -> __m512 {
        let set = _mm512_set1_ps;
        // x.clamp(LO, HI): max(LO, x) and min(HI, ·) return x itself when it is NaN.
        let xc = _mm512_min_ps(set(EXP_HI), _mm512_max_ps(set(EXP_LO), x));
        let shifted = _mm512_add_ps(_mm512_mul_ps(xc, set(LOG2E)), set(ROUND));
        let n = _mm512_sub_ps(shifted, set(ROUND));
        let r = _mm512_sub_ps(
            _mm512_sub_ps(xc, _mm512_mul_ps(n, set(LN2_HI))),
            _mm512_mul_ps(n, set(LN2_LO)),
        );
        let mut p = set(EXP_P[0]);
        for &c in &EXP_P[1..] {
            p = _mm512_add_ps(_mm512_mul_ps(p, r), set(c));
        }
        let e = _mm512_add_ps(
            _mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(r, r)), r),
            set(1.0),
        );
        let ni = _mm512_sub_epi32(
            _mm512_castps_si512(shifted),
            _mm512_set1_epi32(ROUND.to_bits() as i32),
        );
        let half = _mm512_srai_epi32::<1>(ni);
        let pow2 = |k: __m512i| {
            _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(
                k,
                _mm512_set1_epi32(127),
            )))
        };
        let y = _mm512_mul_ps(
            _mm512_mul_ps(e, pow2(_mm512_sub_epi32(ni, half))),
            pow2(half),
        );
        let below = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, set(EXP_LO));
        _mm512_mask_mov_ps(y, below, _mm512_setzero_ps())
    }

    /// Lanes 0 … k − 1 of a 16-lane vector (all 16 for k ≥ 16); `gemm`'s AVX-512 store uses
    /// it too.
    #[inline(always)]
    pub(crate) fn lanes(k: usize) -> __mmask16 {
        if k >= 16 { 0xFFFF } else { (1u16 << k) - 1 }
    }

    /// See [`super::softmax16`].
    ///
    /// # Safety
    /// AVX-512F is present; `out` and `x` hold n floats.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn softmax(out: *mut f32, x: *const f32, n: usize) {
        let neg_inf = _mm512_set1_ps(f32::NEG_INFINITY);
        // The maximum: max(v, m) returns m when v is NaN, so NaN entries are skipped, as
        // `f32::max` skips them; lanes past the end read as −∞.
        let mut m = neg_inf;
        for i in (0..n).step_by(16) {
            // SAFETY: the mask keeps to entries < n.
            let v = unsafe { _mm512_mask_loadu_ps(neg_inf, lanes(n - i), x.add(i)) };
            m = _mm512_max_ps(v, m);
        }
        let max = _mm512_reduce_max_ps(m);
        if max == f32::NEG_INFINITY {
            for i in (0..n).step_by(16) {
                // SAFETY: as above.
                unsafe { _mm512_mask_storeu_ps(out.add(i), lanes(n - i), _mm512_setzero_ps()) };
            }
            return;
        }
        // e^(x − max) into out, summed into 8 partial sums: entry j of every 8 into sum j, in
        // order (lanes past the end add exact zeros to sums that are ≥ +0).
        let mv = _mm512_set1_ps(max);
        let mut acc = _mm256_setzero_ps();
        for i in (0..n).step_by(16) {
            let k = lanes(n - i);
            // SAFETY: as above.
            let v = unsafe { _mm512_maskz_loadu_ps(k, x.add(i)) };
            let e = _mm512_maskz_mov_ps(k, exp(_mm512_sub_ps(v, mv)));
            // SAFETY: as above.
            unsafe { _mm512_mask_storeu_ps(out.add(i), k, e) };
            acc = _mm256_add_ps(acc, _mm512_castps512_ps256(e));
            if n - i > 8 {
                let hi = _mm512_extractf64x4_pd::<1>(_mm512_castps_pd(e));
                acc = _mm256_add_ps(acc, _mm256_castpd_ps(hi));
            }
        }
        let mut a = [0.0f32; 8];
        // SAFETY: a holds 8 floats.
        unsafe { _mm256_storeu_ps(a.as_mut_ptr(), acc) };
        let inv = _mm512_set1_ps(1.0 / reduce(a));
        for i in (0..n).step_by(16) {
            let k = lanes(n - i);
            // SAFETY: as above.
            unsafe {
                let o = _mm512_maskz_loadu_ps(k, out.add(i));
                _mm512_mask_storeu_ps(out.add(i), k, _mm512_mul_ps(o, inv));
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_sums_give_the_bits_of_dot_and_sum_map3() {
        let value = |i: usize, k: usize| ((i * 7919 + k * 104_729) % 2003) as f32 / 1001.0 - 1.0;
        for n in (0..=40).chain([255, 256, 257, 1024]) {
            let (x, d, w): (Vec<f32>, Vec<f32>, Vec<f32>) = (0..n)
                .map(|i| (value(i, 1) * 3.0, value(i, 2), value(i, 3)))
                .collect();
            let (mu, r) = (0.123_f32, 2.71_f32);
            let (a, b) = norm_sums(&x, &d, &w, mu, r);
            let a_ref = dot(&w, &d);
            let b_ref = sum_map3(&x, &d, &w, |xj, dj, wj| wj * dj * ((xj - mu) * r));
            assert_eq!(
                (a.to_bits(), b.to_bits()),
                (a_ref.to_bits(), b_ref.to_bits()),
                "n = {n}"
            );
        }
    }

    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn max_abs_is_the_largest_magnitude_at_every_length_and_nan_wins() {
        for n in 0..40 {
            let x: Vec<f32> = (0..n)
                .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.25)
                .collect();
            let want = x.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
            assert_eq!(max_abs(&x).to_bits(), want.to_bits(), "n = {n}");
            for at in 0..n {
                let mut y = x.clone();
                y[at] = f32::NAN;
                assert!(max_abs(&y).is_nan(), "n = {n}, NaN at {at}");
            }
        }
        assert_eq!(max_abs(&[-3.0, f32::INFINITY, 1.0]), f32::INFINITY);
    }

    #[test]
    fn sum_squares_matches_a_plain_f64_sum() {
        for n in 0..40 {
            let x: Vec<f32> = (0..n).map(|i| (i as f32 - 7.5) * 0.3).collect();
            let want: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            let got = sum_squares(&x);
            assert!(
                (got - want).abs() <= 1e-12 * want.max(1.0),
                "n = {n}: {got} vs {want}"
            );
        }
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
