//! Data parallelism for a training step: the batch is cut into shards (one per core), each shard
//! runs `gpt_forward` + `gpt_backward` on its own thread into its own gradients, and the
//! gradients are averaged with weights n_i / n — the same gradient as one pass over the whole
//! batch (the loss is a mean over rows), up to the order of floating-point sums.
//!
//! BatchNorm couples the rows of a batch (its statistics are over all of them), so a BatchNorm
//! model is never sharded. Deterministic: the split and the order of the sums are fixed.

use super::config::NormKind;
use super::gpt::{Activations, Gpt, Params, gpt_backward, gpt_forward};

/// Below this many multiply-adds per step, one thread is faster than two.
const MIN_WORK_TO_SPLIT: usize = 4_000_000;

/// Per-shard buffers, kept between steps.
#[derive(Debug, Default)]
pub struct Shards {
    acts: Vec<Activations>,
    grads: Vec<Params>,
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

/// The number of cores to use (at least 1).
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
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
    grads.zero();
    if k <= 1 {
        let loss = gpt_forward(model, acts, tokens, Some(targets), b, t, train).unwrap_or(f32::NAN);
        if loss.is_finite() {
            gpt_backward(model, acts, targets, grads);
        }
        return loss;
    }
    shards.acts.resize_with(k, Default::default);
    if shards.grads.len() != k
        || shards
            .grads
            .first()
            .is_some_and(|g| g.count() != grads.count())
    {
        shards.grads = (0..k).map(|_| Params::zeros(&model.config)).collect();
    }
    // Sequences per shard: as even as possible.
    let bounds: Vec<(usize, usize)> = (0..k).map(|i| (i * b / k, (i + 1) * b / k)).collect();
    let mut losses = vec![f32::NAN; k];
    std::thread::scope(|scope| {
        let mut jobs = shards
            .acts
            .iter_mut()
            .zip(shards.grads.iter_mut())
            .zip(losses.iter_mut())
            .zip(&bounds)
            .map(|(((a, g), l), &(lo, hi))| {
                move || {
                    let (tok, tgt) = (&tokens[lo * t..hi * t], &targets[lo * t..hi * t]);
                    *l = gpt_forward(model, a, tok, Some(tgt), hi - lo, t, train)
                        .unwrap_or(f32::NAN);
                    g.zero();
                    if l.is_finite() {
                        gpt_backward(model, a, tgt, g);
                    }
                }
            });
        let first = jobs.next();
        let handles: Vec<_> = jobs.map(|job| scope.spawn(job)).collect();
        if let Some(mut job) = first {
            job();
        }
        for h in handles {
            let _ = h.join();
        }
    });
    let mut loss = 0.0;
    for ((lo, hi), (l, g)) in bounds.iter().zip(losses.iter().zip(&shards.grads)) {
        let w = (hi - lo) as f32 / b as f32;
        loss += w * l;
        for ((dst, _), (src, _)) in grads.iter_mut().zip(g.iter()) {
            for (d, s) in dst.iter_mut().zip(src) {
                *d += w * s;
            }
        }
    }
    loss
}
