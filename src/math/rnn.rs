//! Recurrent networks and back-propagation through time (BPTT), for the RNN lesson (f64).
//!
//! Simple RNN (Elman 1990):   a_t = W h_{t−1} + s·x_t,   h_t = φ(a_t),   h_0 = 0,   t = 1…T.
//! With L = gᵀ h_T the chain rule gives   ∂L/∂h_T = g,   ∂L/∂h_{t−1} = Wᵀ (φ′(a_t) ⊙ ∂L/∂h_t),
//! so the gradient that reaches step T−k has been multiplied by Wᵀ k times: for φ = identity it
//! scales like ρ(W)^k (exactly radius^k when W = radius · orthogonal) — it vanishes for ρ < 1 and
//! explodes for ρ > 1 (Bengio, Simard & Frasconi 1994; Pascanu, Mikolov & Bengio 2013).
//!
//! The scalar case h_t = w h_{t−1} + x_t is an IIR filter whose impulse response is w^t.
//!
//! LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000), z_t = [h_{t−1}; x_t]:
//!   i = σ(W_i z + b_i), f = σ(W_f z + b_f), o = σ(W_o z + b_o), g = tanh(W_g z + b_g),
//!   c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t).
//! Through the cell state ∂c_t/∂c_{t−1} = diag(f): with f ≈ σ(b_f) near 1 the gradient survives
//! (the "constant error carousel" of the original LSTM is exactly constant only at f = 1).

use nalgebra::DMatrix;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, s};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::stats::randn;

/// The nonlinearity φ of the simple RNN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// φ(a) = a: the gradient is exactly (Wᵀ)^k g.
    #[default]
    Linear,
    /// φ(a) = tanh a: φ′ = 1 − tanh² ≤ 1 also shrinks the gradient where units saturate.
    Tanh,
}

/// How the recurrent matrix W is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WInit {
    /// radius · Q with Q a random orthogonal matrix: every eigenvalue has modulus `radius`.
    #[default]
    Orthogonal,
    /// A Gaussian matrix rescaled so its spectral radius (largest |eigenvalue|) is `radius`.
    Gaussian,
}

/// A (rows, cols) matrix of N(0, std²) samples.
pub fn randn_matrix(rows: usize, cols: usize, std: f64, rng: &mut StdRng) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || std * randn(rng))
}

/// Eigenvalues of a square matrix as [re, im] pairs, largest modulus first (nalgebra's Schur).
/// w: (n, n)
pub fn eigenvalues(w: ArrayView2<'_, f64>) -> Vec<[f64; 2]> {
    let n = w.nrows();
    let m = DMatrix::from_fn(n, n, |r, c| w[[r, c]]);
    let mut ev: Vec<[f64; 2]> = m
        .complex_eigenvalues()
        .iter()
        .map(|z| [z.re, z.im])
        .collect();
    ev.sort_by(|a, b| {
        let (ma, mb) = (a[0].hypot(a[1]), b[0].hypot(b[1]));
        mb.total_cmp(&ma).then(b[1].total_cmp(&a[1]))
    });
    ev
}

/// Spectral radius ρ(W) = max |λ|.
pub fn spectral_radius(w: ArrayView2<'_, f64>) -> f64 {
    eigenvalues(w).first().map_or(0.0, |z| z[0].hypot(z[1]))
}

/// A random orthogonal (n, n) matrix: Gram–Schmidt (twice, for accuracy) on a Gaussian matrix.
pub fn random_orthogonal(n: usize, rng: &mut StdRng) -> Array2<f64> {
    let mut q = randn_matrix(n, n, 1.0, rng);
    for j in 0..n {
        for _ in 0..2 {
            for i in 0..j {
                let proj = q.column(i).dot(&q.column(j));
                let qi = q.column(i).to_owned();
                q.column_mut(j).scaled_add(-proj, &qi);
            }
        }
        let norm = q.column(j).dot(&q.column(j)).sqrt().max(f64::MIN_POSITIVE);
        q.column_mut(j).mapv_inplace(|v| v / norm);
    }
    q
}

/// The recurrent matrix W (n, n) with spectral radius `radius`, seeded.
pub fn recurrent_matrix(n: usize, radius: f64, init: WInit, rng: &mut StdRng) -> Array2<f64> {
    match init {
        WInit::Orthogonal => random_orthogonal(n, rng) * radius,
        WInit::Gaussian => {
            let g = randn_matrix(n, n, 1.0 / (n as f64).sqrt(), rng);
            let rho = spectral_radius(g.view());
            if rho > 0.0 { g * (radius / rho) } else { g }
        }
    }
}

/// The impulse response of the scalar IIR filter h_t = w h_{t−1} + x_t with x = δ: w^t, t = 0…steps.
pub fn iir_impulse_response(w: f64, steps: usize) -> Vec<f64> {
    (0..=steps).map(|t| w.powi(t as i32)).collect()
}

/// How the gradient is clipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClipMode {
    /// Pascanu, Mikolov & Bengio (2013), as every framework does it (`clip_grad_norm_`): the
    /// whole gradient ∂L/∂W, once, by its norm: if ‖∂L/∂W‖ > c it becomes c ∂L/∂W / ‖∂L/∂W‖.
    /// The direction is kept exactly (cosine 1); the back-propagated ∂L/∂h_t are all scaled by
    /// the same factor.
    #[default]
    Global,
    /// A variant: ∂L/∂h_t rescaled to norm c at every step of BPTT whenever it exceeds c. It
    /// flattens the curve but changes ∂L/∂W's direction (the steps are reweighted).
    PerStep,
}

/// ∂L/∂W = Σ_t (φ′(a_t) ⊙ ∂L/∂h_t) h_{t−1}ᵀ, from BPTT's rows (row k = ∂L/∂h_{T−k}, as
/// [`rnn_backward`] returns them, clipped per step or not). Forward was a_t = W h_{t−1} + s·x_t.
/// → (n, n)
pub fn rnn_weight_grad(
    cache: &RnnCache,
    activation: Activation,
    grads: ArrayView2<'_, f64>,
) -> Array2<f64> {
    let t_len = cache.h.nrows() - 1;
    let n = cache.h.ncols();
    let mut dw = Array2::zeros((n, n));
    for t in 1..=t_len {
        let dh = grads.row(t_len - t);
        let da = match activation {
            Activation::Linear => dh.to_owned(),
            Activation::Tanh => &dh * &cache.h.row(t).mapv(|v| 1.0 - v * v),
        };
        let h_prev = cache.h.row(t - 1);
        for i in 0..n {
            for j in 0..n {
                dw[(i, j)] += da[i] * h_prev[j];
            }
        }
    }
    dw
}

/// Frobenius norm.
pub fn frobenius(a: ArrayView2<'_, f64>) -> f64 {
    a.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// cos ∠(a, b) of two matrices (as vectors); NaN if either is zero.
pub fn cosine(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> f64 {
    let dot: f64 = a.iter().zip(b.iter()).map(|(x, y)| x * y).sum();
    dot / (frobenius(a) * frobenius(b))
}

/// What the backward pass needs from the forward pass.
#[derive(Debug, Clone)]
pub struct RnnCache {
    /// Pre-activations a_t, row t for t = 1…T (row 0 unused, zeros): (T+1, n)
    pub a: Array2<f64>,
    /// Hidden states h_t, row t for t = 0…T (h_0 = 0): (T+1, n)
    pub h: Array2<f64>,
}

/// Simple RNN forward: h_t = φ(W h_{t−1} + s·x_t) from `h0`.
/// w: (n, n), xs: (T, n) with row t−1 the input at step t, h0: (n)
pub fn rnn_forward(
    w: ArrayView2<'_, f64>,
    xs: ArrayView2<'_, f64>,
    input_scale: f64,
    activation: Activation,
    h0: ArrayView1<'_, f64>,
) -> RnnCache {
    let (t_len, n) = (xs.nrows(), w.nrows());
    let mut a = Array2::zeros((t_len + 1, n));
    let mut h = Array2::zeros((t_len + 1, n));
    h.row_mut(0).assign(&h0);
    for t in 1..=t_len {
        let at = w.dot(&h.row(t - 1)) + &(&xs.row(t - 1) * input_scale);
        let ht = match activation {
            Activation::Linear => at.clone(),
            Activation::Tanh => at.mapv(f64::tanh),
        };
        a.row_mut(t).assign(&at);
        h.row_mut(t).assign(&ht);
    }
    RnnCache { a, h }
}

/// BPTT for L = gᵀ h_T: returns row k = ∂L/∂h_{T−k}, k = 0…T. With `clip = Some(c)` the
/// back-propagated vector is rescaled to norm c whenever its norm exceeds c (gradient clipping:
/// it caps an explosion but keeps the direction; it cannot undo vanishing).
/// w: (n, n), g_final: (n) → (T+1, n)
pub fn rnn_backward(
    w: ArrayView2<'_, f64>,
    cache: &RnnCache,
    activation: Activation,
    g_final: ArrayView1<'_, f64>,
    clip: Option<f64>,
) -> Array2<f64> {
    let t_len = cache.h.nrows() - 1;
    let mut grads = Array2::zeros((t_len + 1, w.nrows()));
    let mut g = g_final.to_owned();
    clip_to(&mut g, clip);
    grads.row_mut(0).assign(&g);
    for k in 1..=t_len {
        let t = t_len + 1 - k; // step whose input h_{t−1} we differentiate
        let da = match activation {
            Activation::Linear => g.clone(),
            Activation::Tanh => &g * &cache.h.row(t).mapv(|v| 1.0 - v * v),
        };
        g = w.t().dot(&da);
        clip_to(&mut g, clip);
        grads.row_mut(k).assign(&g);
    }
    grads
}

fn clip_to(g: &mut Array1<f64>, clip: Option<f64>) {
    if let Some(c) = clip {
        let norm = g.dot(g).sqrt();
        if norm > c && norm.is_finite() {
            g.mapv_inplace(|v| v * c / norm);
        }
    }
}

/// Euclidean norm of every row. x: (R, n) → (R)
pub fn row_norms(x: ArrayView2<'_, f64>) -> Vec<f64> {
    x.outer_iter().map(|r| r.dot(&r).sqrt()).collect()
}

/// LSTM weights: each gate's matrix acts on z = [h; x].
#[derive(Debug, Clone)]
pub struct Lstm {
    /// Input gate: (n, 2n)
    pub w_i: Array2<f64>,
    /// Forget gate: (n, 2n)
    pub w_f: Array2<f64>,
    /// Output gate: (n, 2n)
    pub w_o: Array2<f64>,
    /// Candidate: (n, 2n)
    pub w_g: Array2<f64>,
    /// Forget-gate bias (every unit): f ≈ σ(b_f) when the weighted input is small.
    pub b_f: f64,
}

impl Lstm {
    /// Seeded LSTM of hidden size n; weights N(0, weight_std²/(2n)).
    pub fn new(n: usize, b_f: f64, weight_std: f64, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x157A);
        let std = weight_std / ((2 * n) as f64).sqrt();
        let mut m = || randn_matrix(n, 2 * n, std, &mut rng);
        Self {
            w_i: m(),
            w_f: m(),
            w_o: m(),
            w_g: m(),
            b_f,
        }
    }
}

/// What the LSTM backward needs: every gate and state, row t for t = 1…T (row 0: c_0 = h_0 = 0).
#[derive(Debug, Clone)]
pub struct LstmCache {
    /// Gates and states, each (T+1, n).
    pub i: Array2<f64>,
    /// Forget gate.
    pub f: Array2<f64>,
    /// Output gate.
    pub o: Array2<f64>,
    /// Candidate.
    pub g: Array2<f64>,
    /// Cell state.
    pub c: Array2<f64>,
    /// Hidden state.
    pub h: Array2<f64>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// LSTM forward from (h0, c0). xs: (T, n), h0, c0: (n)
pub fn lstm_forward(
    m: &Lstm,
    xs: ArrayView2<'_, f64>,
    h0: ArrayView1<'_, f64>,
    c0: ArrayView1<'_, f64>,
) -> LstmCache {
    let (t_len, n) = (xs.nrows(), m.w_i.nrows());
    let z = || Array2::zeros((t_len + 1, n));
    let mut cache = LstmCache {
        i: z(),
        f: z(),
        o: z(),
        g: z(),
        c: z(),
        h: z(),
    };
    cache.h.row_mut(0).assign(&h0);
    cache.c.row_mut(0).assign(&c0);
    let mut zt = Array1::zeros(2 * n);
    for t in 1..=t_len {
        zt.slice_mut(s![..n]).assign(&cache.h.row(t - 1));
        zt.slice_mut(s![n..]).assign(&xs.row(t - 1));
        let i = m.w_i.dot(&zt).mapv(sigmoid);
        let f = m.w_f.dot(&zt).mapv(|v| sigmoid(v + m.b_f));
        let o = m.w_o.dot(&zt).mapv(sigmoid);
        let g = m.w_g.dot(&zt).mapv(f64::tanh);
        let c = &f * &cache.c.row(t - 1) + &i * &g;
        let h = &o * &c.mapv(f64::tanh);
        cache.i.row_mut(t).assign(&i);
        cache.f.row_mut(t).assign(&f);
        cache.o.row_mut(t).assign(&o);
        cache.g.row_mut(t).assign(&g);
        cache.c.row_mut(t).assign(&c);
        cache.h.row_mut(t).assign(&h);
    }
    cache
}

/// LSTM BPTT for L = gᵀ h_T. Returns (∂L/∂h_{T−k}, ∂L/∂c_{T−k}) for k = 0…T, each (T+1, n);
/// ∂L/∂c_t is the total derivative (through c_{t+1} and through h_t = o_t ⊙ tanh(c_t)).
pub fn lstm_backward(
    m: &Lstm,
    cache: &LstmCache,
    g_final: ArrayView1<'_, f64>,
) -> (Array2<f64>, Array2<f64>) {
    let t_len = cache.h.nrows() - 1;
    let n = m.w_i.nrows();
    let mut dh_all = Array2::zeros((t_len + 1, n));
    let mut dc_all = Array2::zeros((t_len + 1, n));
    let mut dh = g_final.to_owned();
    let mut dc_next: Array1<f64> = Array1::zeros(n); // ∂L/∂c_t from step t+1 (none at T)
    for k in 0..=t_len {
        let t = t_len - k;
        // Total ∂L/∂c_t: through h_t = o ⊙ tanh(c_t) and through c_{t+1} = f ⊙ c_t + ….
        let dc = if t == 0 {
            dc_next.clone()
        } else {
            let tc = cache.c.row(t).mapv(f64::tanh);
            &dc_next + &(&dh * &cache.o.row(t) * &tc.mapv(|v| 1.0 - v * v))
        };
        dh_all.row_mut(k).assign(&dh);
        dc_all.row_mut(k).assign(&dc);
        if t == 0 {
            break;
        }
        let (i, f, o, g) = (
            cache.i.row(t),
            cache.f.row(t),
            cache.o.row(t),
            cache.g.row(t),
        );
        let tc = cache.c.row(t).mapv(f64::tanh);
        let da_o = &dh * &tc * o * o.mapv(|v| 1.0 - v);
        let da_f = &dc * &cache.c.row(t - 1) * f * f.mapv(|v| 1.0 - v);
        let da_i = &dc * &g * i * i.mapv(|v| 1.0 - v);
        let da_g = &dc * &i * &g.mapv(|v| 1.0 - v * v);
        let dz = m.w_i.t().dot(&da_i)
            + m.w_f.t().dot(&da_f)
            + m.w_o.t().dot(&da_o)
            + m.w_g.t().dot(&da_g);
        dh = dz.slice(s![..n]).to_owned();
        dc_next = &dc * &f;
    }
    (dh_all, dc_all)
}

/// Everything the RNN lesson draws, for one setting of its sliders.
#[derive(Debug, Clone)]
pub struct RnnExperiment {
    /// The recurrent matrix: (n, n)
    pub w: Array2<f64>,
    /// Its eigenvalues, [re, im], largest modulus first.
    pub eigenvalues: Vec<[f64; 2]>,
    /// ρ(W).
    pub spectral_radius: f64,
    /// ∂L/∂h_T (a seeded unit vector): (n)
    pub g_final: Array1<f64>,
    /// ‖∂L/∂h_{T−k}‖, k = 0…T.
    pub grad_norms: Vec<f64>,
    /// The same with clipping at the threshold (when clipping is on): the true norms times
    /// one factor (global), or the per-step clipped ones.
    pub clipped_norms: Option<Vec<f64>>,
    /// ‖∂L/∂W‖ (Frobenius), unclipped.
    pub weight_grad_norm: f64,
    /// ‖∂L/∂W‖ after clipping (when clipping is on).
    pub clipped_weight_grad_norm: Option<f64>,
    /// cos ∠(clipped ∂L/∂W, true ∂L/∂W) (when clipping is on): exactly 1 for global clipping.
    pub cosine_clipped_true: Option<f64>,
    /// The trajectory h_t, t = 0…T: (T+1, n)
    pub h: Array2<f64>,
    /// φ′(a_t) for every step and unit (tanh only; empty for linear).
    pub tanh_derivs: Vec<f64>,
}

/// Inputs of [`rnn_experiment`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RnnSpec {
    /// Hidden size n.
    pub hidden: usize,
    /// Sequence length T.
    pub steps: usize,
    /// Spectral radius of W.
    pub radius: f64,
    /// How W is built.
    pub init: WInit,
    /// φ.
    pub activation: Activation,
    /// s in a_t = W h_{t−1} + s·x_t.
    pub input_scale: f64,
    /// Clipping threshold, if on.
    pub clip: Option<f64>,
    /// How the gradient is clipped.
    pub clip_mode: ClipMode,
    /// Seed of W, the inputs and g.
    pub seed: u64,
}

/// The seeded inputs x_t ~ N(0, I), (T, n), and the unit vector g = ∂L/∂h_T.
pub fn rnn_inputs(hidden: usize, steps: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x1A9E);
    let xs = randn_matrix(steps, hidden, 1.0, &mut rng);
    let g = randn_matrix(1, hidden, 1.0, &mut rng).row(0).to_owned();
    let norm = g.dot(&g).sqrt().max(f64::MIN_POSITIVE);
    (xs, g / norm)
}

/// Build W, run forward and BPTT.
pub fn rnn_experiment(spec: &RnnSpec) -> RnnExperiment {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let w = recurrent_matrix(spec.hidden, spec.radius, spec.init, &mut rng);
    let eigenvalues = eigenvalues(w.view());
    let spectral_radius = eigenvalues.first().map_or(0.0, |z| z[0].hypot(z[1]));
    let (xs, g_final) = rnn_inputs(spec.hidden, spec.steps, spec.seed);
    let h0 = Array1::zeros(spec.hidden);
    let cache = rnn_forward(
        w.view(),
        xs.view(),
        spec.input_scale,
        spec.activation,
        h0.view(),
    );
    let grads = rnn_backward(w.view(), &cache, spec.activation, g_final.view(), None);
    let dw = rnn_weight_grad(&cache, spec.activation, grads.view());
    let weight_grad_norm = frobenius(dw.view());
    let clipped = spec.clip.map(|c| match spec.clip_mode {
        ClipMode::Global => {
            // clip_grad_norm_: one factor for the whole gradient.
            let factor = if weight_grad_norm > c {
                c / weight_grad_norm
            } else {
                1.0
            };
            let norms: Vec<f64> = row_norms(grads.view()).iter().map(|v| v * factor).collect();
            (norms, &dw * factor)
        }
        ClipMode::PerStep => {
            let rows = rnn_backward(w.view(), &cache, spec.activation, g_final.view(), Some(c));
            let dw_clipped = rnn_weight_grad(&cache, spec.activation, rows.view());
            (row_norms(rows.view()), dw_clipped)
        }
    });
    let clipped_weight_grad_norm = clipped.as_ref().map(|(_, d)| frobenius(d.view()));
    let cosine_clipped_true = clipped.as_ref().map(|(_, d)| cosine(d.view(), dw.view()));
    let clipped_norms = clipped.map(|(n, _)| n);
    let tanh_derivs = match spec.activation {
        Activation::Linear => Vec::new(),
        Activation::Tanh => cache
            .h
            .slice(s![1.., ..])
            .iter()
            .map(|v| 1.0 - v * v)
            .collect(),
    };
    RnnExperiment {
        grad_norms: row_norms(grads.view()),
        w,
        eigenvalues,
        spectral_radius,
        g_final,
        clipped_norms,
        weight_grad_norm,
        clipped_weight_grad_norm,
        cosine_clipped_true,
        h: cache.h,
        tanh_derivs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_is_orthogonal() {
        let mut rng = StdRng::seed_from_u64(3);
        let q = random_orthogonal(16, &mut rng);
        let err = (q.t().dot(&q) - Array2::<f64>::eye(16))
            .iter()
            .fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-12, "{err}");
    }

    #[test]
    fn gaussian_w_has_the_requested_spectral_radius() {
        let mut rng = StdRng::seed_from_u64(5);
        let w = recurrent_matrix(20, 1.1, WInit::Gaussian, &mut rng);
        assert!((spectral_radius(w.view()) - 1.1).abs() < 1e-9);
    }

    #[test]
    fn iir_is_powers() {
        let r = iir_impulse_response(-0.9, 3);
        assert_eq!(r, vec![1.0, -0.9, 0.81, -0.9 * 0.81]);
    }
}
