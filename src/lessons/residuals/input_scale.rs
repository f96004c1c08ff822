//! §4 "∂ŷ/∂W ∝ input": a single linear layer ŷ = W x. Its weight gradient is δ xᵀ — as large as
//! its input, which the layer does not control; a LayerNorm in front makes it the same for every
//! input scale. The numbers come from the engine's own `linear_backward`.

use egui::Ui;
use ndarray::Array2;

use super::settings::ResidualSettings;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::block::weight_gradient_norm;
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{GREY, SERIES};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry};

/// The section.
pub struct InputScale;

/// The layer's input before scaling (8 features) and its weights (4 × 8), fixed.
fn layer() -> (Vec<f32>, Array2<f32>) {
    let x0: Vec<f32> = (0..8).map(|j| ((j as f32) * 1.3 + 0.4).sin()).collect();
    let w = Array2::from_shape_fn((4, 8), |(i, j)| (((i * 8 + j) as f32) * 0.61).cos() * 0.5);
    (x0, w)
}

/// Scales 0.01 … 100, log-spaced.
fn scales() -> Vec<f32> {
    (0..=40)
        .map(|i| 10f32.powf(-2.0 + 4.0 * i as f32 / 40.0))
        .collect()
}

impl Section<ResidualSettings> for InputScale {
    fn title(&self) -> &'static str {
        "4. ∂ŷ/∂W ∝ input"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut ResidualSettings, _ctx: &mut LessonContext) {
        ui.label("A layer's weight gradient is ∂L/∂W = δ xᵀ: the error signal times the layer's own input. Scale the input and the gradient scales with it — a deep layer's step size then depends on everything below it. A norm in front of the layer (as in front of every attention and MLP of a transformer) gives it an input of the same size whatever comes in.");
        labelled(ui, "input scale", |ui| {
            ui.add(egui::Slider::new(&mut s.scale, 0.01..=100.0).logarithmic(true))
        });
        let (x0, w) = layer();
        let plain = weight_gradient_norm(&x0, &w, s.scale, false);
        let normed = weight_gradient_norm(&x0, &w, s.scale, true);
        let at_one = weight_gradient_norm(&x0, &w, 1.0, false);
        ui.label(format!(
            "At scale {}: ‖∂ŷ/∂W‖ = {plain:.4} without a norm ({:.3} × its value at scale 1), {normed:.4} with LayerNorm in front (the same at every scale, up to LayerNorm's ε).",
            crate::model::config::number(f64::from(s.scale)),
            plain / at_one
        ));
        let sc = scales();
        let line = |norm: bool| -> Vec<[f64; 2]> {
            sc.iter()
                .map(|&x| {
                    [
                        f64::from(x).log10(),
                        f64::from(weight_gradient_norm(&x0, &w, x, norm)).log10(),
                    ]
                })
                .collect()
        };
        Figure::new("residuals_input_scale")
            .x("input scale", Scale::Log10)
            .y("‖∂ŷ/∂W‖ (Frobenius norm)", Scale::Log10)
            .rows(ui, 1.2)
            .legend(vec![
                entry("linear layer alone: slope 1", SERIES[0], Mark::Line),
                entry("LayerNorm, then the layer: flat", SERIES[1], Mark::Line),
                entry("chosen scale", GREY, Mark::Line),
            ])
            .show(ui, |p| {
                p.line(
                    egui_plot::Line::new("linear layer alone", line(false))
                        .color(SERIES[0])
                        .width(2.5),
                );
                p.line(
                    egui_plot::Line::new("LayerNorm, then the layer", line(true))
                        .color(SERIES[1])
                        .width(2.5),
                );
                p.vline(
                    egui_plot::VLine::new("chosen scale", f64::from(s.scale).log10()).color(GREY),
                );
            });
    }

    fn csv(&mut self, _s: &ResidualSettings) -> String {
        let (x0, w) = layer();
        let sc = scales();
        columns_csv(&[
            ("scale", sc.iter().map(|&v| f64::from(v)).collect()),
            (
                "grad_norm_plain",
                sc.iter()
                    .map(|&v| f64::from(weight_gradient_norm(&x0, &w, v, false)))
                    .collect(),
            ),
            (
                "grad_norm_layernorm",
                sc.iter()
                    .map(|&v| f64::from(weight_gradient_norm(&x0, &w, v, true)))
                    .collect(),
            ),
        ])
    }
}
