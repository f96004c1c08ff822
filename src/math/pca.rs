//! A 2-D view of points in d dimensions: their top two principal axes (PCA through nalgebra's
//! symmetric eigen-decomposition of the scatter matrix), fitted once and then used for any point,
//! so the same vector lands on the same spot in every figure that shares the fit.

use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array2, ArrayView1};

/// The fitted plane: the mean, the two axes (unit vectors, largest variance first) and the share
/// of the total variance each axis carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca2 {
    /// The points' mean: (d)
    pub mean: Vec<f64>,
    /// The two principal axes: 2 × (d), orthonormal.
    pub axes: [Vec<f64>; 2],
    /// The fraction of the points' variance along each axis (0 … 1).
    pub explained: [f64; 2],
}

impl Pca2 {
    /// Fit the plane to the rows of `points` (N × d). The sign of each axis is chosen so that the
    /// first point has a non-negative coordinate on it (a fit is then reproducible).
    /// Fewer than 2 distinct points or d < 2: the first two coordinate axes.
    pub fn fit(points: &Array2<f32>) -> Self {
        let (n, d) = points.dim();
        let mut mean = vec![0.0; d];
        for row in points.outer_iter() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v) / n.max(1) as f64;
            }
        }
        let unit = |k: usize| {
            (0..d)
                .map(|j| if j == k { 1.0 } else { 0.0 })
                .collect::<Vec<_>>()
        };
        if n < 2 || d < 2 {
            return Self {
                mean,
                axes: [unit(0), unit(1.min(d.saturating_sub(1)))],
                explained: [0.0, 0.0],
            };
        }
        let centred = DMatrix::from_fn(n, d, |r, c| f64::from(points[[r, c]]) - mean[c]);
        let scatter = centred.transpose() * &centred;
        let total: f64 = (0..d).map(|k| scatter[(k, k)]).sum();
        let eig = SymmetricEigen::new(scatter);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let axis = |i: usize| -> Vec<f64> {
            let mut v: Vec<f64> = (0..d).map(|k| eig.eigenvectors[(k, order[i])]).collect();
            let first: f64 = (0..d).map(|k| centred[(0, k)] * v[k]).sum();
            if first < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            v
        };
        let share = |i: usize| {
            if total > 0.0 {
                (eig.eigenvalues[order[i]] / total).clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        Self {
            mean,
            axes: [axis(0), axis(1)],
            explained: [share(0), share(1)],
        }
    }

    /// A point's coordinates on the two axes.
    pub fn project(&self, point: ArrayView1<'_, f32>) -> [f64; 2] {
        let coord = |axis: &[f64]| -> f64 {
            point
                .iter()
                .zip(&self.mean)
                .zip(axis)
                .map(|((&x, m), a)| (f64::from(x) - m) * a)
                .sum()
        };
        [coord(&self.axes[0]), coord(&self.axes[1])]
    }

    /// Every row's coordinates.
    pub fn project_rows(&self, points: &Array2<f32>) -> Vec<[f64; 2]> {
        points.outer_iter().map(|r| self.project(r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn points_on_a_line_fill_the_first_axis() {
        // Points along (1, 1, 0): all of the variance on the first axis, which is ±(1, 1, 0)/√2.
        let p = array![
            [0.0f32, 0.0, 0.0],
            [1.0, 1.0, 0.0],
            [2.0, 2.0, 0.0],
            [3.0, 3.0, 0.0]
        ];
        let fit = Pca2::fit(&p);
        assert!((fit.explained[0] - 1.0).abs() < 1e-9, "{:?}", fit.explained);
        let a = &fit.axes[0];
        assert!((a[0].abs() - 0.5f64.sqrt()).abs() < 1e-9 && (a[0] - a[1]).abs() < 1e-9);
        // Distances along the line are kept: the points 0 and 3 are 3√2 apart.
        let xy = fit.project_rows(&p);
        assert!(((xy[3][0] - xy[0][0]).abs() - 3.0 * 2f64.sqrt()).abs() < 1e-6);
        // The first point sits at a non-negative coordinate.
        assert!(xy[0][0] >= 0.0);
    }

    #[test]
    fn too_few_points_fall_back_to_coordinates() {
        let fit = Pca2::fit(&array![[1.0f32, 2.0, 3.0]]);
        assert_eq!(fit.axes[0], vec![1.0, 0.0, 0.0]);
        assert_eq!(fit.explained, [0.0, 0.0]);
    }
}
