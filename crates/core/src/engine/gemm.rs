//! Single-precision matrix product C ← α·A·B + β·C: the one kernel under every linear layer and
//! every attention head.
//!
//! Goto & van de Geijn, "Anatomy of high-performance matrix multiplication" (ACM TOMS, 2008), in
//! the loop order of BLIS: B is packed into KC × NR column panels (kept in L3/L2), A into
//! MR × KC row panels (L2), and a 6 × 16 micro-kernel keeps its tile of C in 12 AVX registers
//! while it runs over k, so each step of k is 2 loads of B, 6 broadcasts of A and 12 fused
//! multiply-adds. Details that matter at our sizes:
//! - a transposed B (Wᵀ in every linear layer's forward pass) is packed with 8 × 8 register
//!   transposes;
//! - when B is narrow, contiguous rows of A are read in place rather than packed;
//! - a last panel of 2 or 4 rows runs a 2- or 4-row kernel;
//! - causal attention's triangular products skip the masked half ([`Structure`]);
//! - a linear layer's bias is added in the kernel's store ([`gemm_bias`]), not in a pass of its
//!   own, rounding as that pass would; a factor S (C = A·B ⊙ S, [`gemm_times`]: GELU's slope in
//!   a training pass's backward) or a row function (f(y_i, c_i), [`gemm_bias_then`]: GELU and
//!   its slope in a training pass's forward) is applied to each block of C's rows once its sums
//!   are final, while the block is in the cache, with the bits of a pass of its own;
//! - B can be packed once and reused ([`PackedB`]): inference packs every Wᵀ once per set of
//!   weights instead of in every product;
//! - packed blocks start on a 64-byte boundary, so that no load of B straddles two cache lines
//!   (`x86::aligned`).
//!
//! On x86-64 with AVX2 and FMA (checked at run time) this kernel runs; with AVX-512 too, the
//! tiles of two adjacent panels of B are computed at once, 6 × 32 in 12 zmm registers
//! (`x86::wide`: per step of k, 2 loads of B, 6 broadcasts, 12 FMAs of 16 lanes), which gives
//! the same bits as the 6 × 16 kernel and took the large training step from 186–235 to 121–133
//! ms (`attention-lab bench`, 2 cores, 2026-12-02, two rounds each); and where A is packed and
//! no step is skipped, two panels of A as well: 12 × 32 in 24 zmm registers, the same bits
//! again. Anywhere else (the browser)
//! a portable version of the same loop nest with a 4 × 8 tile (`portable`), which LLVM
//! vectorizes for the target (simd128, SSE2).
//!
//! Shapes: a: (M, K), b: (K, N), c: (M, N); any non-negative strides (transposed views are fine).
//! β = 0 overwrites C without reading it. The packing buffers are per thread and kept (the
//! training threads are long-lived), so after the first products a product allocates nothing.

// The blocking constants, the workspace and `structure` are the x86-64 kernel's; elsewhere (the
// browser) they are unused.
#![cfg_attr(
    not(target_arch = "x86_64"),
    allow(dead_code, unused_variables, unused_mut)
)]

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2};

/// Floats in a 64-byte cache line.
const LINE: usize = 16;

/// Where in `buf` (LINE floats longer than needed) a 64-byte aligned run starts.
fn line_start(buf: &[f32]) -> usize {
    buf.as_ptr().align_offset(64).min(LINE)
}

/// Rows of the micro-kernel's tile of C.
const MR: usize = 6;
/// Columns of the micro-kernel's tile of C (two AVX vectors).
const NR: usize = 16;
/// Depth of one packed block (a 16 KiB panel of B stays in L1).
const KC: usize = 256;
/// Rows of one packed block of A (48 × 256 floats = 48 KiB, in L2). 96 rows before: the large
/// training step took 1/1.015–1/1.026 of the time with 48 (two runs of one process alternating
/// the two step by step, 105–124 pairs, 2026-12-03), 1/1.013 with 24, 1/1.022 with 36, 1/1.011
/// with 72 and 1.023 times as long with 192; the large forward pass 1/1.011, the medium and
/// small sizes unchanged (1/1.004, 1.00).
const MC: usize = 48;
/// Columns of one packed block of B.
const NC: usize = 2048;
/// Up to this many columns of B, contiguous rows of A are not packed (measured: packing pays
/// from about 192 columns on).
const DIRECT_MAX_N: usize = 128;

/// What is known about the operands of a product of causal attention (T × T) matrices, so that
/// the work on the masked half can be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    /// Nothing: the full product.
    General,
    /// A is lower triangular (A[i, p] = 0 for p > i; e.g. attention weights): each row's sum
    /// stops at the diagonal.
    LowerA,
    /// A is upper triangular (A[i, p] = 0 for p < i; e.g. the transposed weights): each row's
    /// sum starts at the diagonal.
    UpperA,
    /// Only C's lower triangle (j ≤ i) is wanted (e.g. the scores before the mask): tiles
    /// wholly above the diagonal are not computed, and what they hold afterwards is unspecified.
    LowerC,
}

/// C ← α·A·B + β·C. a: (M, K), b: (K, N), c: (M, N).
///
/// # Panics
/// If the shapes do not agree (a programming error, as in `general_mat_mul`).
pub fn gemm(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
) {
    gemm_structured(alpha, a, b, beta, c, Structure::General);
}

/// [`gemm`], skipping the work that `structure` says is zero or unwanted. The skipped terms
/// are exact zeros, so the result is that of the full product.
pub fn gemm_structured(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    structure: Structure,
) {
    product(alpha, a, Rhs::Matrix(b), beta, c, structure, None, None);
}

/// C ← α·A·B + β·C + bias (the bias added to every row, after the product, as a separate
/// `C += bias` would: the same rounding). B is a matrix or columns of a [`PackedB`].
/// a: (M, K), b: (K, N), c: (M, N), bias: (N).
///
/// # Panics
/// If the shapes do not agree, or a packed B's columns do not start at a multiple of
/// [`PackedB::PANEL`] (programming errors).
pub fn gemm_bias(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: Rhs<'_>,
    beta: f32,
    c: ArrayViewMut2<'_, f32>,
    bias: Option<ArrayView1<'_, f32>>,
) {
    product(alpha, a, b, beta, c, Structure::General, bias, None);
}

/// C ← (α·A·B) ⊙ S: the product times `times` entry by entry, applied to each block of C's rows
/// as soon as its sums are final (while the block is in the cache), rounding as a separate
/// `C *= S` would. a: (M, K), b: (K, N), c, times: (M, N).
///
/// # Panics
/// If the shapes do not agree (a programming error).
pub fn gemm_times(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    c: ArrayViewMut2<'_, f32>,
    times: ArrayView2<'_, f32>,
) {
    product(
        alpha,
        a,
        Rhs::Matrix(b),
        0.0,
        c,
        Structure::General,
        None,
        Some(Finish::Times(times)),
    );
}

/// A row function for [`gemm_bias_then`]: f(y's row, C's row), both of the same length.
pub type RowMap = fn(&mut [f32], &mut [f32]);

/// C ← α·A·B + bias, then `f(y_i, c_i)` on each row i of C and of `y`, applied to each block of
/// C's rows as soon as its sums are final (while the block is in the cache), with the bits of the
/// product followed by a separate pass of `f` over the rows (an elementwise function: a training
/// pass's GELU, which writes gelu(C) into y and its slope over C, `mlp::gelu_slope_rows`).
/// a: (M, K), b: (K, N), c, y: (M, N), bias: (N).
///
/// # Panics
/// If the shapes do not agree (a programming error).
pub fn gemm_bias_then(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: Rhs<'_>,
    c: ArrayViewMut2<'_, f32>,
    bias: Option<ArrayView1<'_, f32>>,
    y: ArrayViewMut2<'_, f32>,
    f: RowMap,
) {
    product(
        alpha,
        a,
        b,
        0.0,
        c,
        Structure::General,
        bias,
        Some(Finish::Rows(y, f)),
    );
}

/// What a product does to each block of C's rows once its sums are final.
enum Finish<'a> {
    /// C ⊙= S ([`gemm_times`]).
    Times(ArrayView2<'a, f32>),
    /// f(y's row, C's row) on every row ([`gemm_bias_then`]).
    Rows(ArrayViewMut2<'a, f32>, RowMap),
}

impl Finish<'_> {
    /// The other matrix's shape.
    fn dim(&self) -> (usize, usize) {
        match self {
            Finish::Times(s) => s.dim(),
            Finish::Rows(y, _) => y.dim(),
        }
    }

    /// As a pass of its own over all of C, after the product (where the kernel cannot apply it
    /// block by block: the portable product, or rows that are not contiguous).
    fn apply(self, mut c: ArrayViewMut2<'_, f32>) {
        match self {
            Finish::Times(s) => c.zip_mut_with(&s, |c, s| *c *= s),
            Finish::Rows(mut y, f) => {
                let (mut yr, mut cr) = (Vec::new(), Vec::new());
                for (mut yi, mut ci) in y.outer_iter_mut().zip(c.outer_iter_mut()) {
                    if let (Some(ys), Some(cs)) = (yi.as_slice_mut(), ci.as_slice_mut()) {
                        f(ys, cs);
                        continue;
                    }
                    // Strided rows: through contiguous copies.
                    yr.clear();
                    yr.extend(yi.iter().copied());
                    cr.clear();
                    cr.extend(ci.iter().copied());
                    f(&mut yr, &mut cr);
                    yi.iter_mut().zip(&yr).for_each(|(d, s)| *d = *s);
                    ci.iter_mut().zip(&cr).for_each(|(d, s)| *d = *s);
                }
            }
        }
    }
}

/// The right-hand side B of a product.
#[derive(Debug, Clone)]
pub enum Rhs<'a> {
    /// Any matrix view (packed inside the product).
    Matrix(ArrayView2<'a, f32>),
    /// Columns `range` of a matrix packed beforehand.
    Packed(&'a PackedB, std::ops::Range<usize>),
}

impl Rhs<'_> {
    fn dim(&self) -> (usize, usize) {
        match self {
            Rhs::Matrix(b) => b.dim(),
            Rhs::Packed(p, cols) => (p.k, cols.len()),
        }
    }
}

/// A matrix B (K, N) packed once into the micro-kernel's panels of [`PackedB::PANEL`] columns,
/// for products that use the same B many times (the weights, in inference: `Wᵀ` is packed
/// once per set of weights instead of once per product). Without AVX2 it keeps B as it is.
#[derive(Debug)]
pub struct PackedB {
    k: usize,
    n: usize,
    /// From `start` on: KC-deep blocks, each holding all ⌈N / 16⌉ panels (`start` puts them on
    /// a 64-byte boundary); or, without AVX2, B row-major.
    data: Vec<f32>,
    start: usize,
    panels: bool,
}

impl Clone for PackedB {
    /// A copy whose panels are on a 64-byte boundary of its own allocation.
    fn clone(&self) -> Self {
        if !self.panels {
            return Self {
                data: self.data.clone(),
                ..*self
            };
        }
        let len = self.data.len() - self.start;
        let mut data = vec![0.0; len + LINE];
        let start = line_start(&data);
        data[start..start + len].copy_from_slice(&self.data[self.start..]);
        Self {
            data,
            start,
            ..*self
        }
    }
}

impl PackedB {
    /// Packed B's columns come in panels this wide; a column range must start on one.
    pub const PANEL: usize = NR;

    /// Pack b: (K, N).
    pub fn new(b: ArrayView2<'_, f32>) -> Self {
        let (k, n) = b.dim();
        #[cfg(target_arch = "x86_64")]
        {
            let non_negative = b.strides().iter().all(|&s| s >= 0);
            if non_negative && super::simd::avx2() {
                let n_pad = n.div_ceil(NR) * NR;
                // Panels on a 64-byte boundary: the kernel's loads of B then never straddle two
                // cache lines (see `x86::aligned`).
                let mut data = vec![0.0; n_pad * k + LINE];
                let start = line_start(&data);
                let (rs, cs) = (b.strides()[0], b.strides()[1]);
                let m = x86::Mat::new(b.as_ptr(), rs, cs);
                for pc in (0..k).step_by(KC) {
                    let kc = KC.min(k - pc);
                    // SAFETY: AVX2 is present; block pc holds n_pad·kc floats from pc·n_pad on;
                    // the lines read are B's columns 0 … n − 1, steps pc … pc + kc − 1.
                    unsafe { x86::pack_into(n, kc, m, pc, &mut data[start + pc * n_pad..]) };
                }
                return Self {
                    k,
                    n,
                    data,
                    start,
                    panels: true,
                };
            }
        }
        Self {
            k,
            n,
            data: b.iter().copied().collect(),
            start: 0,
            panels: false,
        }
    }

    /// (K, N) of B.
    pub fn dim(&self) -> (usize, usize) {
        (self.k, self.n)
    }

    /// B itself (K, N), unpacked.
    pub fn to_matrix(&self) -> ndarray::Array2<f32> {
        if !self.panels {
            return ndarray::Array2::from_shape_vec((self.k, self.n), self.data.clone())
                .unwrap_or_else(|_| ndarray::Array2::zeros((self.k, self.n)));
        }
        let n_pad = self.n.div_ceil(NR) * NR;
        ndarray::Array2::from_shape_fn((self.k, self.n), |(p, j)| {
            let (pc, kc) = (p / KC * KC, KC.min(self.k - p / KC * KC));
            self.data[self.start + pc * n_pad + (j / NR) * NR * kc + (p - pc) * NR + j % NR]
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn product(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: Rhs<'_>,
    beta: f32,
    mut c: ArrayViewMut2<'_, f32>,
    structure: Structure,
    bias: Option<ArrayView1<'_, f32>>,
    mut finish: Option<Finish<'_>>,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(
        finish.as_ref().is_none_or(|f| f.dim() == (m, n)),
        "gemm: a factor of {:?} for C ({m}, {n})",
        finish.as_ref().map(Finish::dim)
    );
    assert!(
        k == k2 && c.dim() == (m, n),
        "gemm: ({m}, {k}) · ({k2}, {n}) does not fit C {:?}",
        c.dim()
    );
    assert!(
        bias.as_ref().is_none_or(|b| b.len() == n),
        "gemm: bias of {} for {n} columns",
        bias.as_ref().map_or(0, |b| b.len())
    );
    if let Rhs::Packed(p, cols) = &b {
        assert!(
            cols.start.is_multiple_of(NR) && cols.end <= p.n,
            "gemm: columns {cols:?} of a packed B with {} columns",
            p.n
        );
    }
    #[cfg(target_arch = "x86_64")]
    {
        let packed_ok = match &b {
            Rhs::Matrix(b) => b.strides().iter().all(|&s| s >= 0),
            Rhs::Packed(p, _) => p.panels,
        };
        let non_negative =
            a.strides().iter().all(|&s| s >= 0) && c.strides().iter().all(|&s| s >= 0) && packed_ok;
        let bias_slice = bias.as_ref().map(|b| b.as_slice());
        if non_negative
            && super::simd::avx2()
            && !portable::forced()
            && bias_slice.is_none_or(|s| s.is_some())
        {
            let (sa, sc) = (a.strides(), c.strides());
            let (rsa, csa, rsc, csc) = (sa[0], sa[1], sc[0], sc[1]);
            let cp = c.as_mut_ptr();
            let rhs = match &b {
                Rhs::Matrix(b) => {
                    x86::B::Matrix(x86::Mat::new(b.as_ptr(), b.strides()[0], b.strides()[1]))
                }
                Rhs::Packed(p, cols) => x86::B::Packed {
                    data: p.data[p.start..].as_ptr(),
                    n_pad: p.n.div_ceil(NR) * NR,
                    col0: cols.start,
                },
            };
            let bias_ptr = bias_slice
                .flatten()
                .map_or(std::ptr::null(), |s| s.as_ptr());
            // Applied block by block in the kernel: a factor with non-negative strides, a row
            // function on contiguous rows; otherwise in a pass of its own afterwards.
            let in_blocks = match &finish {
                None => true,
                Some(Finish::Times(s)) => s.strides().iter().all(|&s| s >= 0),
                Some(Finish::Rows(y, _)) => y.strides()[1] == 1 && c.strides()[1] == 1,
            };
            let after = match &mut finish {
                Some(Finish::Times(s)) if in_blocks => {
                    x86::After::Times(x86::Mat::new(s.as_ptr(), s.strides()[0], s.strides()[1]))
                }
                Some(Finish::Rows(y, f)) if in_blocks => {
                    x86::After::Rows(y.as_mut_ptr(), y.strides()[0], *f)
                }
                _ => x86::After::Nothing,
            };
            with_workspace(|ws| {
                // SAFETY: AVX2 and FMA are present (checked above). Every pointer the kernel
                // forms is `base + i·row_stride + j·col_stride` with i, j inside the shapes
                // asserted above, so it stays inside the views (a packed B holds ⌈N/16⌉·16
                // columns of every step, and the range was checked); C and y are borrowed mutably
                // and A, B, the bias and the factor shared, so none of them overlaps C or y.
                unsafe {
                    x86::gemm(
                        m,
                        n,
                        k,
                        alpha,
                        x86::Mat::new(a.as_ptr(), rsa, csa),
                        rhs,
                        beta,
                        cp,
                        rsc,
                        csc,
                        structure,
                        bias_ptr,
                        after,
                        ws,
                    );
                }
            });
            if !in_blocks && let Some(finish) = finish {
                finish.apply(c);
            }
            return;
        }
    }
    match b {
        Rhs::Matrix(b) => portable::gemm(alpha, a, b, beta, c.view_mut(), bias),
        Rhs::Packed(p, cols) => {
            let b = p.to_matrix();
            portable::gemm(
                alpha,
                a,
                b.slice(ndarray::s![.., cols]),
                beta,
                c.view_mut(),
                bias,
            );
        }
    }
    if let Some(finish) = finish {
        finish.apply(c);
    }
}

/// The product without AVX2 (another CPU, the browser). Measured in the browser (headless
/// Chromium, 2 cores): ndarray's `general_mat_mul` (matrixmultiply's scalar fallback kernel on
/// wasm32) made a training step of the live lesson's model take about 65 ms; this blocked
/// product with a 4 × 8 tile that LLVM keeps in vector registers (simd128 in the browser, SSE2
/// elsewhere) is the same Goto/BLIS loop nest as the AVX2 kernel, written in plain Rust. The
/// operands are packed and C written through raw offsets (`ptr + i·rs + j·cs`, any sign of
/// stride) rather than ndarray's iterators: the iterators over strided views are generic code
/// compiled in this crate, which the browser build then optimised for size, and there they were
/// not inlined; measured in headless Chromium (2026-12-02, `attentionLabTrainingRate`, same
/// run): 67 steps/s with the iterators, 75–80 with raw offsets. A 4 × 8 tile (see `MR`), C's rows
/// updated and B's contiguous rows packed 8 floats at a time, and 4 × 4 transposes where A's
/// or B's rows are contiguous, gave the live lesson's model 1.25× the training rate of the
/// 6 × 8 version with scalar packing and stores (two pages side by side, each training alone,
/// eight rounds: median 1.25, rounds 1.08–1.74; the size-optimised build of then).
mod portable {
    use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2};

    /// Rows × columns of the tile of C kept in registers: 8 vectors of 4 in the browser, with 2
    /// of B and 1 of A, 11 in all. A 6 × 8 tile needs 15 of the 16 vector registers of an x86-64
    /// host, which leaves the browser's compiler almost none of its own; measured in headless
    /// Chromium (2026-12-02, a throwaway wasm benchmark of this loop nest, best of six
    /// alternating rounds, GFLOP/s), 4 × 8 with the stores below was faster at every shape
    /// tried: (80, 64)·(64, 256) 18.8 against 11.5, (80, 256)·(256, 64) 19.5 against 14.6,
    /// 16 × 16 × 16 7.2 against 5.2, 256³ 22.9 against 17.4.
    const MR: usize = 4;
    const NR: usize = 8;
    /// Depth of one packed block: a panel of B (KC × 8 floats = 8 KiB) stays in L1.
    const KC: usize = 256;

    #[cfg(test)]
    thread_local! {
        /// Tests of this thread use the portable product on any CPU.
        pub static FORCE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Must the product be the portable one (tests on an AVX2 machine)?
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub fn forced() -> bool {
        #[cfg(test)]
        return FORCE.with(std::cell::Cell::get);
        #[cfg(not(test))]
        false
    }

    thread_local! {
        /// This thread's packing buffers (A, B), kept between products.
        static BUFFERS: std::cell::RefCell<(Vec<f32>, Vec<f32>)> =
            const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
    }

    /// C ← α·A·B + β·C (+ bias on every row, after the product). a: (M, K), b: (K, N).
    pub fn gemm(
        alpha: f32,
        a: ArrayView2<'_, f32>,
        b: ArrayView2<'_, f32>,
        beta: f32,
        mut c: ArrayViewMut2<'_, f32>,
        bias: Option<ArrayView1<'_, f32>>,
    ) {
        let (m, k) = a.dim();
        let n = b.ncols();
        if m == 0 || n == 0 {
            return;
        }
        // β·C first, then every block of k adds α·A·B; with β = 0 the first block's tiles are
        // stored over C instead (never reading it: it may hold anything), as 0 + x would.
        let overwrite = beta == 0.0 && k > 0;
        if beta == 0.0 && k == 0 {
            c.fill(0.0);
        } else if beta != 0.0 && beta != 1.0 {
            c.mapv_inplace(|x| beta * x);
        }
        let (m_pad, n_pad) = (m.div_ceil(MR) * MR, n.div_ceil(NR) * NR);
        // Element (i, j) of each operand is at `ptr + i·rs + j·cs` (ndarray's strides, any sign;
        // `as_ptr` is element (0, 0)), read through raw offsets (see this module's header).
        let (ra, ca) = (a.strides()[0], a.strides()[1]);
        let (rb, cb) = (b.strides()[0], b.strides()[1]);
        let (rc, cc) = (c.strides()[0], c.strides()[1]);
        let (pa, pb, pc_ptr) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        BUFFERS.with(|buffers| {
            let (ap, bp) = &mut *buffers.borrow_mut();
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                let store = overwrite && pc == 0;
                // The buffers only grow: the padding rows of A's last panel and columns of B's
                // may hold anything (the last product's numbers), because the tile's entries
                // they reach are the ones never added to C, and vector lanes do not mix.
                if ap.len() < m_pad * kc {
                    ap.resize(m_pad * kc, 0.0);
                }
                if bp.len() < n_pad * kc {
                    bp.resize(n_pad * kc, 0.0);
                }
                let (ap, bp) = (&mut ap[..m_pad * kc], &mut bp[..n_pad * kc]);
                // SAFETY (both packings): i < m, j < n and pc + p < k, so every offset is that
                // of an element inside the views' shapes.
                let at = |i: usize, p: usize| unsafe {
                    *pa.offset(i as isize * ra + (pc + p) as isize * ca)
                };
                let bt = |p: usize, j: usize| unsafe {
                    *pb.offset((pc + p) as isize * rb + j as isize * cb)
                };
                // A's rows in panels of MR: ap[panel][p][r] = α·A[panel·MR + r, pc + p], read
                // along whichever of A's axes is contiguous; a whole panel four floats at a time
                // when one of them is (a 4 × 4 transpose when A's rows are).
                for (panel, dst) in ap.chunks_exact_mut(MR * kc).enumerate() {
                    let rows = MR.min(m - panel * MR);
                    // SAFETY (the two fast paths): rows panel·MR .. + 4 ≤ m and columns
                    // pc + p .. + 4 ≤ k of A, whose rows (ca = 1) or columns (ra = 1) are
                    // contiguous: every load reads 4 floats inside A.
                    let row0 = |r: usize, p: usize| unsafe {
                        pa.offset((panel * MR + r) as isize * ra + (pc + p) as isize * ca)
                    };
                    if ca == 1 && rows == MR {
                        let blocks = kc / 4 * 4;
                        for p in (0..blocks).step_by(4) {
                            let src = [row0(0, p), row0(1, p), row0(2, p), row0(3, p)];
                            // SAFETY: above; dst[p·4 .. p·4 + 16] is inside the panel.
                            unsafe { transpose4_flushed(src, alpha, &mut dst[p * MR..], MR) };
                        }
                        for p in blocks..kc {
                            for r in 0..MR {
                                dst[p * MR + r] = flush(alpha * at(panel * MR + r, p));
                            }
                        }
                    } else if ra == 1 && rows == MR {
                        for (p, d) in dst.chunks_exact_mut(MR).enumerate() {
                            // SAFETY: above.
                            unsafe { copy4_flushed(row0(0, p), alpha, d) };
                        }
                    } else if ca.unsigned_abs() <= ra.unsigned_abs() {
                        for r in 0..rows {
                            for p in 0..kc {
                                dst[p * MR + r] = flush(alpha * at(panel * MR + r, p));
                            }
                        }
                    } else {
                        for (p, d) in dst.chunks_exact_mut(MR).enumerate() {
                            for (r, x) in d.iter_mut().enumerate().take(rows) {
                                *x = flush(alpha * at(panel * MR + r, p));
                            }
                        }
                    }
                }
                // B's columns in panels of NR: bp[panel][p][j] = B[pc + p, panel·NR + j]; a
                // whole panel of a B whose rows are contiguous is copied eight floats at a time.
                for (panel, dst) in bp.chunks_exact_mut(NR * kc).enumerate() {
                    let cols = NR.min(n - panel * NR);
                    if cb == 1 && cols == NR {
                        for (p, d) in dst.chunks_exact_mut(NR).enumerate() {
                            // SAFETY: row pc + p < k, columns panel·NR .. panel·NR + 8 ≤ n.
                            let src = unsafe {
                                pb.offset((pc + p) as isize * rb + (panel * NR) as isize)
                            };
                            // SAFETY: `src` starts 8 floats of one row of B (above).
                            unsafe {
                                copy4_flushed(src, 1.0, &mut d[..4]);
                                copy4_flushed(src.add(4), 1.0, &mut d[4..]);
                            }
                        }
                    } else if rb == 1 && cols == NR {
                        // B's columns are contiguous (Wᵀ): 4 × 4 transposes of 4 columns.
                        let blocks = kc / 4 * 4;
                        for half in [0, 4] {
                            // SAFETY: column panel·NR + half + q < n (the panel is whole) and
                            // rows pc + p .. + 4 ≤ k: 4 floats down one column each.
                            let col = |q: usize, p: usize| unsafe {
                                pb.offset((pc + p) as isize + (panel * NR + half + q) as isize * cb)
                            };
                            for p in (0..blocks).step_by(4) {
                                let src = [col(0, p), col(1, p), col(2, p), col(3, p)];
                                // SAFETY: above; dst[p·8 + half ..] holds 3·8 + 4 floats.
                                unsafe {
                                    transpose4_flushed(src, 1.0, &mut dst[p * NR + half..], NR)
                                };
                            }
                        }
                        for p in blocks..kc {
                            for j in 0..NR {
                                dst[p * NR + j] = flush(bt(p, panel * NR + j));
                            }
                        }
                    } else if cb.unsigned_abs() <= rb.unsigned_abs() {
                        for (p, d) in dst.chunks_exact_mut(NR).enumerate() {
                            for (j, x) in d.iter_mut().enumerate().take(cols) {
                                *x = flush(bt(p, panel * NR + j));
                            }
                        }
                    } else {
                        for j in 0..cols {
                            for p in 0..kc {
                                dst[p * NR + j] = flush(bt(p, panel * NR + j));
                            }
                        }
                    }
                }
                for (jp, bpanel) in bp.chunks_exact(NR * kc).enumerate() {
                    for (ip, apanel) in ap.chunks_exact(MR * kc).enumerate() {
                        let tile = kernel(apanel, bpanel);
                        let (i0, j0) = (ip * MR, jp * NR);
                        if cc == 1 && n - j0 >= NR {
                            for (r, tile_row) in tile.iter().enumerate().take(m - i0) {
                                // SAFETY: row i0 + r < m and columns j0 .. j0 + 8 ≤ n of C,
                                // whose rows are contiguous; C is borrowed mutably here and
                                // cannot overlap A or B.
                                unsafe {
                                    update8(
                                        pc_ptr.offset((i0 + r) as isize * rc + j0 as isize),
                                        tile_row,
                                        store,
                                    );
                                }
                            }
                            continue;
                        }
                        for (r, tile_row) in tile.iter().enumerate().take(m - i0) {
                            for (j, &v) in tile_row.iter().enumerate().take(n - j0) {
                                // SAFETY: i0 + r < m and j0 + j < n: an element of C, which
                                // is borrowed mutably here and cannot overlap A or B.
                                unsafe {
                                    let o = pc_ptr
                                        .offset((i0 + r) as isize * rc + (j0 + j) as isize * cc);
                                    *o = if store { v } else { *o + v };
                                }
                            }
                        }
                    }
                }
            }
        });
        if let Some(bias) = bias {
            c += &bias;
        }
    }

    /// A subnormal operand read as zero, as x86's DAZ flag does natively while the model trains
    /// (`engine::subnormal`). WebAssembly has no such flag, and the browser's arithmetic on
    /// subnormals takes the CPU's slow path: residuals §3's 8-block run without skips or norm
    /// has gradients and activations full of them. Packing is the one place every operand passes
    /// through once. Products of two tiny normal operands still make subnormals inside the
    /// kernel; measured in headless Chromium (2026-12-02, the section's first 30 s, its four runs
    /// lock-stepped): step 35 without this, 43 with it, and 62 for a throwaway build that
    /// flushed everything below 1e-19 (the most that removing subnormals could give; not kept:
    /// it changes real gradients). Changes only values below 1.18e-38.
    #[inline(always)]
    fn flush(x: f32) -> f32 {
        if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
    }

    /// d[r] ← flush(α·src[r]) for the 4 floats at `src`.
    ///
    /// # Safety
    /// `src` points at 4 readable floats.
    #[inline(always)]
    unsafe fn copy4_flushed(src: *const f32, alpha: f32, d: &mut [f32]) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use core::arch::wasm32::{f32x4_mul, f32x4_splat, v128, v128_load, v128_store};
            assert!(d.len() >= 4);
            // SAFETY: 4 floats at `src` (the caller) and in `d` (asserted): one 16-byte load
            // and store (unaligned ones are allowed in WebAssembly).
            unsafe {
                let v = f32x4_mul(f32x4_splat(alpha), v128_load(src.cast::<v128>()));
                v128_store(d.as_mut_ptr().cast::<v128>(), flush4(v));
            }
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        for (r, x) in d.iter_mut().take(4).enumerate() {
            // SAFETY: r < 4 floats at `src` (the caller).
            *x = flush(alpha * unsafe { *src.add(r) });
        }
    }

    /// The 4 × 4 block transposed: d[q·stride + r] ← flush(α·src[r][q]), where src[r] points at
    /// 4 consecutive floats.
    ///
    /// # Safety
    /// Each `src[r]` points at 4 readable floats.
    #[inline(always)]
    unsafe fn transpose4_flushed(src: [*const f32; 4], alpha: f32, d: &mut [f32], stride: usize) {
        assert!(d.len() >= 3 * stride + 4);
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use core::arch::wasm32::{
                f32x4_mul, f32x4_splat, i32x4_shuffle, v128, v128_load, v128_store,
            };
            let a = f32x4_splat(alpha);
            // SAFETY: 4 floats at each `src[r]` (the caller); the stores write d[q·stride ..
            // q·stride + 4] for q < 4, inside `d` (asserted).
            unsafe {
                let [r0, r1, r2, r3] = src.map(|p| v128_load(p.cast::<v128>()));
                let (t0, t1) = (
                    i32x4_shuffle::<0, 4, 1, 5>(r0, r1),
                    i32x4_shuffle::<0, 4, 1, 5>(r2, r3),
                );
                let (t2, t3) = (
                    i32x4_shuffle::<2, 6, 3, 7>(r0, r1),
                    i32x4_shuffle::<2, 6, 3, 7>(r2, r3),
                );
                let cols = [
                    i32x4_shuffle::<0, 1, 4, 5>(t0, t1),
                    i32x4_shuffle::<2, 3, 6, 7>(t0, t1),
                    i32x4_shuffle::<0, 1, 4, 5>(t2, t3),
                    i32x4_shuffle::<2, 3, 6, 7>(t2, t3),
                ];
                for (q, v) in cols.into_iter().enumerate() {
                    let out = d.as_mut_ptr().add(q * stride).cast::<v128>();
                    v128_store(out, flush4(f32x4_mul(a, v)));
                }
            }
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        for (r, row) in src.into_iter().enumerate() {
            for q in 0..4 {
                // SAFETY: q < 4 floats at `row` (the caller).
                d[q * stride + r] = flush(alpha * unsafe { *row.add(q) });
            }
        }
    }

    /// [`flush`] of 4 lanes.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    fn flush4(v: core::arch::wasm32::v128) -> core::arch::wasm32::v128 {
        use core::arch::wasm32::{f32x4_abs, f32x4_lt, f32x4_splat, v128_andnot};
        v128_andnot(v, f32x4_lt(f32x4_abs(v), f32x4_splat(f32::MIN_POSITIVE)))
    }

    /// o[j] ← t[j] (`store`) or o[j] + t[j], for the 8 floats at `o`.
    ///
    /// # Safety
    /// `o` points at 8 writable floats that nothing else borrows.
    #[inline(always)]
    unsafe fn update8(o: *mut f32, t: &[f32; NR], store: bool) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use core::arch::wasm32::{f32x4_add, v128, v128_load, v128_store};
            // SAFETY: 8 floats at `o` (the caller) and in `t`: two 16-byte loads and stores.
            unsafe {
                for h in [0, 4] {
                    let v = v128_load(t.as_ptr().add(h).cast::<v128>());
                    let o = o.add(h).cast::<v128>();
                    v128_store(o, if store { v } else { f32x4_add(v128_load(o), v) });
                }
            }
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        for (j, &v) in t.iter().enumerate() {
            // SAFETY: j < 8 floats at `o` (the caller).
            unsafe {
                let o = o.add(j);
                *o = if store { v } else { *o + v };
            }
        }
    }

    /// The MR × NR tile Σ_p a[p][r] · b[p][j] of one panel of A and one of B (both kc deep),
    /// which LLVM keeps in vector registers: each step of p is 2 loads of B, 4 broadcasts of A,
    /// 8 multiplies and 8 adds of 4 lanes in the browser. Until 2026-12-03 the browser build
    /// compiled this crate for size, where LLVM neither vectorizes nor unrolls a loop, and this
    /// kernel had a twin written with simd128 intrinsics; with the crate at -O3 there
    /// (`web/build.sh`), this plain loop trained the live lesson's model as fast as the twin
    /// (headless Chromium, two pages side by side, each training alone, eight rounds: median
    /// 1.03×, rounds 0.96–1.05), so the twin was removed. The packing and the stores above keep
    /// their simd128 branches: without them the same build trained at 0.95× (rounds 0.93–0.98).
    /// Tried and slower (2026-12-02, the size-optimised build): A's 4 floats in one vector
    /// load, broadcast by lane shuffles, with two steps of p per turn of the loop.
    #[inline(always)]
    fn kernel(a: &[f32], b: &[f32]) -> [[f32; NR]; MR] {
        let mut acc = [[0.0_f32; NR]; MR];
        for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
            for r in 0..MR {
                for j in 0..NR {
                    acc[r][j] += ap[r] * bp[j];
                }
            }
        }
        acc
    }
}

/// Packing buffers of one product.
#[derive(Debug, Default)]
struct Workspace {
    a: Vec<f32>,
    b: Vec<f32>,
}

thread_local! {
    /// This thread's packing buffers.
    static WORKSPACE: std::cell::RefCell<Workspace> = std::cell::RefCell::new(Workspace::default());
}

fn with_workspace(f: impl FnOnce(&mut Workspace)) {
    WORKSPACE.with(|ws| f(&mut ws.borrow_mut()));
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{DIRECT_MAX_N, KC, MC, MR, NC, NR, Structure, Workspace};
    use std::arch::x86_64::*;

    /// A read-only strided matrix.
    #[derive(Clone, Copy)]
    pub struct Mat {
        ptr: *const f32,
        rs: isize,
        cs: isize,
    }

    impl Mat {
        pub fn new(ptr: *const f32, rs: isize, cs: isize) -> Self {
            Self { ptr, rs, cs }
        }

        /// The matrix from row i, column j on.
        fn at(self, i: usize, j: usize) -> Self {
            Self {
                // Wrapping: (i, j) may be one past the last column when no step is left.
                ptr: self
                    .ptr
                    .wrapping_offset(i as isize * self.rs + j as isize * self.cs),
                ..self
            }
        }

        /// The transpose (the same memory, strides swapped).
        fn t(self) -> Self {
            Self {
                rs: self.cs,
                cs: self.rs,
                ..self
            }
        }

        unsafe fn get(self, i: usize, j: usize) -> f32 {
            // SAFETY: the caller keeps (i, j) inside the matrix.
            unsafe { *self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
        }
    }

    /// `len` floats of `buf` starting on a 64-byte boundary (grown as needed), for the packed
    /// blocks. The AVX-512 kernel loads a whole cache line of B per vector; from a buffer as the
    /// allocator returns it (16-byte aligned) every such load straddles two lines. Measured
    /// (2026-12-03, 2 cores): the 6 × 32 loop alone, on L1-resident panels, reached 82–86 % of
    /// one thread's FMA peak with B aligned against 68–72 % with B 16 bytes off; the large and
    /// medium training steps, one process alternating the two step by step, took 1/1.09 of the
    /// time (medians of 67 and 255 pairs of steps).
    fn aligned(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
        if buf.len() < len + super::LINE {
            buf.resize(len + super::LINE, 0.0);
        }
        let start = super::line_start(buf);
        debug_assert_eq!(
            buf[start..].as_ptr() as usize % 64,
            0,
            "packing buffer off a line"
        );
        &mut buf[start..start + len]
    }

    /// Where B comes from.
    #[derive(Clone, Copy)]
    pub enum B {
        /// A strided matrix, packed block by block here.
        Matrix(Mat),
        /// Packed beforehand ([`super::PackedB`]): KC-deep blocks of n_pad columns each, the
        /// product using columns col0 … (col0 a multiple of NR).
        Packed {
            data: *const f32,
            n_pad: usize,
            col0: usize,
        },
    }

    /// C ← α·A·B + β·C (+ bias on every row, if not null) with the blocking described at the
    /// top of the file. a: (m, k), b: (k, n), c: (m, n) at `c` with strides (rsc, csc),
    /// bias: (n).
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn gemm(
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: Mat,
        b: B,
        beta: f32,
        c: *mut f32,
        rsc: isize,
        csc: isize,
        structure: Structure,
        bias: *const f32,
        after: After,
        ws: &mut Workspace,
    ) {
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            for i in 0..m {
                for j in 0..n {
                    // SAFETY: (i, j) is inside C.
                    unsafe {
                        let p = c.offset(i as isize * rsc + j as isize * csc);
                        *p = if beta == 0.0 { 0.0 } else { beta * *p };
                        if !bias.is_null() {
                            *p += *bias.add(j);
                        }
                    }
                }
            }
            // SAFETY: all of C, and the other matrix has C's shape.
            unsafe { finish_block(after, c, rsc, csc, (0, m), (0, n)) };
            return;
        }
        let wide_ok = crate::engine::simd::avx512() && !crate::engine::simd::no_avx512();
        let ws_a = aligned(&mut ws.a, MC * KC);
        let ws_b = match b {
            B::Matrix(_) => aligned(&mut ws.b, KC * NC.min(n.div_ceil(NR) * NR)),
            B::Packed { .. } => &mut [],
        };
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                let b_block = match b {
                    B::Matrix(b) => {
                        // SAFETY: (pc, jc) is inside B and the block is kc × nc.
                        unsafe { pack::<NR>(nc, kc, b.at(pc, jc).t(), ws_b) };
                        ws_b.as_ptr()
                    }
                    // SAFETY: block pc starts at pc·n_pad; its panel for column col0 + jc
                    // (a multiple of NR) at (col0 + jc)·kc.
                    B::Packed { data, n_pad, col0 } => unsafe {
                        data.add(pc * n_pad + (col0 + jc) * kc)
                    },
                };
                let beta_k = if pc == 0 { beta } else { 1.0 };
                // The bias is added once, after the last block's sum.
                let bias_k = if pc + kc == k && !bias.is_null() {
                    // SAFETY: column jc < n of the bias.
                    unsafe { bias.add(jc) }
                } else {
                    std::ptr::null()
                };
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    // Contiguous rows of A are read in place when the block is used for few
                    // panels of B (packing would not pay for itself); otherwise A is packed.
                    let direct = a.cs == 1 && n <= DIRECT_MAX_N;
                    // Steps a_lo … a_hi − 1 of this block are the ones its rows read: with a
                    // triangular A, the rest are zeros that no tile reads, and are not packed
                    // (the transposed products of attention's backward pass, Aᵀ·dy and dSᵀ·Q:
                    // one block's attention backward at the large size, hot caches, 1.47 →
                    // 1.38 ms at the minimum of 500 runs, 1.77 → 1.59 ms at the median; the
                    // training step within the noise, 1/1.003).
                    let (a_lo, a_hi) = match structure {
                        Structure::LowerA => (0, (ic + mc).saturating_sub(pc).min(kc)),
                        Structure::UpperA => (ic.saturating_sub(pc).min(kc), kc),
                        Structure::General | Structure::LowerC => (0, kc),
                    };
                    let a_depth = a_hi - a_lo;
                    if !direct {
                        // SAFETY: (ic, pc + a_lo) is inside A and the block is mc × a_depth.
                        unsafe { pack::<MR>(mc, a_depth, a.at(ic, pc + a_lo), ws_a) };
                    }
                    let mut jr = 0;
                    while jr < nc {
                        // Two panels of B at once (a 6 × 32 tile) with AVX-512 when the block
                        // has two left; else one (6 × 16, AVX2).
                        let wide = wide_ok && nc - jr > NR;
                        let nr = (if wide { 2 * NR } else { NR }).min(nc - jr);
                        // SAFETY: panel jr / NR of the block.
                        let bp = unsafe { b_block.add(jr * kc) };
                        let mut paired = false;
                        for ir in (0..mc).step_by(MR) {
                            if std::mem::take(&mut paired) {
                                // Done with the panel before it (a 12 × 32 tile).
                                continue;
                            }
                            let mr = MR.min(mc - ir);
                            let bias_jr = if bias_k.is_null() {
                                bias_k
                            } else {
                                // SAFETY: column jc + jr < n of the bias.
                                unsafe { bias_k.add(jr) }
                            };
                            // Two whole panels of packed A at once (a 12 × 32 tile) where no
                            // step is skipped: the large training step took 1/1.05 of the time
                            // (one process alternating with and without, 89 pairs of steps,
                            // 2026-12-03; quartiles 1.02–1.08), the medium 1/1.01.
                            if wide
                                && !direct
                                && structure == Structure::General
                                && mc - ir >= 2 * MR
                            {
                                paired = true;
                                // SAFETY: A's packed panels ir / MR and ir / MR + 1 and B's two
                                // panels hold kc steps; the 12 × nr tile of C at
                                // (ic + ir, jc + jr) is inside C, the bias's nr floats inside
                                // it.
                                unsafe {
                                    let tile = Tile {
                                        c: c.offset(
                                            (ic + ir) as isize * rsc + (jc + jr) as isize * csc,
                                        ),
                                        rsc,
                                        csc,
                                        mr: 2 * MR,
                                        nr,
                                        alpha,
                                        beta: beta_k,
                                        bias: bias_jr,
                                    };
                                    let a0 = ws_a[ir * a_depth..].as_ptr();
                                    let a1 = a0.add(MR * a_depth);
                                    wide::kernel12(kc, [a0, a1], [bp, bp.add(kc * NR)], tile);
                                }
                                continue;
                            }
                            // Rows i0 … i0 + mr − 1 of A, steps p0 … p1 − 1 of this block.
                            let i0 = ic + ir;
                            let (p0, p1) = match structure {
                                Structure::General => (0, kc),
                                Structure::LowerA => (0, (i0 + mr).saturating_sub(pc).min(kc)),
                                Structure::UpperA => (i0.saturating_sub(pc).min(kc), kc),
                                Structure::LowerC if jc + jr > i0 + mr - 1 => continue,
                                Structure::LowerC => (0, kc),
                            };
                            // SAFETY: the packed panels hold kc·MR and kc·NR floats, A's rows
                            // ic + ir … ic + ir + mr − 1 hold kc floats from column pc on, and
                            // the tile of C at (ic + ir, jc + jr) is mr × nr and inside C.
                            unsafe {
                                let cp =
                                    c.offset((ic + ir) as isize * rsc + (jc + jr) as isize * csc);
                                let tile = Tile {
                                    c: cp,
                                    rsc,
                                    csc,
                                    mr,
                                    nr,
                                    alpha,
                                    beta: beta_k,
                                    bias: bias_jr,
                                };
                                let (steps, bp) = (p1 - p0, bp.add(p0 * NR));
                                // The second panel (wide): kc steps of NR floats further on.
                                let bp2 = bp.wrapping_add(kc * NR);
                                // The first row of A and the distance to the next.
                                if direct {
                                    let rows = (a.at(ic + ir, pc + p0).ptr, a.rs);
                                    if wide {
                                        wide::kernel_rows::<1>(steps, rows, [bp, bp2], tile);
                                    } else {
                                        kernel_rows::<1>(steps, rows, bp, tile);
                                    }
                                } else {
                                    let panel =
                                        (ws_a[ir * a_depth + (p0 - a_lo) * MR..].as_ptr(), 1);
                                    if wide {
                                        wide::kernel_rows::<MR>(steps, panel, [bp, bp2], tile);
                                    } else {
                                        kernel_rows::<MR>(steps, panel, bp, tile);
                                    }
                                }
                            }
                        }
                        jr += nr;
                    }
                    if pc + kc == k {
                        // SAFETY: rows ic … ic + mc − 1, columns jc … jc + nc − 1 are inside C
                        // and the other matrix, which has C's shape.
                        unsafe { finish_block(after, c, rsc, csc, (ic, mc), (jc, nc)) };
                    }
                }
            }
        }
    }

    /// Pack steps pc … pc + depth − 1 of B's `lines` columns into `buf` (see `pack`).
    ///
    /// # Safety
    /// AVX2 is present, and `m` is a (≥ pc + depth, ≥ lines) matrix.
    pub unsafe fn pack_into(lines: usize, depth: usize, m: Mat, pc: usize, buf: &mut [f32]) {
        // SAFETY: as the caller promises.
        unsafe { pack::<NR>(lines, depth, m.at(pc, 0).t(), buf) }
    }

    /// Pack `lines` lines of `m` (its rows), `depth` steps each, into panels of W lines: panel
    /// q holds m[q·W + i, p] at p·W + i, lines past the end padded with zeros. A is packed as
    /// itself (W = MR), B as Bᵀ (W = NR: its columns are the lines).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn pack<const W: usize>(lines: usize, depth: usize, m: Mat, buf: &mut [f32]) {
        // The whole panels first when the entries of each step are contiguous (A = Xᵀ of a
        // row-major X, as in every weight gradient dW = dYᵀ·X; or a row-major B): one step of
        // all panels at a time, so that each of X's rows is read once, front to back. Panel by
        // panel instead, each panel read W floats of every row; rows a multiple of 4 KiB apart
        // (dY of the MLP: 1024 floats) all fall in the same set of the 12-way L1, so every
        // panel read them again from L2. Measured on the large and medium training steps (one
        // process alternating the two orders step by step, 2026-12-03): about 3 % and 1 % less
        // time, within that day's noise of the same size.
        let whole_panels = if m.rs == 1 { lines / W } else { 0 };
        if whole_panels > 0 {
            for p in 0..depth {
                if p + PREFETCH_STEPS < depth {
                    prefetch_run(m.at(0, p + PREFETCH_STEPS).ptr, whole_panels * W);
                }
                // SAFETY: step p < depth; lines 0 … whole_panels·W − 1 < lines, contiguous
                // (rs = 1).
                let src = unsafe { std::slice::from_raw_parts(m.at(0, p).ptr, whole_panels * W) };
                for (q, s) in src.chunks_exact(W).enumerate() {
                    buf[q * W * depth + p * W..][..W].copy_from_slice(s);
                }
            }
        }
        for (q, panel) in buf[..lines.div_ceil(W) * W * depth]
            .chunks_exact_mut(W * depth)
            .enumerate()
            .skip(whole_panels)
        {
            let valid = W.min(lines - q * W);
            let full_panel = valid == W;
            if m.cs == 1 {
                // The next panel's lines, fetched while this one is copied: each is one short
                // run (KC floats) of a row, too short for the hardware's prefetcher to catch
                // on, and the activations come from L3. With this and the step-major fetch
                // above, the large and medium steps took 1/1.023 and 1/1.011 of the time (one
                // process alternating with and without, 91 and 311 pairs of steps, 2026-12-03).
                for i in (q + 1) * W..((q + 2) * W).min(lines) {
                    prefetch_run(m.at(i, 0).ptr, depth);
                }
            }
            if m.cs == 1 && full_panel && (W.is_multiple_of(8) || W < 8) {
                // Each line is contiguous (Wᵀ of a row-major W for B; a row-major A, as in
                // every forward product): transpose 8 × 8 blocks in registers, a panel of 6
                // lines as 6 lines and 2 of zeros, then the last depth mod 8 steps one by one.
                // For A, against entry by entry: the large training step 1/1.011–1/1.015 of the
                // time, its forward pass 1/1.017, medium 1/1.007, small 1/1.010 (one process
                // alternating the two step by step, 2026-12-03).
                let whole = depth / 8 * 8;
                for h in (0..W).step_by(8) {
                    let g = (W - h).min(8);
                    let keep = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                    let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(g as i32), keep);
                    for p0 in (0..whole).step_by(8) {
                        // SAFETY: lines q·W + h … + g − 1 < lines, steps p0 … p0 + 7 < depth;
                        // the panel holds depth steps of W floats (a group of g < 8 lines is
                        // stored through a mask of g lanes).
                        unsafe {
                            let src = m.at(q * W + h, p0);
                            let rows: [__m256; 8] = std::array::from_fn(|j| {
                                if j < g {
                                    _mm256_loadu_ps(src.at(j, 0).ptr)
                                } else {
                                    _mm256_setzero_ps()
                                }
                            });
                            for (r, v) in transpose8(rows).iter().enumerate() {
                                let dst = panel.as_mut_ptr().add((p0 + r) * W + h);
                                if g == 8 {
                                    _mm256_storeu_ps(dst, *v);
                                } else {
                                    _mm256_maskstore_ps(dst, mask, *v);
                                }
                            }
                        }
                    }
                }
                for p in whole..depth {
                    for (i, d) in panel[p * W..(p + 1) * W].iter_mut().enumerate() {
                        // SAFETY: line q·W + i < lines, step p < depth.
                        *d = unsafe { m.get(q * W + i, p) };
                    }
                }
            } else if m.cs == 1 {
                // Each line is contiguous: read along it.
                for i in 0..W {
                    if i < valid {
                        // SAFETY: line q·W + i < lines, steps < depth.
                        let src =
                            unsafe { std::slice::from_raw_parts(m.at(q * W + i, 0).ptr, depth) };
                        for (p, &v) in src.iter().enumerate() {
                            panel[p * W + i] = v;
                        }
                    } else {
                        for p in 0..depth {
                            panel[p * W + i] = 0.0;
                        }
                    }
                }
            } else {
                for (p, dst) in panel.chunks_exact_mut(W).enumerate() {
                    for (i, d) in dst.iter_mut().enumerate() {
                        // SAFETY: line q·W + i < lines, step p < depth.
                        *d = if i < valid {
                            unsafe { m.get(q * W + i, p) }
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
    }

    /// Steps ahead that packing one step of all panels at a time fetches.
    const PREFETCH_STEPS: usize = 8;

    /// Start fetching the cache lines of `len` floats from `ptr` into L1.
    #[inline(always)]
    fn prefetch_run(ptr: *const f32, len: usize) {
        if len == 0 {
            return;
        }
        let mut off = 0;
        while off < len {
            // SAFETY: prefetching never faults, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(ptr.wrapping_add(off) as *const i8) };
            off += super::LINE;
        }
        // SAFETY: as above (the run's last line, when it starts off a line).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ptr.wrapping_add(len - 1) as *const i8) };
    }

    /// The transpose of an 8 × 8 block held as 8 row vectors.
    #[target_feature(enable = "avx2,fma")]
    fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ]
    }

    /// The AVX-512 micro-kernel: a 6 × 32 tile of C in 12 zmm registers, from two adjacent
    /// packed panels of B (the same NR = 16 packing as the AVX2 kernel, so packed weights
    /// serve both). Each step of k is 2 loads of B, 6 broadcasts of A and 12 fused
    /// multiply-adds of 16 lanes: twice the AVX2 kernel's work for the same instructions. Every
    /// entry of C is the same chain of fused multiply-adds over p in the same order, then α, β
    /// and the bias as in [`kernel`], so the two kernels give the same bits (tested).
    mod wide {
        use super::{MR, NR, Tile};
        use std::arch::x86_64::*;

        /// The tile's sums `acc` (R rows of 32) times α, into the tile `t` of C: β·C + sum,
        /// then + bias. A macro rather than a function so that it is inlined into each kernel
        /// (a function with AVX-512 enabled cannot be `inline(always)`; as a call, LLVM kept it
        /// out of line and passed the 24 accumulators through memory). The caller guarantees, as
        /// for [`kernel`], that the tile of C (mr ≤ R rows × nr ≤ 32) and the bias are valid.
        macro_rules! finish {
            ($acc:expr, $t:expr) => {{
                let mut acc = $acc;
                let t: Tile = $t;
                let Tile {
                    c,
                    rsc,
                    csc,
                    mr,
                    nr,
                    alpha,
                    beta,
                    bias,
                } = t;
                if alpha != 1.0 {
                    let av = _mm512_set1_ps(alpha);
                    for row in &mut acc {
                        row[0] = _mm512_mul_ps(av, row[0]);
                        row[1] = _mm512_mul_ps(av, row[1]);
                    }
                }
                if csc == 1 {
                    // Whole rows of 16 through masks: columns h·16 … h·16 + 15 that are < nr.
                    let bv = _mm512_set1_ps(beta);
                    for (i, row) in acc.iter().enumerate().take(mr) {
                        for (h, v) in row.iter().enumerate() {
                            let cols = nr.saturating_sub(16 * h).min(16);
                            if cols == 0 {
                                continue;
                            }
                            let mask = crate::engine::simd::x86::lanes(cols);
                            // SAFETY: row i < mr, and the mask keeps to columns < nr of the tile
                            // (masked-off lanes are neither read nor written).
                            unsafe {
                                let p = c.offset(i as isize * rsc).add(16 * h);
                                let mut out = if beta == 0.0 {
                                    *v
                                } else if beta == 1.0 {
                                    _mm512_add_ps(_mm512_maskz_loadu_ps(mask, p), *v)
                                } else if cols == 16 {
                                    _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(mask, p), *v)
                                } else {
                                    // A part of a panel: rounded as the AVX2 kernel's scalar store
                                    // rounds it (β·C, then + the sum).
                                    _mm512_add_ps(
                                        _mm512_mul_ps(bv, _mm512_maskz_loadu_ps(mask, p)),
                                        *v,
                                    )
                                };
                                if !bias.is_null() {
                                    out = _mm512_add_ps(
                                        out,
                                        _mm512_maskz_loadu_ps(mask, bias.add(16 * h)),
                                    );
                                }
                                _mm512_mask_storeu_ps(p, mask, out);
                            }
                        }
                    }
                } else {
                    let mut tile = [0.0f32; 2 * MR * 2 * NR];
                    for (i, row) in acc.iter().enumerate() {
                        for (h, v) in row.iter().enumerate() {
                            // SAFETY: tile has 2MR·2NR ≥ R·2NR floats.
                            unsafe {
                                _mm512_storeu_ps(tile.as_mut_ptr().add(i * 2 * NR + 16 * h), *v)
                            };
                        }
                    }
                    // SAFETY: as the caller promises for the tile of C and the bias.
                    unsafe { t.store_entries(&tile, 2 * NR) };
                }
            }};
        }

        /// [`kernel`] with as many rows as the tile has, rounded up to 2, 4 or 6.
        #[target_feature(enable = "avx512f,avx2,fma")]
        pub unsafe fn kernel_rows<const AS: usize>(
            kc: usize,
            a: (*const f32, isize),
            b: [*const f32; 2],
            t: Tile,
        ) {
            // SAFETY: as for `kernel`; R ≥ mr in every arm.
            unsafe {
                match t.mr {
                    0..=2 => kernel::<AS, 2>(kc, a, b, t),
                    3..=4 => kernel::<AS, 4>(kc, a, b, t),
                    _ => kernel::<AS, MR>(kc, a, b, t),
                }
            }
        }

        /// The tile C[0..mr, 0..nr] (nr ≤ 32) ← α·Σ_p a[·, p]·b[p, ·] + β·C over kc steps,
        /// computing R ≥ mr rows. Row i < mr of A starts at `a.0 + i·a.1` ([`Tile::rows`]) and
        /// step p of it is p·AS further; columns 0–15 of B from panel `b[0]`, 16–31 from panel
        /// `b[1]`, 16 floats per step each.
        ///
        /// # Safety
        /// AVX-512F is present; the panels hold kc steps; rows of A hold kc steps; the tile
        /// of C (mr × nr, strides rsc, csc) and the bias (nr floats, or null) are valid.
        #[target_feature(enable = "avx512f,avx2,fma")]
        unsafe fn kernel<const AS: usize, const R: usize>(
            kc: usize,
            a: (*const f32, isize),
            b: [*const f32; 2],
            t: Tile,
        ) {
            let a = t.rows::<R>(a);
            t.prefetch(2 * NR);
            let mut acc = [[_mm512_setzero_ps(); 2]; R];
            for p in 0..kc {
                // SAFETY: both B panels hold kc steps of NR floats; each row of A kc steps.
                unsafe {
                    let b0 = _mm512_loadu_ps(b[0].add(p * NR));
                    let b1 = _mm512_loadu_ps(b[1].add(p * NR));
                    for (row, ai) in acc.iter_mut().zip(a) {
                        let ai = _mm512_set1_ps(*ai.add(p * AS));
                        row[0] = _mm512_fmadd_ps(ai, b0, row[0]);
                        row[1] = _mm512_fmadd_ps(ai, b1, row[1]);
                    }
                }
            }
            finish!(acc, t);
        }

        /// Two packed panels of A at once, rows 0–5 of the tile from `a[0]` and 6–11 from
        /// `a[1]` (MR floats per step each), against two panels of B: a 12 × 32 tile in 24 zmm
        /// registers. Per step of k, 2 loads of B, 12 broadcasts and 24 fused multiply-adds, so
        /// each line of B loaded from L1 feeds twice the work of the 6 × 32 tile. Every entry of
        /// C is the same chain as in [`kernel`], so the bits are the same (tested).
        ///
        /// # Safety
        /// AVX-512F is present; the four panels hold kc steps; the tile of C (12 × nr, strides
        /// rsc, csc) and the bias (nr floats, or null) are valid.
        #[target_feature(enable = "avx512f,avx2,fma")]
        pub unsafe fn kernel12(kc: usize, a: [*const f32; 2], b: [*const f32; 2], t: Tile) {
            t.prefetch(2 * NR);
            let mut acc = [[_mm512_setzero_ps(); 2]; 2 * MR];
            for p in 0..kc {
                // SAFETY: all four panels hold kc steps (MR floats each of A, NR of B).
                unsafe {
                    let b0 = _mm512_loadu_ps(b[0].add(p * NR));
                    let b1 = _mm512_loadu_ps(b[1].add(p * NR));
                    for (i, row) in acc.iter_mut().enumerate() {
                        let ai = _mm512_set1_ps(*a[i / MR].add(p * MR + i % MR));
                        row[0] = _mm512_fmadd_ps(ai, b0, row[0]);
                        row[1] = _mm512_fmadd_ps(ai, b1, row[1]);
                    }
                }
            }
            finish!(acc, t);
        }
    }

    /// What the product does to each block of C's rows once its sums are final
    /// ([`super::Finish`]).
    #[derive(Clone, Copy)]
    pub enum After {
        /// Nothing.
        Nothing,
        /// C ⊙= S.
        Times(Mat),
        /// f(y's row, C's row) on every row: y at the pointer, with this row stride (its rows
        /// and C's contiguous).
        Rows(*mut f32, isize, super::RowMap),
    }

    /// [`After`] on rows i0 … i0 + mr − 1, columns j0 … j0 + nc − 1.
    ///
    /// # Safety
    /// That block is inside C (strides rsc, csc) and inside the other matrix; for
    /// [`After::Rows`], csc = 1.
    unsafe fn finish_block(
        after: After,
        c: *mut f32,
        rsc: isize,
        csc: isize,
        (i0, mr): (usize, usize),
        (j0, nc): (usize, usize),
    ) {
        for i in i0..i0 + mr {
            // SAFETY: row i, columns j0 … j0 + nc − 1 are inside C and the other matrix (the
            // caller's promise).
            unsafe {
                let cr = c.offset(i as isize * rsc + j0 as isize * csc);
                match after {
                    After::Nothing => return,
                    After::Times(s) => {
                        let sr = s.at(i, j0);
                        if csc == 1 && sr.cs == 1 {
                            crate::engine::simd::mul_assign(
                                std::slice::from_raw_parts_mut(cr, nc),
                                std::slice::from_raw_parts(sr.ptr, nc),
                            );
                        } else {
                            for j in 0..nc {
                                *cr.offset(j as isize * csc) *= *sr.ptr.offset(j as isize * sr.cs);
                            }
                        }
                    }
                    After::Rows(y, rsy, f) => f(
                        std::slice::from_raw_parts_mut(
                            y.offset(i as isize * rsy + j0 as isize),
                            nc,
                        ),
                        std::slice::from_raw_parts_mut(cr, nc),
                    ),
                }
            }
        }
    }

    /// Where a micro-kernel writes: the tile of C at `c`, mr × nr of it valid.
    struct Tile {
        c: *mut f32,
        rsc: isize,
        csc: isize,
        mr: usize,
        nr: usize,
        alpha: f32,
        beta: f32,
        /// Added to each row of the tile after the rest (null: nothing), nr floats.
        bias: *const f32,
    }

    impl Tile {
        /// Where a kernel of R ≥ mr rows reads each row of A: rows 0 … mr − 1 from `first` a
        /// distance `next` apart, the rows past mr (computed, never stored) from the first
        /// again. The kernels take the first row and the distance rather than an array of row
        /// pointers: the array went through memory, and its last load waited on the caller's
        /// stores (a quarter of the samples of the 32-step attention products' kernel).
        #[inline(always)]
        fn rows<const R: usize>(&self, (first, next): (*const f32, isize)) -> [*const f32; R] {
            std::array::from_fn(|i| {
                if i < self.mr {
                    first.wrapping_offset(i as isize * next)
                } else {
                    first
                }
            })
        }

        /// Start fetching the tile's rows of C (`cols` columns each) for writing, whether the
        /// store reads C (β ≠ 0) or only writes it (β = 0): a store into a line that is not in
        /// the cache waits for the line, and C is often in L3 only. Every line of a row: a row
        /// of 32 floats that does not start on a 64-byte boundary spans three lines, and the
        /// rows of an activation mostly do not.
        ///
        /// Until 2026-12-03 this fetched only the first and the last entry of each row, and only
        /// for β ≠ 0 (the middle line of a 32-float row was missed). The large training step
        /// with every line fetched, for writing, at any β, against that: 1.039× (142 pairs, one
        /// process alternating step by step, quartiles 1.026–1.051), the medium 1.049× (173
        /// pairs, 1.028–1.069); every line but only for β ≠ 0: 1.018×; for reading
        /// (`prefetcht0`) instead of writing (`prefetchw`): 1.033×. One product alone, its
        /// operands cycled through 40 sets so that they come from L3 as in the step (512 × 1024
        /// · 1024 × 256, one thread): 2096–2115 → 1991–2051 µs; with A = dYᵀ (1024 × 512 ·
        /// 512 × 256, the weight gradients' shape): 2204–2235 → 2046–2074 µs; C alone cycled:
        /// 2033–2052 → 1855–1901 µs.
        fn prefetch(&self, cols: usize) {
            if cols == 0 {
                return;
            }
            for i in 0..self.mr {
                let row = self.c.wrapping_offset(i as isize * self.rsc) as *const i8;
                // SAFETY: prefetching never faults, whatever the address.
                unsafe {
                    for j in (0..cols).step_by(16) {
                        _mm_prefetch::<_MM_HINT_ET0>(
                            row.wrapping_offset(j as isize * self.csc * 4),
                        );
                    }
                    _mm_prefetch::<_MM_HINT_ET0>(
                        row.wrapping_offset((cols as isize - 1) * self.csc * 4),
                    );
                }
            }
        }

        /// Write the sums, held as rows of `width` floats in `tile`, into C entry by entry
        /// through its strides: β·C + sum (two roundings), then + bias. Both kernels' stores of a
        /// strided or partial tile.
        ///
        /// # Safety
        /// The tile of C (mr × nr at `c`, strides rsc, csc) and the bias (nr floats, or null)
        /// are valid; `tile` holds mr rows of `width` ≥ nr floats.
        unsafe fn store_entries(&self, tile: &[f32], width: usize) {
            for i in 0..self.mr {
                for j in 0..self.nr {
                    // SAFETY: (i, j) is inside the tile of C, j inside the bias.
                    unsafe {
                        let p = self.c.offset(i as isize * self.rsc + j as isize * self.csc);
                        let t = tile[i * width + j];
                        *p = if self.beta == 0.0 {
                            t
                        } else {
                            self.beta * *p + t
                        };
                        if !self.bias.is_null() {
                            *p += *self.bias.add(j);
                        }
                    }
                }
            }
        }
    }

    /// [`kernel`] with only as many rows as the tile has (rounded up to 2, 4 or 6): a last
    /// panel of 2 rows costs a third of a full one.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn kernel_rows<const AS: usize>(
        kc: usize,
        a: (*const f32, isize),
        b: *const f32,
        t: Tile,
    ) {
        // SAFETY: as for `kernel`; R ≥ mr in every arm.
        unsafe {
            match t.mr {
                0..=2 => kernel::<AS, 2>(kc, a, b, t),
                3..=4 => kernel::<AS, 4>(kc, a, b, t),
                _ => kernel::<AS, MR>(kc, a, b, t),
            }
        }
    }

    /// The tile C[0..mr, 0..nr] ← α·Σ_p a[·, p]·b[p, ·] + β·C over kc steps, computing R ≥ mr
    /// rows (R = 6: the full 6 × 16 tile). Row i < mr of A starts at `a.0 + i·a.1`
    /// ([`Tile::rows`]) and step p of it is p·AS further (AS = MR and a.1 = 1 for a packed
    /// panel, AS = 1 and a.1 = the row stride for rows read in place); B is a packed panel, 16
    /// floats per step.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn kernel<const AS: usize, const R: usize>(
        kc: usize,
        a: (*const f32, isize),
        b: *const f32,
        t: Tile,
    ) {
        let a = t.rows::<R>(a);
        let Tile {
            c,
            rsc,
            csc,
            mr,
            nr,
            alpha,
            beta,
            bias,
        } = t;
        t.prefetch(NR);
        let mut acc = [[_mm256_setzero_ps(); 2]; R];
        for p in 0..kc {
            // SAFETY: the B panel holds kc steps of NR floats; each row of A holds kc steps.
            unsafe {
                let bp = b.add(p * NR);
                let b0 = _mm256_loadu_ps(bp);
                let b1 = _mm256_loadu_ps(bp.add(8));
                for (row, ai) in acc.iter_mut().zip(a) {
                    let ai = _mm256_broadcast_ss(&*ai.add(p * AS));
                    row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
                    row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
                }
            }
        }
        if alpha != 1.0 {
            let av = _mm256_set1_ps(alpha);
            for row in &mut acc {
                row[0] = _mm256_mul_ps(av, row[0]);
                row[1] = _mm256_mul_ps(av, row[1]);
            }
        }
        if csc == 1 && nr == NR {
            let bv = _mm256_set1_ps(beta);
            for (i, row) in acc.iter().enumerate().take(mr) {
                for (h, v) in row.iter().enumerate() {
                    // SAFETY: row i < mr and columns 8h … 8h + 7 < nr of the tile.
                    unsafe {
                        let p = c.offset(i as isize * rsc).add(8 * h);
                        let mut out = if beta == 0.0 {
                            *v
                        } else if beta == 1.0 {
                            _mm256_add_ps(_mm256_loadu_ps(p), *v)
                        } else {
                            _mm256_fmadd_ps(bv, _mm256_loadu_ps(p), *v)
                        };
                        if !bias.is_null() {
                            out = _mm256_add_ps(out, _mm256_loadu_ps(bias.add(8 * h)));
                        }
                        _mm256_storeu_ps(p, out);
                    }
                }
            }
        } else {
            let mut tile = [0.0f32; MR * NR];
            for (i, row) in acc.iter().enumerate() {
                for (h, v) in row.iter().enumerate() {
                    // SAFETY: tile has MR·NR floats.
                    unsafe { _mm256_storeu_ps(tile.as_mut_ptr().add(i * NR + 8 * h), *v) };
                }
            }
            // SAFETY: as the caller promises for the tile of C and the bias.
            unsafe { t.store_entries(&tile, NR) };
        }
    }
}

/// Check this machine's product (whichever kernel [`gemm`] picks here) against the plain triple
/// loop of [`super::reference::matmul_naive`]: shapes across the tile and block edges, every
/// layout (transposed operands are strided views), α and β, with the unit tests' tolerance
/// (1e-6 · (2k + 2) · (1 + |C|)). Ok(number of products checked), or the first entry that is
/// off. The browser test calls it through `window.attentionLabCheckKernels`, because the
/// product's simd128 branches and the browser's build of it run only there; the unit tests call
/// it on the native kernels.
pub fn check_against_reference() -> Result<usize, String> {
    let mut checked = 0;
    for &m in &[1, 5, 6, 7, 16, 17, 65, 130] {
        for &n in &[1, 7, 8, 9, 17, 64, 129] {
            for &k in &[1, 3, 16, 64, 257] {
                let (ta, tb) = ((m + n + k) % 2 == 0, (m * n + k) % 3 == 0);
                check_one(m, k, n, ta, tb, 1.0, 0.0)?;
                checked += 1;
            }
        }
    }
    for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
        for (alpha, beta) in [(1.0, 1.0), (0.25, 1.0), (-2.0, 0.5)] {
            check_one(37, 300, 70, ta, tb, alpha, beta)?;
            check_one(256, 64, 192, ta, tb, alpha, beta)?;
            checked += 2;
        }
    }
    Ok(checked)
}

/// A (rows, cols) matrix of small, varied, exactly representable entries.
fn filled(rows: usize, cols: usize, seed: usize) -> ndarray::Array2<f32> {
    ndarray::Array2::from_shape_fn((rows, cols), |(i, j)| {
        (((i * 31 + j * 17 + seed * 7) % 23) as f32 - 11.0) * 0.13
    })
}

/// One product, (m, k) · (k, n), A and/or B stored transposed when asked, against the triple
/// loop with the tolerance of [`check_against_reference`]; the first entry off, if any.
fn check_one(
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
    alpha: f32,
    beta: f32,
) -> Result<(), String> {
    let (a, b, c0) = (filled(m, k, 1), filled(k, n, 2), filled(m, n, 3));
    let want = super::reference::matmul_naive(alpha, a.view(), b.view(), beta, c0.view());
    // The same matrices, stored transposed when asked (the views are then strided).
    let at = a.t().as_standard_layout().into_owned();
    let bt = b.t().as_standard_layout().into_owned();
    let av = if ta { at.t() } else { a.view() };
    let bv = if tb { bt.t() } else { b.view() };
    let mut c = c0.clone();
    if beta == 0.0 {
        c.fill(f32::NAN); // β = 0 must not read C
    }
    gemm(alpha, av, bv, beta, c.view_mut());
    let scale = k as f64 * 2.0 + 2.0;
    for ((i, j), &got) in c.indexed_iter() {
        let w = want[[i, j]];
        if (f64::from(got) - w).abs() > 1e-6 * scale * (1.0 + w.abs()) || got.is_nan() {
            return Err(format!(
                "({m}, {k}, {n}) transposed A {ta}, B {tb}, α = {alpha}, β = {beta}: C[{i}, {j}] = {got}, the triple loop gives {w}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, s};

    /// The triple loop of `reference.rs`.
    fn reference(
        alpha: f32,
        a: &Array2<f32>,
        b: &Array2<f32>,
        beta: f32,
        c: &Array2<f32>,
    ) -> Array2<f64> {
        crate::engine::reference::matmul_naive(alpha, a.view(), b.view(), beta, c.view())
    }

    fn check(m: usize, k: usize, n: usize, ta: bool, tb: bool, alpha: f32, beta: f32) {
        if let Err(e) = check_one(m, k, n, ta, tb, alpha, beta) {
            panic!("{e}");
        }
    }

    #[test]
    fn matches_the_triple_loop_for_every_layout_and_edge() {
        // Sizes around the tile (6 × 16, 12 × 32) and block (48, 256, 2048) edges, and the
        // model's shapes.
        let sizes = [1, 2, 5, 6, 7, 15, 16, 17, 32, 47, 49, 65, 97, 130];
        for &m in &sizes {
            for &n in &[1, 5, 16, 17, 33, 64, 65, 129, 200] {
                for &k in &[1, 3, 8, 16, 31, 64, 257] {
                    let (ta, tb) = ((m + n + k) % 2 == 0, (m * n + k) % 3 == 0);
                    check(m, k, n, ta, tb, 1.0, 0.0);
                }
            }
        }
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            for (alpha, beta) in [
                (1.0, 0.0),
                (1.0, 1.0),
                (0.25, 1.0),
                (-2.0, 0.5),
                (1.0, -1.0),
            ] {
                check(37, 300, 70, ta, tb, alpha, beta);
                check(200, 64, 192, ta, tb, alpha, beta);
                check(6, 16, 16, ta, tb, alpha, beta);
            }
        }
    }

    #[test]
    fn strided_views_empty_shapes_and_zero_depth() {
        // Column slices of a wider matrix (as the attention heads are) and a strided C.
        let big = filled(40, 90, 4);
        let a = big.slice(s![.., 10..30]);
        let b = filled(20, 24, 5);
        let mut c = Array2::<f32>::zeros((40, 60));
        gemm(1.0, a, b.view(), 0.0, c.slice_mut(s![.., 5..29]));
        let want = reference(1.0, &a.to_owned(), &b, 0.0, &Array2::zeros((40, 24)));
        for i in 0..40 {
            for j in 0..24 {
                assert!((f64::from(c[[i, j + 5]]) - want[[i, j]]).abs() < 1e-4);
            }
            assert_eq!(c[[i, 4]], 0.0);
            assert_eq!(c[[i, 29]], 0.0);
        }
        // Negative strides (reversed views) for A, B and C, which the AVX2 kernel hands to the
        // portable product.
        let (a, b) = (filled(13, 21, 7), filled(21, 11, 8));
        let want = reference(1.0, &a, &b, 0.0, &Array2::zeros((13, 11)));
        let mut c = Array2::<f32>::zeros((13, 11));
        let (ar, br) = (a.slice(s![..;-1, ..]), b.slice(s![.., ..;-1]));
        gemm(1.0, ar, br, 0.0, c.slice_mut(s![..;-1, ..;-1]));
        for i in 0..13 {
            for j in 0..11 {
                // Entry (i, j) of the reversed product is (A·B)[12 - i, 10 - j], and it lands
                // in C's reversed view at that same place: C itself is A·B.
                assert!(
                    (f64::from(c[[i, j]]) - want[[i, j]]).abs() < 1e-4,
                    "({i}, {j})"
                );
            }
        }
        // k = 0: C ← β·C.
        let mut c = Array2::from_elem((3, 4), 2.0_f32);
        gemm(
            1.0,
            Array2::zeros((3, 0)).view(),
            Array2::zeros((0, 4)).view(),
            0.5,
            c.view_mut(),
        );
        assert!(c.iter().all(|&v| v == 1.0));
        // Empty C: nothing to do, no panic.
        let mut e = Array2::<f32>::zeros((0, 4));
        gemm(
            1.0,
            Array2::zeros((0, 3)).view(),
            Array2::zeros((3, 4)).view(),
            0.0,
            e.view_mut(),
        );
    }

    #[test]
    fn structured_products_equal_the_full_ones() {
        for t in [1, 5, 6, 7, 16, 33, 100, 300] {
            for hs in [3, 16, 32] {
                let mut lower = filled(t, t, 6);
                let mut upper = lower.clone();
                for ((i, j), v) in lower.indexed_iter_mut() {
                    if j > i {
                        *v = 0.0;
                    }
                }
                for ((i, j), v) in upper.indexed_iter_mut() {
                    if j < i {
                        *v = 0.0;
                    }
                }
                let v = filled(t, hs, 7);
                for (a, st) in [(&lower, Structure::LowerA), (&upper, Structure::UpperA)] {
                    for beta in [0.0, 1.0] {
                        let mut full = filled(t, hs, 8);
                        let mut part = full.clone();
                        gemm(0.5, a.view(), v.view(), beta, full.view_mut());
                        gemm_structured(0.5, a.view(), v.view(), beta, part.view_mut(), st);
                        assert_eq!(full, part, "{st:?} T = {t}, hs = {hs}");
                    }
                    // The transposed view of the other triangle is packed rather than read in place.
                    let at = a.t().as_standard_layout().into_owned();
                    let st_t = if st == Structure::LowerA {
                        Structure::UpperA
                    } else {
                        Structure::LowerA
                    };
                    let mut full = Array2::zeros((t, hs));
                    let mut part = full.clone();
                    gemm(1.0, at.view(), v.view(), 0.0, full.view_mut());
                    gemm_structured(1.0, at.view(), v.view(), 0.0, part.view_mut(), st_t);
                    assert_eq!(full, part, "{st_t:?} (transposed) T = {t}, hs = {hs}");
                }
                let q = filled(t, hs, 9);
                let mut full = Array2::zeros((t, t));
                let mut part = Array2::from_elem((t, t), f32::NAN);
                gemm(1.0, q.view(), v.t(), 0.0, full.view_mut());
                gemm_structured(
                    1.0,
                    q.view(),
                    v.t(),
                    0.0,
                    part.view_mut(),
                    Structure::LowerC,
                );
                for i in 0..t {
                    for j in 0..=i {
                        assert_eq!(full[[i, j]], part[[i, j]], "LowerC T = {t} at ({i}, {j})");
                    }
                }
            }
        }
    }

    #[test]
    fn packed_panels_start_on_a_cache_line_also_in_a_copy() {
        // The kernel's loads of B are whole 64-byte lines only if the panels start on one (see
        // `x86::aligned`); a copy has an allocation of its own and must find its own boundary.
        let w = filled(40, 300, 3);
        let packed = PackedB::new(w.t());
        let copy = packed.clone();
        for p in [&packed, &copy] {
            assert_eq!(p.to_matrix(), w.t(), "the copy unpacks to B");
            if p.panels {
                assert_eq!(p.data[p.start..].as_ptr() as usize % 64, 0);
            }
        }
        let a = filled(7, 300, 4);
        let (mut c1, mut c2) = (Array2::zeros((7, 40)), Array2::zeros((7, 40)));
        gemm_bias(
            1.0,
            a.view(),
            Rhs::Packed(&packed, 0..40),
            0.0,
            c1.view_mut(),
            None,
        );
        gemm_bias(
            1.0,
            a.view(),
            Rhs::Packed(&copy, 0..40),
            0.0,
            c2.view_mut(),
            None,
        );
        assert_eq!(c1, c2);
    }

    #[test]
    fn bias_and_packed_b_give_the_product_then_the_bias_bit_for_bit() {
        // A bias in the store must round as a separate `C += bias` after the product, for one
        // block of depth and for several (k = 300 > KC), and a packed B (any column range that
        // starts on a panel) must give exactly what B itself gives.
        for k in [0, 1, 5, 64, 256, 300] {
            for n in [1, 16, 17, 65, 200] {
                for m in [1, 2, 7, 32] {
                    let a = filled(m, k, 1);
                    // B as the transposed weights of a linear layer, as in the model.
                    let w = filled(n, k, 2);
                    let bias = ndarray::Array1::from_shape_fn(n, |j| j as f32 * 0.37 - 3.0);
                    let mut want = Array2::from_elem((m, n), f32::NAN);
                    gemm(1.0, a.view(), w.t(), 0.0, want.view_mut());
                    want += &bias;
                    // The expectation itself, against the triple loop in f64.
                    let exact = reference(1.0, &a, &w.t().to_owned(), 0.0, &want);
                    let scale = exact.iter().fold(1.0_f64, |s, y| s.max(y.abs()))
                        + bias.iter().fold(0.0_f64, |s, y| s.max(f64::from(y.abs())));
                    for ((i, j), x) in want.indexed_iter() {
                        let y = exact[[i, j]] + f64::from(bias[j]);
                        let err = (f64::from(*x) - y).abs();
                        assert!(err <= 1e-6 * scale * (k + 1) as f64, "{x} vs {y}");
                    }
                    let mut got = Array2::from_elem((m, n), f32::NAN);
                    let b = Some(bias.view());
                    gemm_bias(1.0, a.view(), Rhs::Matrix(w.t()), 0.0, got.view_mut(), b);
                    assert_eq!(got, want, "bias, ({m}, {k}, {n})");
                    let packed = PackedB::new(w.t());
                    assert_eq!(packed.dim(), (k, n));
                    assert_eq!(packed.to_matrix(), w.t(), "unpacks to B");
                    for start in (0..n).step_by(PackedB::PANEL) {
                        for end in [start + 1, n] {
                            let cols = start..end.min(n);
                            let mut part = Array2::from_elem((m, cols.len()), f32::NAN);
                            let bias_part = bias.slice(s![cols.clone()]);
                            gemm_bias(
                                1.0,
                                a.view(),
                                Rhs::Packed(&packed, cols.clone()),
                                0.0,
                                part.view_mut(),
                                Some(bias_part),
                            );
                            assert_eq!(part, want.slice(s![.., cols]), "packed ({m}, {k}, {n})");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_factor_in_the_store_gives_the_product_then_the_factor_bit_for_bit() {
        // C = (α·A·B) ⊙ S must round as the product followed by a separate `C *= S`: one block
        // of depth and several (k = 300 > KC), row blocks around MC = 48, tiles around 12 × 32,
        // a transposed A and strided C and S.
        for k in [0, 1, 5, 256, 300] {
            for n in [1, 17, 33, 65] {
                for m in [1, 7, 13, 49, 100] {
                    let (a, b) = (filled(m, k, 1), filled(k, n, 2));
                    let times = filled(m, n, 3);
                    let mut want = Array2::from_elem((m, n), f32::NAN);
                    gemm(0.5, a.view(), b.view(), 0.0, want.view_mut());
                    want *= &times;
                    let mut got = Array2::from_elem((m, n), f32::NAN);
                    gemm_times(0.5, a.view(), b.view(), got.view_mut(), times.view());
                    assert_eq!(got, want, "({m}, {k}, {n})");
                    // Aᵀ given as a transposed view; C and S every other column of wider arrays.
                    let at = a.t().to_owned();
                    let mut wide_c = Array2::from_elem((m, 2 * n), f32::NAN);
                    let mut wide_s = Array2::from_elem((m, 2 * n), 7.0);
                    wide_s.slice_mut(s![.., ..;2]).assign(&times);
                    gemm_times(
                        0.5,
                        at.t(),
                        b.view(),
                        wide_c.slice_mut(s![.., ..;2]),
                        wide_s.slice(s![.., ..;2]),
                    );
                    assert_eq!(wide_c.slice(s![.., ..;2]), want, "strided ({m}, {k}, {n})");
                    assert!(wide_c.slice(s![.., 1..;2]).iter().all(|x| x.is_nan()));
                }
            }
        }
    }

    /// A row function for the tests: y = c² − 1, c ← c / 3.
    fn square_and_third(y: &mut [f32], c: &mut [f32]) {
        for (y, c) in y.iter_mut().zip(c) {
            *y = *c * *c - 1.0;
            *c /= 3.0;
        }
    }

    #[test]
    fn a_row_function_in_the_store_gives_the_product_then_the_function_bit_for_bit() {
        // C = α·A·B + bias, then f(y_i, c_i) row by row, must give the bits of the product
        // followed by f in a pass of its own: one block of depth and several (k = 300 > KC), row
        // blocks around MC = 48, a packed B, and strided rows (f through copies).
        for k in [0, 1, 5, 256, 300] {
            for n in [1, 17, 33, 65] {
                for m in [1, 7, 13, 49, 100] {
                    let (a, w) = (filled(m, k, 1), filled(n, k, 2));
                    let bias = ndarray::Array1::from_shape_fn(n, |j| j as f32 * 0.37 - 3.0);
                    let mut want_c = Array2::from_elem((m, n), f32::NAN);
                    let b = Some(bias.view());
                    gemm_bias(0.5, a.view(), Rhs::Matrix(w.t()), 0.0, want_c.view_mut(), b);
                    let mut want_y = Array2::from_elem((m, n), f32::NAN);
                    for (mut y, mut c) in want_y.outer_iter_mut().zip(want_c.outer_iter_mut()) {
                        if let (Some(y), Some(c)) = (y.as_slice_mut(), c.as_slice_mut()) {
                            square_and_third(y, c);
                        }
                    }
                    let (mut c, mut y) = (
                        Array2::from_elem((m, n), f32::NAN),
                        Array2::from_elem((m, n), f32::NAN),
                    );
                    let rhs = Rhs::Matrix(w.t());
                    gemm_bias_then(
                        0.5,
                        a.view(),
                        rhs,
                        c.view_mut(),
                        b,
                        y.view_mut(),
                        square_and_third,
                    );
                    assert_eq!((&c, &y), (&want_c, &want_y), "({m}, {k}, {n})");
                    let packed = PackedB::new(w.t());
                    let rhs = Rhs::Packed(&packed, 0..n);
                    gemm_bias_then(
                        0.5,
                        a.view(),
                        rhs,
                        c.view_mut(),
                        b,
                        y.view_mut(),
                        square_and_third,
                    );
                    assert_eq!((&c, &y), (&want_c, &want_y), "packed ({m}, {k}, {n})");
                    // C's and y's rows every other entry of wider arrays.
                    let mut wide_c = Array2::from_elem((m, 2 * n), f32::NAN);
                    let mut wide_y = Array2::from_elem((m, 2 * n), 7.0);
                    gemm_bias_then(
                        0.5,
                        a.view(),
                        Rhs::Matrix(w.t()),
                        wide_c.slice_mut(s![.., ..;2]),
                        b,
                        wide_y.slice_mut(s![.., ..;2]),
                        square_and_third,
                    );
                    assert_eq!(
                        wide_c.slice(s![.., ..;2]),
                        want_c,
                        "strided ({m}, {k}, {n})"
                    );
                    assert_eq!(
                        wide_y.slice(s![.., ..;2]),
                        want_y,
                        "strided ({m}, {k}, {n})"
                    );
                    assert!(wide_c.slice(s![.., 1..;2]).iter().all(|x| x.is_nan()));
                    assert!(wide_y.slice(s![.., 1..;2]).iter().all(|&x| x == 7.0));
                }
            }
        }
    }

    #[test]
    fn the_in_app_check_passes_on_both_kernels() {
        assert_eq!(check_against_reference(), Ok(304));
        portable::FORCE.with(|f| f.set(true));
        assert_eq!(check_against_reference(), Ok(304));
        portable::FORCE.with(|f| f.set(false));
    }

    #[test]
    fn the_portable_product_passes_the_same_checks() {
        portable::FORCE.with(|f| f.set(true));
        matches_the_triple_loop_for_every_layout_and_edge();
        strided_views_empty_shapes_and_zero_depth();
        structured_products_equal_the_full_ones();
        bias_and_packed_b_give_the_product_then_the_bias_bit_for_bit();
        a_factor_in_the_store_gives_the_product_then_the_factor_bit_for_bit();
        a_row_function_in_the_store_gives_the_product_then_the_function_bit_for_bit();
        portable::FORCE.with(|f| f.set(false));
    }

    /// The AVX-512 kernel (6 × 32 tiles) gives the AVX2 kernel's bits: every layout, α, β,
    /// bias, packed B, the triangular structures, and the tile edges (n around 16, 32, 48).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx512_kernel_gives_the_avx2_kernels_bits() {
        if !crate::engine::simd::avx512() {
            eprintln!("no AVX-512 on this CPU: nothing to compare");
            return;
        }
        let run = |no_512: bool, f: &dyn Fn() -> ndarray::Array2<f32>| {
            crate::engine::simd::NO_AVX512.with(|c| c.set(no_512));
            let out = f();
            crate::engine::simd::NO_AVX512.with(|c| c.set(false));
            out
        };
        let mut compared = 0;
        for &m in &[1, 5, 6, 7, 13, 64, 97] {
            for &n in &[1, 15, 16, 17, 31, 32, 33, 47, 48, 64, 100, 130, 200] {
                for &k in &[1, 7, 64, 300] {
                    for (ta, tb, alpha, beta) in [
                        (false, false, 1.0, 0.0),
                        (true, false, 0.5, 1.0),
                        (false, true, 1.0, -0.75),
                        (true, true, -2.0, 0.3),
                    ] {
                        let (a, b, c0) = (filled(m, k, 1), filled(k, n, 2), filled(m, n, 3));
                        let bias = filled(1, n, 4).row(0).to_owned();
                        let at = a.t().as_standard_layout().into_owned();
                        let bt = b.t().as_standard_layout().into_owned();
                        let av = if ta { at.t() } else { a.view() };
                        let bv = if tb { bt.t() } else { b.view() };
                        let packed = PackedB::new(bv);
                        let product = |bias_on: bool, pack: bool| {
                            let mut c = c0.clone();
                            let rhs = if pack {
                                Rhs::Packed(&packed, 0..n)
                            } else {
                                Rhs::Matrix(bv)
                            };
                            let bias = bias_on.then(|| bias.view());
                            gemm_bias(alpha, av, rhs, beta, c.view_mut(), bias);
                            c
                        };
                        for (bias_on, pack) in [(false, false), (true, false), (true, true)] {
                            let wide = run(false, &|| product(bias_on, pack));
                            let narrow = run(true, &|| product(bias_on, pack));
                            assert!(
                                wide.iter()
                                    .zip(&narrow)
                                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                                "({m}, {k}) · ({k}, {n}) ta {ta} tb {tb} α {alpha} β {beta} bias {bias_on} packed {pack}"
                            );
                            compared += 1;
                        }
                    }
                }
            }
        }
        // Causal attention's square products, lower-triangular A and the lower half of C.
        for t in [5, 17, 33, 64, 130] {
            let (a, b) = (filled(t, t, 5), filled(t, t, 6));
            let lower_a =
                ndarray::Array2::from_shape_fn(
                    (t, t),
                    |(i, j)| if j <= i { a[[i, j]] } else { 0.0 },
                );
            for (structure, a) in [
                (Structure::LowerA, &lower_a),
                (Structure::UpperA, &lower_a.t().to_owned()),
                (Structure::LowerC, &a),
            ] {
                let product = || {
                    let mut c = ndarray::Array2::zeros((t, t));
                    gemm_structured(1.0, a.view(), b.view(), 0.0, c.view_mut(), structure);
                    c
                };
                let (wide, narrow) = (run(false, &product), run(true, &product));
                for i in 0..t {
                    for j in 0..t {
                        if structure != Structure::LowerC || j <= i {
                            assert_eq!(
                                wide[[i, j]].to_bits(),
                                narrow[[i, j]].to_bits(),
                                "{structure:?} t {t} ({i}, {j})"
                            );
                        }
                    }
                }
                compared += 1;
            }
        }
        assert_eq!(compared, 7 * 13 * 4 * 4 * 3 + 15);
    }

    #[test]
    fn the_portable_product_reads_subnormal_operands_as_zero() {
        // 2⁻¹⁴⁹ (the smallest subnormal) in A and 2⁻¹²⁷ in B, against 2⁶⁰: IEEE arithmetic
        // gives 2⁻⁸⁹ and 2⁻⁶⁷; read as zero (DAZ), they add nothing. Normal operands, even the
        // smallest (2⁻¹²⁶), are untouched: 2⁻¹²⁶ · 2⁶⁰ = 2⁻⁶⁶ exactly.
        let (sub_a, sub_b, big) = (f32::from_bits(1), f32::MIN_POSITIVE / 2.0, 2f32.powi(60));
        assert!(sub_a.is_subnormal() && sub_b.is_subnormal());
        let a = ndarray::array![[sub_a, 1.0], [f32::MIN_POSITIVE, 0.0]];
        let b = ndarray::array![[big, 0.0], [sub_b, big]];
        portable::FORCE.with(|f| f.set(true));
        let mut c = Array2::<f32>::zeros((2, 2));
        gemm(1.0, a.view(), b.view(), 0.0, c.view_mut());
        portable::FORCE.with(|f| f.set(false));
        assert_eq!(c, ndarray::array![[0.0, big], [2f32.powi(-66), 0.0]]);
    }

    #[test]
    #[should_panic(expected = "packed B")]
    fn a_packed_range_off_a_panel_panics() {
        let w = filled(40, 8, 3);
        let packed = PackedB::new(w.t());
        let a = filled(2, 8, 1);
        let mut c = Array2::<f32>::zeros((2, 4));
        gemm_bias(
            1.0,
            a.view(),
            Rhs::Packed(&packed, 3..7),
            0.0,
            c.view_mut(),
            None,
        );
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn mismatched_shapes_panic_with_the_shapes() {
        let mut c = Array2::<f32>::zeros((2, 2));
        gemm(
            1.0,
            Array2::zeros((2, 3)).view(),
            Array2::zeros((4, 2)).view(),
            0.0,
            c.view_mut(),
        );
    }
}
