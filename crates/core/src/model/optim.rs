//! AdamW (Loshchilov & Hutter 2019) with nanoGPT's defaults: β = (0.9, 0.95), ε = 1e-8,
//! weight decay 0.1 on 2-D weights only (matrices and embeddings; not biases or norm gains),
//! and gradient-norm clipping at 1.0 before the update.
//!
//! m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ)
//! θ ← θ − lr · (m̂ / (√v̂ + ε) + λ θ)     (λ only for 2-D weights)

use super::params::{Grads, Params};
use crate::engine::pool;
use crate::engine::simd::{self, multiversion};

/// Optimizer settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate.
    pub lr: f32,
    /// β₁.
    pub beta1: f32,
    /// β₂.
    pub beta2: f32,
    /// ε.
    pub eps: f32,
    /// Weight decay λ (2-D weights only).
    pub weight_decay: f32,
    /// Clip the global gradient norm to this (≤ 0: no clipping).
    pub grad_clip: f32,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.1,
            grad_clip: 1.0,
        }
    }
}

/// AdamW state: first and second moments shaped like the parameters.
#[derive(Debug, Clone)]
pub struct AdamW {
    /// Settings.
    pub config: AdamWConfig,
    m: Params,
    v: Params,
    t: u32,
}

impl AdamW {
    /// Fresh state for parameters shaped like `like`.
    pub fn new(config: AdamWConfig, like: &Params) -> Self {
        let mut m = like.clone();
        m.zero();
        let v = m.clone();
        Self { config, m, v, t: 0 }
    }

    /// Copy the state of `other` (same shapes) without allocating.
    pub fn copy_from(&mut self, other: &AdamW) {
        self.config = other.config;
        self.m.copy_from(&other.m);
        self.v.copy_from(&other.v);
        self.t = other.t;
    }

    /// Steps taken.
    pub fn steps(&self) -> u32 {
        self.t
    }

    /// Global L2 norm of the gradients (squares summed in f64: `sum_of_squares` below).
    pub fn grad_norm(grads: &Grads) -> f32 {
        sum_of_squares(grads).sqrt() as f32
    }

    /// One update. Clips the gradient norm first; returns the norm before clipping.
    pub fn step(&mut self, params: &mut Params, grads: &Grads) -> f32 {
        let norm = Self::grad_norm(grads);
        self.step_with_norm(params, grads, norm);
        norm
    }

    /// [`AdamW::step`] with the gradient's global norm already computed (`grad_norm`).
    pub fn step_with_norm(&mut self, params: &mut Params, grads: &Grads, norm: f32) {
        let c = self.config;
        let clip = if c.grad_clip > 0.0 && norm > c.grad_clip {
            c.grad_clip / norm
        } else {
            1.0
        };
        self.t += 1;
        let bc1 = 1.0 - c.beta1.powi(self.t as i32);
        let bc2 = 1.0 - c.beta2.powi(self.t as i32);
        // Each large tensor's two halves side by side on the engine's pool (an elementwise
        // update: the same bits as one pass).
        pool::install(|| {
            for (((p, m), v), g) in params
                .tensors_mut()
                .zip(self.m.tensors_mut())
                .zip(self.v.tensors_mut())
                .zip(grads.tensors())
            {
                let k = Knobs {
                    lr: c.lr,
                    beta1: c.beta1,
                    beta2: c.beta2,
                    eps: c.eps,
                    wd: if p.decay { c.weight_decay } else { 0.0 },
                    clip,
                    bc1,
                    bc2,
                };
                pool::halves([p.data, m.data, v.data], [g.data], |[p, m, v], [g]| {
                    update(p, m, v, g, k)
                });
            }
        });
    }
}

/// AdamW on one flat parameter vector: the same update as [`AdamW`] (the `update` loop below),
/// global-norm clipping included, for the lessons' small models that are not a GPT (the
/// experts of the ensembles lesson). Weight decay, if set, applies to every entry.
#[derive(Debug, Clone)]
pub struct FlatAdamW {
    /// Settings.
    pub config: AdamWConfig,
    m: Vec<f32>,
    v: Vec<f32>,
    t: u32,
}

impl FlatAdamW {
    /// Fresh state for `n` parameters.
    pub fn new(config: AdamWConfig, n: usize) -> Self {
        Self {
            config,
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// One update of `params` from `grads` (same length). Clips the global norm first; returns
    /// the norm before clipping.
    pub fn step(&mut self, params: &mut [f32], grads: &[f32]) -> f32 {
        let c = self.config;
        let norm = simd::sum_squares(grads).sqrt() as f32;
        let clip = if c.grad_clip > 0.0 && norm > c.grad_clip {
            c.grad_clip / norm
        } else {
            1.0
        };
        self.t += 1;
        let k = Knobs {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            wd: c.weight_decay,
            clip,
            bc1: 1.0 - c.beta1.powi(self.t as i32),
            bc2: 1.0 - c.beta2.powi(self.t as i32),
        };
        update(params, &mut self.m, &mut self.v, grads, k);
        norm
    }
}

/// Σ g² over every gradient: each tensor's sum of squares in f64 (`simd::sum_squares`), then
/// those sums added in the tensors' order. The engine takes the tensors' sums on two threads
/// (`pool::sum_in_order`), which changes no bit (tested).
fn sum_of_squares(grads: &Grads) -> f64 {
    let tensor = |i: usize| grads.tensors().nth(i);
    pool::sum_in_order(
        grads.tensors().count(),
        |i| tensor(i).map_or(0, |t| t.data.len()),
        |i| tensor(i).map_or(0.0, |t| simd::sum_squares(t.data)),
    )
}

/// The settings of one AdamW update ([`update`]): this step's learning rate, β₁, β₂, ε, the
/// weight decay, the clip factor and the two bias corrections 1 − βᵗ.
#[derive(Clone, Copy)]
struct Knobs {
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    wd: f32,
    clip: f32,
    bc1: f32,
    bc2: f32,
}

multiversion! {
    /// The AdamW update of one tensor (the equations at the top of the file).
    fn update(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: Knobs) {
        for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
            let gi = g * k.clip;
            *m = k.beta1 * *m + (1.0 - k.beta1) * gi;
            *v = k.beta2 * *v + (1.0 - k.beta2) * gi * gi;
            let mhat = *m / k.bc1;
            let vhat = *v / k.bc2;
            *p -= k.lr * (mhat / (vhat.sqrt() + k.eps) + k.wd * *p);
        }
    }
}

/// `update` on a whole row against the same update one entry at a time, bit for bit, over
/// three steps: a row goes through the loop as the compiler vectorized it and a single entry
/// through its scalar remainder, so this checks that the two agree (the browser test calls it,
/// through `window.attentionLabCheckKernels`; a unit test calls it on the native build).
/// Ok(entries checked) or the first that differs.
pub fn check_rows_against_single_entries() -> Result<usize, String> {
    let n = 1003;
    let init = |seed: usize| -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 37 + seed * 11) % 101) as f32 / 50.0 - 1.0) * 0.3)
            .collect()
    };
    let (mut p, mut m, mut v) = (
        init(1),
        init(2),
        init(3).iter().map(|x| x * x).collect::<Vec<_>>(),
    );
    let (mut p1, mut m1, mut v1) = (p.clone(), m.clone(), v.clone());
    for t in 1..=3 {
        let g = init(3 + t);
        let k = Knobs {
            lr: 3e-3,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            wd: 0.1,
            clip: 0.7,
            bc1: 1.0 - 0.9_f32.powi(t as i32),
            bc2: 1.0 - 0.95_f32.powi(t as i32),
        };
        update(&mut p, &mut m, &mut v, &g, k);
        for i in 0..n {
            let r = i..=i;
            update(
                &mut p1[r.clone()],
                &mut m1[r.clone()],
                &mut v1[r.clone()],
                &g[r],
                k,
            );
        }
    }
    for i in 0..n {
        if [p[i], m[i], v[i]].map(f32::to_bits) != [p1[i], m1[i], v1[i]].map(f32::to_bits) {
            return Err(format!(
                "AdamW entry {i}: the row gives θ {}, m {}, v {}; one entry {}, {}, {}",
                p[i], m[i], v[i], p1[i], m1[i], v1[i]
            ));
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The norm taken on two threads is the one-thread norm, bit for bit: a model large enough
    /// to be cut (about 110 000 entries), with entries of many magnitudes.
    #[test]
    fn the_gradient_norm_on_two_threads_is_the_serial_one() {
        let cfg = crate::model::GptConfig {
            n_layer: 2,
            n_embd: 64,
            ..crate::model::GptConfig::default()
        };
        let mut g = Params::zeros(&cfg);
        for (j, t) in g.tensors_mut().enumerate() {
            for (i, v) in t.data.iter_mut().enumerate() {
                let e = ((i * 7 + j * 13) % 17) as i32 - 8;
                *v = (((i * 31 + j) % 97) as f32 - 48.0) * 2f32.powi(e);
            }
        }
        let total: usize = g.tensors().map(|t| t.data.len()).sum();
        assert!(total >= 2 * pool::MIN_HALF, "{total} entries");
        let serial: f64 = g.tensors().map(|t| simd::sum_squares(t.data)).sum();
        assert_eq!(sum_of_squares(&g).to_bits(), serial.to_bits());
    }

    #[test]
    fn the_update_of_a_row_is_that_of_its_entries_one_at_a_time() {
        assert_eq!(check_rows_against_single_entries(), Ok(1003));
    }
}
