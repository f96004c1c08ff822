//! Lesson "Batch norm vs layer norm: which axis the statistics come from".
//!
//! BatchNorm (Ioffe & Szegedy 2015) standardises each feature with the mean and variance of the
//! batch; LayerNorm (Ba, Kiros & Hinton 2016) is the same thing transposed — statistics over the
//! features of one sample; RMSNorm (Zhang & Sennrich 2019) only rescales by the root mean square.
//! Every normalisation here runs the model's own `model::norm` forward functions (γ = 1, β = 0,
//! ε = 1e-5, biased variance as PyTorch).

use std::sync::Arc;

use egui::{Color32, RichText, Ui};
use egui_plot::{Bar, BarChart, Legend, Line, LineStyle, Plot, PlotPoints, Points, VLine};
use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::background::{Background, Cached};
use super::compare_runs::{CompareRuns, Preset};
use super::{Lesson, LessonContext, settings_from_json, settings_to_json};
use crate::data::{Dataset, Task};
use crate::model::NormKind;
use crate::model::gpt::{Activations, Gpt, gpt_forward};
use crate::model::norm::{
    BnRunning, NormCache, batchnorm_forward, layernorm_forward, rmsnorm_forward,
};
use crate::model::rnn::randn;
use crate::model::stats::{histogram, mean, normal_cdf, normal_pdf, variance};
use crate::train::TrainConfig;
use crate::widgets::export::{columns_csv, matrix_csv};
use crate::widgets::plots::{Scale, hover, hover_on, labelled, section_tabs};
use crate::widgets::{Colormap, Heatmap};

const SECTIONS: [&str; 5] = [
    "1. The matrix",
    "2. The statistics",
    "3. Batch size",
    "4. γ, β and ReLU",
    "5. In a real model",
];
const COLORS: [Color32; 4] = [
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(204, 121, 167),
];
const GREY: Color32 = Color32::from_rgb(128, 128, 128);
/// Batches drawn to measure the spread of BN's estimates.
const TRIALS: usize = 300;
/// Samples for the ReLU clipping estimate.
const CLIP_SAMPLES: usize = 20_000;

/// Where the activation matrix comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Features with different means and scales, seeded.
    #[default]
    Synthetic,
    /// The residual stream of the bundled bears model (rows = tokens of a batch).
    Model,
}

/// Where BN sits relative to the ReLU in section 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReluOrder {
    /// BN → γ, β → ReLU: γ and β decide how much is clipped.
    #[default]
    Before,
    /// ReLU → BN → γ, β: BN moves the already clipped Gaussian.
    After,
}

/// The lesson's persisted settings (also `attention-lab data norms --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NormSettings {
    /// The open section (0…4).
    pub section: usize,
    /// Rows B of the matrix (1…256).
    pub batch: usize,
    /// Columns C (2…64).
    pub features: usize,
    /// Seed of the synthetic matrix and of the batches.
    pub seed: u64,
    /// Synthetic or the model's residual stream.
    pub source: Source,
    /// Spread of the features' means (synthetic).
    pub mean_spread: f64,
    /// Spread of the features' log-scales (synthetic).
    pub scale_spread: f64,
    /// The feature whose histogram and estimates are drawn.
    pub feature: usize,
    /// γ of section 4 (0.1…3).
    pub gamma: f64,
    /// β of section 4 (−3…3).
    pub beta: f64,
    /// BN before or after the ReLU.
    pub relu: ReluOrder,
    /// The residual-stream layer captured from the model (0 = embeddings).
    pub layer: usize,
}

impl Default for NormSettings {
    fn default() -> Self {
        Self {
            section: 0,
            batch: 8,
            features: 16,
            seed: 0,
            source: Source::Synthetic,
            mean_spread: 2.0,
            scale_spread: 0.7,
            feature: 0,
            gamma: 1.0,
            beta: 0.5,
            relu: ReluOrder::Before,
            layer: 1,
        }
    }
}

impl NormSettings {
    fn validate(&self) -> Result<(), String> {
        let check = |ok: bool, msg: &str| if ok { Ok(()) } else { Err(msg.to_owned()) };
        check(
            (1..=256).contains(&self.batch),
            "batch must be between 1 and 256",
        )?;
        check(
            (2..=64).contains(&self.features),
            "features must be between 2 and 64",
        )?;
        check(
            self.mean_spread.is_finite() && (0.0..=5.0).contains(&self.mean_spread),
            "mean_spread must be between 0 and 5",
        )?;
        check(
            self.scale_spread.is_finite() && (0.0..=2.0).contains(&self.scale_spread),
            "scale_spread must be between 0 and 2",
        )?;
        check(
            self.gamma.is_finite() && (0.1..=3.0).contains(&self.gamma),
            "gamma must be between 0.1 and 3",
        )?;
        check(
            self.beta.is_finite() && (-3.0..=3.0).contains(&self.beta),
            "beta must be between -3 and 3",
        )?;
        check(self.section <= 4, "section must be 0…4")?;
        check(self.layer <= 2, "layer must be 0, 1 or 2")?;
        Ok(())
    }
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
    /// The seeded population of `s`.
    pub fn new(s: &NormSettings) -> Self {
        let mut rng = StdRng::seed_from_u64(s.seed ^ 0x0B0B);
        let mean = (0..s.features)
            .map(|_| s.mean_spread * randn(&mut rng))
            .collect();
        let std = (0..s.features)
            .map(|_| (s.scale_spread * randn(&mut rng)).exp())
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

/// Compute section 3 for the settings `s` (batch size, feature, seed, population).
pub fn spread_result(s: &NormSettings) -> SpreadResult {
    let pop = Population::new(s);
    let j = s.feature.min(s.features - 1);
    let curve = SPREAD_SIZES
        .iter()
        .map(|&b| batch_spread(&pop, j, b, s.seed))
        .collect();
    let now = batch_spread(&pop, j, s.batch, s.seed);
    // Train vs eval: the running mean converging over batches, by the model's BN forward.
    let mut rng = StdRng::seed_from_u64(s.seed ^ 0xE7A1);
    let mut running = BnRunning::new(s.features);
    let mut cache = NormCache::default();
    let (w, b) = (
        Array1::<f32>::ones(s.features),
        Array1::<f32>::zeros(s.features),
    );
    let mut out = Array2::zeros((s.batch, s.features));
    let mut trace = Vec::with_capacity(100);
    for step in 0..100 {
        let x = pop.sample(s.batch, &mut rng);
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

/// Batch sizes of the spread-vs-B curve.
const SPREAD_SIZES: [usize; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/// The residual stream of the bears model for a batch of validation sequences: rows = tokens.
fn model_rows(gpt: &Gpt, layer: usize, rows: usize, seed: u64) -> Result<Array2<f32>, String> {
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

/// Everything drawn from the matrix, recomputed when its inputs change.
struct Computed {
    key: NormSettings,
    x: Array2<f32>,
    norm: Normalised,
    error: Option<String>,
    version: u64,
}

/// Section 5's evaluation of the BatchNorm run.
#[derive(Debug, Clone)]
struct BnEval {
    step: usize,
    full: f32,
    one: f32,
    eval: f32,
    token_alone: f32,
}

fn evaluate_bn(gpt: &Gpt, config: &TrainConfig) -> Result<BnEval, String> {
    let t = gpt.config.block_size;
    let data = Dataset::builtin(&config.task, config.seed, 4000, t)?;
    let b = config.batch.max(2);
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

/// The lesson.
#[derive(Default)]
pub struct NormsLesson {
    settings: NormSettings,
    computed: Option<Computed>,
    model: Option<Result<Arc<Gpt>, String>>,
    spread: Background<NormSettings, SpreadResult>,
    compare: CompareRuns,
    bn_eval: Option<Result<BnEval, String>>,
    /// Section 4's 20 000 samples, by (γ, β, order, seed).
    relu: Cached<(u64, u64, ReluOrder, u64), ReluClip>,
}

fn matrix_key(s: &NormSettings) -> NormSettings {
    // Only what the matrix depends on (sliders of other sections do not rebuild it).
    NormSettings {
        section: 0,
        feature: 0,
        gamma: 1.0,
        beta: 0.0,
        relu: ReluOrder::Before,
        ..s.clone()
    }
}

fn compute_matrix(
    s: &NormSettings,
    model: Option<&Result<Arc<Gpt>, String>>,
) -> (Array2<f32>, Option<String>) {
    match s.source {
        Source::Synthetic => {
            let pop = Population::new(s);
            let mut rng = StdRng::seed_from_u64(s.seed);
            (pop.sample(s.batch, &mut rng), None)
        }
        Source::Model => {
            let rows = match model {
                Some(Ok(gpt)) => model_rows(gpt, s.layer, s.batch, s.seed).map(|x| {
                    x.slice(ndarray::s![.., ..s.features.min(x.ncols())])
                        .to_owned()
                }),
                Some(Err(e)) => Err(e.clone()),
                None => Err("the model is not loaded".into()),
            };
            match rows {
                Ok(x) => (x, None),
                Err(e) => (Array2::zeros((s.batch, s.features)), Some(e)),
            }
        }
    }
}

fn sym_range(m: &Array2<f32>) -> f32 {
    m.iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f32, |a, v| a.max(v.abs()))
        .max(1e-6)
}

impl NormsLesson {
    fn ensure(&mut self) {
        if self.settings.source == Source::Model && self.model.is_none() {
            self.model = Some(crate::pretrained::bears().map(|(g, _)| Arc::new(g)));
        }
        let key = matrix_key(&self.settings);
        if self.computed.as_ref().is_none_or(|c| c.key != key) {
            let (x, error) = compute_matrix(&self.settings, self.model.as_ref());
            let version = self.computed.as_ref().map_or(1, |c| c.version + 1);
            self.computed = Some(Computed {
                norm: normalise(&x),
                x,
                key,
                error,
                version,
            });
        }
        self.settings.feature = self.settings.feature.min(self.settings.features - 1);
    }

    fn matrix_controls(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.label("source:");
            ui.selectable_value(&mut self.settings.source, Source::Synthetic, "synthetic");
            ui.selectable_value(
                &mut self.settings.source,
                Source::Model,
                "bears model's residual stream",
            );
            labelled(ui, "batch B", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.batch, 1..=256).logarithmic(true))
            });
            labelled(ui, "features C", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.features, 2..=64))
            });
            if ui.button("New sample").clicked() {
                self.settings.seed = self.settings.seed.wrapping_add(1);
            }
        });
        ui.horizontal_wrapped(|ui| match self.settings.source {
            Source::Synthetic => {
                labelled(ui, "spread of feature means", |ui| ui.add(egui::Slider::new(&mut self.settings.mean_spread, 0.0..=5.0)));
                labelled(ui, "spread of feature scales (log)", |ui| ui.add(egui::Slider::new(&mut self.settings.scale_spread, 0.0..=2.0)));
            }
            Source::Model => {
                labelled(ui, "residual stream after layer", |ui| ui.add(egui::Slider::new(&mut self.settings.layer, 0..=2)));
                ui.label("(0 = the embeddings; rows are consecutive tokens of validation sentences; the first C of the model's 64 features)");
            }
        });
    }

    fn matrix_ui(&mut self, ui: &mut Ui) {
        ui.label("Rows are samples of a batch (tokens), columns are features. BatchNorm standardises each column with the mean and variance of the batch (statistics ↓ over the batch); LayerNorm standardises each row with the mean and variance of its features (statistics → over the features) — the same operation, transposed. RMSNorm divides each row by its root mean square and does not subtract the mean.");
        self.matrix_controls(ui);
        self.ensure();
        let Some(c) = &self.computed else { return };
        if let Some(e) = &c.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if self.settings.batch == 1 {
            ui.colored_label(ui.visuals().warn_fg_color, RichText::new("B = 1: each column's batch mean is the one sample itself, so x − mean = 0 and BatchNorm outputs all zeros (only β would remain). LayerNorm does not care about the batch.").size(15.0));
        }
        let w = (ui.available_width() / 2.0 - 110.0).clamp(120.0, 560.0);
        let size = egui::vec2(w, 300.0);
        let lim = sym_range(&c.x);
        ui.columns(2, |cols| {
            norm_map(
                &mut cols[0],
                "X (input)",
                "the activations as they arrive: features differ in mean and scale",
                &c.x,
                lim,
                c.version,
                size,
            );
            norm_map(
                &mut cols[1],
                "BatchNorm(X)",
                "↓ statistics over the batch: each column has mean 0, variance 1",
                &c.norm.bn,
                3.0,
                c.version,
                size,
            );
        });
        ui.add_space(8.0);
        ui.columns(2, |cols| {
            norm_map(
                &mut cols[0],
                "LayerNorm(X)",
                "→ statistics over the features: each row has mean 0, variance 1",
                &c.norm.ln,
                3.0,
                c.version,
                size,
            );
            norm_map(
                &mut cols[1],
                "RMSNorm(X)",
                "→ each row divided by its root mean square (no mean subtracted)",
                &c.norm.rms,
                3.0,
                c.version,
                size,
            );
        });
    }

    fn stats_ui(&mut self, ui: &mut Ui) {
        ui.label("After BatchNorm every feature (column) has mean 0 and variance 1 over the batch — but a single sample's features need not. After LayerNorm every sample (row) has mean 0 and variance 1 over its features — but a feature need not across the batch.");
        self.matrix_controls(ui);
        let max_f = self.settings.features - 1;
        labelled(ui, "feature for the histogram", |ui| {
            ui.add(egui::Slider::new(&mut self.settings.feature, 0..=max_f))
        });
        self.ensure();
        let Some(c) = &self.computed else { return };
        let mats = [
            ("X", &c.x),
            ("BatchNorm", &c.norm.bn),
            ("LayerNorm", &c.norm.ln),
            ("RMSNorm", &c.norm.rms),
        ];
        let per_feature: Vec<(Vec<f64>, Vec<f64>)> =
            mats.iter().map(|(_, m)| axis_stats(m, Axis(0))).collect();
        let per_sample: Vec<(Vec<f64>, Vec<f64>)> =
            mats.iter().map(|(_, m)| axis_stats(m, Axis(1))).collect();
        let plot = |ui: &mut Ui,
                    id: &str,
                    title: &str,
                    x_name: &'static str,
                    data: &[(Vec<f64>, Vec<f64>)],
                    which: usize| {
            ui.strong(title);
            Plot::new(id)
                .height(150.0)
                .x_axis_label(x_name)
                .label_formatter(hover(x_name, "value"))
                .legend(Legend::default())
                .show(ui, |p| {
                    for (k, (name, _)) in mats.iter().enumerate() {
                        let v = if which == 0 { &data[k].0 } else { &data[k].1 };
                        let pts: PlotPoints =
                            v.iter().enumerate().map(|(i, &y)| [i as f64, y]).collect();
                        p.line(Line::new(*name, pts).color(COLORS[k]).width(if k == 0 {
                            1.5
                        } else {
                            2.0
                        }));
                    }
                });
        };
        ui.columns(2, |cols| {
            plot(
                &mut cols[0],
                "norms_feature_mean",
                "Per-feature mean (over the batch)",
                "feature",
                &per_feature,
                0,
            );
            plot(
                &mut cols[1],
                "norms_feature_var",
                "Per-feature variance (over the batch)",
                "feature",
                &per_feature,
                1,
            );
        });
        ui.columns(2, |cols| {
            plot(
                &mut cols[0],
                "norms_sample_mean",
                "Per-sample mean (over the features)",
                "sample",
                &per_sample,
                0,
            );
            plot(
                &mut cols[1],
                "norms_sample_var",
                "Per-sample variance (over the features)",
                "sample",
                &per_sample,
                1,
            );
        });
        let j = self.settings.feature;
        ui.strong(format!("Feature {j} across the batch, before and after"));
        Plot::new("norms_feature_hist")
            .height(180.0)
            .x_axis_label("value")
            .y_axis_label("density")
            .label_formatter(hover("value", "density"))
            .legend(Legend::default())
            .show(ui, |p| {
                // Bars: the histogram (density); dots below the axis: every sample (a rug), one
                // row per matrix, so small batches stay readable.
                let all: Vec<f64> = mats
                    .iter()
                    .take(3)
                    .flat_map(|(_, m)| m.column(j).to_vec())
                    .map(f64::from)
                    .collect();
                let lo = all.iter().copied().fold(f64::INFINITY, f64::min).min(-3.0);
                let hi = all
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max)
                    .max(3.0);
                let bins_n = (self.settings.batch / 4).clamp(8, 40);
                let w = (hi - lo) / bins_n as f64;
                for (k, (name, m)) in mats.iter().enumerate().take(3) {
                    let col: Vec<f64> = m.column(j).iter().map(|&v| f64::from(v)).collect();
                    let bins = histogram(&col, lo, hi + 1e-9, bins_n);
                    let bars = bins
                        .iter()
                        .map(|&(x, y)| Bar::new(x, y).width(w * 0.9))
                        .collect();
                    p.bar_chart(BarChart::new(*name, bars).color(COLORS[k]));
                    let y = -0.08 * (k as f64 + 1.0);
                    p.points(
                        Points::new(*name, col.iter().map(|&x| [x, y]).collect::<PlotPoints>())
                            .radius(3.0)
                            .color(COLORS[k]),
                    );
                }
            });
    }

    fn batch_ui(&mut self, ui: &mut Ui) {
        ui.label("BatchNorm estimates each feature's mean and variance from the batch. The estimates scatter around the population values with a spread ≈ σ/√B: small batches give noisy statistics, and at B = 1 they are the sample itself. LayerNorm's statistics come from one sample, so the batch size never matters. At inference BN switches to running averages (momentum 0.1) collected during training.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "batch B", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.batch, 1..=256).logarithmic(true))
            });
            let max_f = self.settings.features - 1;
            labelled(ui, "feature", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.feature, 0..=max_f))
            });
            if ui.button("New sample").clicked() {
                self.settings.seed = self.settings.seed.wrapping_add(1);
            }
        });
        self.ensure();
        let s = self.settings.clone();
        let pop = Population::new(&s);
        let j = s.feature;
        let key = NormSettings {
            section: 0,
            gamma: 1.0,
            beta: 0.0,
            relu: ReluOrder::Before,
            source: Source::Synthetic,
            layer: 0,
            ..s.clone()
        };
        let ctx = ui.ctx().clone();
        let (result, fresh) = self.spread.get(&key, &ctx, |k| spread_result(&k));
        let Some(result) = result else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Drawing batches…");
            });
            return;
        };
        if !fresh {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(
                    "Drawing batches for the new setting — the figures are from the previous one.",
                );
            });
        }
        let (curve, now, trace) = (&result.curve, &result.now, &result.trace);
        let Some(c) = &self.computed else { return };
        let zeros = c.norm.bn.iter().all(|&v| v == 0.0);
        // LN of the first sample alone vs inside the batch: identical.
        let alone = normalise(&c.x.slice(ndarray::s![..1, ..]).to_owned());
        let ln_diff = alone
            .ln
            .row(0)
            .iter()
            .zip(c.norm.ln.row(0).iter())
            .fold(0.0_f32, |m, (a, b)| m.max((a - b).abs()));
        ui.label(RichText::new(format!(
            "Feature {j}: population mean {:.3}, σ {:.3}. With B = {}: the batch mean scatters with sd {:.3} (theory σ/√B = {:.3}).",
            pop.mean[j], pop.std[j], now.b, now.mean_sd, pop.std[j] / (now.b as f64).sqrt()
        )).size(15.0));
        if s.batch == 1 {
            ui.colored_label(ui.visuals().warn_fg_color, RichText::new(format!("B = 1: BatchNorm's output is {} — the batch mean of each feature is the sample itself, so every x − mean is 0. The batch variance is 0 too; only ε = 1e-5 keeps the division finite.", if zeros { "all zeros" } else { "not all zeros (model source)" })).size(15.0));
        }
        ui.label(format!("LayerNorm of sample 0 computed alone vs inside this batch: max difference {ln_diff:.1e} — the batch size does not enter."));
        ui.columns(2, |cols| {
            cols[0].strong("Spread of BN's batch estimates vs B (log–log)");
            Plot::new("norms_spread")
                .height(260.0)
                .x_axis_label("batch size B")
                .y_axis_label("sd over batches")
                .x_axis_formatter(|m, _| crate::widgets::plots::log_tick(m.value))
                .y_axis_formatter(|m, _| crate::widgets::plots::log_tick(m.value))
                .label_formatter(hover_on(("B", Scale::Log10), ("sd", Scale::Log10)))
                .legend(Legend::default())
                .show(&mut cols[0], |p| {
                    let lx = |b: usize| (b as f64).log10();
                    let theory: PlotPoints = SPREAD_SIZES
                        .iter()
                        .map(|&b| [lx(b), (pop.std[j] / (b as f64).sqrt()).log10()])
                        .collect();
                    p.line(
                        Line::new("theory σ/√B", theory)
                            .color(GREY)
                            .style(LineStyle::dashed_loose()),
                    );
                    let pts: PlotPoints = curve
                        .iter()
                        .map(|c| [lx(c.b), c.mean_sd.max(1e-12).log10()])
                        .collect();
                    p.points(
                        Points::new("sd of the batch mean", pts)
                            .radius(4.0)
                            .color(COLORS[0]),
                    );
                    let pts: PlotPoints = curve
                        .iter()
                        .filter(|c| c.b > 1)
                        .map(|c| [lx(c.b), c.var_sd.max(1e-12).log10()])
                        .collect();
                    p.points(
                        Points::new("sd of the batch variance", pts)
                            .radius(4.0)
                            .color(COLORS[1]),
                    );
                    p.vline(VLine::new("chosen B", lx(s.batch)).color(GREY));
                });
            cols[1].strong(format!(
                "{TRIALS} batch means of feature {j} at B = {}",
                s.batch
            ));
            let sd = pop.std[j];
            let (lo, hi) = (pop.mean[j] - 3.5 * sd, pop.mean[j] + 3.5 * sd);
            let bins = histogram(&now.means, lo, hi, 40);
            Plot::new("norms_batch_means")
                .height(260.0)
                .x_axis_label("batch mean")
                .y_axis_label("density")
                .label_formatter(hover("batch mean", "density"))
                .legend(Legend::default())
                .show(&mut cols[1], |p| {
                    let w = (hi - lo) / 40.0;
                    p.bar_chart(
                        BarChart::new(
                            "batch means",
                            bins.iter()
                                .map(|&(x, y)| Bar::new(x, y).width(w * 0.9))
                                .collect(),
                        )
                        .color(COLORS[0]),
                    );
                    p.vline(
                        VLine::new("population mean", pop.mean[j])
                            .color(COLORS[1])
                            .width(2.0),
                    );
                });
        });
        ui.strong("Train mode uses each batch's mean (dots); eval mode uses the running mean (line), updated with momentum 0.1");
        Plot::new("norms_running")
            .height(200.0)
            .x_axis_label("training batches seen")
            .y_axis_label(format!("mean of feature {j}"))
            .label_formatter(hover("batch", "mean"))
            .legend(Legend::default())
            .show(ui, |p| {
                p.points(
                    Points::new(
                        "batch mean (train mode)",
                        trace.iter().map(|t| [t[0], t[2]]).collect::<PlotPoints>(),
                    )
                    .radius(2.0)
                    .color(COLORS[0]),
                );
                p.line(
                    Line::new(
                        "running mean (eval mode)",
                        trace.iter().map(|t| [t[0], t[1]]).collect::<PlotPoints>(),
                    )
                    .color(COLORS[1])
                    .width(2.0),
                );
                p.hline(egui_plot::HLine::new("population mean", pop.mean[j]).color(GREY));
            });
    }

    fn relu_ui(&mut self, ui: &mut Ui) {
        ui.label("After standardising, BN multiplies by a trainable γ and adds β: it moves the Gaussian \"to the right place\". Followed by a ReLU, γ and β decide how much of it is clipped to 0: the fraction is Φ(−β/γ). Put BN after the ReLU instead and it only moves the already clipped Gaussian — the spike of zeros moves with it.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "γ (scale)", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.gamma, 0.1..=3.0))
            });
            labelled(ui, "β (shift)", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.beta, -3.0..=3.0))
            });
            ui.separator();
            ui.selectable_value(&mut self.settings.relu, ReluOrder::Before, "BN → ReLU");
            ui.selectable_value(&mut self.settings.relu, ReluOrder::After, "ReLU → BN");
        });
        let s = &self.settings;
        let key = (s.gamma.to_bits(), s.beta.to_bits(), s.relu, s.seed);
        let r = self
            .relu
            .get(key, |_| relu_clip(s.gamma, s.beta, s.relu, s.seed));
        let text = match s.relu {
            ReluOrder::Before => format!(
                "Clipped by the ReLU: {:.2} % of {CLIP_SAMPLES} samples; theory Φ(−β/γ) = Φ({:.3}) = {:.2} %.",
                100.0 * r.empirical,
                -s.beta / s.gamma,
                100.0 * r.theory
            ),
            ReluOrder::After => format!(
                "The ReLU clips {:.2} % (theory 50 %: the raw input is symmetric), whatever γ and β are; BN then moves the clipped distribution — its spike of zeros now sits at {:.3}.",
                100.0 * r.empirical,
                r.values.iter().copied().fold(f64::INFINITY, f64::min)
            ),
        };
        ui.label(RichText::new(text).size(15.0));
        let (gamma, beta) = (s.gamma, s.beta);
        let order = s.relu;
        ui.columns(2, |cols| {
            cols[0].strong("Density of γz + β before the ReLU, clipped region shaded");
            Plot::new("norms_relu_density")
                .height(300.0)
                .x_axis_label("pre-activation y")
                .y_axis_label("density")
                .label_formatter(hover("y", "density"))
                .legend(Legend::default())
                .include_x(-4.0)
                .include_x(4.0)
                .show(&mut cols[0], |p| {
                    let (m, sd) = match order {
                        ReluOrder::Before => (beta, gamma),
                        ReluOrder::After => (0.0, 1.0),
                    };
                    let xs: Vec<f64> = (0..=300).map(|i| -6.0 + 12.0 * i as f64 / 300.0).collect();
                    let pdf = |x: f64| normal_pdf((x - m) / sd) / sd;
                    // Polygons must be convex in egui_plot; a line filled down to y = 0 is not.
                    let shade: PlotPoints = xs
                        .iter()
                        .filter(|&&x| x <= 0.0)
                        .map(|&x| [x, pdf(x)])
                        .chain(std::iter::once([0.0, pdf(0.0)]))
                        .collect();
                    p.line(
                        Line::new("clipped to 0 by the ReLU", shade)
                            .color(Color32::from_rgb(213, 94, 0))
                            .fill(0.0)
                            .fill_alpha(0.35),
                    );
                    p.line(
                        Line::new(
                            if order == ReluOrder::Before {
                                "N(β, γ²)"
                            } else {
                                "raw N(0, 1)"
                            },
                            xs.iter().map(|&x| [x, pdf(x)]).collect::<PlotPoints>(),
                        )
                        .color(COLORS[0])
                        .width(2.0),
                    );
                    p.vline(VLine::new("ReLU threshold 0", 0.0).color(GREY));
                });
            cols[1].strong("Histogram of the output");
            let lo = r
                .values
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
                .min(-1.0);
            let hi = r
                .values
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max)
                .max(1.0);
            let bins = histogram(&r.values, lo, hi + 1e-9, 60);
            let w = (hi - lo) / 60.0;
            Plot::new("norms_relu_output")
                .height(300.0)
                .x_axis_label("output")
                .y_axis_label("density")
                .label_formatter(hover("output", "density"))
                .show(&mut cols[1], |p| {
                    p.bar_chart(
                        BarChart::new(
                            "output",
                            bins.iter()
                                .map(|&(x, y)| Bar::new(x, y).width(w * 0.95))
                                .collect(),
                        )
                        .color(COLORS[2]),
                    );
                });
        });
    }

    fn model_ui(&mut self, ui: &mut Ui) {
        ui.label("The same transformer trained four times from the same seed on the bears task, with LayerNorm, BatchNorm (over batch × time), RMSNorm or no normalisation. Then the trained BatchNorm model is evaluated the way it would be served: a full batch, one sequence at a time, one token alone, and eval mode (running averages).");
        self.compare.preset = Preset::Norms;
        self.compare.lock_preset = true;
        let base = TrainConfig::default();
        self.compare.ui(ui, &base, "the bears won the game");
        let bn_run = self
            .compare
            .latest()
            .into_iter()
            .find(|(_, s)| s.gpt.config.norm == NormKind::BatchNorm);
        let Some((_, snap)) = bn_run else { return };
        let stale = match &self.bn_eval {
            Some(Ok(e)) => snap.step >= e.step + 25 || (snap.step != e.step && !snap.running),
            Some(Err(_)) => false,
            None => true,
        };
        if stale {
            self.bn_eval = Some(evaluate_bn(&snap.gpt, &snap.config).map(|e| BnEval {
                step: snap.step,
                ..e
            }));
        }
        match &self.bn_eval {
            Some(Ok(e)) => {
                ui.strong(format!("The BatchNorm run at step {}: validation loss (cross-entropy, nats) when served", e.step));
                egui::Grid::new("bn_eval").striped(true).show(ui, |ui| {
                    for (name, v) in [
                        (
                            "a full batch of 16 sequences (train-mode statistics)",
                            e.full,
                        ),
                        ("eval mode: running averages (how BN is served)", e.eval),
                        (
                            "one sequence at a time (statistics over its 16 tokens)",
                            e.one,
                        ),
                        (
                            "one token alone (statistics of a single row: output = β)",
                            e.token_alone,
                        ),
                    ] {
                        ui.label(name);
                        ui.monospace(format!("{v:.3}"));
                        ui.end_row();
                    }
                });
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            None => {}
        }
    }
}

fn norm_map(
    ui: &mut Ui,
    title: &str,
    axis: &str,
    m: &Array2<f32>,
    lim: f32,
    version: u64,
    size: egui::Vec2,
) {
    ui.vertical(|ui| {
        ui.strong(title);
        ui.label(RichText::new(axis).size(13.0));
        Heatmap::new(title, m.view())
            .axis_names("sample", "feature")
            .colormap(Colormap::Diverging)
            .range(-lim, lim)
            .max_size(size)
            .colorbar(true)
            .version(version)
            .show(ui);
    });
}

impl Lesson for NormsLesson {
    fn id(&self) -> &'static str {
        "norms"
    }

    fn title(&self) -> &'static str {
        "Batch norm vs layer norm: which axis the statistics come from"
    }

    fn summary(&self) -> &'static str {
        "BatchNorm standardises each feature over the batch; LayerNorm does the same over the features of one token — which is why transformers, served one request at a time, use it."
    }

    fn ui(&mut self, ui: &mut Ui, _ctx: &mut LessonContext) {
        section_tabs(ui, &mut self.settings.section, &SECTIONS);
        match self.settings.section {
            1 => self.stats_ui(ui),
            2 => self.batch_ui(ui),
            3 => self.relu_ui(ui),
            4 => self.model_ui(ui),
            _ => self.matrix_ui(ui),
        }
    }

    fn settings(&self) -> Value {
        settings_to_json(&self.settings)
    }

    fn set_settings(&mut self, settings: Value) -> Result<(), String> {
        let s: NormSettings = settings_from_json(settings)?;
        s.validate()?;
        self.settings = s;
        Ok(())
    }

    fn data(&self) -> Value {
        let s = &self.settings;
        let model = (s.source == Source::Model)
            .then(|| crate::pretrained::bears().map(|(g, _)| Arc::new(g)));
        let (x, error) = compute_matrix(s, model.as_ref());
        let n = normalise(&x);
        let rows =
            |a: &Array2<f32>| -> Vec<Vec<f32>> { a.outer_iter().map(|r| r.to_vec()).collect() };
        let (bn_mean, bn_var) = axis_stats(&x, Axis(0));
        let (ln_mean, ln_var) = axis_stats(&x, Axis(1));
        let r = relu_clip(s.gamma, s.beta, s.relu, s.seed);
        let pop = Population::new(s);
        let j = s.feature.min(s.features - 1);
        let spread: Vec<Value> = SPREAD_SIZES
            .iter()
            .map(|&b| {
                let sp = batch_spread(&pop, j, b, s.seed);
                json!({"batch": b, "mean_sd": sp.mean_sd, "theory": pop.std[j] / (b as f64).sqrt()})
            })
            .collect();
        json!({
            "settings": self.settings(),
            "error": error,
            "x": rows(&x),
            "batchnorm": rows(&n.bn),
            "layernorm": rows(&n.ln),
            "rmsnorm": rows(&n.rms),
            "bn_mean": bn_mean,
            "bn_var": bn_var,
            "ln_mean": ln_mean,
            "ln_var": ln_var,
            "batchnorm_all_zero": n.bn.iter().all(|&v| v == 0.0),
            "batch_spread": spread,
            "relu_clip": {
                "gamma": s.gamma,
                "beta": s.beta,
                "order": s.relu,
                "empirical": r.empirical,
                "theory": r.theory,
            },
        })
    }

    fn csv(&self) -> String {
        let s = &self.settings;
        let (x, _) = compute_matrix(s, self.model.as_ref());
        let n = normalise(&x);
        match s.section {
            1 => {
                let (m, v) = axis_stats(&x, Axis(0));
                let (bm, bv) = axis_stats(&n.bn, Axis(0));
                columns_csv(&[
                    ("feature", (0..m.len()).map(|i| i as f64).collect()),
                    ("x_mean", m),
                    ("x_var", v),
                    ("bn_mean", bm),
                    ("bn_var", bv),
                ])
            }
            3 => {
                let r = relu_clip(s.gamma, s.beta, s.relu, s.seed);
                columns_csv(&[
                    ("gamma", vec![s.gamma]),
                    ("beta", vec![s.beta]),
                    ("clipped_empirical", vec![r.empirical]),
                    ("clipped_theory", vec![r.theory]),
                ])
            }
            _ => matrix_csv(n.bn.view(), None, None),
        }
    }
}
