//! §3 "Gradient flow through depth": the same model, L blocks deep, trained four ways from one
//! seed — with and without skip connections, with and without LayerNorm — side by side, always
//! at the same step. The loss curves, and the gradient reaching each layer's weights (log axis):
//! without skips the early layers of a deep stack get orders of magnitude less, or the run
//! diverges (and says so).

use egui::Ui;

use super::settings::ResidualSettings;
use crate::data::Task;
use crate::lessons::common::compare_runs::{CompareRuns, FIRST_STEPS, Preset};
use crate::lessons::lesson::{LessonContext, Section};
use crate::train::{Command, Snapshot, TrainConfig};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::SERIES;
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry, layout};

/// Recent steps averaged for the per-layer picture (a single step's gradient is noisy).
const RECENT: usize = 20;

/// The section: its runs and the depth they were started at.
#[derive(Default)]
pub struct Depth {
    compare: CompareRuns,
    started_at: Option<usize>,
}

fn base(layers: usize) -> TrainConfig {
    let mut c = TrainConfig {
        task: Task::Bears,
        ..TrainConfig::default()
    };
    c.model.n_layer = layers;
    c
}

/// Each layer's gradient norm, averaged over the last [`RECENT`] recorded steps (geometric
/// mean: the values span decades).
fn recent_norms(snap: &Snapshot) -> Vec<f64> {
    let h = &snap.layer_norms;
    let from = h.len().saturating_sub(RECENT);
    let layers = h.last().map_or(0, |(_, n)| n.len());
    (0..layers)
        .map(|l| {
            let logs: Vec<f64> = h[from..]
                .iter()
                .filter_map(|(_, n)| n.get(l))
                .filter(|v| v.is_finite() && **v > 0.0)
                .map(|&v| f64::from(v).ln())
                .collect();
            if logs.is_empty() {
                f64::NAN
            } else {
                (logs.iter().sum::<f64>() / logs.len() as f64).exp()
            }
        })
        .collect()
}

impl Section<ResidualSettings> for Depth {
    fn title(&self) -> &'static str {
        "3. Gradient flow through depth"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut ResidualSettings, _ctx: &mut LessonContext) {
        ui.label("The skip connection x + f(x), as in ResNets, gives the gradient a path around every layer: ∂(x + f(x))/∂x = 1 + ∂f/∂x. Without it the gradient reaching the first layers is a product of one factor per layer above, and shrinks or grows layer by layer. Four runs of the same model from one seed, one step of each in turn:");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "blocks L", |ui| {
                ui.add(egui::Slider::new(&mut s.layers, 1..=12))
            });
        });
        self.compare.preset = Preset::Residuals;
        self.compare.lock_preset = true;
        self.compare.hide_maps = true;
        if self.started_at.is_some_and(|l| l != s.layers) {
            // A new depth: the runs start again.
            self.compare.start(&base(s.layers), ui.ctx());
            self.compare.send_all(&Command::Step(FIRST_STEPS));
        }
        self.started_at = Some(s.layers);
        self.compare.ui(ui, &base(s.layers), "the bears");
        let latest = self.compare.latest();
        if latest.is_empty() {
            return;
        }
        let legend: Vec<_> = latest
            .iter()
            .enumerate()
            .map(|(i, (label, _))| entry(label.clone(), SERIES[i % SERIES.len()], Mark::Line))
            .collect();
        let step = latest.iter().map(|(_, s)| s.step).min().unwrap_or(0);
        // What the figures say, in numbers: layer 1's gradient, with skips vs without (both with
        // LayerNorm), at the same step.
        let first: Vec<f64> = latest
            .iter()
            .map(|(_, snap)| recent_norms(snap).first().copied().unwrap_or(f64::NAN))
            .collect();
        if first.len() >= 3 && first[0].is_finite() && first[2].is_finite() && first[2] > 0.0 {
            let ratio = (first[0] / first[2]).max(first[2] / first[0]);
            let loss = |k: usize| {
                let recent: Vec<f64> = latest[k]
                    .1
                    .history
                    .iter()
                    .rev()
                    .take(20)
                    .map(|p| f64::from(p.train))
                    .collect();
                crate::math::stats::mean(&recent)
            };
            ui.label(format!(
                "At step {step}, block 1's weights get a gradient of norm {:.2e} with skips and {:.2e} without (both with LayerNorm): {} times {}. Training loss over the last 20 steps: {:.2} with skips, {:.2} without.",
                first[0],
                first[2],
                if ratio >= 1e4 { format!("{ratio:.1e}") } else { format!("{ratio:.0}") },
                if first[0] > first[2] { "less without skips" } else { "more without skips" },
                loss(0),
                loss(2)
            ));
        }
        layout::grid(ui, 2, 360.0, |ui, i| {
            if i == 0 {
                ui.strong(format!(
                    "Gradient norm of each block's weights (mean of the last {RECENT} steps)"
                ));
                Figure::new("residuals_layer_norms")
                    .x("block (1 = nearest the input)", Scale::Index)
                    .y("gradient norm", Scale::Log10)
                    .rows(ui, 1.6)
                    .include_x(1.0)
                    .include_x(s.layers as f64)
                    .legend(legend.clone())
                    .show(ui, |p| {
                        for (k, (label, snap)) in latest.iter().enumerate() {
                            let pts: Vec<[f64; 2]> = recent_norms(snap)
                                .iter()
                                .enumerate()
                                .filter(|(_, v)| v.is_finite() && **v > 0.0)
                                .map(|(l, v)| [(l + 1) as f64, v.log10()])
                                .collect();
                            p.line(
                                egui_plot::Line::new(label.clone(), pts.clone())
                                    .color(SERIES[k % SERIES.len()])
                                    .width(2.0),
                            );
                            p.points(
                                egui_plot::Points::new(label.clone(), pts)
                                    .color(SERIES[k % SERIES.len()])
                                    .radius(3.5),
                            );
                        }
                    });
            } else {
                ui.strong("Block 1's gradient norm over training");
                Figure::new("residuals_first_layer")
                    .x("step", Scale::Index)
                    .y("gradient norm of block 1", Scale::Log10)
                    .rows(ui, 1.6)
                    .include_x(0.0)
                    .include_x(FIRST_STEPS as f64)
                    .legend(legend.clone())
                    .show(ui, |p| {
                        for (k, (label, snap)) in latest.iter().enumerate() {
                            let pts: Vec<[f64; 2]> = snap
                                .layer_norms
                                .iter()
                                .filter_map(|(st, n)| {
                                    n.first()
                                        .filter(|v| v.is_finite() && **v > 0.0)
                                        .map(|v| [*st as f64, f64::from(*v).log10()])
                                })
                                .collect();
                            p.line(
                                egui_plot::Line::new(label.clone(), pts)
                                    .color(SERIES[k % SERIES.len()])
                                    .width(1.5),
                            );
                        }
                    });
            }
        });
    }

    fn csv(&mut self, _s: &ResidualSettings) -> String {
        let latest = self.compare.latest();
        let layers = latest.first().map_or(0, |(_, s)| recent_norms(s).len());
        let mut cols = vec![("block", (1..=layers).map(|l| l as f64).collect::<Vec<_>>())];
        let names: Vec<String> = latest.iter().map(|(l, _)| l.replace(' ', "_")).collect();
        for (_, snap) in &latest {
            cols.push(("", recent_norms(snap)));
        }
        let named: Vec<(&str, Vec<f64>)> = cols
            .into_iter()
            .enumerate()
            .map(|(i, (n, v))| (if i == 0 { n } else { names[i - 1].as_str() }, v))
            .collect();
        columns_csv(&named)
    }
}
