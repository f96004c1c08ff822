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

/// A batch's gradient, as AdamW takes it: whole, or as the two shards of a batch cut in two
/// left it, not yet added (`train::data_parallel`): g = w₀·g₀ + w₁·g₁ entry by entry, rounding as
/// `Shards::reduce` adds them (w₀·g₀ first, then + w₁·g₁). Taken in two parts, the sum is made
/// inside the passes that read the gradient anyway (its norm, then the update), instead of in
/// passes of its own that write it and read it back.
pub enum Gradient<'a> {
    /// The gradient itself.
    Whole(&'a Grads),
    /// Two parts and their weights; the update zeroes the parts as it reads them, ready for the
    /// shards' next pass.
    TwoParts {
        /// The shards' gradients, in shard order.
        parts: [&'a mut Grads; 2],
        /// Their weights (each shard's share of the batch).
        weights: [f32; 2],
    },
}

impl Gradient<'_> {
    /// Σ g² of each tensor into `sums` (kept: a step allocates nothing), in the order of
    /// [`Params::tensors`], in f64: each the bits of `simd::sum_squares` over that tensor's
    /// gradient (tested), computed on the engine's threads. [`Gradient::norm`] of these is the
    /// global norm; `Params::block_norms_from` makes the per-block norms from them.
    pub fn tensor_sums_into(&self, sums: &mut Vec<f64>) {
        fn whole(g: &Grads, i: usize) -> &[f32] {
            g.tensors().nth(i).map_or(&[], |t| t.data)
        }
        let first = match self {
            Gradient::Whole(g) => *g,
            Gradient::TwoParts { parts, .. } => &*parts[0],
        };
        sums.clear();
        sums.resize(first.tensors().count(), 0.0);
        let len = |i: usize| whole(first, i).len();
        match self {
            Gradient::Whole(g) => {
                pool::fill_in_parts(sums, len, |i| simd::sum_squares(whole(g, i)));
            }
            Gradient::TwoParts { parts, weights } => {
                let [w0, w1] = *weights;
                pool::fill_in_parts(sums, len, |i| {
                    sum_squares_of_sum(whole(parts[0], i), whole(parts[1], i), w0, w1)
                });
            }
        }
    }

    /// The global L2 norm from [`Gradient::tensor_sums_into`]: the sums added in order, as
    /// [`AdamW::grad_norm`] adds them (the same bits).
    pub fn norm(tensor_sums: &[f64]) -> f32 {
        tensor_sums.iter().sum::<f64>().sqrt() as f32
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
        self.step_gradient(params, Gradient::Whole(grads), norm);
    }

    /// [`AdamW::step_with_norm`] from a [`Gradient`] (the norm from
    /// [`Gradient::tensor_sums_into`]).
    /// From two parts, the weights are those of the whole gradient, bit for bit (tested), and the
    /// parts are zero afterwards. Against `Shards::reduce` (two passes: write the sum, add the
    /// second part), then the norm's and the update's passes over the sum, the large training
    /// step took 1/1.010–1/1.012 of the time, the medium 1/1.016 (one process alternating the two
    /// step by step, 267–495 pairs, 2026-12-04).
    pub fn step_gradient(&mut self, params: &mut Params, gradient: Gradient<'_>, norm: f32) {
        let c = self.config;
        let clip = if c.grad_clip > 0.0 && norm > c.grad_clip {
            c.grad_clip / norm
        } else {
            1.0
        };
        self.t += 1;
        let bc1 = 1.0 - c.beta1.powi(self.t as i32);
        let bc2 = 1.0 - c.beta2.powi(self.t as i32);
        let knobs = |decay: bool| Knobs {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            wd: if decay { c.weight_decay } else { 0.0 },
            clip,
            bc1,
            bc2,
        };
        // Each large tensor's two halves side by side on the engine's pool (an elementwise
        // update: the same bits as one pass).
        pool::install(|| match gradient {
            Gradient::Whole(grads) => {
                for (((p, m), v), g) in params
                    .tensors_mut()
                    .zip(self.m.tensors_mut())
                    .zip(self.v.tensors_mut())
                    .zip(grads.tensors())
                {
                    let k = knobs(p.decay);
                    pool::halves([p.data, m.data, v.data], [g.data], |[p, m, v], [g]| {
                        update(p, m, v, g, k)
                    });
                }
            }
            Gradient::TwoParts {
                parts: [g0, g1],
                weights,
            } => {
                for ((((p, m), v), a), b) in params
                    .tensors_mut()
                    .zip(self.m.tensors_mut())
                    .zip(self.v.tensors_mut())
                    .zip(g0.tensors_mut())
                    .zip(g1.tensors_mut())
                {
                    let k = knobs(p.decay);
                    pool::halves(
                        [p.data, m.data, v.data, a.data, b.data],
                        [],
                        |[p, m, v, a, b], []| update_two(p, m, v, [a, b], weights, k),
                    );
                }
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
            step_entry(p, m, v, g, k);
        }
    }
}

/// One entry's AdamW update from its gradient g (the equations at the top of the file).
#[inline(always)]
fn step_entry(p: &mut f32, m: &mut f32, v: &mut f32, g: f32, k: Knobs) {
    let gi = g * k.clip;
    *m = k.beta1 * *m + (1.0 - k.beta1) * gi;
    *v = k.beta2 * *v + (1.0 - k.beta2) * gi * gi;
    let mhat = *m / k.bc1;
    let vhat = *v / k.bc2;
    *p -= k.lr * (mhat / (vhat.sqrt() + k.eps) + k.wd * *p);
}

multiversion! {
    /// [`update`] with g = w₀·g₀ + w₁·g₁ made entry by entry (rounding as `Shards::reduce`
    /// adds them), and both parts zeroed as they are read.
    fn update_two(
        p: &mut [f32],
        m: &mut [f32],
        v: &mut [f32],
        g: [&mut [f32]; 2],
        w: [f32; 2],
        k: Knobs,
    ) {
        let ([g0, g1], [w0, w1]) = (g, w);
        let rows = p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut());
        for (((p, m), v), (a, b)) in rows.zip(g0.iter_mut().zip(g1.iter_mut())) {
            let g = w0 * *a + w1 * *b;
            (*a, *b) = (0.0, 0.0);
            step_entry(p, m, v, g, k);
        }
    }
}

multiversion! {
    /// Σ (w₀·a + w₁·b)² in f64, each entry rounded as [`update_two`] makes it, accumulated as
    /// `simd::sum_squares` accumulates (4 interleaved partial sums, added in its order): the
    /// bits of `sum_squares` over the sum made first (tested).
    fn sum_squares_of_sum(a: &[f32], b: &[f32], w0: f32, w1: f32) -> f64 {
        let mut acc = [0.0_f64; 4];
        let n = a.len().min(b.len());
        let whole = n / 4 * 4;
        for (ca, cb) in a[..whole].chunks_exact(4).zip(b[..whole].chunks_exact(4)) {
            for ((s, &x), &y) in acc.iter_mut().zip(ca).zip(cb) {
                let g = w0 * x + w1 * y;
                *s += f64::from(g) * f64::from(g);
            }
        }
        for ((s, &x), &y) in acc.iter_mut().zip(&a[whole..n]).zip(&b[whole..n]) {
            let g = w0 * x + w1 * y;
            *s += f64::from(g) * f64::from(g);
        }
        (acc[0] + acc[2]) + (acc[1] + acc[3])
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
        let g = filled(&cfg, 0);
        let total: usize = g.tensors().map(|t| t.data.len()).sum();
        assert!(total >= 2 * pool::MIN_HALF, "{total} entries");
        let serial: f64 = g.tensors().map(|t| simd::sum_squares(t.data)).sum();
        assert_eq!(sum_of_squares(&g).to_bits(), serial.to_bits());
    }

    /// Gradients of many magnitudes for a model large enough to be cut in halves.
    fn filled(cfg: &crate::model::GptConfig, seed: usize) -> Params {
        let mut g = Params::zeros(cfg);
        for (j, t) in g.tensors_mut().enumerate() {
            for (i, v) in t.data.iter_mut().enumerate() {
                let e = ((i * 7 + j * 13 + seed) % 17) as i32 - 8;
                *v = (((i * 31 + j + 5 * seed) % 97) as f32 - 48.0) * 2f32.powi(e) * 1e-3;
            }
        }
        g
    }

    /// Two shards' parts handed to AdamW unsummed give the norm, the per-block norms, the
    /// weights and the moments of their sum made first (as `Shards::reduce` makes it), bit for
    /// bit, over three steps (the second one clipped, the others not), and are zero after.
    #[test]
    fn two_parts_give_the_bits_of_their_sum() {
        let cfg = crate::model::GptConfig {
            n_layer: 2,
            n_embd: 64,
            ..crate::model::GptConfig::default()
        };
        let config = AdamWConfig {
            lr: 3e-3,
            grad_clip: 540.0,
            ..AdamWConfig::default()
        };
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(4);
        let start = Params::init(&cfg, &mut rng);
        let (mut whole_p, mut parts_p) = (start.clone(), start.clone());
        let (mut whole_opt, mut parts_opt) =
            (AdamW::new(config, &start), AdamW::new(config, &start));
        for (step, weights) in [[0.5, 0.5], [0.375, 0.625], [0.5, 0.5]]
            .into_iter()
            .enumerate()
        {
            let (mut g0, mut g1) = (filled(&cfg, 2 * step), filled(&cfg, 2 * step + 1));
            // The sum as the reduce makes it: w₀·g₀, then + w₁·g₁.
            let mut sum = g0.clone();
            for (d, (a, b)) in sum.tensors_mut().zip(g0.tensors().zip(g1.tensors())) {
                for (d, (&a, &b)) in d.data.iter_mut().zip(a.data.iter().zip(b.data)) {
                    *d = weights[0] * a;
                    *d += weights[1] * b;
                }
            }
            let (mut whole_sums, mut part_sums) = (Vec::new(), Vec::new());
            Gradient::Whole(&sum).tensor_sums_into(&mut whole_sums);
            let serial: Vec<f64> = sum.tensors().map(|t| simd::sum_squares(t.data)).collect();
            assert_eq!(whole_sums, serial);
            let parts = Gradient::TwoParts {
                parts: [&mut g0, &mut g1],
                weights,
            };
            parts.tensor_sums_into(&mut part_sums);
            assert_eq!(
                part_sums.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                serial.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "step {step}"
            );
            let norm = Gradient::norm(&part_sums);
            // Norms 535.6, 543.7, 535.4: only the second step is clipped.
            assert_eq!(norm > config.grad_clip, step == 1, "norm {norm}");
            assert_eq!(norm.to_bits(), AdamW::grad_norm(&sum).to_bits());
            let (mut blocks, mut want_blocks) = (Vec::new(), Vec::new());
            sum.block_norms_from(&part_sums, &mut blocks);
            // Each block's tensors' sums of squares, added in order.
            for l in 0..cfg.n_layer {
                let block = sum.tensors().filter(|t| t.layer == Some(l));
                let total: f64 = block.map(|t| simd::sum_squares(t.data)).sum();
                want_blocks.push(total.sqrt() as f32);
            }
            assert_eq!(
                blocks.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                want_blocks.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
            whole_opt.step_with_norm(&mut whole_p, &sum, norm);
            parts_opt.step_gradient(&mut parts_p, parts, norm);
            let bits = |p: &Params| {
                p.tensors()
                    .flat_map(|t| t.data.iter().map(|x| x.to_bits()))
                    .collect::<Vec<_>>()
            };
            assert!(bits(&whole_p) == bits(&parts_p), "weights, step {step}");
            assert!(
                bits(&whole_opt.m) == bits(&parts_opt.m)
                    && bits(&whole_opt.v) == bits(&parts_opt.v),
                "moments, step {step}"
            );
            assert!(
                g0.tensors()
                    .chain(g1.tensors())
                    .all(|t| t.data.iter().all(|&x| x == 0.0)),
                "parts zeroed"
            );
        }
    }

    #[test]
    fn the_update_of_a_row_is_that_of_its_entries_one_at_a_time() {
        assert_eq!(check_rows_against_single_entries(), Ok(1003));
    }
}
