//! Lesson "Batch norm vs layer norm: which axis the statistics come from".
//!
//! BatchNorm (Ioffe & Szegedy 2015) standardises each feature with the mean and variance of the
//! batch; LayerNorm (Ba, Kiros & Hinton 2016) is the same thing transposed — statistics over the
//! features of one sample; RMSNorm (Zhang & Sennrich 2019) only rescales by the root mean square.
//! Every normalisation here runs the model's own `model::norm` forward functions (γ = 1, β = 0,
//! ε = 1e-5, biased variance as PyTorch). Math: `math::norms`.

mod batch;
mod matrix;
mod model;
mod relu;
pub mod settings;
mod stats;

use egui::Ui;
use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::lessons::lesson::{Lesson, LessonInfo, LessonSettings, Sectioned};
use crate::math::norms::{
    Normalised, ReluOrder, SPREAD_SIZES, axis_stats, batch_spread, model_rows, normalise, relu_clip,
};
use crate::pretrained::bears_shared;
use crate::widgets::plots::labelled;
use crate::widgets::{Colormap, Heatmap};
pub use settings::{NormSettings, Source};

/// The lesson, for the registry.
pub fn lesson() -> Box<dyn Lesson> {
    Box::new(Sectioned::new(
        LessonInfo {
            id: "norms",
            title: "Batch norm vs layer norm: which axis the statistics come from",
            summary: "BatchNorm standardises each feature over the batch; LayerNorm does the same over the features of one token — which is why transformers, served one request at a time, use it.",
        },
        vec![
            Box::new(matrix::Matrix::default()),
            Box::new(stats::Stats::default()),
            Box::new(batch::Batch::default()),
            Box::new(relu::Relu::default()),
            Box::new(model::Model::default()),
        ],
        data,
    ))
}

/// Everything drawn from the matrix, recomputed when its inputs change.
pub struct Computed {
    key: NormSettings,
    /// X: (B, C).
    pub x: Array2<f32>,
    /// BN, LN and RMSNorm of X.
    pub norm: Normalised,
    /// Why X is zeros, when the model could not provide it.
    pub error: Option<String>,
    /// Changes with X (for the heatmaps' textures).
    pub version: u64,
}

/// The matrix of sections 1–3, recomputed only when what it depends on changed.
#[derive(Default)]
pub struct MatrixCache(Option<Computed>);

impl MatrixCache {
    /// The matrix for `s`.
    pub fn get(&mut self, s: &NormSettings) -> &Computed {
        let key = matrix_key(s);
        if self.0.as_ref().is_none_or(|c| c.key != key) {
            let (x, error) = compute_matrix(s);
            let version = self.0.as_ref().map_or(1, |c| c.version + 1);
            self.0 = Some(Computed {
                norm: normalise(&x),
                x,
                key,
                error,
                version,
            });
        }
        match &self.0 {
            Some(c) => c,
            None => unreachable!("filled just above"),
        }
    }
}

fn matrix_key(s: &NormSettings) -> NormSettings {
    // Only what the matrix depends on (sliders of other sections do not rebuild it).
    NormSettings {
        feature: 0,
        gamma: 1.0,
        beta: 0.0,
        relu: ReluOrder::Before,
        ..s.clone()
    }
}

/// The matrix X of the settings, and the reason it is all zeros if the model could not give it.
fn compute_matrix(s: &NormSettings) -> (Array2<f32>, Option<String>) {
    match s.source {
        Source::Synthetic => {
            let pop = s.population();
            let mut rng = StdRng::seed_from_u64(s.seed);
            (pop.sample(s.batch, &mut rng), None)
        }
        Source::Model => {
            let rows = bears_shared().and_then(|(gpt, _)| {
                model_rows(gpt, s.layer, s.batch, s.seed).map(|x| {
                    x.slice(ndarray::s![.., ..s.features.min(x.ncols())])
                        .to_owned()
                })
            });
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

/// The source, B, C and sample controls of sections 1 and 2.
fn matrix_controls(ui: &mut Ui, settings: &mut NormSettings) {
    ui.horizontal_wrapped(|ui| {
        ui.label("source:");
        ui.selectable_value(&mut settings.source, Source::Synthetic, "synthetic");
        ui.selectable_value(
            &mut settings.source,
            Source::Model,
            "bears model's residual stream",
        );
        labelled(ui, "batch B", |ui| {
            ui.add(egui::Slider::new(&mut settings.batch, 1..=256).logarithmic(true))
        });
        labelled(ui, "features C", |ui| {
            ui.add(egui::Slider::new(&mut settings.features, 2..=64))
        });
        if ui.button("New sample").clicked() {
            settings.seed = settings.seed.wrapping_add(1);
        }
    });
    ui.horizontal_wrapped(|ui| match settings.source {
        Source::Synthetic => {
            labelled(ui, "spread of feature means", |ui| ui.add(egui::Slider::new(&mut settings.mean_spread, 0.0..=5.0)));
            labelled(ui, "spread of feature scales (log)", |ui| ui.add(egui::Slider::new(&mut settings.scale_spread, 0.0..=2.0)));
        }
        Source::Model => {
            labelled(ui, "residual stream after layer", |ui| ui.add(egui::Slider::new(&mut settings.layer, 0..=2)));
            ui.label("(0 = the embeddings; rows are consecutive tokens of validation sentences; the first C of the model's 64 features)");
        }
    });
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
        ui.label(axis);
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

fn data(s: &NormSettings) -> Value {
    let (x, error) = compute_matrix(s);
    let n = normalise(&x);
    let rows = |a: &Array2<f32>| -> Vec<Vec<f32>> { a.outer_iter().map(|r| r.to_vec()).collect() };
    let (bn_mean, bn_var) = axis_stats(&x, Axis(0));
    let (ln_mean, ln_var) = axis_stats(&x, Axis(1));
    let r = relu_clip(s.gamma, s.beta, s.relu, s.seed);
    let pop = s.population();
    let j = s.feature.min(s.features - 1);
    let spread: Vec<Value> = SPREAD_SIZES
        .iter()
        .map(|&b| {
            let sp = batch_spread(&pop, j, b, s.seed);
            json!({"batch": b, "mean_sd": sp.mean_sd, "theory": pop.std[j] / (b as f64).sqrt()})
        })
        .collect();
    json!({
        "settings": s.to_json(),
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
