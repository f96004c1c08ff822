//! §3 "Gradient starvation": the softmax Jacobian diag(p) − ppᵀ vanishes as the softmax
//! saturates, so no gradient reaches the scores (nor W_Q, W_K behind them).

use egui::{RichText, Ui};
use egui_plot::{Line, VLine};

use super::settings::SoftmaxSettings;
use super::{fmt_scale, jacobian_scales};
use crate::lessons::common::background::Cached;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::sharpness::{gaussian_scores, jacobian_norm, softmax_f64, softmax_jacobian};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREY, ORANGE};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Colormap, Figure, Heatmap, Mark, entry, layout};

/// The section: ‖J‖_F over the scale axis, by (n, seed).
#[derive(Default)]
pub struct Starvation {
    jacobian_curve: Cached<(usize, u64), Vec<f64>>,
}

impl Section<SoftmaxSettings> for Starvation {
    fn title(&self) -> &'static str {
        "3. Gradient starvation"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut SoftmaxSettings, _ctx: &mut LessonContext) {
        ui.label("Back-propagation through softmax multiplies by its Jacobian J = diag(p) − ppᵀ. When the softmax saturates (p one-hot) every entry of J goes to 0, so almost no gradient reaches the scores — nor W_Q and W_K behind them. That is why scaling matters for training, not only for the picture.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "scale", |ui| {
                ui.add(egui::Slider::new(&mut settings.scale, 1.0..=100.0).logarithmic(true))
            });
            if ui.button("×1").clicked() {
                settings.scale = 1.0;
            }
            if ui.button("×100").clicked() {
                settings.scale = 100.0;
            }
            labelled(ui, "scores n", |ui| {
                ui.add(egui::Slider::new(&mut settings.n, 2..=64))
            });
        });
        let x = gaussian_scores(settings.n, settings.seed);
        let scale = settings.scale;
        let now = jacobian_norm(&x, scale);
        let at_one = jacobian_norm(&x, 1.0);
        ui.label(
            RichText::new(format!(
                "‖J‖_F at scale {}: {now:.3e} ({:.2e} × its value at scale 1, {at_one:.3}). The gradient with respect to the unscaled scores is scale · J: {:.3e}.{}",
                fmt_scale(scale),
                now / at_one.max(f64::MIN_POSITIVE),
                scale * now,
                if now < 1e-30 { " In f32, the precision the model trains in, these weights round to exactly 0: no gradient at all." } else { "" }
            )),
        );
        let scales = jacobian_scales();
        let key = (settings.n, settings.seed);
        let norms = self.jacobian_curve.get(key, |_| {
            scales.iter().map(|&s| jacobian_norm(&x, s)).collect()
        });
        let through: Vec<f64> = scales
            .iter()
            .zip(norms.iter())
            .map(|(s, n)| s * n)
            .collect();
        ui.columns(2, |cols| {
            cols[0].strong("Jacobian norm vs the scale factor (log–log)");
            Figure::new("softmax_jacobian_norm")
                .x("scale factor", Scale::Log10)
                .y("Frobenius norm", Scale::Log10)
                .rows(&cols[0], 1.2)
                .legend(vec![
                    entry("‖J‖_F", BLUE, Mark::Line),
                    entry("scale · ‖J‖_F", ORANGE, Mark::Line),
                    entry("chosen scale", GREY, Mark::Line),
                ])
                .show(&mut cols[0], |p| {
                    let lx: Vec<f64> = scales.iter().map(|s| s.log10()).collect();
                    p.line(
                        Line::new(
                            "‖J‖_F",
                            crate::widgets::plots::log10_points(lx.iter().copied(), norms),
                        )
                        .color(BLUE)
                        .width(2.0),
                    );
                    p.line(
                        Line::new(
                            "scale · ‖J‖_F",
                            crate::widgets::plots::log10_points(lx.iter().copied(), &through),
                        )
                        .color(ORANGE)
                        .width(2.0),
                    );
                    p.vline(VLine::new("chosen scale", scale.log10()).color(GREY));
                });
            cols[1].strong(format!("J = diag(p) − ppᵀ at scale {}", fmt_scale(scale)));
            let j = softmax_jacobian(&softmax_f64(&x, scale)).mapv(|v| v as f32);
            let lim = 0.25_f32;
            let side = layout::square(&cols[1], 1, 1.2, 160.0, 420.0);
            Heatmap::new("softmax Jacobian", j.view())
                .axis_names("∂p_i", "∂z_j")
                .colormap(Colormap::Diverging)
                .range(-lim, lim)
                .decimals(5)
                .max_size(egui::vec2(side, side))
                .show(&mut cols[1]);
        });
    }

    fn csv(&mut self, s: &SoftmaxSettings) -> String {
        let x = gaussian_scores(s.n, s.seed);
        let scales = jacobian_scales();
        let norms = scales.iter().map(|&c| jacobian_norm(&x, c)).collect();
        columns_csv(&[("scale", scales), ("jacobian_frobenius_norm", norms)])
    }
}
