//! The norms lesson's math: a synthetic population of features, the three normalisations of a
//! matrix by the model's own forward functions, their statistics along either axis, BatchNorm's
//! batch estimates and running averages, γ, β and the ReLU, and the BatchNorm model served in
//! the ways a transformer is served.

use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::stats::{mean, normal_cdf, randn, variance};
use crate::data::{Dataset, Task};
use crate::model::gpt::{Activations, Gpt, gpt_forward};
use crate::model::norm::{
    BnRunning, NormCache, batchnorm_forward, layernorm_forward, rmsnorm_forward,
};

/// Batches drawn to measure the spread of BN's estimates.
pub const TRIALS: usize = 300;
/// Samples for the ReLU clipping estimate.
pub const CLIP_SAMPLES: usize = 20_000;
/// Batch sizes of the spread-vs-B curve.
pub const SPREAD_SIZES: [usize; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/// Where BN sits relative to the ReLU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReluOrder {
    /// BN → γ, β → ReLU: γ and β decide how much is clipped.
    #[default]
    Before,
    /// ReLU → BN → γ, β: BN moves the already clipped Gaussian.
    After,
}

/// The synthetic population: feature j ~ N(μ_j, σ_j²) with μ_j = mean_spread·N(0,1) and
/// σ_j = exp(scale_spread·N(0,1)).
#[derive(Debug, Clone)]
pub struct Population {
    /// μ_j: (C)
    pub mean: Vec<f64>,
    /// σ_j: (C)
    pub std: Vec<f64>,
}

impl Population {
    /// The seeded population of `features` features.
    pub fn new(features: usize, mean_spread: f64, scale_spread: f64, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x0B0B);
        let mean = (0..features)
            .map(|_| mean_spread * randn(&mut rng))
            .collect();
        let std = (0..features)
            .map(|_| (scale_spread * randn(&mut rng)).exp())
            .collect();
        Self { mean, std }
    }

    /// A batch of `b` samples: (b, C).
    pub fn sample(&self, b: usize, rng: &mut StdRng) -> Array2<f32> {
        Array2::from_shape_fn((b, self.mean.len()), |(_, j)| {
            (self.mean[j] + self.std[j] * randn(rng)) as f32
        })
    }
}

/// The three normalisations of x (B, C) with γ = 1, β = 0, by the model's own forward functions.
pub struct Normalised {
    /// BatchNorm (train mode: statistics of this batch).
    pub bn: Array2<f32>,
    /// LayerNorm.
    pub ln: Array2<f32>,
    /// RMSNorm.
    pub rms: Array2<f32>,
}

/// Apply BN (train mode), LN and RMSNorm to x: (B, C).
pub fn normalise(x: &Array2<f32>) -> Normalised {
    let c = x.ncols();
    let (w, b) = (Array1::<f32>::ones(c), Array1::<f32>::zeros(c));
    let mut cache = NormCache::default();
    let mut bn = Array2::zeros(x.dim());
    batchnorm_forward(
        bn.view_mut(),
        x.view(),
        w.view(),
        b.view(),
        &mut cache,
        &mut BnRunning::new(c),
        true,
    );
    let mut ln = Array2::zeros(x.dim());
    layernorm_forward(ln.view_mut(), x.view(), w.view(), b.view(), &mut cache);
    let mut rms = Array2::zeros(x.dim());
    rmsnorm_forward(rms.view_mut(), x.view(), w.view(), b.view(), &mut cache);
    Normalised { bn, ln, rms }
}

/// Mean and biased variance along an axis (Axis(0): per feature over the batch; Axis(1): per
/// sample over the features).
pub fn axis_stats(x: &Array2<f32>, axis: Axis) -> (Vec<f64>, Vec<f64>) {
    x.lanes(axis)
        .into_iter()
        .map(|lane| {
            let v: Vec<f64> = lane.iter().map(|&a| f64::from(a)).collect();
            (mean(&v), variance(&v))
        })
        .unzip()
}

/// The ReLU numbers of section 4.
#[derive(Debug, Clone)]
pub struct ReluClip {
    /// Fraction of samples the ReLU sets to 0.
    pub empirical: f64,
    /// Φ(−β/γ) for BN before ReLU; 1/2 (the sign of the raw input) after.
    pub theory: f64,
    /// The values after the whole chain (for the histogram).
    pub values: Vec<f64>,
}

/// z ~ N(0, 1) standardised pre-activations; Before: ReLU(γz + β); After: γ·BN(ReLU(z)) + β.
pub fn relu_clip(gamma: f64, beta: f64, order: ReluOrder, seed: u64) -> ReluClip {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5E1u64);
    let z: Vec<f64> = (0..CLIP_SAMPLES).map(|_| randn(&mut rng)).collect();
    match order {
        ReluOrder::Before => {
            let y: Vec<f64> = z.iter().map(|v| gamma * v + beta).collect();
            let clipped = y.iter().filter(|&&v| v <= 0.0).count();
            ReluClip {
                empirical: clipped as f64 / y.len() as f64,
                theory: normal_cdf(-beta / gamma),
                values: y.iter().map(|v| v.max(0.0)).collect(),
            }
        }
        ReluOrder::After => {
            let r: Vec<f64> = z.iter().map(|v| v.max(0.0)).collect();
            let clipped = z.iter().filter(|&&v| v <= 0.0).count();
            let (m, var) = (mean(&r), variance(&r));
            let rstd = 1.0 / (var + 1e-5).sqrt();
            ReluClip {
                empirical: clipped as f64 / z.len() as f64,
                theory: 0.5,
                values: r.iter().map(|v| gamma * (v - m) * rstd + beta).collect(),
            }
        }
    }
}

/// Section 3: BN's batch estimates of feature j's mean and variance over many batches of size b.
#[derive(Debug, Clone)]
pub struct BatchSpread {
    /// Batch size.
    pub b: usize,
    /// Standard deviation of the batch means over the trials.
    pub mean_sd: f64,
    /// Standard deviation of the batch variances over the trials.
    pub var_sd: f64,
    /// The batch means (for the histogram).
    pub means: Vec<f64>,
}

/// Draw [`TRIALS`] batches of size b and collect feature j's batch statistics.
pub fn batch_spread(pop: &Population, j: usize, b: usize, seed: u64) -> BatchSpread {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xBA7C ^ (b as u64) << 16);
    let (mut means, mut vars) = (Vec::with_capacity(TRIALS), Vec::with_capacity(TRIALS));
    for _ in 0..TRIALS {
        let col: Vec<f64> = (0..b)
            .map(|_| pop.mean[j] + pop.std[j] * randn(&mut rng))
            .collect();
        means.push(mean(&col));
        vars.push(variance(&col));
    }
    BatchSpread {
        b,
        mean_sd: variance(&means).sqrt(),
        var_sd: variance(&vars).sqrt(),
        means,
    }
}

/// Section 3's sampled numbers (computed in the background: 300 batches of up to 256 × 64).
pub struct SpreadResult {
    /// The spread at every size of [`SPREAD_SIZES`].
    pub curve: Vec<BatchSpread>,
    /// The spread at the chosen batch size.
    pub now: BatchSpread,
    /// (batches seen, running mean, batch mean) of the chosen feature over 100 training batches.
    pub trace: Vec<[f64; 3]>,
}

/// Compute section 3 for feature `feature` of `pop` at batch size `batch`.
pub fn spread_result(pop: &Population, feature: usize, batch: usize, seed: u64) -> SpreadResult {
    let features = pop.mean.len();
    let j = feature.min(features.saturating_sub(1));
    let curve = SPREAD_SIZES
        .iter()
        .map(|&b| batch_spread(pop, j, b, seed))
        .collect();
    let now = batch_spread(pop, j, batch, seed);
    // Train vs eval: the running mean converging over batches, by the model's BN forward.
    let mut rng = StdRng::seed_from_u64(seed ^ 0xE7A1);
    let mut running = BnRunning::new(features);
    let mut cache = NormCache::default();
    let (w, b) = (
        Array1::<f32>::ones(features),
        Array1::<f32>::zeros(features),
    );
    let mut out = Array2::zeros((batch, features));
    let mut trace = Vec::with_capacity(100);
    for step in 0..100 {
        let x = pop.sample(batch, &mut rng);
        batchnorm_forward(
            out.view_mut(),
            x.view(),
            w.view(),
            b.view(),
            &mut cache,
            &mut running,
            true,
        );
        trace.push([
            step as f64 + 1.0,
            f64::from(running.mean[j]),
            f64::from(cache.mean[j]),
        ]);
    }
    SpreadResult { curve, now, trace }
}

/// The residual stream of the bears model for a batch of validation sequences: rows = tokens.
pub fn model_rows(gpt: &Gpt, layer: usize, rows: usize, seed: u64) -> Result<Array2<f32>, String> {
    let t = gpt.config.block_size;
    let data = Dataset::builtin(&Task::Bears, seed, 4000, t)?;
    let seqs = rows.div_ceil(t).max(1);
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    data.batch(true, &mut rng, seqs, t, &mut inputs, &mut targets);
    if inputs.iter().any(|&i| i >= gpt.config.vocab_size) {
        return Err("the bears data and the bundled model disagree on the vocabulary".into());
    }
    let mut acts = Activations::default();
    gpt_forward(gpt, &mut acts, &inputs, None, seqs, t, false);
    let resid = acts
        .resid
        .get(layer.min(gpt.config.n_layer))
        .ok_or("no residual stream")?;
    Ok(resid.slice(ndarray::s![..rows, ..]).to_owned())
}

/// Section 5's evaluation of the BatchNorm run.
#[derive(Debug, Clone)]
pub struct BnEval {
    /// The training step of the model evaluated.
    pub step: usize,
    /// Loss on a full batch in train mode (the batch's statistics).
    pub full: f32,
    /// Loss of one sequence at a time in train mode.
    pub one: f32,
    /// Loss in eval mode (running averages).
    pub eval: f32,
    /// Loss of one token alone in train mode.
    pub token_alone: f32,
}

/// Serve the BatchNorm model `gpt` (trained on `task` with batches of `batch`, seed `seed`) four
/// ways and measure the validation loss of each.
pub fn evaluate_bn(gpt: &Gpt, task: &Task, batch: usize, seed: u64) -> Result<BnEval, String> {
    let t = gpt.config.block_size;
    let data = Dataset::builtin(task, seed, 4000, t)?;
    let b = batch.max(2);
    let mut rng = StdRng::seed_from_u64(7);
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    data.batch(true, &mut rng, b, t, &mut inputs, &mut targets);
    let v = gpt.config.vocab_size;
    if inputs.iter().chain(&targets).any(|&i| i >= v) {
        return Err("the run's data and model disagree on the vocabulary".into());
    }
    let mut acts = Activations::default();
    let mut loss = |inp: &[usize], tgt: &[usize], b: usize, t: usize, train: bool| {
        gpt_forward(gpt, &mut acts, inp, Some(tgt), b, t, train).unwrap_or(f32::NAN)
    };
    let full = loss(&inputs, &targets, b, t, true);
    let eval = loss(&inputs, &targets, b, t, false);
    let mut one = 0.0;
    for s in 0..b {
        let r = s * t..(s + 1) * t;
        one += loss(&inputs[r.clone()], &targets[r], 1, t, true);
    }
    let mut alone = 0.0;
    for s in 0..b {
        let i = s * t + t / 2;
        alone += loss(&inputs[i..=i], &targets[i..=i], 1, 1, true);
    }
    Ok(BnEval {
        step: 0,
        full,
        one: one / b as f32,
        eval,
        token_alone: alone / b as f32,
    })
}
