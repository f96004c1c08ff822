//! `Trainer`: model, optimizer, data and RNG; `step()` is plain, synchronous and deterministic
//! from the seed (tests drive it without threads; the worker calls it in a loop).
//!
//! A non-finite loss or non-finite weights after an update is a divergence: the step reports it
//! and the weights and optimizer state roll back to the last good ones.

use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::data_parallel::{Shards, forward_backward, shard_count};
use crate::data::{Dataset, Task};
use crate::engine::pool;
use crate::model::gpt::{Activations, Gpt, Params, gpt_forward};
use crate::model::optim::{AdamW, AdamWConfig};
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
    /// AdamW learning rate.
    pub lr: f32,
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
            seed: 0,
            eval_every: 25,
            eval_batches: 4,
        }
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
    /// The loss or the weights went non-finite; the weights were rolled back.
    pub diverged: bool,
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
    /// Weights and optimizer state after the last step that ended finite (the rollback point).
    last_good: (Params, AdamW),
}

impl Trainer {
    /// Build the data and a freshly initialised model from `config`.
    pub fn new(mut config: TrainConfig) -> Result<Self, String> {
        let ctx = config.model.block_size;
        let data = match (&config.task, &config.text_file) {
            (Task::Text, Some(path)) => Dataset::from_file(path, ctx)?,
            (Task::Text, None) => return Err("the text task needs a file (--text-file)".into()),
            (task, _) => Dataset::builtin(task, config.seed, 60_000, ctx)?,
        };
        config.model.vocab_size = data.tokenizer.len();
        config.model.validate()?;
        if config.batch == 0 {
            return Err("batch must be at least 1".into());
        }
        if !(config.lr.is_finite() && config.lr > 0.0) {
            return Err(format!(
                "the learning rate must be a positive number, got {}",
                config.lr
            ));
        }
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
        let last_good = (gpt.params.clone(), optim.clone());
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
            last_good,
        })
    }

    /// Use at most this many threads for a step (default: the machine's cores).
    pub fn set_threads(&mut self, threads: usize) {
        self.cores = threads.max(1);
    }

    /// Steps completed.
    pub fn steps(&self) -> usize {
        self.step
    }

    /// Change the learning rate (takes effect at the next step).
    pub fn set_lr(&mut self, lr: f32) {
        if lr.is_finite() && lr > 0.0 {
            self.config.lr = lr;
            self.optim.config.lr = lr;
        }
    }

    /// Replace the model (e.g. a loaded checkpoint) and restart the optimizer.
    pub fn set_model(&mut self, gpt: Gpt) {
        self.config.model = gpt.config.clone();
        self.optim = AdamW::new(self.optim.config, &gpt.params);
        self.grads = Params::zeros(&gpt.config);
        self.last_good = (gpt.params.clone(), self.optim.clone());
        self.gpt = gpt;
    }

    /// One training step: a batch, forward, backward, AdamW.
    pub fn step(&mut self) -> StepStats {
        let started = Instant::now();
        let (b, t) = (self.config.batch, self.config.model.block_size);
        self.data.batch(
            false,
            &mut self.rng,
            b,
            t,
            &mut self.inputs,
            &mut self.targets,
        );
        let k = shard_count(&self.gpt, b, t, self.cores);
        let loss = forward_backward(
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
        );
        let mut diverged = !loss.is_finite();
        let mut grad_norm = f32::NAN;
        if !diverged {
            grad_norm = self.optim.step(&mut self.gpt.params, &self.grads);
            diverged = !grad_norm.is_finite() || !self.gpt.params.all_finite();
        }
        if diverged {
            self.gpt.params.copy_from(&self.last_good.0);
            self.optim.copy_from(&self.last_good.1);
        } else {
            self.last_good.0.copy_from(&self.gpt.params);
            self.last_good.1.copy_from(&self.optim);
            if self.gpt.config.norm == NormKind::BatchNorm {
                self.gpt.bn.clone_from(&self.acts.bn_updated);
            }
        }
        self.step += 1;
        let every = self.config.eval_every;
        let val_loss = (every > 0 && self.step.is_multiple_of(every)).then(|| self.val_loss());
        let secs = started.elapsed().as_secs_f32().max(1e-9);
        StepStats {
            step: self.step,
            loss,
            grad_norm,
            tokens_per_sec: (b * t) as f32 / secs,
            val_loss,
            diverged,
        }
    }

    /// Mean loss over `eval_batches` validation batches (eval mode; a fixed sampling seed so that
    /// successive values are comparable).
    pub fn val_loss(&mut self) -> f32 {
        let (b, t) = (self.config.batch, self.config.model.block_size);
        let mut rng = StdRng::seed_from_u64(self.config.seed ^ 0x5EED);
        let mut acts = Activations::default();
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        let n = self.config.eval_batches.max(1);
        let mut total = 0.0;
        for _ in 0..n {
            self.data
                .batch(true, &mut rng, b, t, &mut inputs, &mut targets);
            total += gpt_forward(&self.gpt, &mut acts, &inputs, Some(&targets), b, t, false)
                .unwrap_or(f32::NAN);
        }
        total / n as f32
    }
}
