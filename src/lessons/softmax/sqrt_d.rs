//! §2 "Why √d": q·k of random d-dimensional vectors has variance d; dividing by √d brings it
//! back to 1 (histograms, variance vs d, attention entropy vs d).

use egui::{Color32, RichText, Ui};
use egui_plot::{Bar, BarChart, Line, LineStyle, PlotPoints, Points, VLine};

use super::settings::SoftmaxSettings;
use super::{EntropyPoint, HIST_PAIRS, TABLE_PAIRS, entropy_points};
use crate::lessons::common::background::{Background, steps_over};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::sharpness::{TABLE_DIMS, dot_products, variance_table};
use crate::math::stats::{histogram, normal_pdf, variance};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREY, ORANGE};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry};

/// The section: its samples, computed in the background.
#[derive(Default)]
pub struct SqrtD {
    /// The variance table, by seed.
    table: Background<u64, Vec<(usize, f64, f64)>>,
    /// Dot-product samples at (d, seed).
    dots: Background<(usize, u64), (usize, Vec<f64>)>,
    /// Entropy vs d, (d, unscaled, scaled), at (keys, seed).
    curve: Background<(usize, u64), Vec<EntropyPoint>>,
}

impl Section<SoftmaxSettings> for SqrtD {
    fn title(&self) -> &'static str {
        "2. Why √d"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut SoftmaxSettings, _ctx: &mut LessonContext) {
        ui.label("Draw q, k ~ N(0, I_d). The dot product q·k = Σ q_i k_i adds d independent terms of variance 1, so Var(q·k) = d: the scores spread like √d and the softmax saturates. Dividing by √d brings the variance back to 1 for every d.")
            .on_hover_text("How it is sampled: k is rotation invariant, so its component along q is z ~ N(0, 1), independent of q, and q·k = ‖q‖·z; ‖q‖² is a χ² variable with d degrees of freedom, drawn in one go. So q·k has exactly the distribution of the full product, from 2 draws instead of 2d.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "head size d", |ui| {
                ui.add(egui::Slider::new(&mut settings.d, 1..=1024).logarithmic(true))
            });
            labelled(ui, "keys T", |ui| {
                ui.add(egui::Slider::new(&mut settings.keys, 2..=256).logarithmic(true))
            });
            if ui.button("New samples").clicked() {
                settings.seed = settings.seed.wrapping_add(1);
            }
        });
        let (d, seed, keys) = (settings.d, settings.seed, settings.keys);
        let ctx = ui.ctx().clone();
        let (dots, dots_fresh) = self.dots.get(&(d, seed), &ctx, |(d, seed)| {
            (d, dot_products(d, HIST_PAIRS, seed))
        });
        let (table, table_fresh) = self.table.get(&seed, &ctx, |seed| {
            variance_table(&TABLE_DIMS, TABLE_PAIRS, seed)
        });
        let (curve, curve_fresh) = self
            .curve
            .get_in_steps(&(keys, seed), &ctx, |(keys, seed)| {
                steps_over(entropy_points(keys, seed), |points| points)
            });
        let (Some(dots), Some(table), Some(curve)) = (dots, table, curve) else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Sampling random vectors…");
            });
            return;
        };
        if !(dots_fresh && table_fresh && curve_fresh) {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(
                    "Sampling for the new setting — the figures below are from the previous one.",
                );
            });
        }
        // The histogram's own d (it lags behind the slider while sampling).
        let (d, dots) = (dots.0, &dots.1);
        let sd = (d as f64).sqrt();
        let var = variance(dots);
        ui.label(
            RichText::new(format!(
                "d = {d}: empirical Var(q·k) = {var:.2} (theory {d}), Var(q·k/√d) = {:.3} (theory 1), from {HIST_PAIRS} pairs.",
                var / d as f64
            )),
        );
        let unscaled = histogram(dots, -4.0 * sd, 4.0 * sd, 48);
        let scaled_dots: Vec<f64> = dots.iter().map(|v| v / sd).collect();
        let scaled = histogram(&scaled_dots, -4.0, 4.0, 48);
        ui.columns(2, |cols| {
            cols[0].strong(format!("q·k: spread √d = {sd:.1}"));
            hist_plot(
                &mut cols[0],
                "softmax_hist_unscaled",
                &unscaled,
                sd,
                "q·k",
                BLUE,
            );
            cols[1].strong("q·k / √d: spread 1");
            hist_plot(
                &mut cols[1],
                "softmax_hist_scaled",
                &scaled,
                1.0,
                "q·k/√d",
                ORANGE,
            );
        });
        ui.columns(2, |cols| {
            cols[0].strong("Variance vs d (log–log)");
            Figure::new("softmax_variance")
                .x("head size d", Scale::Log10)
                .y("variance", Scale::Log10)
                .rows(&cols[0], 2.0)
                .legend(vec![
                    entry("Var(q·k)", BLUE, Mark::Points),
                    entry("theory: d", BLUE, Mark::Dashed),
                    entry("Var(q·k/√d)", ORANGE, Mark::Points),
                    entry("theory: 1", ORANGE, Mark::Dashed),
                    entry("chosen d", GREY, Mark::Line),
                ])
                .show(&mut cols[0], |p| {
                    let lx = |d: usize| (d as f64).log10();
                    p.line(
                        Line::new(
                            "theory: d",
                            table
                                .iter()
                                .map(|&(d, _, _)| [lx(d), lx(d)])
                                .collect::<PlotPoints>(),
                        )
                        .color(BLUE)
                        .style(LineStyle::dashed_loose()),
                    );
                    p.line(
                        Line::new("theory: 1", vec![[0.0, 0.0], [lx(1024), 0.0]])
                            .color(ORANGE)
                            .style(LineStyle::dashed_loose()),
                    );
                    p.points(
                        Points::new(
                            "Var(q·k)",
                            table
                                .iter()
                                .map(|&(d, v, _)| [lx(d), v.log10()])
                                .collect::<PlotPoints>(),
                        )
                        .radius(4.0)
                        .color(BLUE),
                    );
                    p.points(
                        Points::new(
                            "Var(q·k/√d)",
                            table
                                .iter()
                                .map(|&(d, _, v)| [lx(d), v.log10()])
                                .collect::<PlotPoints>(),
                        )
                        .radius(4.0)
                        .color(ORANGE),
                    );
                    p.vline(VLine::new("chosen d", lx(d)).color(GREY));
                });
            cols[1].strong(format!(
                "Mean attention entropy over T = {keys} random keys"
            ));
            Figure::new("softmax_entropy_vs_d")
                .x("head size d", Scale::Log10)
                .y("entropy (nats)", Scale::Linear)
                .rows(&cols[1], 2.0)
                .include_y(0.0)
                .legend(vec![
                    entry("unscaled q·k", BLUE, Mark::Line),
                    entry("scaled q·k/√d", ORANGE, Mark::Line),
                    entry(format!("uniform: ln {keys}"), GREY, Mark::Dashed),
                    entry("chosen d", GREY, Mark::Line),
                ])
                .show(&mut cols[1], |p| {
                    let lx = |d: usize| (d as f64).log10();
                    p.line(
                        Line::new(
                            format!("uniform: ln {keys}"),
                            vec![[0.0, (keys as f64).ln()], [lx(1024), (keys as f64).ln()]],
                        )
                        .color(GREY)
                        .style(LineStyle::dashed_loose()),
                    );
                    p.line(
                        Line::new(
                            "unscaled q·k",
                            curve
                                .iter()
                                .map(|&(d, u, _)| [lx(d), u])
                                .collect::<PlotPoints>(),
                        )
                        .color(BLUE)
                        .width(2.0),
                    );
                    p.line(
                        Line::new(
                            "scaled q·k/√d",
                            curve
                                .iter()
                                .map(|&(d, _, s)| [lx(d), s])
                                .collect::<PlotPoints>(),
                        )
                        .color(ORANGE)
                        .width(2.0),
                    );
                    p.vline(VLine::new("chosen d", lx(d)).color(GREY));
                });
        });
    }

    fn csv(&mut self, s: &SoftmaxSettings) -> String {
        let table = variance_table(&TABLE_DIMS, TABLE_PAIRS, s.seed);
        columns_csv(&[
            ("d", table.iter().map(|r| r.0 as f64).collect()),
            ("var_unscaled", table.iter().map(|r| r.1).collect()),
            ("var_scaled", table.iter().map(|r| r.2).collect()),
        ])
    }
}

fn hist_plot(ui: &mut Ui, id: &str, hist: &[(f64, f64)], sd: f64, name: &str, color: Color32) {
    let width = hist.get(1).map_or(1.0, |b| b.0 - hist[0].0);
    Figure::new(id)
        .x(name, Scale::Linear)
        .y("density", Scale::Linear)
        .rows(ui, 2.0)
        .legend(vec![
            entry(format!("{name} samples"), color, Mark::Bar),
            entry(
                format!("N(0, {})", crate::model::config::number((sd * sd).round())),
                GREY,
                Mark::Line,
            ),
        ])
        .show(ui, |p| {
            let bars = hist
                .iter()
                .map(|&(x, y)| Bar::new(x, y).width(width * 0.95))
                .collect();
            p.bar_chart(BarChart::new(format!("{name} samples"), bars).color(color));
            let curve: PlotPoints = (0..=200)
                .map(|i| {
                    let x = -4.0 * sd + 8.0 * sd * i as f64 / 200.0;
                    [x, normal_pdf(x / sd) / sd]
                })
                .collect();
            p.line(
                Line::new(format!("N(0, {:.0})", sd * sd), curve)
                    .color(GREY)
                    .width(2.0),
            );
        });
}
