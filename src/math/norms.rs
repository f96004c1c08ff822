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

/// Training batches of section 3's running-mean trace.
const TRACE_STEPS: usize = 100;
/// Of them, taken by one [`SpreadJob::advance`].
const TRACE_PER_PIECE: usize = 10;

/// Section 3 for feature `feature` of `pop` at batch size `batch`, computed a piece at a time
/// (with a thread, the thread takes every piece; the browser has no thread to give it: at
/// B = 256 the whole took 49 ms there, most of it the trace's 100 batches of 256 × 64): each
/// [`SpreadJob::advance`] does one batch size of the curve, the chosen size, or ten of the trace's
/// batches. The random draws are the same, in the same order, however it is cut.
pub struct SpreadJob {
    pop: Population,
    j: usize,
    batch: usize,
    seed: u64,
    curve: Vec<BatchSpread>,
    now: Option<BatchSpread>,
    /// The trace's state: its own random stream, BN's running statistics and cache.
    rng: StdRng,
    running: BnRunning,
    cache: NormCache,
    w: Array1<f32>,
    b: Array1<f32>,
    out: Array2<f32>,
    trace: Vec<[f64; 3]>,
}

impl SpreadJob {
    pub fn new(pop: Population, feature: usize, batch: usize, seed: u64) -> Self {
        let features = pop.mean.len();
        Self {
            j: feature.min(features.saturating_sub(1)),
            batch,
            seed,
            curve: Vec::with_capacity(SPREAD_SIZES.len()),
            now: None,
            // Train vs eval: the running mean converging over batches, by the model's BN forward.
            rng: StdRng::seed_from_u64(seed ^ 0xE7A1),
            running: BnRunning::new(features),
            cache: NormCache::default(),
            w: Array1::<f32>::ones(features),
            b: Array1::<f32>::zeros(features),
            out: Array2::zeros((batch, features)),
            trace: Vec::with_capacity(TRACE_STEPS),
            pop,
        }
    }

    /// One piece; the result after the last (and `None` after that).
    pub fn advance(&mut self) -> Option<SpreadResult> {
        let (pop, j, seed) = (&self.pop, self.j, self.seed);
        if let Some(&b) = SPREAD_SIZES.get(self.curve.len()) {
            self.curve.push(batch_spread(pop, j, b, seed));
            return None;
        }
        if self.now.is_none() {
            self.now = Some(batch_spread(pop, j, self.batch, seed));
            return None;
        }
        for _ in 0..TRACE_PER_PIECE {
            let step = self.trace.len();
            if step == TRACE_STEPS {
                break;
            }
            let x = pop.sample(self.batch, &mut self.rng);
            batchnorm_forward(
                self.out.view_mut(),
                x.view(),
                self.w.view(),
                self.b.view(),
                &mut self.cache,
                &mut self.running,
                true,
            );
            self.trace.push([
                step as f64 + 1.0,
                f64::from(self.running.mean[j]),
                f64::from(self.cache.mean[j]),
            ]);
        }
        if self.trace.len() < TRACE_STEPS {
            return None;
        }
        Some(SpreadResult {
            curve: std::mem::take(&mut self.curve),
            now: self.now.take()?,
            trace: std::mem::take(&mut self.trace),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Section 3 in one go, as it was computed before it went in pieces: the reference.
    fn whole(pop: &Population, j: usize, batch: usize, seed: u64) -> SpreadResult {
        let curve = SPREAD_SIZES
            .iter()
            .map(|&b| batch_spread(pop, j, b, seed))
            .collect();
        let now = batch_spread(pop, j, batch, seed);
        let features = pop.mean.len();
        let mut rng = StdRng::seed_from_u64(seed ^ 0xE7A1);
        let (mut running, mut cache) = (BnRunning::new(features), NormCache::default());
        let (w, b) = (Array1::ones(features), Array1::zeros(features));
        let mut out = Array2::zeros((batch, features));
        let trace = (0..TRACE_STEPS)
            .map(|step| {
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
                [
                    step as f64 + 1.0,
                    f64::from(running.mean[j]),
                    f64::from(cache.mean[j]),
                ]
            })
            .collect();
        SpreadResult { curve, now, trace }
    }

    #[test]
    fn section_3_in_pieces_is_section_3_whole_bit_for_bit() {
        let pop = Population::new(8, 2.0, 1.5, 3);
        for batch in [1, 16, 256] {
            let mut job = SpreadJob::new(pop.clone(), 5, batch, 11);
            let mut pieces = 1;
            let got = loop {
                if let Some(r) = job.advance() {
                    break r;
                }
                pieces += 1;
                assert!(pieces <= 20, "B = {batch}: more than 20 pieces");
            };
            // 9 batch sizes, the chosen one, then the trace's 100 batches ten at a time.
            assert_eq!(
                pieces,
                SPREAD_SIZES.len() + 1 + TRACE_STEPS / TRACE_PER_PIECE
            );
            assert!(job.advance().is_none(), "the result is given once");
            let want = whole(&pop, 5, batch, 11);
            let spread = |s: &BatchSpread| (s.b, s.mean_sd, s.var_sd, s.means.clone());
            assert_eq!(
                got.curve.iter().map(spread).collect::<Vec<_>>(),
                want.curve.iter().map(spread).collect::<Vec<_>>()
            );
            assert_eq!(spread(&got.now), spread(&want.now));
            assert_eq!(got.trace, want.trace, "B = {batch}");
        }
    }
}
