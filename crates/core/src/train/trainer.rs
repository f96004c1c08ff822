//! `Trainer`: model, optimizer, data and RNG; `step()` is plain, synchronous and deterministic
//! from the seed (tests drive it without threads; the worker calls it in a loop). Without
//! threads (a browser), `step_part()` takes the same step a part at a time, so that the page
//! can draw between parts.
//!
//! A divergence — a loss or gradient that is not finite, a loss far above anything a working
//! model gives, or a weight that blew up after the update — is caught before it can spread: the
//! step reports it and the weights, optimizer state and BatchNorm statistics go back to the last
//! good ones (the last validation whose loss was finite and sane). The caller stops: the runner
//! pauses, `attention-lab train` exits with an error instead of saving.

use web_time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::data_parallel::{
    Shards, forward_backward_unsummed, part_count, shard_bounds, shard_count,
};
use crate::data::{Dataset, Task};
use crate::engine::pool;
use crate::engine::subnormal::Flush;
use crate::model::gpt::{Activations, Gpt, Params, gpt_forward};
use crate::model::optim::{AdamW, AdamWConfig, Gradient};
use crate::model::{GptConfig, NormKind};

/// Everything that defines a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// The model (its `vocab_size` is set from the data's tokenizer).
    pub model: GptConfig,
    /// What to train on.
    pub task: Task,
    /// For the text task: the file.
    pub text_file: Option<std::path::PathBuf>,
    /// Sequences per batch.
    pub batch: usize,
    /// AdamW's peak learning rate.
    pub lr: f32,
    /// The learning rate decays from `lr` to `lr_min_ratio · lr` along a half cosine over this
    /// many steps, then stays there (0: constant). The loss of the bears task flattens within a
    /// few hundred steps at the entropy of the corpus' own choices; past that, at a constant
    /// rate, many attention patterns fit equally well and the heads keep drifting (measured: a
    /// weight of a head changes by up to 0.9 every 150 steps, against 0.2 with the decay).
    pub lr_decay_steps: usize,
    /// The fraction of `lr` the decay ends at.
    pub lr_min_ratio: f32,
    /// Seed of initialisation and batch sampling.
    pub seed: u64,
    /// Validation loss every this many steps (0: never).
    pub eval_every: usize,
    /// Batches averaged for a validation loss.
    pub eval_batches: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: GptConfig::default(),
            task: Task::Bears,
            text_file: None,
            batch: 16,
            lr: 3e-3,
            lr_decay_steps: 600,
            lr_min_ratio: 0.1,
            seed: 0,
            eval_every: 25,
            eval_batches: 4,
        }
    }
}

/// Training's own limits (the model's are `model::config::limits`).
pub mod limits {
    /// Most sequences per batch.
    pub const MAX_BATCH: usize = 512;
    /// The learning rate's range.
    pub const LR: (f32, f32) = (1e-6, 1.0);
    /// Most memory a run may need (weights, gradients, AdamW moments, the last good copy,
    /// activations): 2 GiB.
    pub const MAX_MEMORY: usize = 2 << 30;
    /// A longer validation is not worth waiting for between steps.
    pub const MAX_EVAL_BATCHES: usize = 64;
}

impl TrainConfig {
    /// The learning rate of step `step` (counting from 1): from `lr` down to
    /// `lr_min_ratio · lr` along a half cosine over [`TrainConfig::lr_decay_steps`] steps,
    /// then flat.
    pub fn lr_at(&self, step: usize) -> f32 {
        if self.lr_decay_steps == 0 {
            return self.lr;
        }
        let t = (step.saturating_sub(1) as f32 / self.lr_decay_steps as f32).min(1.0);
        let cosine = 0.5 * (1.0 + (std::f32::consts::PI * t).cos());
        self.lr * (self.lr_min_ratio + (1.0 - self.lr_min_ratio) * cosine)
    }

    /// Bytes a run of this configuration needs, roughly: seven copies of the weights (weights,
    /// gradients, the two AdamW moments, and the last good weights and moments) and the
    /// activations of one batch (per layer 17 T·C floats and the 2·H·T² attention maps per
    /// sequence, the logits, probabilities and their gradient 3·T·V, and the backward's
    /// buffers ≈ 20 T·C), in f32.
    pub fn memory_bytes(&self) -> usize {
        let m = &self.model;
        let (t, c, v, h, l) = (m.block_size, m.n_embd, m.vocab_size, m.n_head, m.n_layer);
        let per_layer = (17 * t * c).saturating_add(2 * h * t.saturating_mul(t));
        let per_seq = l
            .saturating_mul(per_layer)
            .saturating_add(3 * t.saturating_mul(v))
            .saturating_add(20 * t * c);
        let floats = m
            .param_count()
            .saturating_mul(7)
            .saturating_add(self.batch.saturating_mul(per_seq));
        floats.saturating_mul(4)
    }

    /// Check the run can be built on this machine: the model's limits, the batch, the learning
    /// rate, the validation schedule, the text file only for the text task, and the memory it
    /// needs. The error names the field, its value and the range.
    pub fn validate(&self) -> Result<(), String> {
        use limits::*;
        self.model.validate()?;
        if !(1..=MAX_BATCH).contains(&self.batch) {
            return Err(format!(
                "batch must be between 1 and {MAX_BATCH}, got {}",
                self.batch
            ));
        }
        if !(self.lr.is_finite() && (LR.0..=LR.1).contains(&self.lr)) {
            return Err(format!(
                "the learning rate must be between {:e} and {}, got {}",
                LR.0,
                LR.1,
                crate::model::config::number(f64::from(self.lr))
            ));
        }
        if !(self.lr_min_ratio.is_finite() && (0.0..=1.0).contains(&self.lr_min_ratio)) {
            return Err(format!(
                "lr_min_ratio must be between 0 and 1, got {}",
                crate::model::config::number(f64::from(self.lr_min_ratio))
            ));
        }
        if self.lr_decay_steps > 10_000_000 {
            return Err(format!(
                "lr_decay_steps must be at most 10000000, got {}",
                self.lr_decay_steps
            ));
        }
        if !(1..=MAX_EVAL_BATCHES).contains(&self.eval_batches) {
            return Err(format!(
                "eval_batches must be between 1 and {MAX_EVAL_BATCHES}, got {}",
                self.eval_batches
            ));
        }
        match (&self.task, &self.text_file) {
            (Task::Text, None) => return Err("the text task needs a file (--text-file)".into()),
            (Task::Text, Some(_)) | (_, None) => {}
            (task, Some(_)) => {
                return Err(format!(
                    "a text file is only read by the text task (the task is {task:?}): use --task text"
                ));
            }
        }
        let bytes = self.memory_bytes();
        if bytes > MAX_MEMORY {
            return Err(format!(
                "this run would need about {} MB of memory (at most {} MB): make the model, the \
                 context or the batch smaller",
                bytes / 1_000_000,
                MAX_MEMORY / 1_000_000
            ));
        }
        Ok(())
    }
}

/// What one step reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Steps completed (after this one).
    pub step: usize,
    /// Training loss of this step's batch.
    pub loss: f32,
    /// Gradient norm before clipping.
    pub grad_norm: f32,
    /// Tokens processed per second by this step.
    pub tokens_per_sec: f32,
    /// Validation loss, when this step ran an evaluation.
    pub val_loss: Option<f32>,
    /// The step was refused as a divergence: the weights were put back to the last good ones
    /// and training should stop (the runner pauses, `train` exits).
    pub diverged: Option<Divergence>,
}

/// Why a step was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Divergence {
    /// The loss was NaN or infinite.
    LossNotFinite,
    /// The loss was far above anything a working model gives: above `bound`.
    LossExploded {
        /// The step's loss.
        loss: f32,
        /// The largest loss taken as sane at that point.
        bound: f32,
    },
    /// The gradient was NaN or infinite.
    GradientNotFinite,
    /// After the update a weight's magnitude exceeded [`MAX_WEIGHT`] (or was not finite).
    WeightsExploded,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Divergence::LossNotFinite => write!(f, "the loss became NaN or infinite"),
            Divergence::LossExploded { loss, bound } => {
                write!(f, "the loss jumped to {loss:.2} (above {bound:.2})")
            }
            Divergence::GradientNotFinite => write!(f, "the gradient became NaN or infinite"),
            Divergence::WeightsExploded => {
                write!(f, "a weight grew past ±{MAX_WEIGHT:e}")
            }
        }
    }
}

pub use crate::model::config::limits::MAX_WEIGHT;
/// Losses kept for the explosion check.
const LOSS_WINDOW: usize = 50;

/// The rollback point: the weights, optimizer state and BatchNorm statistics at the last
/// validation whose loss was finite and sane (or at the start).
struct LastGood {
    params: Params,
    optim: AdamW,
    bn: Vec<crate::model::norm::BnRunning>,
    step: usize,
}

/// Where a step taken in parts stands (see [`Trainer::step_part`]).
struct Partial {
    started: Instant,
    /// Shards of the batch, one per part.
    k: usize,
    stage: Stage,
}

enum Stage {
    /// Shard `i`'s forward and backward comes next (the batch is drawn).
    Shard(usize),
    /// The weights are updated; the validation goes on.
    Validate(StepStats, Box<Validation>),
}

/// A validation loss computed a part at a time: the mean over `n` batches (drawn from a fixed
/// seed) of each batch's loss, a batch in `k` shards of sequences weighted n_i / n as in
/// training.
struct Validation {
    rng: StdRng,
    acts: Activations,
    inputs: Vec<usize>,
    targets: Vec<usize>,
    k: usize,
    /// The batch and shard that come next.
    batch: usize,
    shard: usize,
    /// The current batch's loss so far, the finished batches' sum.
    batch_loss: f32,
    total: f32,
}

impl Validation {
    fn new(seed: u64, k: usize) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed ^ 0x5EED),
            acts: Activations::default(),
            inputs: Vec::new(),
            targets: Vec::new(),
            k,
            batch: 0,
            shard: 0,
            batch_loss: 0.0,
            total: 0.0,
        }
    }

    /// One shard of one batch (b sequences of t tokens); the mean over the `n` batches once the
    /// last is done.
    fn advance(&mut self, gpt: &Gpt, data: &Dataset, b: usize, t: usize, n: usize) -> Option<f32> {
        if self.shard == 0 {
            data.batch(
                true,
                &mut self.rng,
                b,
                t,
                &mut self.inputs,
                &mut self.targets,
            );
            self.batch_loss = 0.0;
        }
        let (lo, hi) = shard_bounds(self.shard, b, self.k);
        let (tok, tgt) = (&self.inputs[lo * t..hi * t], &self.targets[lo * t..hi * t]);
        let loss =
            gpt_forward(gpt, &mut self.acts, tok, Some(tgt), hi - lo, t, false).unwrap_or(f32::NAN);
        self.batch_loss += (hi - lo) as f32 / b as f32 * loss;
        self.shard += 1;
        if self.shard < self.k {
            return None;
        }
        self.shard = 0;
        self.total += self.batch_loss;
        self.batch += 1;
        (self.batch == n).then(|| self.total / n as f32)
    }
}

/// A training run.
pub struct Trainer {
    /// The run's settings.
    pub config: TrainConfig,
    /// The model being trained.
    pub gpt: Gpt,
    /// The data.
    pub data: Dataset,
    optim: AdamW,
    rng: StdRng,
    acts: Activations,
    grads: Params,
    inputs: Vec<usize>,
    targets: Vec<usize>,
    step: usize,
    shards: Shards,
    cores: usize,
    /// A step taken in parts, between two of its parts.
    partial: Option<Partial>,
    last_good: LastGood,
    /// The last [`LOSS_WINDOW`] training losses, oldest first.
    recent: std::collections::VecDeque<f32>,
    /// The last step's gradient norm over each block's weights (see [`Self::layer_grad_norms`]).
    layer_grad_norms: Vec<f32>,
    /// Each gradient tensor's Σ g² in the last step (`Gradient::tensor_sums_into`; kept, so that
    /// a step allocates nothing).
    tensor_sums: Vec<f64>,
}

impl Trainer {
    /// Build the data and a freshly initialised model from `config`.
    pub fn new(config: TrainConfig) -> Result<Self, String> {
        config.validate()?;
        let ctx = config.model.block_size;
        let data = match (&config.task, &config.text_file) {
            (Task::Text, Some(path)) => Dataset::from_file(path, ctx)?,
            (Task::Text, None) => return Err("the text task needs a file (--text-file)".into()),
            (task, _) => Dataset::builtin_shared(task, config.seed, 60_000, ctx)?,
        };
        Self::from_dataset(config, data)
    }

    /// A freshly initialised model for `config` on data already built (the vocabulary comes
    /// from the data's tokenizer).
    pub fn from_dataset(mut config: TrainConfig, data: Dataset) -> Result<Self, String> {
        config.model.vocab_size = data.tokenizer.len();
        config.validate()?;
        let mut rng = StdRng::seed_from_u64(config.seed);
        let gpt = Gpt::new(config.model.clone(), &mut rng);
        let optim = AdamW::new(
            AdamWConfig {
                lr: config.lr,
                ..AdamWConfig::default()
            },
            &gpt.params,
        );
        let grads = Params::zeros(&config.model);
        let n_layer = config.model.n_layer;
        let last_good = LastGood {
            params: gpt.params.clone(),
            optim: optim.clone(),
            bn: gpt.bn.clone(),
            step: 0,
        };
        Ok(Self {
            config,
            gpt,
            data,
            optim,
            rng,
            acts: Activations::default(),
            grads,
            inputs: Vec::new(),
            targets: Vec::new(),
            step: 0,
            shards: Shards::default(),
            cores: pool::threads(),
            partial: None,
            last_good,
            recent: std::collections::VecDeque::with_capacity(LOSS_WINDOW),
            layer_grad_norms: Vec::with_capacity(n_layer),
            tensor_sums: Vec::new(),
        })
    }

    /// Use at most this many threads for a step (default: the machine's cores).
    pub fn set_threads(&mut self, threads: usize) {
        self.cores = threads.max(1);
    }

    /// The inputs and targets of the last step's batch (B·T each), for tests that recompute
    /// its gradient.
    pub fn last_batch(&self) -> (&[usize], &[usize]) {
        (&self.inputs, &self.targets)
    }

    /// The last step's gradient norm over each block's weights, first block first, before
    /// clipping; empty when that step was refused before its gradient was looked at.
    pub fn layer_grad_norms(&self) -> &[f32] {
        &self.layer_grad_norms
    }

    /// Steps completed.
    pub fn steps(&self) -> usize {
        self.step
    }

    /// The step whose weights a divergence rolls back to.
    pub fn last_good_step(&self) -> usize {
        self.last_good.step
    }

    /// Change the learning rate (takes effect at the next step); refused outside the range of
    /// [`limits::LR`], with the reason.
    pub fn set_lr(&mut self, lr: f32) -> Result<(), String> {
        let (lo, hi) = limits::LR;
        if !(lr.is_finite() && (lo..=hi).contains(&lr)) {
            return Err(format!("the learning rate must be between {lo:e} and {hi}"));
        }
        self.config.lr = lr;
        self.optim.config.lr = lr;
        Ok(())
    }

    /// Replace the model (e.g. a loaded checkpoint) and restart the optimizer.
    pub fn set_model(&mut self, gpt: Gpt) {
        // A step in parts belongs to the old weights.
        self.partial = None;
        self.config.model = gpt.config.clone();
        self.optim = AdamW::new(self.optim.config, &gpt.params);
        self.grads = Params::zeros(&gpt.config);
        self.last_good = LastGood {
            params: gpt.params.clone(),
            optim: self.optim.clone(),
            bn: gpt.bn.clone(),
            step: self.step,
        };
        self.recent.clear();
        self.gpt = gpt;
    }

    /// Continue the count of steps from `step` (a pretrained model: its run's steps are done,
    /// so the learning-rate schedule goes on from there).
    pub fn resume_at(&mut self, step: usize) {
        self.step = step;
        self.last_good.step = step;
    }

    /// The learning rate of step `step` (see [`TrainConfig::lr_at`]).
    pub fn lr_at(&self, step: usize) -> f32 {
        self.config.lr_at(step)
    }

    /// ln V: the loss of a model that predicts every token with equal probability.
    fn uniform_loss(&self) -> f32 {
        (self.config.model.vocab_size.max(2) as f32).ln()
    }

    /// The largest training loss taken as sane now: nothing that trains does worse than three
    /// times the uniform loss plus 3 nats, nor jumps past 4 × the median of the last
    /// [`LOSS_WINDOW`] losses plus 1.
    fn loss_bound(&self) -> f32 {
        let absolute = 3.0 * self.uniform_loss() + 3.0;
        if self.recent.len() < 10 {
            return absolute;
        }
        let mut sorted: Vec<f32> = self.recent.iter().copied().collect();
        sorted.sort_by(f32::total_cmp);
        let median = sorted[sorted.len() / 2];
        absolute.min(4.0 * median + 1.0)
    }

    /// One training step: a batch, forward, backward, and — unless the loss, the gradient or
    /// the updated weights say the run has diverged — the AdamW update. A divergence puts the
    /// weights back to the last good ones ([`Trainer::last_good_step`]) and is reported; it is
    /// for the caller to stop.
    pub fn step(&mut self) -> StepStats {
        // A step left in parts is dropped: this one starts from a new batch.
        self.partial = None;
        // Subnormals flushed to zero while the step computes (`engine::subnormal`).
        let _flush = Flush::on();
        let started = Instant::now();
        let (b, t) = (self.config.batch, self.config.model.block_size);
        self.draw_batch();
        let k = shard_count(&self.gpt, b, t, self.cores);
        // Cut in shards, the pool's other threads are kept awake between the step's forks.
        let mut stats = pool::awake_if(k >= 2, || {
            let loss = self.forward_backward(k);
            self.update(loss, k)
        });
        if self.validates(&stats) {
            stats.val_loss = Some(self.evaluate());
        }
        self.finish(stats, started)
    }

    /// [`Trainer::step`] one part at a time, for a caller that must return often (no thread: a
    /// browser's main thread trains between its frames). A step is [`part_count`] parts of
    /// forward + backward, one shard of the batch each (the last one also averages the shards'
    /// gradients and updates the weights), then, when the step validates, one part per shard of
    /// each validation batch. Returns the step's stats after its last part, `None` before.
    ///
    /// The shards are fixed by the model and the batch, so a run taken in parts repeats bit for
    /// bit; its weights are those of [`Trainer::step`] on a machine that cuts the batch into as
    /// many shards (one piece when [`part_count`] is 1), its validation losses the same up to the
    /// order of the sums. The weights change only in the last training part: between parts the
    /// model can be read, saved or sent, the learning rate changed; [`Trainer::set_model`]
    /// drops a step in progress.
    pub fn step_part(&mut self) -> Option<StepStats> {
        let _flush = Flush::on();
        let (b, t) = (self.config.batch, self.config.model.block_size);
        let mut part = match self.partial.take() {
            Some(p) => p,
            None => {
                self.draw_batch();
                Partial {
                    started: Instant::now(),
                    k: part_count(&self.gpt, b, t),
                    stage: Stage::Shard(0),
                }
            }
        };
        let k = part.k;
        match part.stage {
            Stage::Shard(i) => {
                let loss = if k == 1 {
                    // One piece: exactly `step`'s pass (BatchNorm's statistics come from `acts`).
                    self.forward_backward(1)
                } else {
                    self.shards
                        .pass(&self.gpt, &self.inputs, &self.targets, b, t, i, k, true);
                    if i + 1 < k {
                        part.stage = Stage::Shard(i + 1);
                        self.partial = Some(part);
                        return None;
                    }
                    self.shards.reduce(k, b, &mut self.grads)
                };
                // (`shards.reduce` above, or one piece: the gradient is in `grads`)
                let stats = self.update(loss, 1);
                if !self.validates(&stats) {
                    return Some(self.finish(stats, part.started));
                }
                part.stage = Stage::Validate(stats, Box::new(Validation::new(self.config.seed, k)));
                self.partial = Some(part);
                None
            }
            Stage::Validate(mut stats, mut v) => {
                let n = self.config.eval_batches.max(1);
                match v.advance(&self.gpt, &self.data, b, t, n) {
                    Some(val) => {
                        stats.val_loss = Some(self.accept_validation(val));
                        Some(self.finish(stats, part.started))
                    }
                    None => {
                        part.stage = Stage::Validate(stats, v);
                        self.partial = Some(part);
                        None
                    }
                }
            }
        }
    }

    /// Forward and backward over the drawn batch in `k` shards on the pool; the gradient into
    /// `grads`, or with two shards left in theirs ([`Shards::gradient`]); the batch's mean loss
    /// returned.
    fn forward_backward(&mut self, k: usize) -> f32 {
        let (b, t) = (self.config.batch, self.config.model.block_size);
        forward_backward_unsummed(
            &self.gpt,
            &mut self.shards,
            &mut self.acts,
            &self.inputs,
            &self.targets,
            b,
            t,
            k,
            true,
            &mut self.grads,
        )
    }

    /// A new training batch into `inputs`, `targets`.
    fn draw_batch(&mut self) {
        let (b, t) = (self.config.batch, self.config.model.block_size);
        self.data.batch(
            false,
            &mut self.rng,
            b,
            t,
            &mut self.inputs,
            &mut self.targets,
        );
    }

    /// After forward and backward (the batch's mean `loss`; its gradient in `grads`, or, after
    /// [`Trainer::forward_backward`] in two shards, `k` = 2, in theirs): the update, unless the
    /// loss, the gradient or the new weights say the run diverged (then the last good weights
    /// come back). The stats lack the throughput and the validation.
    fn update(&mut self, loss: f32, k: usize) -> StepStats {
        let mut grad_norm = f32::NAN;
        self.layer_grad_norms.clear();
        // Checked before the update: a bad batch never touches the weights.
        let bound = self.loss_bound();
        let mut diverged = if !loss.is_finite() {
            Some(Divergence::LossNotFinite)
        } else if loss > bound {
            Some(Divergence::LossExploded { loss, bound })
        } else {
            // Each tensor's Σ g² once, for the global norm and the per-block ones.
            let sums = &mut self.tensor_sums;
            self.shards
                .gradient(k, self.config.batch, &self.grads)
                .tensor_sums_into(sums);
            grad_norm = Gradient::norm(sums);
            self.grads
                .block_norms_from(sums, &mut self.layer_grad_norms);
            (!grad_norm.is_finite()).then_some(Divergence::GradientNotFinite)
        };
        if diverged.is_none() {
            self.optim.config.lr = self.lr_at(self.step + 1);
            let gradient = self.shards.gradient(k, self.config.batch, &self.grads);
            self.optim
                .step_gradient(&mut self.gpt.params, gradient, grad_norm);
            if k == 2 {
                self.shards.parts_taken();
            }
            let biggest = self.gpt.params.max_abs();
            if !biggest.is_finite() || biggest > MAX_WEIGHT {
                diverged = Some(Divergence::WeightsExploded);
            } else if self.gpt.config.norm == NormKind::BatchNorm {
                self.gpt.bn.clone_from(&self.acts.bn_updated);
            }
        }
        self.step += 1;
        if diverged.is_some() {
            self.roll_back();
        } else {
            if self.recent.len() == LOSS_WINDOW {
                self.recent.pop_front();
            }
            self.recent.push_back(loss);
        }
        StepStats {
            step: self.step,
            loss,
            grad_norm,
            tokens_per_sec: 0.0,
            val_loss: None,
            diverged,
        }
    }

    /// Does the step that `stats` reports end with a validation?
    fn validates(&self, stats: &StepStats) -> bool {
        let every = self.config.eval_every;
        stats.diverged.is_none() && every > 0 && self.step.is_multiple_of(every)
    }

    /// The step's throughput, from when it started.
    fn finish(&self, stats: StepStats, started: Instant) -> StepStats {
        let (b, t) = (self.config.batch, self.config.model.block_size);
        let secs = started.elapsed().as_secs_f32().max(1e-9);
        StepStats {
            tokens_per_sec: (b * t) as f32 / secs,
            ..stats
        }
    }

    /// Put the weights, optimizer and BatchNorm statistics back to the last good ones.
    fn roll_back(&mut self) {
        self.gpt.params.copy_from(&self.last_good.params);
        self.optim.copy_from(&self.last_good.optim);
        self.gpt.bn.clone_from(&self.last_good.bn);
        self.recent.clear();
    }

    /// The validation loss; when it is finite and sane (at most 1.5 · ln V + 1, i.e. not far
    /// worse than guessing), the current weights become the rollback point.
    fn evaluate(&mut self) -> f32 {
        let val = self.val_loss();
        self.accept_validation(val)
    }

    /// A validation loss `val` that is finite and sane makes the current weights the rollback
    /// point; returns `val`.
    fn accept_validation(&mut self, val: f32) -> f32 {
        if val.is_finite() && val <= 1.5 * self.uniform_loss() + 1.0 {
            self.last_good.params.copy_from(&self.gpt.params);
            self.last_good.optim.copy_from(&self.optim);
            self.last_good.bn.clone_from(&self.gpt.bn);
            self.last_good.step = self.step;
        }
        val
    }

    /// Mean loss over `eval_batches` validation batches (eval mode; a fixed sampling seed so that
    /// successive values are comparable).
    pub fn val_loss(&mut self) -> f32 {
        let _flush = Flush::on();
        let (b, t) = (self.config.batch, self.config.model.block_size);
        let n = self.config.eval_batches.max(1);
        let mut v = Validation::new(self.config.seed, 1);
        loop {
            if let Some(val) = v.advance(&self.gpt, &self.data, b, t, n) {
                return val;
            }
        }
    }
}
