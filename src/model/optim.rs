//! AdamW (Loshchilov & Hutter 2019) with nanoGPT's defaults: β = (0.9, 0.95), ε = 1e-8,
//! weight decay 0.1 on 2-D weights only (matrices and embeddings; not biases or norm gains),
//! and gradient-norm clipping at 1.0 before the update.
//!
//! m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ)
//! θ ← θ − lr · (m̂ / (√v̂ + ε) + λ θ)     (λ only for 2-D weights)

use super::gpt::{Grads, Params};

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

    /// Global L2 norm of the gradients.
    pub fn grad_norm(grads: &Grads) -> f32 {
        let sq: f64 = grads
            .iter()
            .flat_map(|(d, _)| d.iter())
            .map(|&g| f64::from(g) * f64::from(g))
            .sum();
        sq.sqrt() as f32
    }

    /// One update. Clips the gradient norm first; returns the norm before clipping.
    pub fn step(&mut self, params: &mut Params, grads: &Grads) -> f32 {
        let c = self.config;
        let norm = Self::grad_norm(grads);
        let clip = if c.grad_clip > 0.0 && norm > c.grad_clip {
            c.grad_clip / norm
        } else {
            1.0
        };
        self.t += 1;
        let bc1 = 1.0 - c.beta1.powi(self.t as i32);
        let bc2 = 1.0 - c.beta2.powi(self.t as i32);
        for ((((p, decay), (m, _)), (v, _)), (g, _)) in params
            .iter_mut()
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
            .zip(grads.iter())
        {
            let wd = if decay { c.weight_decay } else { 0.0 };
            for i in 0..p.len() {
                let gi = g[i] * clip;
                m[i] = c.beta1 * m[i] + (1.0 - c.beta1) * gi;
                v[i] = c.beta2 * v[i] + (1.0 - c.beta2) * gi * gi;
                let mhat = m[i] / bc1;
                let vhat = v[i] / bc2;
                p[i] -= c.lr * (mhat / (vhat.sqrt() + c.eps) + wd * p[i]);
            }
        }
        norm
    }
}
