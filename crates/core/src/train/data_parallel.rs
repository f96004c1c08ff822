//! Data parallelism for a training step: the batch is cut into shards (one per core), each shard
//! runs `gpt_forward` + `gpt_backward` on a thread of the process's pool (`engine::pool`) into its
//! own gradients, and the gradients are averaged with weights n_i / n — the same gradient as one
//! pass over the whole batch (the loss is a mean over rows), up to the order of floating-point
//! sums.
//!
//! BatchNorm couples the rows of a batch (its statistics are over all of them), so a BatchNorm
//! model is never sharded. Deterministic: the split and the order of the sums are fixed, so a
//! run repeats bit for bit whichever thread takes which shard.
//!
//! Without threads (a browser) the same shards are the parts of a step taken in parts
//! (`Trainer::step_part`): [`Shards::pass`] runs one on the calling thread, [`Shards::reduce`]
//! averages them, and [`part_count`] cuts the batch by work rather than by cores.

use crate::engine::pool;
use crate::engine::simd::multiversion;
use crate::model::NormKind;
use crate::model::gpt::{Activations, Gpt, Params, gpt_backward, gpt_forward};
use crate::model::optim::Gradient;

/// Below this many multiply-adds per step, one thread is faster than two.
const MIN_WORK_TO_SPLIT: usize = 4_000_000;

/// Per-shard buffers, kept between steps so that a step allocates nothing.
#[derive(Debug, Default)]
pub struct Shards {
    states: Vec<ShardState>,
}

/// One shard's activations, gradients and loss.
#[derive(Debug)]
struct ShardState {
    acts: Activations,
    grads: Params,
    /// `grads` is all zeros: [`Shards::reduce`] zeroes each shard's gradients in the pass that
    /// reads them, while they are still in the cache, so that the next step need not.
    zeroed: bool,
    loss: f32,
}

/// How many shards to use for this model and batch on `cores` cores.
pub fn shard_count(model: &Gpt, b: usize, t: usize, cores: usize) -> usize {
    let c = model.config.n_embd;
    let work = b * t * c * c * 12 * model.config.n_layer;
    if model.config.norm == NormKind::BatchNorm || b < 2 || work < MIN_WORK_TO_SPLIT {
        1
    } else {
        cores.clamp(1, b)
    }
}

/// A step taken in parts (no thread: a browser) runs one shard per part; a shard does about this
/// many multiply-adds in its forward pass (its backward about twice as many). Measured in
/// headless Chromium on the 2-core machine (2026-12-02, live lesson training in the page): its
/// model (d 64, 2 blocks, 16 × 16 tokens: 27 M) takes 3 parts, a median 3.8 ms each and 6.0 ms
/// for the last, which also updates the weights (90th percentile 6–7 and 10 ms); at 14 M a part
/// it took 2 (5.9 and 7.3 ms, 90th percentile 10 and 12 ms) for the same training rate.
const PART_WORK: usize = 9_000_000;

/// How many shards a step taken in parts uses: enough that each does at most `PART_WORK`
/// (one per sequence at most; a BatchNorm model, whose rows are coupled, is never cut). Fixed by
/// the model and the batch, never by a clock, so a run taken in parts repeats bit for bit.
pub fn part_count(model: &Gpt, b: usize, t: usize) -> usize {
    let c = &model.config;
    let per_token =
        c.n_layer * (12 * c.n_embd * c.n_embd + 2 * t * c.n_embd) + c.n_embd * c.vocab_size;
    if c.norm == NormKind::BatchNorm || b < 2 {
        1
    } else {
        (b * t * per_token).div_ceil(PART_WORK).clamp(1, b)
    }
}

/// Forward and backward over `b` sequences of `t` tokens in `k` shards; `grads` receives the
/// batch's gradient (overwritten); returns the batch's mean loss. `acts` is used when k = 1.
#[allow(clippy::too_many_arguments)]
pub fn forward_backward(
    model: &Gpt,
    shards: &mut Shards,
    acts: &mut Activations,
    tokens: &[usize],
    targets: &[usize],
    b: usize,
    t: usize,
    k: usize,
    train: bool,
    grads: &mut Params,
) -> f32 {
    if k <= 1 {
        grads.zero();
        acts.training_pass = true;
        let loss = gpt_forward(model, acts, tokens, Some(targets), b, t, train).unwrap_or(f32::NAN);
        if loss.is_finite() {
            gpt_backward(model, acts, targets, grads);
        }
        return loss;
    }
    shards.prepare(model, k);
    pool::for_each_mut(&mut shards.states[..k], |i, st| {
        st.pass(model, tokens, targets, shard_bounds(i, b, k), t, train);
    });
    shards.reduce(k, b, grads)
}

/// [`forward_backward`] for a step that hands the gradient straight to AdamW
/// ([`Shards::gradient`]): with two shards their gradients stay where they are, unsummed, for
/// AdamW to add inside its own passes (`optim::Gradient::TwoParts`); otherwise as
/// [`forward_backward`] (into `grads`). Returns the batch's mean loss.
#[allow(clippy::too_many_arguments)]
pub fn forward_backward_unsummed(
    model: &Gpt,
    shards: &mut Shards,
    acts: &mut Activations,
    tokens: &[usize],
    targets: &[usize],
    b: usize,
    t: usize,
    k: usize,
    train: bool,
    grads: &mut Params,
) -> f32 {
    if k != 2 {
        return forward_backward(model, shards, acts, tokens, targets, b, t, k, train, grads);
    }
    shards.prepare(model, k);
    pool::for_each_mut(&mut shards.states[..k], |i, st| {
        st.pass(model, tokens, targets, shard_bounds(i, b, k), t, train);
    });
    shards.states[..k]
        .iter()
        .enumerate()
        .map(|(i, st)| shard_weight(i, b, k) * st.loss)
        .sum()
}

/// Shard `i`'s share of a batch of `b` cut in `k`: its weight in the batch's mean.
fn shard_weight(i: usize, b: usize, k: usize) -> f32 {
    let (lo, hi) = shard_bounds(i, b, k);
    (hi - lo) as f32 / b as f32
}

/// Sequences [lo, hi) of shard `i` of `k` over a batch of `b`: as even as possible.
pub fn shard_bounds(i: usize, b: usize, k: usize) -> (usize, usize) {
    (i * b / k, (i + 1) * b / k)
}

impl Shards {
    /// Have buffers for `k` shards of `model`'s gradients.
    fn prepare(&mut self, model: &Gpt, k: usize) {
        if self
            .states
            .first()
            .is_some_and(|s| s.grads.count() != model.params.count())
        {
            self.states.clear();
        }
        while self.states.len() < k {
            self.states.push(ShardState {
                acts: Activations::default(),
                grads: Params::zeros(&model.config),
                zeroed: true,
                loss: f32::NAN,
            });
        }
    }

    /// Shard `i` of `k` alone, on this thread: what [`forward_backward`] runs on the pool, for a
    /// step taken in parts (no thread: `Trainer::step_part`). The shards' results wait here for
    /// [`Shards::reduce`].
    #[allow(clippy::too_many_arguments)]
    pub fn pass(
        &mut self,
        model: &Gpt,
        tokens: &[usize],
        targets: &[usize],
        b: usize,
        t: usize,
        i: usize,
        k: usize,
        train: bool,
    ) {
        self.prepare(model, k);
        self.states[i].pass(model, tokens, targets, shard_bounds(i, b, k), t, train);
    }

    /// The batch's mean loss and its gradient into `grads` (overwritten) from the `k` shards'
    /// results, in shard order: the weighted average n_i / n. The shards' gradients are zero
    /// afterwards, ready for their next pass.
    pub fn reduce(&mut self, k: usize, b: usize, grads: &mut Params) -> f32 {
        let mut loss = 0.0;
        // Each large tensor's two halves side by side on the pool (elementwise: the same bits).
        pool::install(|| {
            for (i, st) in self.states.iter_mut().take(k).enumerate() {
                let w = shard_weight(i, b, k);
                loss += w * st.loss;
                // The first shard overwrites (so `grads` needs no zeroing), the others add. Each
                // shard's gradients are zeroed as they are read, for its next pass: against a
                // `memset` at the start of the pass, the large step took 1/1.010 of the time
                // (two runs, one process switching every two steps, 121 and 130 pairs,
                // quartiles about 0.98–1.03; 2026-12-03), the medium 1/1.012 and 1/1.002.
                for (dst, src) in grads.tensors_mut().zip(st.grads.tensors_mut()) {
                    pool::halves([dst.data, src.data], [], |[d, s], []| {
                        weighted_take(d, s, w, i == 0)
                    });
                }
                st.zeroed = true;
            }
        });
        loss
    }
}

impl Shards {
    /// The batch's gradient after [`forward_backward_unsummed`] with the same `k` and `b`: the two
    /// shards' parts, or `grads`. AdamW zeroes the parts as it reads them; say so afterwards
    /// ([`Shards::parts_taken`]), or the next pass zeroes them itself.
    pub fn gradient<'a>(&'a mut self, k: usize, b: usize, grads: &'a Params) -> Gradient<'a> {
        match &mut self.states[..] {
            [s0, s1, ..] if k == 2 => Gradient::TwoParts {
                parts: [&mut s0.grads, &mut s1.grads],
                weights: [shard_weight(0, b, k), shard_weight(1, b, k)],
            },
            _ => Gradient::Whole(grads),
        }
    }

    /// AdamW took the two parts of [`Shards::gradient`] (`AdamW::step_gradient`), which zeroed
    /// them: the next pass need not.
    pub fn parts_taken(&mut self) {
        for st in self.states.iter_mut().take(2) {
            st.zeroed = true;
        }
    }
}

impl ShardState {
    /// Forward and backward over sequences [lo, hi) of the batch into this shard's gradients.
    fn pass(
        &mut self,
        model: &Gpt,
        tokens: &[usize],
        targets: &[usize],
        (lo, hi): (usize, usize),
        t: usize,
        train: bool,
    ) {
        let (tok, tgt) = (&tokens[lo * t..hi * t], &targets[lo * t..hi * t]);
        self.acts.training_pass = true;
        self.loss = gpt_forward(model, &mut self.acts, tok, Some(tgt), hi - lo, t, train)
            .unwrap_or(f32::NAN);
        if !std::mem::take(&mut self.zeroed) {
            self.grads.zero();
        }
        if self.loss.is_finite() {
            gpt_backward(model, &mut self.acts, tgt, &mut self.grads);
        }
    }
}

multiversion! {
    /// dst = w·src (first) or dst += w·src; then src = 0.
    fn weighted_take(dst: &mut [f32], src: &mut [f32], w: f32, first: bool) {
        if first {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = w * *s;
                *s = 0.0;
            }
        } else {
            for (d, s) in dst.iter_mut().zip(src) {
                *d += w * *s;
                *s = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GptConfig;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// A small model and a batch of 5 sequences of 6 tokens: (config, model, (B, T), inputs,
    /// targets).
    fn small_batch() -> (GptConfig, Gpt, (usize, usize), Vec<usize>, Vec<usize>) {
        let cfg = GptConfig {
            vocab_size: 11,
            n_layer: 2,
            n_head: 2,
            n_embd: 16,
            block_size: 6,
            ..GptConfig::default()
        };
        let model = Gpt::new(cfg.clone(), &mut StdRng::seed_from_u64(3));
        let (b, t) = (5, 6);
        let tokens = (0..b * t).map(|i| (i * 7) % 11).collect();
        let targets = (0..b * t).map(|i| (i * 5 + 1) % 11).collect();
        (cfg, model, (b, t), tokens, targets)
    }

    /// A step whose two shards' gradients go to AdamW unsummed is the step on their sum, bit for
    /// bit: the loss, the norm and the weights, over steps in a row, also after a step whose
    /// parts were never taken (a divergence refuses the update: the next pass zeroes them).
    #[test]
    fn two_unsummed_shards_give_the_step_on_their_sum() {
        use crate::model::optim::{AdamW, AdamWConfig};
        let (cfg, start, (b, t), tokens, targets) = small_batch();
        let (mut summed, mut unsummed) = (start.clone(), start.clone());
        let mut opt = [
            AdamW::new(AdamWConfig::default(), &start.params),
            AdamW::new(AdamWConfig::default(), &start.params),
        ];
        let (mut s0, mut s1) = (Shards::default(), Shards::default());
        let (mut g0, mut g1) = (Params::zeros(&cfg), Params::zeros(&cfg));
        let mut acts = Activations::default();
        for step in 0..4 {
            let want = forward_backward(
                &summed, &mut s0, &mut acts, &tokens, &targets, b, t, 2, true, &mut g0,
            );
            let got = forward_backward_unsummed(
                &unsummed, &mut s1, &mut acts, &tokens, &targets, b, t, 2, true, &mut g1,
            );
            assert_eq!(got.to_bits(), want.to_bits(), "loss, step {step}");
            let want_norm = AdamW::grad_norm(&g0);
            let mut sums = Vec::new();
            s1.gradient(2, b, &g1).tensor_sums_into(&mut sums);
            let norm = Gradient::norm(&sums);
            assert_eq!(norm.to_bits(), want_norm.to_bits(), "norm, step {step}");
            if step == 1 {
                // Refused: neither updates, the unsummed parts stay as they are.
                continue;
            }
            opt[0].step_with_norm(&mut summed.params, &g0, want_norm);
            opt[1].step_gradient(&mut unsummed.params, s1.gradient(2, b, &g1), norm);
            s1.parts_taken();
            assert_eq!(summed.params, unsummed.params, "weights after step {step}");
        }
        assert!(
            g1.tensors().all(|t| t.data.iter().all(|&x| x == 0.0)),
            "grads never written"
        );
    }

    #[test]
    fn shards_give_the_whole_batch_gradient_and_repeat_bit_for_bit() {
        let (cfg, model, (b, t), tokens, targets) = small_batch();
        let run = |k: usize, shards: &mut Shards| {
            let mut grads = Params::zeros(&cfg);
            let mut acts = Activations::default();
            let loss = forward_backward(
                &model, shards, &mut acts, &tokens, &targets, b, t, k, true, &mut grads,
            );
            (loss, grads)
        };
        let mut shards = Shards::default();
        let (loss1, g1) = run(1, &mut shards);
        for k in [2, 3, 5] {
            let (loss_k, gk) = run(k, &mut shards);
            assert!(
                (loss_k - loss1).abs() < 1e-6,
                "k = {k}: loss {loss_k} vs {loss1}"
            );
            for (a, bb) in g1.tensors().zip(gk.tensors()) {
                let scale = a.data.iter().fold(1e-3_f32, |m, v| m.max(v.abs()));
                for (x, y) in a.data.iter().zip(bb.data) {
                    assert!((x - y).abs() <= 1e-5 * scale, "k = {k}: {x} vs {y}");
                }
            }
            let (again, g_again) = run(k, &mut shards);
            assert_eq!(again.to_bits(), loss_k.to_bits());
            assert_eq!(g_again, gk, "k = {k} repeats bit for bit");
            // A step taken in parts and left unfinished (a shard's pass, no `reduce`, so its
            // gradients are not zeroed for it): the next step still starts that shard from zero.
            shards.pass(&model, &tokens, &targets, b, t, 0, k, true);
            let (after, g_after) = run(k, &mut shards);
            assert_eq!(after.to_bits(), loss_k.to_bits());
            assert_eq!(g_after, gk, "k = {k} after an unfinished step");
        }
    }

    /// The elementwise loops (`engine::simd::multiversion!`) run 16 lanes wide on a CPU with
    /// AVX-512 and 8 wide with AVX2 alone, and the products take the 6 × 32 or the 6 × 16
    /// kernel. Rust fuses no multiply-add, LLVM reorders no float sum and the two kernels give
    /// the same bits (`engine::gemm`), so three training steps give the same bits either way.
    /// Row lengths 40 and 160 and 19 keys per row leave different tails at 8 and 16 lanes.
    /// (Without AVX-512 on the machine both runs take the AVX2 code and this compares it with
    /// itself.)
    #[test]
    fn the_avx512_loops_and_kernel_train_to_the_avx2_bits() {
        use crate::engine::simd::NO_AVX512;
        use crate::model::optim::{AdamW, AdamWConfig};
        let (b, t) = (3, 19);
        for norm in [NormKind::LayerNorm, NormKind::RmsNorm] {
            let cfg = GptConfig {
                vocab_size: 13,
                n_layer: 2,
                n_head: 2,
                n_embd: 40,
                block_size: t,
                norm,
                ..GptConfig::default()
            };
            let tokens: Vec<usize> = (0..b * t).map(|i| (i * 7) % 13).collect();
            let targets: Vec<usize> = (0..b * t).map(|i| (i * 5 + 1) % 13).collect();
            let train = |avx2_only: bool| {
                NO_AVX512.with(|c| c.set(avx2_only));
                let mut model = Gpt::new(cfg.clone(), &mut StdRng::seed_from_u64(5));
                let mut optim = AdamW::new(AdamWConfig::default(), &model.params);
                let (mut acts, mut shards) = (Activations::default(), Shards::default());
                let mut losses = Vec::new();
                for _ in 0..3 {
                    let mut grads = Params::zeros(&cfg);
                    // One shard: the whole step on this thread, where the switch is set.
                    let loss = forward_backward(
                        &model,
                        &mut shards,
                        &mut acts,
                        &tokens,
                        &targets,
                        b,
                        t,
                        1,
                        true,
                        &mut grads,
                    );
                    optim.step(&mut model.params, &grads);
                    losses.push(loss.to_bits());
                }
                NO_AVX512.with(|c| c.set(false));
                (losses, model.params)
            };
            let (losses512, params512) = train(false);
            let (losses256, params256) = train(true);
            assert_eq!(losses512, losses256, "{norm:?}: losses");
            assert_eq!(params512, params256, "{norm:?}: weights after 3 steps");
        }
    }
}
