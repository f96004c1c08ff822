//! Ensembles and mixtures of experts: the lecture's last section, as numbers.
//!
//! 1. **Ensemble error.** k predictors whose errors eᵢ have variance v and pairwise covariance
//!    c = ρ v. The averaged prediction's error ē = (1/k) Σ eᵢ has
//!    E\[ē²\] = c + (v − c)/k                                   (Goodfellow, Bengio & Courville,
//!    *Deep Learning*, §7.11), from v/k (ρ = 0) to v (ρ = 1). Simulated with
//!    eᵢ = √v (√ρ z₀ + √(1 − ρ) zᵢ), zⱼ ~ N(0, 1) independent, which has exactly that covariance.
//! 2. **Mixture of Gaussians** p(x) = Σᵢ πᵢ N(x; μᵢ, σᵢ²), responsibilities
//!    γᵢ(x) = πᵢ N(x; μᵢ, σᵢ²) / p(x), fitted by EM (Bishop, *PRML*, §9.2.2, eqs. 9.23–9.28;
//!    Dempster, Laird & Rubin 1977: no EM step lowers the likelihood).
//! 3. **Experts and a gate** (Jacobs, Jordan, Nowlan & Hinton 1991; top-1 routing as in
//!    Fedus, Zoph & Shazeer 2022, "Switch Transformers"): ŷ(x) = Σᵢ gᵢ(x) fᵢ(x),
//!    g = softmax(W_g x + b_g), each fᵢ a one-hidden-layer tanh MLP; trained on the mean squared
//!    error with the engine's linear layers and its AdamW ([`crate::model::optim::FlatAdamW`]).
//!    With top-1 routing ŷ(x) = g_{i*}(x) f_{i*}(x), i* = argmax g(x), and only expert i* runs.
//! 4. **The cross-entropy question.** k classifiers over V classes, member i's logits
//!    zᵢ = m e_y + √v (√ρ ε₀ + √(1 − ρ) εᵢ), εⱼ ~ N(0, I_V). Three losses on the true class y:
//!    the average member's −log softmax(zᵢ)_y, the probability average −log (1/k) Σ softmax(zᵢ)_y,
//!    and the logit average −log softmax(z̄)_y. Both averages are never worse than the average
//!    member, sample by sample (Jensen: −log p is convex in p, and −log softmax(z)_y =
//!    logsumexp(z) − z_y is convex in z). z̄ = m e_y + noise of variance v (ρ + (1 − ρ)/k) per
//!    class, exactly the ensemble MSE of item 1: the logit average is one member with that much
//!    noise.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, s};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::stats::{mean, randn};
use crate::model::linear::{linear_backward, linear_forward};
use crate::model::mlp::fast_tanh;
use crate::model::optim::{AdamWConfig, FlatAdamW};

// ───────────────────────────── 1. Ensemble error ─────────────────────────────

/// E\[ē²\] = c + (v − c)/k with c = ρ v (Goodfellow et al. §7.11).
pub fn ensemble_mse_theory(k: usize, v: f64, rho: f64) -> f64 {
    let c = rho * v;
    c + (v - c) / k.max(1) as f64
}

/// A Monte-Carlo estimate: the mean and its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// Standard error of the mean (sample standard deviation / √trials).
    pub stderr: f64,
}

fn estimate(values: &[f64]) -> Estimate {
    let m = mean(values);
    let n = values.len() as f64;
    let var = if values.len() > 1 {
        values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Estimate {
        mean: m,
        stderr: (var / n).sqrt(),
    }
}

/// The averaged prediction's squared error, simulated: `trials` draws of k correlated errors.
pub fn ensemble_mse_mc(k: usize, v: f64, rho: f64, trials: usize, seed: u64) -> Estimate {
    let mut rng = StdRng::seed_from_u64(seed);
    let (a, b) = (
        rho.clamp(0.0, 1.0).sqrt(),
        (1.0 - rho.clamp(0.0, 1.0)).sqrt(),
    );
    let sd = v.max(0.0).sqrt();
    let k = k.max(1);
    let sq: Vec<f64> = (0..trials)
        .map(|_| {
            let z0 = randn(&mut rng);
            let sum: f64 = (0..k).map(|_| sd * (a * z0 + b * randn(&mut rng))).sum();
            let e = sum / k as f64;
            e * e
        })
        .collect();
    estimate(&sq)
}

// ───────────────────────────── 2. Mixture of Gaussians ─────────────────────────────

/// The smallest standard deviation EM may give a component (a component on one point would
/// otherwise collapse to zero width and infinite likelihood; Bishop §9.2.1).
pub const MIN_SD: f64 = 0.05;

/// A 1-D mixture of Gaussians.
#[derive(Debug, Clone, PartialEq)]
pub struct Gmm {
    /// Mixing weights πᵢ (sum 1).
    pub weights: Vec<f64>,
    /// Means μᵢ.
    pub means: Vec<f64>,
    /// Standard deviations σᵢ.
    pub sds: Vec<f64>,
}

fn log_normal(x: f64, mu: f64, sd: f64) -> f64 {
    let z = (x - mu) / sd;
    -0.5 * z * z - sd.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
}

fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

impl Gmm {
    /// Components.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// No components.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// The weights scaled to sum to 1 (a slider may leave them unnormalised).
    pub fn normalised(mut self) -> Self {
        let total: f64 = self.weights.iter().sum();
        if total > 0.0 {
            for w in &mut self.weights {
                *w /= total;
            }
        }
        self
    }

    fn log_joint(&self, x: f64) -> Vec<f64> {
        (0..self.len())
            .map(|i| self.weights[i].ln() + log_normal(x, self.means[i], self.sds[i]))
            .collect()
    }

    /// πᵢ N(x; μᵢ, σᵢ²): component i's share of the density.
    pub fn component_pdf(&self, i: usize, x: f64) -> f64 {
        self.weights[i] * log_normal(x, self.means[i], self.sds[i]).exp()
    }

    /// p(x) = Σᵢ πᵢ N(x; μᵢ, σᵢ²).
    pub fn pdf(&self, x: f64) -> f64 {
        log_sum_exp(&self.log_joint(x)).exp()
    }

    /// γᵢ(x) = πᵢ N(x; μᵢ, σᵢ²) / p(x) (sum 1).
    pub fn responsibilities(&self, x: f64) -> Vec<f64> {
        let lj = self.log_joint(x);
        let l = log_sum_exp(&lj);
        lj.iter().map(|v| (v - l).exp()).collect()
    }

    /// Mean log-likelihood per sample, (1/N) Σₙ ln p(xₙ) (nats).
    pub fn mean_log_likelihood(&self, xs: &[f64]) -> f64 {
        if xs.is_empty() {
            return 0.0;
        }
        xs.iter()
            .map(|&x| log_sum_exp(&self.log_joint(x)))
            .sum::<f64>()
            / xs.len() as f64
    }

    /// n samples: a component by its weight, then a normal draw from it.
    pub fn sample(&self, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let u: f64 = rng.random();
                let mut acc = 0.0;
                let mut i = self.len().saturating_sub(1);
                for (j, w) in self.weights.iter().enumerate() {
                    acc += w;
                    if u < acc {
                        i = j;
                        break;
                    }
                }
                self.means[i] + self.sds[i] * randn(&mut rng)
            })
            .collect()
    }

    /// One EM step on the samples (Bishop eqs. 9.23–9.27): E step γₙᵢ, then
    /// Nᵢ = Σₙ γₙᵢ, μᵢ = Σₙ γₙᵢ xₙ / Nᵢ, σᵢ² = Σₙ γₙᵢ (xₙ − μᵢ)² / Nᵢ, πᵢ = Nᵢ / N.
    /// σᵢ is kept ≥ [`MIN_SD`]; a component with no responsibility keeps its place.
    pub fn em_step(&self, xs: &[f64]) -> Gmm {
        let k = self.len();
        let mut nk = vec![0.0; k];
        let mut sx = vec![0.0; k];
        let gammas: Vec<Vec<f64>> = xs.iter().map(|&x| self.responsibilities(x)).collect();
        for (g, &x) in gammas.iter().zip(xs) {
            for i in 0..k {
                nk[i] += g[i];
                sx[i] += g[i] * x;
            }
        }
        let means: Vec<f64> = (0..k)
            .map(|i| {
                if nk[i] > 1e-12 {
                    sx[i] / nk[i]
                } else {
                    self.means[i]
                }
            })
            .collect();
        let mut sxx = vec![0.0; k];
        for (g, &x) in gammas.iter().zip(xs) {
            for i in 0..k {
                sxx[i] += g[i] * (x - means[i]) * (x - means[i]);
            }
        }
        let n = xs.len().max(1) as f64;
        Gmm {
            weights: nk.iter().map(|v| (v / n).max(1e-12)).collect(),
            means,
            sds: (0..k)
                .map(|i| {
                    if nk[i] > 1e-12 {
                        (sxx[i] / nk[i]).sqrt().max(MIN_SD)
                    } else {
                        self.sds[i]
                    }
                })
                .collect(),
        }
    }

    /// EM's starting point for k components: equal weights, every σ the samples' standard
    /// deviation (wide, overlapping components), the means at the samples' quantiles
    /// (i + ½)/k. Deterministic, and far enough from the answer that the fit visibly moves.
    pub fn em_start(xs: &[f64], k: usize) -> Gmm {
        let sd = super::stats::variance(xs).sqrt().max(MIN_SD);
        let k = k.max(1);
        let mut sorted: Vec<f64> = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let m = mean(xs);
        Gmm {
            weights: vec![1.0 / k as f64; k],
            means: (0..k)
                .map(|i| {
                    let q = (i as f64 + 0.5) / k as f64;
                    sorted
                        .get(
                            ((q * sorted.len() as f64) as usize)
                                .min(sorted.len().saturating_sub(1)),
                        )
                        .copied()
                        .unwrap_or(m)
                })
                .collect(),
            sds: vec![sd; k],
        }
    }
}

// ───────────────────────────── 3. Experts and a gate ─────────────────────────────

/// The regression targets of section 3, on x ∈ [−1, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Three lines with their own slopes and jumps between them.
    Pieces,
    /// −0.5 left of 0, +0.8 right of it.
    Step,
    /// 0.7 sin(2πx) up to x = 0.25, then a straight line down (slope −2.4).
    SineKink,
}

impl Target {
    /// All targets, for the picker.
    pub const ALL: [Target; 3] = [Target::Pieces, Target::Step, Target::SineKink];

    /// Its name on screen.
    pub fn label(self) -> &'static str {
        match self {
            Target::Pieces => "three pieces",
            Target::Step => "a step",
            Target::SineKink => "a sine with a kink",
        }
    }

    /// y(x).
    pub fn eval(self, x: f64) -> f64 {
        match self {
            Target::Pieces => {
                if x < -1.0 / 3.0 {
                    0.8 + 1.2 * (x + 2.0 / 3.0)
                } else if x < 1.0 / 3.0 {
                    -1.5 * x - 0.2
                } else {
                    1.5 * (x - 2.0 / 3.0)
                }
            }
            Target::Step => {
                if x < 0.0 {
                    -0.5
                } else {
                    0.8
                }
            }
            Target::SineKink => {
                if x < 0.25 {
                    0.7 * (2.0 * std::f64::consts::PI * x).sin()
                } else {
                    0.7 - 2.4 * (x - 0.25)
                }
            }
        }
    }
}

/// Training points of section 3.
pub const TRAIN_POINTS: usize = 128;
/// The noise on the training targets (standard deviation).
pub const TARGET_NOISE: f64 = 0.05;

/// The training set: x evenly spaced over [−1, 1], y = target(x) + N(0, 0.05²).
pub fn training_set(target: Target, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_da7a);
    let xs: Vec<f32> = (0..TRAIN_POINTS)
        .map(|i| (-1.0 + 2.0 * i as f64 / (TRAIN_POINTS - 1) as f64) as f32)
        .collect();
    let ys = xs
        .iter()
        .map(|&x| (target.eval(f64::from(x)) + TARGET_NOISE * randn(&mut rng)) as f32)
        .collect();
    (xs, ys)
}

/// The offsets of each tensor in an MLP's flat parameter vector, hidden size h:
/// W1 (h, 1), b1 (h), W2 (1, h), b2 (1).
#[derive(Debug, Clone, Copy)]
struct MlpLayout {
    h: usize,
}

impl MlpLayout {
    fn size(self) -> usize {
        3 * self.h + 1
    }
}

/// One-hidden-layer MLP 1 → h → 1 with tanh: f(x) = W2 tanh(W1 x + b1) + b2.
/// Forward over N points. p: flat (3h + 1); x: (N, 1); returns (hidden pre-activations (N, h),
/// hidden activations (N, h), out (N, 1)).
fn mlp_forward(
    p: &[f32],
    h: usize,
    x: ArrayView2<'_, f32>,
) -> (Array2<f32>, Array2<f32>, Array2<f32>) {
    let n = x.nrows();
    let w1 = ArrayView2::from_shape((h, 1), &p[0..h]).expect("W1 is h × 1");
    let b1 = ArrayView1::from(&p[h..2 * h]);
    let w2 = ArrayView2::from_shape((1, h), &p[2 * h..3 * h]).expect("W2 is 1 × h");
    let b2 = ArrayView1::from(&p[3 * h..3 * h + 1]);
    let mut pre = Array2::zeros((n, h));
    linear_forward(pre.view_mut(), x, w1, Some(b1));
    // The engine's tanh (within 5e-7 of libm's, several times faster; libm's was most of a step).
    let act = pre.mapv(fast_tanh);
    let mut out = Array2::zeros((n, 1));
    linear_forward(out.view_mut(), act.view(), w2, Some(b2));
    (pre, act, out)
}

/// The backward of [`mlp_forward`]: given dout (N, 1), accumulate into the flat gradient g.
/// Forward was `pre = x W1ᵀ + b1; act = tanh(pre); out = act W2ᵀ + b2`.
fn mlp_backward(
    g: &mut [f32],
    p: &[f32],
    h: usize,
    x: ArrayView2<'_, f32>,
    act: ArrayView2<'_, f32>,
    dout: ArrayView2<'_, f32>,
) {
    let w2 = ArrayView2::from_shape((1, h), &p[2 * h..3 * h]).expect("W2 is 1 × h");
    let (g1, g2) = g.split_at_mut(2 * h);
    let (gw1, gb1) = g1.split_at_mut(h);
    let (gw2, gb2) = g2.split_at_mut(h);
    // out = act W2ᵀ + b2
    let mut dact = Array2::zeros(act.raw_dim());
    linear_backward(
        Some(dact.view_mut()),
        ArrayViewMut2::from_shape((1, h), gw2).expect("dW2 is 1 × h"),
        Some(gb2.into()),
        dout,
        act,
        w2,
    );
    // act = tanh(pre): dpre = dact (1 − act²)
    let dpre = &dact * &act.mapv(|a| 1.0 - a * a);
    // pre = x W1ᵀ + b1
    linear_backward(
        None,
        ArrayViewMut2::from_shape((h, 1), gw1).expect("dW1 is h × 1"),
        Some(gb1.into()),
        dpre.view(),
        x,
        ArrayView2::from_shape((h, 1), &p[0..h]).expect("W1 is h × 1"),
    );
}

/// How the gate combines the experts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// ŷ = Σᵢ gᵢ fᵢ, trained on the squared error of ŷ: every expert runs on every input, and
    /// the experts cooperate (Jacobs et al. 1991's first error function).
    Soft,
    /// ŷ = Σᵢ gᵢ fᵢ, trained on the mixture's likelihood −log Σᵢ gᵢ exp(−(y − fᵢ)² / 2s²)
    /// (Jacobs et al. 1991, eq. 1.3; a mixture of Gaussians whose means are the experts): the
    /// experts compete, and each specialises where its responsibility is high.
    Competitive,
    /// ŷ = g_{i*} f_{i*}, i* = argmax g: one expert runs per input (Switch Transformer).
    Top1,
}

/// Parameters of a model of k experts (or members) of hidden size h, and of a gate over k.
pub fn expert_params(h: usize) -> usize {
    MlpLayout { h }.size()
}

/// The gate's parameters: W_g (k, 1) and b_g (k).
pub fn gate_params(k: usize) -> usize {
    2 * k
}

/// Parameters held and used per input: (ensemble held, ensemble used, mixture held, mixture
/// used). An ensemble runs every member; a soft mixture every expert and the gate; a top-1
/// mixture the gate and one expert.
pub fn parameter_counts(k: usize, h: usize, routing: Routing) -> (usize, usize, usize, usize) {
    let e = expert_params(h);
    let held = k * e + gate_params(k);
    let used = match routing {
        Routing::Soft | Routing::Competitive => held,
        Routing::Top1 => e + gate_params(k),
    };
    (k * e, k * e, held, used)
}

/// Section 3's two models trained side by side on one training set: an ensemble of k MLPs from
/// different seeds, each fitted to all the data on its own, and a mixture of k experts of the
/// same size with a softmax gate, fitted jointly.
#[derive(Debug, Clone)]
pub struct ExpertsRun {
    /// Experts (members) per model.
    pub k: usize,
    /// Hidden units per expert.
    pub hidden: usize,
    /// The mixture's routing.
    pub routing: Routing,
    /// Training inputs (N).
    pub xs: Vec<f32>,
    /// Training targets (N).
    pub ys: Vec<f32>,
    /// The ensemble's members, each a flat parameter vector.
    members: Vec<Vec<f32>>,
    member_opt: Vec<FlatAdamW>,
    /// The mixture's parameters: k experts, then the gate (W_g (k, 1), b_g (k)).
    mixture: Vec<f32>,
    mixture_opt: FlatAdamW,
    /// Steps taken.
    pub step: usize,
    /// (step, ensemble MSE, average member MSE, mixture MSE) on the training set.
    pub history: Vec<(usize, f64, f64, f64)>,
}

/// The optimiser of section 3: AdamW, lr 0.01, no weight decay, global-norm clipping at 1.
pub fn experts_adamw() -> AdamWConfig {
    AdamWConfig {
        lr: 1e-2,
        weight_decay: 0.0,
        ..AdamWConfig::default()
    }
}

fn init_mlp(h: usize, rng: &mut StdRng) -> Vec<f32> {
    // W1, b1 ~ U(−3, 3): the tanh bends spread over the inputs' range [−1, 1].
    // W2, b2 ~ U(−1/√h, 1/√h): nn.Linear's default for fan-in h.
    let mut p = Vec::with_capacity(3 * h + 1);
    for _ in 0..2 * h {
        p.push(rng.random_range(-1.0f32..1.0) * 3.0);
    }
    let bound = 1.0 / (h as f32).sqrt();
    for _ in 0..h + 1 {
        p.push(rng.random_range(-bound..bound));
    }
    p
}

/// The outputs of a mixture on N inputs: the gate (N, k), every expert (N, k), the prediction (N).
#[derive(Debug, Clone)]
pub struct MixtureOut {
    /// gᵢ(x) (softmax, rows sum to 1).
    pub gate: Array2<f32>,
    /// fᵢ(x).
    pub experts: Array2<f32>,
    /// ŷ(x).
    pub y: Array1<f32>,
}

impl ExpertsRun {
    /// Fresh models: the ensemble's member i from seed (seed, i), the mixture from seed + 1000.
    /// Both start from the same k MLPs, so they differ only in how they are trained and combined.
    pub fn new(k: usize, hidden: usize, routing: Routing, target: Target, seed: u64) -> Self {
        let (xs, ys) = training_set(target, seed);
        let mut members = Vec::with_capacity(k);
        for i in 0..k {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1009).wrapping_add(i as u64));
            members.push(init_mlp(hidden, &mut rng));
        }
        let mut mixture: Vec<f32> = members.iter().flatten().copied().collect();
        let mut rng = StdRng::seed_from_u64(seed.wrapping_add(1000));
        for _ in 0..2 * k {
            mixture.push(rng.random_range(-1.0f32..1.0));
        }
        let config = experts_adamw();
        Self {
            k,
            hidden,
            routing,
            xs,
            ys,
            member_opt: members
                .iter()
                .map(|m| FlatAdamW::new(config, m.len()))
                .collect(),
            members,
            mixture_opt: FlatAdamW::new(config, mixture.len()),
            mixture,
            step: 0,
            history: Vec::new(),
        }
    }

    fn x_matrix(xs: &[f32]) -> Array2<f32> {
        Array2::from_shape_fn((xs.len(), 1), |(i, _)| xs[i])
    }

    /// Member i's prediction at the inputs.
    pub fn member(&self, i: usize, xs: &[f32]) -> Vec<f32> {
        let x = Self::x_matrix(xs);
        mlp_forward(&self.members[i], self.hidden, x.view())
            .2
            .column(0)
            .to_vec()
    }

    /// The ensemble's prediction: the members' mean.
    pub fn ensemble(&self, xs: &[f32]) -> Vec<f32> {
        let mut sum = vec![0.0f32; xs.len()];
        for i in 0..self.k {
            for (s, v) in sum.iter_mut().zip(self.member(i, xs)) {
                *s += v;
            }
        }
        sum.iter().map(|s| s / self.k as f32).collect()
    }

    /// The mixture on the inputs.
    pub fn mixture(&self, xs: &[f32]) -> MixtureOut {
        mixture_forward(&self.mixture, self.k, self.hidden, self.routing, xs).0
    }

    /// One full-batch AdamW step of every member and of the mixture; records the losses
    /// before the step.
    pub fn train_step(&mut self) {
        let x = Self::x_matrix(&self.xs);
        let n = self.xs.len() as f32;
        let h = self.hidden;
        let mut member_mse = 0.0f64;
        let mut ens = vec![0.0f32; self.xs.len()];
        for i in 0..self.k {
            let p = &self.members[i];
            let (_, act, out) = mlp_forward(p, h, x.view());
            // L = (1/N) Σ (out − y)²  ⇒  dout = 2 (out − y) / N
            let mut dout = Array2::zeros((self.xs.len(), 1));
            let mut loss = 0.0f64;
            for (j, (&o, &y)) in out.column(0).iter().zip(&self.ys).enumerate() {
                let d = o - y;
                loss += f64::from(d * d);
                dout[(j, 0)] = 2.0 * d / n;
                ens[j] += o / self.k as f32;
            }
            member_mse += loss / f64::from(n);
            let mut g = vec![0.0f32; p.len()];
            mlp_backward(&mut g, p, h, x.view(), act.view(), dout.view());
            self.member_opt[i].step(&mut self.members[i], &g);
        }
        let ens_mse = ens
            .iter()
            .zip(&self.ys)
            .map(|(&o, &y)| f64::from((o - y) * (o - y)))
            .sum::<f64>()
            / f64::from(n);
        let (g, mix_mse) = mixture_grad(&self.mixture, self.k, h, self.routing, &self.xs, &self.ys);
        self.mixture_opt.step(&mut self.mixture, &g);
        self.history
            .push((self.step, ens_mse, member_mse / self.k as f64, mix_mse));
        self.step += 1;
    }

    /// The mean correlation of two members' errors (prediction − target) over the training
    /// points: section 1's ρ, measured on this ensemble (NaN with one member).
    pub fn member_error_correlation(&self) -> f64 {
        let errs: Vec<Vec<f64>> = (0..self.k)
            .map(|i| {
                self.member(i, &self.xs)
                    .iter()
                    .zip(&self.ys)
                    .map(|(&p, &y)| f64::from(p - y))
                    .collect()
            })
            .collect();
        let mut sum = 0.0;
        let mut pairs = 0;
        for i in 0..errs.len() {
            for j in i + 1..errs.len() {
                sum += correlation(&errs[i], &errs[j]);
                pairs += 1;
            }
        }
        if pairs == 0 {
            f64::NAN
        } else {
            sum / f64::from(pairs)
        }
    }

    /// The mixture's flat parameters (experts, then the gate).
    pub fn mixture_params(&self) -> &[f32] {
        &self.mixture
    }
}

/// Pearson correlation of two equally long series (NaN if either is constant).
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    let mut sab = 0.0;
    let mut saa = 0.0;
    let mut sbb = 0.0;
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Intermediate values of the mixture's forward pass, kept for the backward.
struct MixtureCache {
    acts: Vec<Array2<f32>>,
    chosen: Vec<usize>,
}

/// The mixture's forward over N inputs. p: k experts' flat parameters, then W_g (k), b_g (k).
/// gate = softmax(x W_gᵀ + b_g) (N, k); experts (N, k); ŷ = Σᵢ gᵢ fᵢ (soft) or g_{i*} f_{i*}.
fn mixture_forward(
    p: &[f32],
    k: usize,
    h: usize,
    routing: Routing,
    xs: &[f32],
) -> (MixtureOut, MixtureCache) {
    let e = expert_params(h);
    let x = ExpertsRun::x_matrix(xs);
    let n = xs.len();
    let wg = ArrayView2::from_shape((k, 1), &p[k * e..k * e + k]).expect("W_g is k × 1");
    let bg = ArrayView1::from(&p[k * e + k..k * e + 2 * k]);
    let mut logits = Array2::zeros((n, k));
    linear_forward(logits.view_mut(), x.view(), wg, Some(bg));
    let mut gate = logits;
    for mut row in gate.rows_mut() {
        let m = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    let mut experts = Array2::zeros((n, k));
    let mut acts = Vec::with_capacity(k);
    for i in 0..k {
        let (_, act, out) = mlp_forward(&p[i * e..(i + 1) * e], h, x.view());
        experts.column_mut(i).assign(&out.column(0));
        acts.push(act);
    }
    let chosen = responsible(&gate);
    let y = Array1::from_shape_fn(n, |j| match routing {
        Routing::Soft | Routing::Competitive => {
            (0..k).map(|i| gate[(j, i)] * experts[(j, i)]).sum()
        }
        Routing::Top1 => gate[(j, chosen[j])] * experts[(j, chosen[j])],
    });
    (
        MixtureOut { gate, experts, y },
        MixtureCache { acts, chosen },
    )
}

/// The experts' and the gate's backward, shared by both objectives: dexp (N, k) is ∂L/∂fᵢ at
/// each point, dlogits (N, k) is ∂L/∂zᵢ for the gate's logits. Forward was
/// `fᵢ = mlp(x; θᵢ)` and `z = x W_gᵀ + b_g`. Returns the flat gradient.
#[allow(clippy::too_many_arguments)]
fn experts_and_gate_backward(
    p: &[f32],
    k: usize,
    h: usize,
    x: ArrayView2<'_, f32>,
    cache: &MixtureCache,
    dexp: &Array2<f32>,
    dlogits: &Array2<f32>,
) -> Vec<f32> {
    let e = expert_params(h);
    let mut g = vec![0.0f32; p.len()];
    for i in 0..k {
        mlp_backward(
            &mut g[i * e..(i + 1) * e],
            &p[i * e..(i + 1) * e],
            h,
            x,
            cache.acts[i].view(),
            dexp.slice(s![.., i..i + 1]),
        );
    }
    // logits = x W_gᵀ + b_g
    let (gw, gb) = g[k * e..].split_at_mut(k);
    linear_backward(
        None,
        ArrayViewMut2::from_shape((k, 1), gw).expect("dW_g is k × 1"),
        Some(gb.into()),
        dlogits.view(),
        x,
        ArrayView2::from_shape((k, 1), &p[k * e..k * e + k]).expect("W_g is k × 1"),
    );
    g
}

/// The mixture's MSE on (xs, ys) and its gradient with respect to the flat parameters.
fn mixture_grad(
    p: &[f32],
    k: usize,
    h: usize,
    routing: Routing,
    xs: &[f32],
    ys: &[f32],
) -> (Vec<f32>, f64) {
    let n = xs.len();
    let x = ExpertsRun::x_matrix(xs);
    let (out, cache) = mixture_forward(p, k, h, routing, xs);
    // L = (1/N) Σ (ŷ − y)²
    let dy: Vec<f32> = out
        .y
        .iter()
        .zip(ys)
        .map(|(&o, &y)| 2.0 * (o - y) / n as f32)
        .collect();
    let loss = out
        .y
        .iter()
        .zip(ys)
        .map(|(&o, &y)| f64::from((o - y) * (o - y)))
        .sum::<f64>()
        / n as f64;
    if routing == Routing::Competitive {
        return competitive_grad(p, k, h, xs, ys, &out, &cache, loss);
    }
    // Soft: ŷ = Σᵢ gᵢ fᵢ ⇒ dfᵢ = gᵢ dŷ, dgᵢ = fᵢ dŷ.
    // Top-1: ŷ = g_{i*} f_{i*} ⇒ only i* gets df and dg.
    let mut dexp = Array2::<f32>::zeros((n, k));
    let mut dgate = Array2::<f32>::zeros((n, k));
    for j in 0..n {
        for i in 0..k {
            let on = match routing {
                Routing::Soft | Routing::Competitive => true,
                Routing::Top1 => cache.chosen[j] == i,
            };
            if on {
                dexp[(j, i)] = out.gate[(j, i)] * dy[j];
                dgate[(j, i)] = out.experts[(j, i)] * dy[j];
            }
        }
    }
    // gate = softmax(logits): dlogitᵢ = gᵢ (dgᵢ − Σⱼ gⱼ dgⱼ)
    let mut dlogits = Array2::<f32>::zeros((n, k));
    for j in 0..n {
        let dot: f32 = (0..k).map(|i| out.gate[(j, i)] * dgate[(j, i)]).sum();
        for i in 0..k {
            dlogits[(j, i)] = out.gate[(j, i)] * (dgate[(j, i)] - dot);
        }
    }
    let g = experts_and_gate_backward(p, k, h, x.view(), &cache, &dexp, &dlogits);
    (g, loss)
}

/// The spread s of each expert's Gaussian in the competitive objective (units of y): twice
/// the targets' noise, so an expert 0.3 off a point has responsibility e^(−4.5) ≈ 1 % of one on it.
pub const EXPERT_SPREAD: f32 = 0.1;

/// The gradient of the competitive objective (Jacobs et al. 1991, eq. 1.3), mean over points:
/// L = −(1/N) Σₙ log Σᵢ gᵢ exp(−eᵢ² / 2s²), eᵢ = fᵢ − y.
/// With hᵢ = gᵢ exp(−eᵢ²/2s²) / Σⱼ gⱼ exp(−eⱼ²/2s²) (the posterior responsibility):
/// ∂L/∂fᵢ = hᵢ eᵢ / s² / N,  ∂L/∂zᵢ = (gᵢ − hᵢ) / N for the gate's logits z.
/// Returns the gradient and the squared error of ŷ = Σ gᵢ fᵢ (what the figures compare).
#[allow(clippy::too_many_arguments)]
fn competitive_grad(
    p: &[f32],
    k: usize,
    h: usize,
    xs: &[f32],
    ys: &[f32],
    out: &MixtureOut,
    cache: &MixtureCache,
    mse: f64,
) -> (Vec<f32>, f64) {
    let n = xs.len();
    let x = ExpertsRun::x_matrix(xs);
    let s2 = EXPERT_SPREAD * EXPERT_SPREAD;
    let mut dexp = Array2::<f32>::zeros((n, k));
    let mut dlogits = Array2::<f32>::zeros((n, k));
    let mut a = vec![0.0f32; k];
    for j in 0..n {
        for (i, ai) in a.iter_mut().enumerate() {
            let ei = out.experts[(j, i)] - ys[j];
            *ai = out.gate[(j, i)].max(1e-30).ln() - 0.5 * ei * ei / s2;
        }
        let m = a.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let z: f32 = a.iter().map(|v| (v - m).exp()).sum();
        for i in 0..k {
            let hi = (a[i] - m).exp() / z;
            let ei = out.experts[(j, i)] - ys[j];
            dexp[(j, i)] = hi * ei / s2 / n as f32;
            dlogits[(j, i)] = (out.gate[(j, i)] - hi) / n as f32;
        }
    }
    let g = experts_and_gate_backward(p, k, h, x.view(), cache, &dexp, &dlogits);
    (g, mse)
}

/// The competitive objective's value at `p` (for the finite-difference check).
pub fn competitive_loss(p: &[f32], k: usize, h: usize, xs: &[f32], ys: &[f32]) -> f64 {
    let (out, _) = mixture_forward(p, k, h, Routing::Competitive, xs);
    let s2 = f64::from(EXPERT_SPREAD * EXPERT_SPREAD);
    let n = xs.len() as f64;
    let mut total = 0.0;
    for (j, &y) in ys.iter().enumerate().take(xs.len()) {
        let a: Vec<f64> = (0..k)
            .map(|i| {
                let ei = f64::from(out.experts[(j, i)] - y);
                f64::from(out.gate[(j, i)]).ln() - 0.5 * ei * ei / s2
            })
            .collect();
        total -= log_sum_exp(&a);
    }
    total / n
}

/// The mixture's loss and gradient at `p`, for the finite-difference check in the tests
/// (the competitive routing returns the squared error of ŷ as its loss: compare its gradient
/// with [`competitive_loss`]).
pub fn mixture_loss_and_grad(
    p: &[f32],
    k: usize,
    h: usize,
    routing: Routing,
    xs: &[f32],
    ys: &[f32],
) -> (f64, Vec<f32>) {
    let (g, l) = mixture_grad(p, k, h, routing, xs, ys);
    (l, g)
}

/// A single MLP's MSE and gradient at `p` (hidden size h), for the finite-difference check.
pub fn mlp_loss_and_grad(p: &[f32], h: usize, xs: &[f32], ys: &[f32]) -> (f64, Vec<f32>) {
    let x = ExpertsRun::x_matrix(xs);
    let n = xs.len() as f32;
    let (_, act, out) = mlp_forward(p, h, x.view());
    let mut dout = Array2::zeros((xs.len(), 1));
    let mut loss = 0.0f64;
    for (j, (&o, &y)) in out.column(0).iter().zip(ys).enumerate() {
        loss += f64::from((o - y) * (o - y));
        dout[(j, 0)] = 2.0 * (o - y) / n;
    }
    let mut g = vec![0.0f32; p.len()];
    mlp_backward(&mut g, p, h, x.view(), act.view(), dout.view());
    (loss / f64::from(n), g)
}

/// Which expert the gate picks at each input (argmax g).
pub fn responsible(gate: &Array2<f32>) -> Vec<usize> {
    gate.axis_iter(Axis(0))
        .map(|r| {
            let mut best = 0;
            for (i, &v) in r.iter().enumerate() {
                if v > r[best] {
                    best = i;
                }
            }
            best
        })
        .collect()
}

// ───────────────────────────── 4. The cross-entropy question ─────────────────────────────

/// Section 4's three losses at one (k, ρ), each a Monte-Carlo mean with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CeRow {
    /// Correlation ρ of the members' logit noise.
    pub rho: f64,
    /// Members k.
    pub k: usize,
    /// The average member's cross-entropy (nats).
    pub member: Estimate,
    /// −log of the averaged probability of the true class.
    pub prob_avg: Estimate,
    /// −log softmax of the averaged logits, at the true class.
    pub logit_avg: Estimate,
    /// Samples where an average came out worse than the average member by more than rounding
    /// (Jensen says none; counted to check it).
    pub jensen_violations: usize,
}

/// The cross-entropy of the noise-free logits m e_y: ln(1 + (V − 1) e^{−m}), the floor the
/// logit average reaches as its noise vanishes.
pub fn ce_floor(classes: usize, margin: f64) -> f64 {
    (1.0 + (classes as f64 - 1.0) * (-margin).exp()).ln()
}

fn ce_of(logits: &[f64], y: usize) -> f64 {
    log_sum_exp(logits) - logits[y]
}

/// Monte-Carlo of the three losses: `trials` draws of k members over V classes (true class 0),
/// member logits m e_y + √v (√ρ ε₀ + √(1 − ρ) εᵢ).
pub fn ensemble_ce(
    k: usize,
    rho: f64,
    v: f64,
    classes: usize,
    margin: f64,
    trials: usize,
    seed: u64,
) -> CeRow {
    let mut run = EnsembleCe::new(k, rho, v, classes, margin, seed);
    run.advance(trials);
    run.finish()
}

/// [`ensemble_ce`] a few draws at a time (a browser has no thread to sample on, so its frames
/// take the draws in pieces): [`EnsembleCe::advance`] by any counts that add up to `trials`
/// gives the same row, bit for bit, since the draws come from one generator in one order.
pub struct EnsembleCe {
    rng: StdRng,
    k: usize,
    rho: f64,
    classes: usize,
    margin: f64,
    /// √ρ and √(1 − ρ): the weights of the shared and the member's own noise.
    a: f64,
    b: f64,
    /// √v
    sd: f64,
    member: Vec<f64>,
    prob: Vec<f64>,
    logit: Vec<f64>,
    violations: usize,
}

impl EnsembleCe {
    pub fn new(k: usize, rho: f64, v: f64, classes: usize, margin: f64, seed: u64) -> Self {
        let r = rho.clamp(0.0, 1.0);
        EnsembleCe {
            rng: StdRng::seed_from_u64(seed),
            k: k.max(1),
            rho,
            classes: classes.max(2),
            margin,
            a: r.sqrt(),
            b: (1.0 - r).sqrt(),
            sd: v.max(0.0).sqrt(),
            member: Vec::new(),
            prob: Vec::new(),
            logit: Vec::new(),
            violations: 0,
        }
    }

    /// Draws taken so far.
    pub fn trials(&self) -> usize {
        self.member.len()
    }

    /// Take `trials` more draws.
    pub fn advance(&mut self, trials: usize) {
        let (k, classes) = (self.k, self.classes);
        let (mut shared, mut z, mut zbar) =
            (vec![0.0; classes], vec![0.0; classes], vec![0.0; classes]);
        let mut ces = vec![0.0; k];
        let rng = &mut self.rng;
        for _ in 0..trials {
            for s in shared.iter_mut() {
                *s = randn(rng);
            }
            zbar.iter_mut().for_each(|v| *v = 0.0);
            for ce in ces.iter_mut() {
                for c in 0..classes {
                    let truth = if c == 0 { self.margin } else { 0.0 };
                    z[c] = truth + self.sd * (self.a * shared[c] + self.b * randn(rng));
                    zbar[c] += z[c] / k as f64;
                }
                *ce = ce_of(&z, 0);
            }
            let m = mean(&ces);
            // −log (1/k) Σ pᵢ = −log-sum-exp(−ceᵢ) + log k
            let neg: Vec<f64> = ces.iter().map(|c| -c).collect();
            let pa = -log_sum_exp(&neg) + (k as f64).ln();
            let la = ce_of(&zbar, 0);
            let tol = 1e-9 * (1.0 + m.abs());
            if pa > m + tol || la > m + tol {
                self.violations += 1;
            }
            self.member.push(m);
            self.prob.push(pa);
            self.logit.push(la);
        }
    }

    /// The row from the draws taken.
    pub fn finish(&self) -> CeRow {
        CeRow {
            rho: self.rho,
            k: self.k,
            member: estimate(&self.member),
            prob_avg: estimate(&self.prob),
            logit_avg: estimate(&self.logit),
            jensen_violations: self.violations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theory_extremes() {
        assert!((ensemble_mse_theory(8, 2.0, 0.0) - 0.25).abs() < 1e-15);
        assert!((ensemble_mse_theory(8, 2.0, 1.0) - 2.0).abs() < 1e-15);
        assert!((ensemble_mse_theory(1, 2.0, 0.3) - 2.0).abs() < 1e-15);
    }

    #[test]
    fn responsibilities_sum_to_one() {
        let g = Gmm {
            weights: vec![0.2, 0.5, 0.3],
            means: vec![-1.0, 0.0, 2.0],
            sds: vec![0.5, 1.0, 0.3],
        };
        for x in [-3.0, -0.5, 0.0, 1.0, 10.0] {
            let r = g.responsibilities(x);
            assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            let total: f64 = (0..3).map(|i| g.component_pdf(i, x)).sum();
            assert!((total - g.pdf(x)).abs() < 1e-12 * (1.0 + total));
        }
    }

    #[test]
    fn a_row_taken_in_pieces_is_the_same_row() {
        let whole = ensemble_ce(3, 0.4, 2.0, 7, 1.5, 500, 9);
        let mut run = EnsembleCe::new(3, 0.4, 2.0, 7, 1.5, 9);
        for n in [1, 0, 120, 379] {
            run.advance(n);
        }
        assert_eq!(run.trials(), 500);
        let pieces = run.finish();
        for (a, b) in [
            (whole.member, pieces.member),
            (whole.prob_avg, pieces.prob_avg),
            (whole.logit_avg, pieces.logit_avg),
        ] {
            assert_eq!(a.mean.to_bits(), b.mean.to_bits());
            assert_eq!(a.stderr.to_bits(), b.stderr.to_bits());
        }
        assert_eq!(whole.jensen_violations, pieces.jensen_violations);
    }

    #[test]
    fn ce_floor_matches_noise_free() {
        let mut z = vec![0.0; 10];
        z[0] = 2.0;
        assert!((ce_of(&z, 0) - ce_floor(10, 2.0)).abs() < 1e-12);
    }
}
