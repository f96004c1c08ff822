//! §2 "The matrix RNN": the gradient that reaches k steps back has been multiplied by Wᵀ k
//! times, so its norm follows ρ(W)^k; the eigenvalues of W, and clipping.

use egui::{RichText, Ui};
use egui_plot::{Line, LineStyle, PlotPoints, Points};

use super::grad_norm_plot;
use super::settings::RnnSettings;
use crate::lessons::common::background::Cached;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::rnn::{Activation, ClipMode, RnnExperiment, RnnSpec, WInit, rnn_experiment};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREY, ORANGE};
use crate::widgets::plots::{Scale, labelled, log10_points};
use crate::widgets::{Figure, Mark, entry};

/// The section: the experiment, cached by its inputs.
#[derive(Default)]
pub struct Matrix {
    main: Cached<RnnSpec, RnnExperiment>,
}

impl Section<RnnSettings> for Matrix {
    fn title(&self) -> &'static str {
        "2. The matrix RNN"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut RnnSettings, _ctx: &mut LessonContext) {
        ui.label("h_t = φ(W h_{t−1} + x_t), n hidden units, T steps, L = gᵀh_T. Back-propagation through time: ∂L/∂h_{t−1} = Wᵀ(φ′(a_t) ⊙ ∂L/∂h_t). The gradient that reaches k steps back has been multiplied by Wᵀ k times, so its size follows the largest eigenvalue: ρ(W)^k.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "spectral radius ρ(W)", |ui| {
                ui.add(egui::Slider::new(&mut settings.radius, 0.5..=1.5).step_by(0.01))
            });
            for preset in [0.9, 1.0, 1.1] {
                if ui.button(format!("ρ = {preset}")).clicked() {
                    settings.radius = preset;
                }
            }
            labelled(ui, "hidden size n", |ui| {
                ui.add(egui::Slider::new(&mut settings.hidden, 2..=64))
            });
            labelled(ui, "steps T", |ui| {
                ui.add(egui::Slider::new(&mut settings.steps, 1..=200))
            });
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("W:");
            ui.selectable_value(&mut settings.init, WInit::Orthogonal, "radius × orthogonal")
                .on_hover_text("Every eigenvalue lies on the circle of this radius");
            ui.selectable_value(&mut settings.init, WInit::Gaussian, "Gaussian, rescaled")
                .on_hover_text("A Gaussian matrix divided by its spectral radius and multiplied by the chosen one: eigenvalues fill a disc");
            ui.separator();
            ui.label("φ:");
            ui.selectable_value(&mut settings.activation, Activation::Linear, "identity");
            ui.selectable_value(&mut settings.activation, Activation::Tanh, "tanh");
            ui.separator();
            if ui.button("New seed").clicked() {
                settings.seed = settings.seed.wrapping_add(1);
            }
            ui.label(format!("seed {}", settings.seed));
            ui.separator();
            ui.checkbox(&mut settings.clip, "Clip gradients");
            if settings.clip {
                labelled(ui, "threshold", |ui| {
                    ui.add(
                        egui::Slider::new(&mut settings.clip_threshold, 0.1..=1000.0)
                            .logarithmic(true),
                    )
                });
                ui.radio_value(&mut settings.clip_mode, ClipMode::Global, "global norm of ∂L/∂W")
                    .on_hover_text("As practised (Pascanu, Mikolov & Bengio 2013; torch.nn.utils.clip_grad_norm_): the whole gradient rescaled once when its norm exceeds the threshold.");
                ui.radio_value(&mut settings.clip_mode, ClipMode::PerStep, "∂L/∂h at every step")
                    .on_hover_text("A variant: the back-propagated vector rescaled at every step of BPTT. It changes the gradient's direction.");
            }
        });
        let s = settings.clone();
        let m = self.main.get(settings.spec(), rnn_experiment);
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
            )),
        );
        let clip_text = match (m.clipped_weight_grad_norm, m.cosine_clipped_true) {
            (Some(clipped), Some(cos)) => Some(format!(
                "‖∂L/∂W‖ = {:.4e} unclipped, {clipped:.4e} clipped; cosine between the clipped and the true ∂L/∂W = {cos:.6}.",
                m.weight_grad_norm
            )),
            _ => None,
        };
        let eig = m.eigenvalues.clone();
        let norms = m.grad_norms.clone();
        let clipped = m.clipped_norms.clone();
        let (radius, steps, threshold) = (m.spectral_radius, s.steps, s.clip_threshold);
        let clip_name = match s.clip_mode {
            ClipMode::Global => format!("global clipping, ‖∂L/∂W‖ ≤ {threshold:.3}"),
            ClipMode::PerStep => format!("clipped at {threshold:.3} every step"),
        };
        ui.columns(2, |cols| {
            cols[0].strong("Eigenvalues of W in the complex plane");
            Figure::new("rnn_eigenvalues")
                .x("Re λ", Scale::Linear)
                .y("Im λ", Scale::Linear)
                .rows(&cols[0], 1.2)
                .data_aspect(1.0)
                .legend(vec![
                    entry("eigenvalues", BLUE, Mark::Points),
                    entry("unit circle |λ| = 1", GREY, Mark::Line),
                    entry(format!("ρ(W) = {radius:.3}"), ORANGE, Mark::Dashed),
                ])
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
            let mut legend = vec![
                entry("‖∂L/∂h_{T−k}‖", BLUE, Mark::Line),
                entry("ρ(W)^k reference", GREY, Mark::Dashed),
            ];
            if clipped.is_some() {
                legend.push(entry(clip_name.clone(), ORANGE, Mark::Line));
            }
            grad_norm_plot(&cols[1], "rnn_grad_norms", 1.2, legend).show(&mut cols[1], |p| {
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
                        Line::new(clip_name.clone(), log10_points(ks(), clipped))
                            .color(ORANGE)
                            .width(2.0),
                    );
                }
            });
        });
        if let Some(text) = clip_text {
            ui.label(text);
            ui.label(match settings.clip_mode {
                ClipMode::Global => "Global-norm clipping (Pascanu, Mikolov & Bengio 2013) rescales the whole gradient once when its norm exceeds the threshold: the update keeps its direction exactly (cosine 1) and only its length is capped. Every ∂L/∂h_t is scaled by the same factor, so the orange curve is the blue one shifted down: the explosion across steps is still there, and nothing is done for a vanishing gradient.",
                ClipMode::PerStep => "Clipping ∂L/∂h at every step of back-propagation flattens the curve, but it weights the steps differently from the true gradient, so ∂L/∂W turns (the cosine above is below 1). Frameworks clip the global norm instead.",
            });
        }
    }

    fn csv(&mut self, s: &RnnSettings) -> String {
        let m = self.main.get(s.spec(), rnn_experiment);
        let k: Vec<f64> = (0..=s.steps).map(|k| k as f64).collect();
        let mut cols = vec![("k", k), ("grad_norm", m.grad_norms.clone())];
        if let Some(clipped) = m.clipped_norms.clone() {
            cols.push(("grad_norm_clipped", clipped));
        }
        columns_csv(&cols)
    }
}
