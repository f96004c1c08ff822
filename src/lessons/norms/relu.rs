//! §4 "γ, β and ReLU": after standardising, γ and β move the Gaussian; followed by a ReLU they
//! decide how much is clipped, Φ(−β/γ).

use egui::Ui;
use egui_plot::{Bar, BarChart, Line, PlotPoints, VLine};

use super::settings::NormSettings;
use super::settings::ReluOrder;
use crate::lessons::common::background::Cached;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::norms::{CLIP_SAMPLES, ReluClip, relu_clip};
use crate::math::stats::{histogram, normal_pdf};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{GREY, SERIES as COLORS, VERMILLION};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry};

/// The section: its samples, by (γ, β, order, seed).
#[derive(Default)]
pub struct Relu {
    relu: Cached<(u64, u64, ReluOrder, u64), ReluClip>,
}

impl Section<NormSettings> for Relu {
    fn title(&self) -> &'static str {
        "4. γ, β and ReLU"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut NormSettings, _ctx: &mut LessonContext) {
        ui.label("After standardising, BN multiplies by a trainable γ and adds β: it moves the Gaussian \"to the right place\". Followed by a ReLU, γ and β decide how much of it is clipped to 0: the fraction is Φ(−β/γ). Put BN after the ReLU instead and it only moves the already clipped Gaussian — the spike of zeros moves with it.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "γ (scale)", |ui| {
                ui.add(egui::Slider::new(&mut settings.gamma, 0.1..=3.0))
            });
            labelled(ui, "β (shift)", |ui| {
                ui.add(egui::Slider::new(&mut settings.beta, -3.0..=3.0))
            });
            ui.separator();
            ui.selectable_value(&mut settings.relu, ReluOrder::Before, "BN → ReLU");
            ui.selectable_value(&mut settings.relu, ReluOrder::After, "ReLU → BN");
        });
        let s = &*settings;
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
        ui.label(text);
        let (gamma, beta) = (s.gamma, s.beta);
        let order = s.relu;
        ui.columns(2, |cols| {
            cols[0].strong("Density of γz + β before the ReLU, clipped region shaded");
            Figure::new("norms_relu_density")
                .x("pre-activation y", Scale::Linear)
                .y("density", Scale::Linear)
                .rows(&cols[0], 1.3)
                .legend(vec![
                    entry(
                        if order == ReluOrder::Before {
                            "N(β, γ²)"
                        } else {
                            "raw N(0, 1)"
                        },
                        COLORS[0],
                        Mark::Line,
                    ),
                    entry("clipped to 0 by the ReLU", VERMILLION, Mark::Bar),
                    entry("ReLU threshold 0", GREY, Mark::Line),
                ])
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
                            .color(VERMILLION)
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
            Figure::new("norms_relu_output")
                .x("output", Scale::Linear)
                .y("density", Scale::Linear)
                .rows(&cols[1], 1.3)
                .legend(vec![entry("output of the ReLU", COLORS[2], Mark::Bar)])
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

    fn csv(&mut self, s: &NormSettings) -> String {
        let r = relu_clip(s.gamma, s.beta, s.relu, s.seed);
        columns_csv(&[
            ("gamma", vec![s.gamma]),
            ("beta", vec![s.beta]),
            ("clipped_empirical", vec![r.empirical]),
            ("clipped_theory", vec![r.theory]),
        ])
    }
}
