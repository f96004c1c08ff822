//! Lesson "Why RNN gradients vanish or explode": BPTT multiplies by Wᵀ at every step, so the
//! gradient reaching step T−k scales like ρ(W)^k. All the math is `model::rnn` (f64); this file
//! draws it, recomputing only when a slider changed.

use egui::{Color32, RichText, Ui};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints, Points, Polygon};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::background::Cached;
use super::{Lesson, LessonContext, settings_from_json, settings_to_json};
use crate::model::rnn::{
    Activation, Lstm, RnnExperiment, RnnSpec, WInit, iir_impulse_response, lstm_backward,
    lstm_forward, rnn_experiment, rnn_inputs, row_norms,
};
use crate::model::stats::{histogram, mean};
use crate::widgets::export::columns_csv;
use crate::widgets::plots::{labelled, log_hover, log_y_axis, log10_points, section_tabs};

/// The sections, one tab each.
const SECTIONS: [&str; 4] = [
    "1. The scalar filter",
    "2. The matrix RNN",
    "3. tanh saturation",
    "4. LSTM",
];

const BLUE: Color32 = Color32::from_rgb(0, 114, 178);
const ORANGE: Color32 = Color32::from_rgb(230, 159, 0);
const GREEN: Color32 = Color32::from_rgb(0, 158, 115);
const PINK: Color32 = Color32::from_rgb(204, 121, 167);
const GREY: Color32 = Color32::from_rgb(128, 128, 128);

/// The lesson's persisted settings (also `attention-lab data rnn --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RnnSettings {
    /// The open section (0…3).
    pub section: usize,
    /// The scalar filter's coefficient w (−1.5…1.5).
    pub w_scalar: f64,
    /// Spectral radius of W (0.5…1.5).
    pub radius: f64,
    /// Sequence length T (1…200).
    pub steps: usize,
    /// Hidden size n (2…64).
    pub hidden: usize,
    /// Seed of W, the inputs and ∂L/∂h_T.
    pub seed: u64,
    /// φ: linear or tanh.
    pub activation: Activation,
    /// W = radius · orthogonal, or Gaussian rescaled to the radius.
    pub init: WInit,
    /// Clip the back-propagated gradient.
    pub clip: bool,
    /// Its threshold (norm).
    pub clip_threshold: f64,
    /// s in a_t = W h_{t−1} + s·x_t (0.01…10), for the tanh panel.
    pub input_scale: f64,
    /// The LSTM's forget-gate bias b_f (−4…8): f ≈ σ(b_f).
    pub forget_bias: f64,
}

impl Default for RnnSettings {
    fn default() -> Self {
        Self {
            section: 1,
            w_scalar: -0.9,
            radius: 0.9,
            steps: 100,
            hidden: 16,
            seed: 0,
            activation: Activation::Linear,
            init: WInit::Orthogonal,
            clip: false,
            clip_threshold: 10.0,
            input_scale: 1.0,
            forget_bias: 3.0,
        }
    }
}

impl RnnSettings {
    fn validate(&self) -> Result<(), String> {
        let range = |name: &str, v: f64, lo: f64, hi: f64| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be between {lo} and {hi}, got {v}"))
            }
        };
        range("w_scalar", self.w_scalar, -1.5, 1.5)?;
        range("radius", self.radius, 0.5, 1.5)?;
        range("steps", self.steps as f64, 1.0, 200.0)?;
        range("hidden", self.hidden as f64, 2.0, 64.0)?;
        range("clip_threshold", self.clip_threshold, 0.01, 1e6)?;
        range("input_scale", self.input_scale, 0.01, 10.0)?;
        range("forget_bias", self.forget_bias, -4.0, 8.0)?;
        range("section", self.section as f64, 0.0, 3.0)?;
        Ok(())
    }

    fn spec(&self) -> RnnSpec {
        RnnSpec {
            hidden: self.hidden,
            steps: self.steps,
            radius: self.radius,
            init: self.init,
            activation: self.activation,
            input_scale: 1.0,
            clip: self.clip.then_some(self.clip_threshold),
            seed: self.seed,
        }
    }

    /// Section 3: tanh at ρ(W) = 1 (orthogonal) with the input-scale slider, and the linear twin.
    fn saturation_specs(&self) -> (RnnSpec, RnnSpec) {
        let tanh = RnnSpec {
            hidden: self.hidden,
            steps: self.steps,
            radius: 1.0,
            init: WInit::Orthogonal,
            activation: Activation::Tanh,
            input_scale: self.input_scale,
            clip: None,
            seed: self.seed,
        };
        let linear = RnnSpec {
            activation: Activation::Linear,
            ..tanh
        };
        (tanh, linear)
    }
}

/// Every part at once (for `data` and `csv`; the GUI computes only the open section's part, each
/// cached with its own inputs, so a slider of one section never pays for the others).
struct Computed<'a> {
    main: &'a RnnExperiment,
    saturated: &'a RnnExperiment,
    unit_linear: &'a RnnExperiment,
    lstm: &'a LstmResult,
}

/// Section 4's numbers.
struct LstmResult {
    /// ‖∂L/∂c_{T−k}‖.
    cell: Vec<f64>,
    /// ‖∂L/∂h_{T−k}‖ of the LSTM.
    hidden: Vec<f64>,
    /// ‖∂L/∂h_{T−k}‖ of a tanh RNN at the same radius.
    rnn: Vec<f64>,
    /// Mean forget gate along the trajectory.
    mean_f: f64,
}

fn lstm_result(s: &RnnSettings) -> LstmResult {
    let lstm = Lstm::new(s.hidden, s.forget_bias, 1.0, s.seed);
    let (xs, g) = rnn_inputs(s.hidden, s.steps, s.seed);
    let zero = ndarray::Array1::zeros(s.hidden);
    let cache = lstm_forward(&lstm, xs.view(), zero.view(), zero.view());
    let (dh, dc) = lstm_backward(&lstm, &cache, g.view());
    let rnn = rnn_experiment(&RnnSpec {
        activation: Activation::Tanh,
        clip: None,
        input_scale: 1.0,
        ..s.spec()
    });
    let f: Vec<f64> = cache
        .f
        .slice(ndarray::s![1.., ..])
        .iter()
        .copied()
        .collect();
    LstmResult {
        cell: row_norms(dc.view()),
        hidden: row_norms(dh.view()),
        rnn: rnn.grad_norms,
        mean_f: mean(&f),
    }
}

/// The LSTM section's inputs.
type LstmKey = (usize, usize, u64, u64, u64);

/// The lesson.
#[derive(Default)]
pub struct RnnLesson {
    settings: RnnSettings,
    main: Cached<RnnSpec, RnnExperiment>,
    saturated: Cached<RnnSpec, RnnExperiment>,
    unit_linear: Cached<RnnSpec, RnnExperiment>,
    lstm: Cached<LstmKey, LstmResult>,
}

impl RnnLesson {
    fn main_part(&mut self) -> &RnnExperiment {
        self.main.get(self.settings.spec(), rnn_experiment)
    }

    fn saturation_part(&mut self) -> (&RnnExperiment, &RnnExperiment) {
        let (tanh, linear) = self.settings.saturation_specs();
        (
            self.saturated.get(tanh, rnn_experiment),
            self.unit_linear.get(linear, rnn_experiment),
        )
    }

    fn lstm_part(&mut self) -> &LstmResult {
        let s = &self.settings;
        let key = (
            s.hidden,
            s.steps,
            s.seed,
            s.forget_bias.to_bits(),
            s.radius.to_bits(),
        );
        self.lstm.get(key, |_| lstm_result(s))
    }

    fn scalar_filter(&mut self, ui: &mut Ui) {
        ui.label("The scalar RNN h_t = w·h_{t−1} + x_t is an infinite-impulse-response filter: feed it one impulse x_0 = 1 and it answers w, w², w³, … — the impulse response is w^t. Back-propagation runs the same recursion backwards, so the gradient that reaches k steps back is w^k times the one at the end.");
        ui.horizontal(|ui| {
            labelled(ui, "w", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.w_scalar, -1.5..=1.5).step_by(0.01))
            });
            for preset in [-0.9, 0.5, 0.9, 1.0, 1.05] {
                if ui.button(format!("w = {preset}")).clicked() {
                    self.settings.w_scalar = preset;
                }
            }
            labelled(ui, "steps T", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.steps, 1..=200))
            });
        });
        let w = self.settings.w_scalar;
        let steps = self.settings.steps;
        let response = iir_impulse_response(w, steps);
        let verdict = if w.abs() < 1.0 {
            RichText::new(format!(
                "|w| = {:.2} < 1: stable — the response dies out (half-life {:.1} steps).",
                w.abs(),
                (0.5f64).ln() / w.abs().max(1e-12).ln()
            ))
            .color(GREEN)
        } else if w.abs() == 1.0 {
            RichText::new("|w| = 1: on the edge — the impulse neither grows nor decays.")
                .color(ORANGE)
        } else {
            RichText::new(format!(
                "|w| = {:.2} > 1: unstable — the response grows without bound (w^{steps} = {:.3e}).",
                w.abs(),
                w.powi(steps as i32)
            ))
            .color(Color32::from_rgb(213, 94, 0))
        };
        ui.label(verdict.size(15.0));
        let ts = || (0..=steps).map(|t| t as f64);
        ui.columns(2, |cols| {
            cols[0].strong("Impulse response w^t (linear scale)");
            Plot::new("rnn_iir_linear")
                .height(300.0)
                .x_axis_label("t (steps)")
                .y_axis_label("h_t = w^t")
                .label_formatter(crate::widgets::plots::hover("t", "w^t"))
                .legend(Legend::default())
                .show(&mut cols[0], |p| {
                    let pts: PlotPoints = ts()
                        .zip(&response)
                        .map(|(t, v)| [t, v.clamp(-1e6, 1e6)])
                        .collect();
                    p.line(Line::new("w^t", pts).color(BLUE));
                    p.points(
                        Points::new(
                            "w^t (samples)",
                            ts().zip(&response)
                                .map(|(t, v)| [t, v.clamp(-1e6, 1e6)])
                                .collect::<PlotPoints>(),
                        )
                        .radius(2.0)
                        .color(BLUE),
                    );
                });
            cols[1].strong("|w|^t on a log scale: a straight line of slope log|w|");
            let abs: Vec<f64> = response.iter().map(|v| v.abs()).collect();
            let logs: Vec<f64> = abs.iter().map(|v| v.max(1e-300).log10()).collect();
            let top = logs.iter().copied().fold(1.0_f64, f64::max) + 0.5;
            let bottom = logs.iter().copied().fold(-1.0_f64, f64::min) - 0.5;
            Plot::new("rnn_iir_log")
                .height(300.0)
                .x_axis_label("t (steps)")
                .custom_y_axes(vec![log_y_axis("|w|^t")])
                .label_formatter(log_hover("t", "|w|^t"))
                .legend(Legend::default())
                .show(&mut cols[1], |p| {
                    let t_max = steps as f64;
                    p.polygon(
                        Polygon::new(
                            "unstable (|w| > 1)",
                            vec![[0.0, 0.0], [t_max, 0.0], [t_max, top], [0.0, top]],
                        )
                        .fill_color(Color32::from_rgba_unmultiplied(213, 94, 0, 28))
                        .stroke(egui::Stroke::NONE),
                    );
                    p.polygon(
                        Polygon::new(
                            "stable (|w| < 1)",
                            vec![[0.0, 0.0], [t_max, 0.0], [t_max, bottom], [0.0, bottom]],
                        )
                        .fill_color(Color32::from_rgba_unmultiplied(0, 158, 115, 28))
                        .stroke(egui::Stroke::NONE),
                    );
                    p.line(
                        Line::new("|w|^t", log10_points(ts(), &abs))
                            .color(BLUE)
                            .width(2.0),
                    );
                });
        });
    }

    fn matrix_rnn(&mut self, ui: &mut Ui) {
        ui.label("h_t = φ(W h_{t−1} + x_t), n hidden units, T steps, L = gᵀh_T. Back-propagation through time: ∂L/∂h_{t−1} = Wᵀ(φ′(a_t) ⊙ ∂L/∂h_t). The gradient that reaches k steps back has been multiplied by Wᵀ k times, so its size follows the largest eigenvalue: ρ(W)^k.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "spectral radius ρ(W)", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.radius, 0.5..=1.5).step_by(0.01))
            });
            for preset in [0.9, 1.0, 1.1] {
                if ui.button(format!("ρ = {preset}")).clicked() {
                    self.settings.radius = preset;
                }
            }
            labelled(ui, "hidden size n", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.hidden, 2..=64))
            });
            labelled(ui, "steps T", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.steps, 1..=200))
            });
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("W:");
            ui.selectable_value(&mut self.settings.init, WInit::Orthogonal, "radius × orthogonal")
                .on_hover_text("Every eigenvalue lies on the circle of this radius");
            ui.selectable_value(&mut self.settings.init, WInit::Gaussian, "Gaussian, rescaled")
                .on_hover_text("A Gaussian matrix divided by its spectral radius and multiplied by the chosen one: eigenvalues fill a disc");
            ui.separator();
            ui.label("φ:");
            ui.selectable_value(&mut self.settings.activation, Activation::Linear, "identity");
            ui.selectable_value(&mut self.settings.activation, Activation::Tanh, "tanh");
            ui.separator();
            if ui.button("New seed").clicked() {
                self.settings.seed = self.settings.seed.wrapping_add(1);
            }
            ui.label(format!("seed {}", self.settings.seed));
            ui.separator();
            ui.checkbox(&mut self.settings.clip, "Clip gradients");
            if self.settings.clip {
                labelled(ui, "threshold", |ui| {
                    ui.add(
                        egui::Slider::new(&mut self.settings.clip_threshold, 0.1..=1000.0)
                            .logarithmic(true),
                    )
                });
            }
        });
        let s = self.settings.clone();
        let m = self.main_part();
        let last = m.grad_norms.last().copied().unwrap_or(0.0);
        ui.label(
            RichText::new(format!(
                "ρ(W) = {:.4}: after T = {} steps the gradient norm is {:.3e} × its value at the end ({}).",
                m.spectral_radius,
                s.steps,
                last / m.grad_norms[0].max(f64::MIN_POSITIVE),
                if m.spectral_radius < 0.999 {
                    "vanishing: early steps get almost no learning signal"
                } else if m.spectral_radius > 1.001 {
                    "exploding: one update would be huge"
                } else {
                    "ρ = 1: the norm is kept"
                }
            ))
            .size(15.0),
        );
        let eig = m.eigenvalues.clone();
        let norms = m.grad_norms.clone();
        let clipped = m.clipped_norms.clone();
        let (radius, steps, threshold) = (m.spectral_radius, s.steps, s.clip_threshold);
        ui.columns(2, |cols| {
            cols[0].strong("Eigenvalues of W in the complex plane");
            Plot::new("rnn_eigenvalues")
                .height(340.0)
                .data_aspect(1.0)
                .x_axis_label("Re λ")
                .y_axis_label("Im λ")
                .label_formatter(crate::widgets::plots::hover("Re λ", "Im λ"))
                .legend(Legend::default())
                .include_x(-1.6)
                .include_x(1.6)
                .include_y(-1.6)
                .include_y(1.6)
                .show(&mut cols[0], |p| {
                    let circle = |r: f64| -> PlotPoints {
                        (0..=128)
                            .map(|i| {
                                let a = std::f64::consts::TAU * i as f64 / 128.0;
                                [r * a.cos(), r * a.sin()]
                            })
                            .collect()
                    };
                    p.line(Line::new("unit circle |λ| = 1", circle(1.0)).color(GREY));
                    p.line(
                        Line::new(format!("ρ(W) = {radius:.3}"), circle(radius))
                            .color(ORANGE)
                            .style(LineStyle::dashed_loose()),
                    );
                    p.points(
                        Points::new(
                            "eigenvalues",
                            eig.iter().map(|z| [z[0], z[1]]).collect::<PlotPoints>(),
                        )
                        .radius(4.0)
                        .color(BLUE),
                    );
                });
            cols[1].strong("‖∂L/∂h_{T−k}‖ vs k (log scale)");
            Plot::new("rnn_grad_norms")
                .height(340.0)
                .x_axis_label("k (steps back from the end)")
                .custom_y_axes(vec![log_y_axis("gradient norm")])
                // At least a decade either side of 1: a flat norm (ρ = 1) stays a flat line at 1.
                .include_y(-1.0)
                .include_y(1.0)
                .label_formatter(log_hover("k", "norm"))
                .legend(Legend::default())
                .show(&mut cols[1], |p| {
                    let ks = || (0..=steps).map(|k| k as f64);
                    let reference: Vec<f64> = (0..=steps)
                        .map(|k| norms[0] * radius.powi(k as i32))
                        .collect();
                    p.line(
                        Line::new("ρ(W)^k reference", log10_points(ks(), &reference))
                            .color(GREY)
                            .style(LineStyle::dashed_loose()),
                    );
                    p.line(
                        Line::new("‖∂L/∂h_{T−k}‖", log10_points(ks(), &norms))
                            .color(BLUE)
                            .width(2.0),
                    );
                    if let Some(clipped) = &clipped {
                        p.line(
                            Line::new(
                                format!("clipped at {threshold:.3}"),
                                log10_points(ks(), clipped),
                            )
                            .color(ORANGE)
                            .width(2.0),
                        );
                    }
                });
        });
        if self.settings.clip {
            ui.label("Clipping rescales the back-propagated gradient to the threshold whenever its norm exceeds it: it stops the explosion (the orange line flattens) but keeps the direction — and it does nothing for a vanishing gradient.");
        }
    }

    fn saturation(&mut self, ui: &mut Ui) {
        ui.label("Even with ρ(W) = 1 (an orthogonal W, which keeps the norm exactly in the linear RNN), tanh multiplies the gradient by tanh′(a) = 1 − tanh²(a) ≤ 1 at every step. Large inputs push the units into saturation, where tanh′ ≈ 0, and the gradient vanishes anyway.");
        ui.horizontal(|ui| {
            labelled(ui, "input scale s", |ui| {
                ui.add(
                    egui::Slider::new(&mut self.settings.input_scale, 0.01..=10.0)
                        .logarithmic(true),
                )
            });
            labelled(ui, "steps T", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.steps, 1..=200))
            });
        });
        let steps = self.settings.steps;
        let (saturated, unit_linear) = self.saturation_part();
        let d = saturated.tanh_derivs.clone();
        let sat = saturated.grad_norms.clone();
        let lin = unit_linear.grad_norms.clone();
        let frac = d.iter().filter(|&&v| v < 0.1).count() as f64 / d.len().max(1) as f64;
        ui.label(
            RichText::new(format!(
                "Mean tanh′ along the trajectory: {:.3}; {:.0} % of unit-steps are saturated (tanh′ < 0.1). After T = {steps} steps: linear {:.3e}, tanh {:.3e}.",
                mean(&d),
                100.0 * frac,
                lin.last().copied().unwrap_or(0.0),
                sat.last().copied().unwrap_or(0.0),
            ))
            .size(15.0),
        );
        let hist = histogram(&d, 0.0, 1.0 + 1e-9, 40);
        ui.columns(2, |cols| {
            cols[0].strong("Distribution of tanh′(a_t) over all steps and units");
            Plot::new("rnn_tanh_hist")
                .height(320.0)
                .x_axis_label("tanh′(a) = 1 − tanh²(a)")
                .y_axis_label("density")
                .label_formatter(crate::widgets::plots::hover("tanh′", "density"))
                .show(&mut cols[0], |p| {
                    let bars = hist
                        .iter()
                        .map(|&(x, y)| egui_plot::Bar::new(x, y).width(0.025))
                        .collect();
                    p.bar_chart(egui_plot::BarChart::new("tanh′", bars).color(BLUE));
                });
            cols[1].strong("‖∂L/∂h_{T−k}‖ at ρ(W) = 1 (log scale)");
            Plot::new("rnn_tanh_norms")
                .height(320.0)
                .x_axis_label("k (steps back from the end)")
                .custom_y_axes(vec![log_y_axis("gradient norm")])
                // At least a decade either side of 1: a flat norm (ρ = 1) stays a flat line at 1.
                .include_y(-1.0)
                .include_y(1.0)
                .label_formatter(log_hover("k", "norm"))
                .legend(Legend::default())
                .show(&mut cols[1], |p| {
                    let ks = || (0..=steps).map(|k| k as f64);
                    p.line(
                        Line::new("identity φ", log10_points(ks(), &lin))
                            .color(GREY)
                            .width(2.0),
                    );
                    p.line(
                        Line::new("tanh φ", log10_points(ks(), &sat))
                            .color(PINK)
                            .width(2.0),
                    );
                });
        });
    }

    fn lstm(&mut self, ui: &mut Ui) {
        ui.label("The LSTM's cell state is updated additively, c_t = f ⊙ c_{t−1} + i ⊙ g, so through the cell ∂c_t/∂c_{t−1} = diag(f): no W, no tanh′. When the forget gate stays near 1 — a large bias b_f, f ≈ σ(b_f) — the gradient rides the \"constant error carousel\" back through many steps.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "forget-gate bias b_f", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.forget_bias, -4.0..=8.0).step_by(0.1))
            });
            labelled(ui, "steps T", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.steps, 1..=200))
            });
            labelled(ui, "RNN radius ρ(W)", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.radius, 0.5..=1.5).step_by(0.01))
            });
        });
        let settings = self.settings.clone();
        let l = self.lstm_part();
        let sig = 1.0 / (1.0 + (-settings.forget_bias).exp());
        ui.label(
            RichText::new(format!(
                "σ(b_f) = {sig:.3}; the mean forget gate along the trajectory is {:.3}. After T = {} steps: LSTM cell {:.3e}, LSTM hidden {:.3e}, tanh RNN {:.3e}.",
                l.mean_f,
                settings.steps,
                l.cell.last().copied().unwrap_or(0.0),
                l.hidden.last().copied().unwrap_or(0.0),
                l.rnn.last().copied().unwrap_or(0.0),
            ))
            .size(15.0),
        );
        let steps = settings.steps;
        let (cell, hidden, rnn) = (l.cell.clone(), l.hidden.clone(), l.rnn.clone());
        let radius = settings.radius;
        Plot::new("rnn_lstm")
            .height(380.0)
            .x_axis_label("k (steps back from the end)")
            .custom_y_axes(vec![log_y_axis("gradient norm")])
            // At least a decade either side of 1: a flat norm (ρ = 1) stays a flat line at 1.
            .include_y(-1.0)
            .include_y(1.0)
            .label_formatter(log_hover("k", "norm"))
            .legend(Legend::default())
            .show(ui, |p| {
                let ks = || (0..=steps).map(|k| k as f64);
                let reference: Vec<f64> = (0..=steps)
                    .map(|k| cell.first().copied().unwrap_or(1.0) * sig.powi(k as i32))
                    .collect();
                p.line(
                    Line::new("σ(b_f)^k", log10_points(ks(), &reference))
                        .color(GREY)
                        .style(LineStyle::dashed_loose()),
                );
                p.line(
                    Line::new("LSTM ‖∂L/∂c_{T−k}‖ (cell state)", log10_points(ks(), &cell))
                        .color(GREEN)
                        .width(2.5),
                );
                p.line(
                    Line::new("LSTM ‖∂L/∂h_{T−k}‖", log10_points(ks(), &hidden))
                        .color(BLUE)
                        .width(1.5),
                );
                p.line(
                    Line::new(
                        format!("tanh RNN, ρ(W) = {radius:.2}"),
                        log10_points(ks(), &rnn),
                    )
                    .color(PINK)
                    .width(2.0),
                );
            });
    }
}

impl Lesson for RnnLesson {
    fn id(&self) -> &'static str {
        "rnn"
    }

    fn title(&self) -> &'static str {
        "Why RNN gradients vanish or explode"
    }

    fn summary(&self) -> &'static str {
        "Back-propagation through time multiplies by Wᵀ at every step: the gradient k steps back scales like ρ(W)^k. The LSTM's cell state gives it a path that survives."
    }

    fn ui(&mut self, ui: &mut Ui, _ctx: &mut LessonContext) {
        section_tabs(ui, &mut self.settings.section, &SECTIONS);
        match self.settings.section {
            0 => self.scalar_filter(ui),
            2 => self.saturation(ui),
            3 => self.lstm(ui),
            _ => self.matrix_rnn(ui),
        }
    }

    fn settings(&self) -> Value {
        settings_to_json(&self.settings)
    }

    fn set_settings(&mut self, settings: Value) -> Result<(), String> {
        let s: RnnSettings = settings_from_json(settings)?;
        s.validate()?;
        self.settings = s;
        Ok(())
    }

    fn data(&self) -> Value {
        let s = &self.settings;
        let (tanh, linear) = s.saturation_specs();
        let main = rnn_experiment(&s.spec());
        let c = Computed {
            main: &main,
            saturated: &rnn_experiment(&tanh),
            unit_linear: &rnn_experiment(&linear),
            lstm: &lstm_result(s),
        };
        let m = c.main;
        let rows = |a: &ndarray::Array2<f64>| -> Vec<Vec<f64>> {
            a.outer_iter().map(|r| r.to_vec()).collect()
        };
        let mut out = json!({
            "settings": self.settings(),
            "w": rows(&m.w),
            "eigenvalues": m.eigenvalues,
            "spectral_radius": m.spectral_radius,
            "g_final": m.g_final.to_vec(),
            "grad_norms": m.grad_norms,
            "iir": iir_impulse_response(s.w_scalar, s.steps),
            "saturation": {
                "input_scale": s.input_scale,
                "mean_tanh_derivative": mean(&c.saturated.tanh_derivs),
                "grad_norms_tanh": &c.saturated.grad_norms,
                "grad_norms_linear": &c.unit_linear.grad_norms,
            },
            "lstm": {
                "forget_bias": s.forget_bias,
                "mean_forget_gate": c.lstm.mean_f,
                "cell_grad_norms": &c.lstm.cell,
                "hidden_grad_norms": &c.lstm.hidden,
                "rnn_tanh_grad_norms": &c.lstm.rnn,
            },
        });
        if let Some(clipped) = &m.clipped_norms {
            out["clipped_norms"] = json!(clipped);
        }
        if s.activation == Activation::Tanh {
            out["h"] = json!(rows(&m.h));
        }
        out
    }

    fn csv(&self) -> String {
        let s = &self.settings;
        let (tanh, linear) = s.saturation_specs();
        let main = rnn_experiment(&s.spec());
        let c = Computed {
            main: &main,
            saturated: &rnn_experiment(&tanh),
            unit_linear: &rnn_experiment(&linear),
            lstm: &lstm_result(s),
        };
        let k: Vec<f64> = (0..=self.settings.steps).map(|k| k as f64).collect();
        match self.settings.section {
            0 => columns_csv(&[
                ("t", k),
                (
                    "w_pow_t",
                    iir_impulse_response(self.settings.w_scalar, self.settings.steps),
                ),
            ]),
            2 => columns_csv(&[
                ("k", k),
                ("grad_norm_linear", c.unit_linear.grad_norms.clone()),
                ("grad_norm_tanh", c.saturated.grad_norms.clone()),
            ]),
            3 => columns_csv(&[
                ("k", k),
                ("lstm_cell_grad_norm", c.lstm.cell.clone()),
                ("lstm_hidden_grad_norm", c.lstm.hidden.clone()),
                ("rnn_tanh_grad_norm", c.lstm.rnn.clone()),
            ]),
            _ => {
                let mut cols = vec![("k", k), ("grad_norm", c.main.grad_norms.clone())];
                if let Some(clipped) = c.main.clipped_norms.clone() {
                    cols.push(("grad_norm_clipped", clipped));
                }
                columns_csv(&cols)
            }
        }
    }
}
