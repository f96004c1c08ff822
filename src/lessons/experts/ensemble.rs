//! §1 "Ensemble error vs correlation": k predictors whose errors have variance v and
//! correlation ρ; the averaged prediction's mean squared error c + (v − c)/k (theory, a line)
//! against a Monte-Carlo estimate (points, ±2 standard errors), against k and against ρ, with
//! the two extremes (uncorrelated: v/k; identical: v) marked.

use egui::Ui;
use egui_plot::{Line, LineStyle, Points};

use super::settings::ExpertsSettings;
use super::{K_GRID, MSE_TRIALS, MsePoint, mse_points_vs_k, mse_points_vs_rho, mse_vs_rho};
use crate::lessons::common::background::{Background, steps_over};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::experts::ensemble_mse_theory;
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREY, ORANGE, VERMILLION};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry, layout};

type Key = (u64, u64, usize, u64);

/// The section: both simulations, computed off the UI thread.
#[derive(Default)]
pub struct EnsembleError {
    sims: Background<Key, (Vec<MsePoint>, Vec<MsePoint>)>,
}

/// Points [x, y, bar bottom, bar top] with their error bars, one segment per point.
pub fn error_bars(
    p: &mut egui_plot::PlotUi<'_>,
    name: &str,
    pts: &[[f64; 4]],
    color: egui::Color32,
) {
    for &[x, _, lo, hi] in pts {
        p.line(
            Line::new(name.to_owned(), vec![[x, lo], [x, hi]])
                .color(color)
                .width(2.0),
        );
    }
    p.points(
        Points::new(
            name.to_owned(),
            pts.iter().map(|q| [q[0], q[1]]).collect::<Vec<_>>(),
        )
        .color(color)
        .radius(4.0),
    );
}

impl Section<ExpertsSettings> for EnsembleError {
    fn title(&self) -> &'static str {
        "1. Ensemble error vs correlation"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut ExpertsSettings, _ctx: &mut LessonContext) {
        ui.label("An ensemble averages k predictors. If each one's error has variance v and two members' errors have covariance c = ρ v, the average's expected squared error is exactly c + (v − c)/k (Goodfellow, Bengio & Courville, Deep Learning, §7.11): v/k when the mistakes are uncorrelated, v — no gain at all — when every member makes the same mistake.");
        ui.horizontal_wrapped(|ui| {
            super::k_and_v_sliders(ui, s, "error variance v");
            labelled(ui, "correlation ρ", |ui| {
                ui.add(egui::Slider::new(&mut s.rho, 0.0..=1.0))
            });
            if ui.button("New samples").clicked() {
                s.seed = s.seed.wrapping_add(1);
            }
        });
        let key: Key = (s.v.to_bits(), s.rho.to_bits(), s.k, s.seed);
        let ctx = ui.ctx().clone();
        // A point per piece: at k = 64 the whole job took 149 ms in the browser, a point 5–12.
        let (sims, fresh) = self.sims.get_in_steps(&key, &ctx, |(v, rho, k, seed)| {
            let (v, rho) = (f64::from_bits(v), f64::from_bits(rho));
            let points = mse_points_vs_k(v, rho, seed).chain(mse_points_vs_rho(k, v, seed));
            steps_over(points, |mut vs_k| {
                let vs_rho = vs_k.split_off(K_GRID.len());
                (vs_k, vs_rho)
            })
        });
        let Some((vs_k, vs_rho)) = sims else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Sampling the members' errors…");
            });
            return;
        };
        if !fresh {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(
                    "Recomputing for the new settings — the figures are from the previous ones.",
                );
            });
        }
        let (k, v, rho) = (s.k, s.v, s.rho);
        let theory = ensemble_mse_theory(k, v, rho);
        let here = vs_rho
            .iter()
            .min_by(|a, b| (a.0 - rho).abs().total_cmp(&(b.0 - rho).abs()))
            .copied();
        ui.label(format!(
            "k = {k}, v = {v:.2}, ρ = {rho:.2}: theory c + (v − c)/k = {:.2} + {:.2}/{k} = {theory:.4} ({:.0} % of one member's v).",
            rho * v,
            v - rho * v,
            100.0 * theory / v
        ));
        if let Some((r, t, e)) = here {
            ui.weak(format!(
                "Simulated at ρ = {r:.1}: {:.4} ± {:.4} (mean ± standard error of {MSE_TRIALS} draws; theory {t:.4}). The errors are drawn as eᵢ = √v (√ρ z₀ + √(1 − ρ) zᵢ), which have exactly variance v and covariance ρ v.",
                e.mean, e.stderr
            ));
        }
        let legend = vec![
            entry("theory c + (v − c)/k", BLUE, Mark::Line),
            entry("simulated (± 2 s.e.)", ORANGE, Mark::Points),
            entry("identical members: v", VERMILLION, Mark::Dashed),
            entry("uncorrelated: v/k", GREY, Mark::Dashed),
        ];
        layout::grid(ui, 2, 380.0, |ui, i| {
            if i == 0 {
                ui.strong(format!("Averaged MSE against k (ρ = {rho:.2})"));
                Figure::new("experts_mse_k")
                    .x("members k", Scale::Log10)
                    .y("MSE of the average", Scale::Log10)
                    .rows(ui, 1.7)
                    .legend(legend.clone())
                    .show(ui, |p| {
                        let ks: Vec<f64> = (0..=60)
                            .map(|i| 10f64.powf(f64::from(i) * 64f64.log10() / 60.0))
                            .collect();
                        let curve = |f: &dyn Fn(f64) -> f64| -> Vec<[f64; 2]> {
                            ks.iter()
                                .map(|&kk| [kk.log10(), f(kk).max(1e-12).log10()])
                                .collect()
                        };
                        p.line(
                            Line::new(
                                "theory c + (v − c)/k",
                                curve(&|kk| rho * v + (v - rho * v) / kk),
                            )
                            .color(BLUE)
                            .width(2.5),
                        );
                        p.line(
                            Line::new("identical members: v", curve(&|_| v))
                                .color(VERMILLION)
                                .style(LineStyle::dashed_loose())
                                .width(1.5),
                        );
                        p.line(
                            Line::new("uncorrelated: v/k", curve(&|kk| v / kk))
                                .color(GREY)
                                .style(LineStyle::dashed_loose())
                                .width(1.5),
                        );
                        let pts: Vec<[f64; 4]> = vs_k
                            .iter()
                            .filter(|(_, _, e)| e.mean > 0.0)
                            .map(|(kk, _, e)| {
                                // ±2 s.e. on a log axis (a bottom below 0 is cut at 1/1000 of the mean).
                                let lo = (e.mean - 2.0 * e.stderr).max(e.mean * 1e-3);
                                let hi = e.mean + 2.0 * e.stderr;
                                [kk.log10(), e.mean.log10(), lo.log10(), hi.log10()]
                            })
                            .collect();
                        error_bars(p, "simulated (± 2 s.e.)", &pts, ORANGE);
                        p.points(
                            Points::new("chosen k", vec![[(k as f64).log10(), theory.log10()]])
                                .color(BLUE)
                                .radius(6.0),
                        );
                    });
            } else {
                ui.strong(format!("Averaged MSE against ρ (k = {k})"));
                Figure::new("experts_mse_rho")
                    .x("correlation ρ of two members' errors", Scale::Linear)
                    .y("MSE of the average", Scale::Linear)
                    .rows(ui, 1.7)
                    .include_y(0.0)
                    .include_y(v * 1.05)
                    .legend(legend.clone())
                    .show(ui, |p| {
                        p.line(
                            Line::new("theory c + (v − c)/k", vec![[0.0, v / k as f64], [1.0, v]])
                                .color(BLUE)
                                .width(2.5),
                        );
                        p.line(
                            Line::new("identical members: v", vec![[0.0, v], [1.0, v]])
                                .color(VERMILLION)
                                .style(LineStyle::dashed_loose())
                                .width(1.5),
                        );
                        p.line(
                            Line::new(
                                "uncorrelated: v/k",
                                vec![[0.0, v / k as f64], [1.0, v / k as f64]],
                            )
                            .color(GREY)
                            .style(LineStyle::dashed_loose())
                            .width(1.5),
                        );
                        let pts: Vec<[f64; 4]> = vs_rho
                            .iter()
                            .map(|(r, _, e)| {
                                [*r, e.mean, e.mean - 2.0 * e.stderr, e.mean + 2.0 * e.stderr]
                            })
                            .collect();
                        error_bars(p, "simulated (± 2 s.e.)", &pts, ORANGE);
                        p.points(
                            Points::new("chosen ρ", vec![[rho, theory]])
                                .color(BLUE)
                                .radius(6.0),
                        );
                    });
            }
        });
        ui.label("The line is straight in ρ: every member shares the part c of the error, which no amount of averaging removes, and the rest shrinks as 1/k. Once (v − c)/k is small next to c, more members barely help; only less correlated ones lower the error further.");
    }

    fn csv(&mut self, s: &ExpertsSettings) -> String {
        let rows = mse_vs_rho(s.k, s.v, s.seed);
        columns_csv(&[
            ("rho", rows.iter().map(|r| r.0).collect()),
            ("theory", rows.iter().map(|r| r.1).collect()),
            ("simulated", rows.iter().map(|r| r.2.mean).collect()),
            ("stderr", rows.iter().map(|r| r.2.stderr).collect()),
        ])
    }
}
