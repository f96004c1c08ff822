//! §1 "The scalar filter": h_t = w·h_{t−1} + x_t is an IIR filter whose impulse response is
//! w^t; back-propagation runs the same recursion backwards.

use egui::{Color32, RichText, Ui};
use egui_plot::{Line, PlotPoints, Points, Polygon};

use super::settings::RnnSettings;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::rnn::iir_impulse_response;
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREEN, ORANGE, VERMILLION};
use crate::widgets::plots::{Scale, labelled, log10_points};
use crate::widgets::{Figure, Mark, entry};

/// The section (nothing to cache: w^t is cheap).
#[derive(Default)]
pub struct Scalar;

impl Section<RnnSettings> for Scalar {
    fn title(&self) -> &'static str {
        "1. The scalar filter"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut RnnSettings, _ctx: &mut LessonContext) {
        ui.label("The scalar RNN h_t = w·h_{t−1} + x_t is an infinite-impulse-response filter: feed it one impulse x_0 = 1 and it answers w, w², w³, … — the impulse response is w^t. Back-propagation runs the same recursion backwards, so the gradient that reaches k steps back is w^k times the one at the end.");
        ui.horizontal(|ui| {
            labelled(ui, "w", |ui| {
                ui.add(egui::Slider::new(&mut settings.w_scalar, -1.5..=1.5).step_by(0.01))
            });
            for preset in [-0.9, 0.5, 0.9, 1.0, 1.05] {
                if ui.button(format!("w = {preset}")).clicked() {
                    settings.w_scalar = preset;
                }
            }
            labelled(ui, "steps T", |ui| {
                ui.add(egui::Slider::new(&mut settings.steps, 1..=200))
            });
        });
        let w = settings.w_scalar;
        let steps = settings.steps;
        let response = iir_impulse_response(w, steps);
        let verdict = if w.abs() < 1.0 {
            RichText::new(format!(
                "|w| = {:.2} < 1: stable — the response dies out (half-life {:.1} steps).",
                w.abs(),
                (0.5f64).ln() / w.abs().max(1e-12).ln()
            ))
            .color(crate::widgets::palette::text(ui, GREEN))
        } else if w.abs() == 1.0 {
            RichText::new("|w| = 1: on the edge — the impulse neither grows nor decays.")
                .color(crate::widgets::palette::text(ui, ORANGE))
        } else {
            RichText::new(format!(
                "|w| = {:.2} > 1: unstable — the response grows without bound (w^{steps} = {:.3e}).",
                w.abs(),
                w.powi(steps as i32)
            ))
            .color(crate::widgets::palette::text(ui, VERMILLION))
        };
        ui.label(verdict);
        let ts = || (0..=steps).map(|t| t as f64);
        ui.columns(2, |cols| {
            cols[0].strong("Impulse response w^t (linear scale)");
            Figure::new("rnn_iir_linear")
                .x("t (steps)", Scale::Index)
                .y("h_t = w^t", Scale::Linear)
                .rows(&cols[0], 1.2)
                .legend(vec![entry("w^t", BLUE, Mark::Line)])
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
            Figure::new("rnn_iir_log")
                .x("t (steps)", Scale::Index)
                .y("|w|^t", Scale::Log10)
                .rows(&cols[1], 1.2)
                .legend(vec![
                    entry("|w|^t", BLUE, Mark::Line),
                    entry("unstable (|w| > 1)", UNSTABLE, Mark::Bar),
                    entry("stable (|w| < 1)", STABLE, Mark::Bar),
                ])
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

    fn csv(&mut self, s: &RnnSettings) -> String {
        let t: Vec<f64> = (0..=s.steps).map(|k| k as f64).collect();
        columns_csv(&[
            ("t", t),
            ("w_pow_t", iir_impulse_response(s.w_scalar, s.steps)),
        ])
    }
}

/// The legend swatches of the log plot's shaded half-planes (their fill, made opaque enough to
/// be seen in the legend).
const UNSTABLE: Color32 = Color32::from_rgb(238, 190, 150);
const STABLE: Color32 = Color32::from_rgb(150, 215, 195);
