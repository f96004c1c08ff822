//! The plain matrix product, C ← α·A·B + β·C as three nested loops in f64: the reference every
//! kernel of [`super::gemm`] is tested against (llm.c keeps `matmul_forward_naive` for the same
//! reason). Slow on purpose; only the tests and
//! `gemm::check_against_reference` (which the browser test runs, for the browser's build of the
//! portable product) call it.

use ndarray::{Array2, ArrayView2};

/// α·A·B + β·C in f64. a: (M, K), b: (K, N), c: (M, N) → (M, N). With β = 0, C is not read
/// (as in [`super::gemm::gemm`], where C may hold anything, NaN included).
///
/// # Panics
/// If the shapes do not agree.
pub fn matmul_naive(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ArrayView2<'_, f32>,
) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert!(
        b.nrows() == k && c.dim() == (m, n),
        "matmul_naive: ({m}, {k}) · {:?} does not fit C {:?}",
        b.dim(),
        c.dim()
    );
    Array2::from_shape_fn((m, n), |(i, j)| {
        let dot: f64 = (0..k)
            .map(|p| f64::from(a[[i, p]]) * f64::from(b[[p, j]]))
            .sum();
        let old = if beta == 0.0 {
            0.0
        } else {
            f64::from(beta) * f64::from(c[[i, j]])
        };
        f64::from(alpha) * dot + old
    })
}
