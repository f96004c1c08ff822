//! §2 "The statistics": per-feature and per-sample mean and variance of each normalisation.

use egui::Ui;
use egui_plot::{Bar, BarChart, Line, PlotPoints, Points};
use ndarray::Axis;

use super::settings::NormSettings;
use super::{MatrixCache, matrix_controls};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::norms::axis_stats;
use crate::math::stats::histogram;
use crate::widgets::export::columns_csv;
use crate::widgets::figure::legend_row;
use crate::widgets::palette::SERIES as COLORS;
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry};

/// The section: the matrix and its normalisations, cached by their inputs.
#[derive(Default)]
pub struct Stats {
    matrix: MatrixCache,
}

impl Section<NormSettings> for Stats {
    fn title(&self) -> &'static str {
        "2. The statistics"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut NormSettings, _ctx: &mut LessonContext) {
        ui.label("After BatchNorm every feature (column) has mean 0 and variance 1 over the batch — but a single sample's features need not. After LayerNorm every sample (row) has mean 0 and variance 1 over its features — but a feature need not across the batch.");
        matrix_controls(ui, settings);
        let max_f = settings.features - 1;
        settings.feature = settings.feature.min(max_f);
        labelled(ui, "feature for the histogram", |ui| {
            ui.add(egui::Slider::new(&mut settings.feature, 0..=max_f))
        });
        let c = self.matrix.get(settings);
        let mats = [
            ("X", &c.x),
            ("BatchNorm", &c.norm.bn),
            ("LayerNorm", &c.norm.ln),
            ("RMSNorm", &c.norm.rms),
        ];
        let per_feature: Vec<(Vec<f64>, Vec<f64>)> =
            mats.iter().map(|(_, m)| axis_stats(m, Axis(0))).collect();
        let per_sample: Vec<(Vec<f64>, Vec<f64>)> =
            mats.iter().map(|(_, m)| axis_stats(m, Axis(1))).collect();
        let legend: Vec<_> = mats
            .iter()
            .enumerate()
            .map(|(k, (name, _))| entry(*name, COLORS[k], Mark::Line))
            .collect();
        // One legend for the four plots below, above them all.
        legend_row(ui, &legend);
        let plot = |ui: &mut Ui,
                    id: &str,
                    title: &str,
                    x_name: &'static str,
                    data: &[(Vec<f64>, Vec<f64>)],
                    which: usize| {
            ui.strong(title);
            Figure::new(id)
                .x(x_name, Scale::Index)
                .y(if which == 0 { "mean" } else { "variance" }, Scale::Linear)
                .rows(ui, 3.4)
                .show(ui, |p| {
                    for (k, (name, _)) in mats.iter().enumerate() {
                        let v = if which == 0 { &data[k].0 } else { &data[k].1 };
                        let pts: PlotPoints =
                            v.iter().enumerate().map(|(i, &y)| [i as f64, y]).collect();
                        p.line(Line::new(*name, pts).color(COLORS[k]).width(if k == 0 {
                            1.5
                        } else {
                            2.0
                        }));
                    }
                });
        };
        ui.columns(2, |cols| {
            plot(
                &mut cols[0],
                "norms_feature_mean",
                "Per-feature mean (over the batch)",
                "feature",
                &per_feature,
                0,
            );
            plot(
                &mut cols[1],
                "norms_feature_var",
                "Per-feature variance (over the batch)",
                "feature",
                &per_feature,
                1,
            );
        });
        ui.columns(2, |cols| {
            plot(
                &mut cols[0],
                "norms_sample_mean",
                "Per-sample mean (over the features)",
                "sample",
                &per_sample,
                0,
            );
            plot(
                &mut cols[1],
                "norms_sample_var",
                "Per-sample variance (over the features)",
                "sample",
                &per_sample,
                1,
            );
        });
        let j = settings.feature;
        ui.strong(format!(
            "Feature {j} across the batch, before and after (dots below the axis: every sample)"
        ));
        Figure::new("norms_feature_hist")
            .x(format!("value of feature {j}"), Scale::Linear)
            .y("density", Scale::Linear)
            .rows(ui, 2.5)
            .legend(
                mats.iter()
                    .take(3)
                    .enumerate()
                    .map(|(k, (name, _))| entry(*name, COLORS[k], Mark::Bar))
                    .collect(),
            )
            .show(ui, |p| {
                // Bars: the histogram (density); dots below the axis: every sample (a rug), one
                // row per matrix, so small batches stay readable.
                let all: Vec<f64> = mats
                    .iter()
                    .take(3)
                    .flat_map(|(_, m)| m.column(j).to_vec())
                    .map(f64::from)
                    .collect();
                let lo = all.iter().copied().fold(f64::INFINITY, f64::min).min(-3.0);
                let hi = all
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max)
                    .max(3.0);
                let bins_n = (settings.batch / 4).clamp(8, 40);
                let w = (hi - lo) / bins_n as f64;
                for (k, (name, m)) in mats.iter().enumerate().take(3) {
                    let col: Vec<f64> = m.column(j).iter().map(|&v| f64::from(v)).collect();
                    let bins = histogram(&col, lo, hi + 1e-9, bins_n);
                    let bars = bins
                        .iter()
                        .map(|&(x, y)| Bar::new(x, y).width(w * 0.9))
                        .collect();
                    p.bar_chart(BarChart::new(*name, bars).color(COLORS[k]));
                    let y = -0.08 * (k as f64 + 1.0);
                    p.points(
                        Points::new(*name, col.iter().map(|&x| [x, y]).collect::<PlotPoints>())
                            .radius(3.0)
                            .color(COLORS[k]),
                    );
                }
            });
    }

    fn csv(&mut self, s: &NormSettings) -> String {
        let c = self.matrix.get(s);
        let (m, v) = axis_stats(&c.x, Axis(0));
        let (bm, bv) = axis_stats(&c.norm.bn, Axis(0));
        columns_csv(&[
            ("feature", (0..m.len()).map(|i| i as f64).collect()),
            ("x_mean", m),
            ("x_var", v),
            ("bn_mean", bm),
            ("bn_var", bv),
        ])
    }
}
