//! §3 "tanh saturation": even at ρ(W) = 1, tanh′ ≤ 1 shrinks the gradient at every step, and
//! large inputs saturate the units.

use egui::{RichText, Ui};
use egui_plot::Line;

use super::grad_norm_plot;
use super::settings::RnnSettings;
use crate::lessons::common::background::Cached;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::rnn::{RnnExperiment, RnnSpec, rnn_experiment};
use crate::math::stats::{histogram, mean};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREY, PINK};
use crate::widgets::plots::{Scale, labelled, log10_points};
use crate::widgets::{Figure, Mark, entry};

/// The section: the tanh RNN and its linear twin, cached by their inputs.
#[derive(Default)]
pub struct Saturation {
    saturated: Cached<RnnSpec, RnnExperiment>,
    unit_linear: Cached<RnnSpec, RnnExperiment>,
}

impl Saturation {
    /// (tanh at ρ = 1, its linear twin), each cached by its inputs.
    fn parts(&mut self, s: &RnnSettings) -> (&RnnExperiment, &RnnExperiment) {
        let (tanh, linear) = s.saturation_specs();
        (
            self.saturated.get(tanh, rnn_experiment),
            self.unit_linear.get(linear, rnn_experiment),
        )
    }
}

impl Section<RnnSettings> for Saturation {
    fn title(&self) -> &'static str {
        "3. tanh saturation"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut RnnSettings, _ctx: &mut LessonContext) {
        ui.label("Even with ρ(W) = 1 (an orthogonal W, which keeps the norm exactly in the linear RNN), tanh multiplies the gradient by tanh′(a) = 1 − tanh²(a) ≤ 1 at every step. Large inputs push the units into saturation, where tanh′ ≈ 0, and the gradient vanishes anyway.");
        ui.horizontal(|ui| {
            labelled(ui, "input scale s", |ui| {
                ui.add(egui::Slider::new(&mut settings.input_scale, 0.01..=10.0).logarithmic(true))
            });
            labelled(ui, "steps T", |ui| {
                ui.add(egui::Slider::new(&mut settings.steps, 1..=200))
            });
        });
        let steps = settings.steps;
        let (saturated, unit_linear) = self.parts(settings);
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
            )),
        );
        let hist = histogram(&d, 0.0, 1.0 + 1e-9, 40);
        ui.columns(2, |cols| {
            cols[0].strong("Distribution of tanh′(a_t) over all steps and units");
            Figure::new("rnn_tanh_hist")
                .x("tanh′(a) = 1 − tanh²(a)", Scale::Linear)
                .y("density", Scale::Linear)
                .rows(&cols[0], 1.2)
                .legend(vec![entry("tanh′ of every unit and step", BLUE, Mark::Bar)])
                .show(&mut cols[0], |p| {
                    let bars = hist
                        .iter()
                        .map(|&(x, y)| egui_plot::Bar::new(x, y).width(0.025))
                        .collect();
                    p.bar_chart(egui_plot::BarChart::new("tanh′", bars).color(BLUE));
                });
            cols[1].strong("‖∂L/∂h_{T−k}‖ at ρ(W) = 1 (log scale)");
            let legend = vec![
                entry("identity φ", GREY, Mark::Line),
                entry("tanh φ", PINK, Mark::Line),
            ];
            grad_norm_plot(&cols[1], "rnn_tanh_norms", 1.2, legend).show(&mut cols[1], |p| {
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

    fn csv(&mut self, s: &RnnSettings) -> String {
        let (tanh, linear) = self.parts(s);
        let k: Vec<f64> = (0..=s.steps).map(|k| k as f64).collect();
        columns_csv(&[
            ("k", k),
            ("grad_norm_linear", linear.grad_norms.clone()),
            ("grad_norm_tanh", tanh.grad_norms.clone()),
        ])
    }
}
