//! §3 "Batch size": BatchNorm's batch estimates scatter like σ/√B; B = 1 gives zeros; running
//! averages for inference.

use egui::Ui;
use egui_plot::{Bar, BarChart, Line, LineStyle, PlotPoints, Points, VLine};

use super::MatrixCache;
use super::settings::{NormSettings, Source};
use crate::lessons::common::background::Background;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::norms::ReluOrder;
use crate::math::norms::{SPREAD_SIZES, SpreadJob, SpreadResult, TRIALS, batch_spread, normalise};
use crate::math::stats::histogram;
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{GREY, SERIES as COLORS};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry};

/// The section: the matrix, and the sampled batches (in the background).
#[derive(Default)]
pub struct Batch {
    matrix: MatrixCache,
    spread: Background<NormSettings, SpreadResult>,
}

impl Section<NormSettings> for Batch {
    fn title(&self) -> &'static str {
        "3. Batch size"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut NormSettings, _ctx: &mut LessonContext) {
        ui.label("BatchNorm estimates each feature's mean and variance from the batch. The estimates scatter around the population values with a spread ≈ σ/√B: small batches give noisy statistics, and at B = 1 they are the sample itself. LayerNorm's statistics come from one sample, so the batch size never matters. At inference BN switches to running averages (momentum 0.1) collected during training.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "batch B", |ui| {
                ui.add(egui::Slider::new(&mut settings.batch, 1..=256).logarithmic(true))
            });
            let max_f = settings.features - 1;
            labelled(ui, "feature", |ui| {
                ui.add(egui::Slider::new(&mut settings.feature, 0..=max_f))
            });
            if ui.button("New sample").clicked() {
                settings.seed = settings.seed.wrapping_add(1);
            }
        });
        settings.feature = settings.feature.min(settings.features - 1);
        let s = settings.clone();
        let pop = s.population();
        let j = s.feature;
        let key = NormSettings {
            gamma: 1.0,
            beta: 0.0,
            relu: ReluOrder::Before,
            source: Source::Synthetic,
            layer: 0,
            ..s.clone()
        };
        let ctx = ui.ctx().clone();
        // In pieces (a batch size, or ten of the trace's batches, each): see `SpreadJob`.
        let (result, fresh) = self.spread.get_in_steps(&key, &ctx, |k| {
            let mut job = SpreadJob::new(k.population(), k.feature, k.batch, k.seed);
            Box::new(move || job.advance())
        });
        let Some(result) = result else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Drawing batches…");
            });
            return;
        };
        if !fresh {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(
                    "Drawing batches for the new setting — the figures are from the previous one.",
                );
            });
        }
        let (curve, now, trace) = (&result.curve, &result.now, &result.trace);
        let c = self.matrix.get(settings);
        let zeros = c.norm.bn.iter().all(|&v| v == 0.0);
        // LN of the first sample alone vs inside the batch: identical.
        let alone = normalise(&c.x.slice(ndarray::s![..1, ..]).to_owned());
        let ln_diff = alone
            .ln
            .row(0)
            .iter()
            .zip(c.norm.ln.row(0).iter())
            .fold(0.0_f32, |m, (a, b)| m.max((a - b).abs()));
        ui.label(format!(
            "Feature {j}: population mean {:.3}, σ {:.3}. With B = {}: the batch mean scatters with sd {:.3} (theory σ/√B = {:.3}).",
            pop.mean[j], pop.std[j], now.b, now.mean_sd, pop.std[j] / (now.b as f64).sqrt()
        ));
        if s.batch == 1 {
            ui.colored_label(ui.visuals().warn_fg_color, format!("B = 1: BatchNorm's output is {} — the batch mean of each feature is the sample itself, so every x − mean is 0. The batch variance is 0 too; only ε = 1e-5 keeps the division finite.", if zeros { "all zeros" } else { "not all zeros (model source)" }));
        }
        ui.label(format!("LayerNorm of sample 0 computed alone vs inside this batch: max difference {ln_diff:.1e} — the batch size does not enter."));
        ui.columns(2, |cols| {
            cols[0].strong("Spread of BN's batch estimates vs B (log–log)");
            Figure::new("norms_spread")
                .x("batch size B", Scale::Log10)
                .y("sd over batches", Scale::Log10)
                .rows(&cols[0], 2.0)
                .legend(vec![
                    entry("sd of the batch mean", COLORS[0], Mark::Points),
                    entry("sd of the batch variance", COLORS[1], Mark::Points),
                    entry("theory σ/√B", GREY, Mark::Dashed),
                    entry("chosen B", GREY, Mark::Line),
                ])
                .show(&mut cols[0], |p| {
                    let lx = |b: usize| (b as f64).log10();
                    let theory: PlotPoints = SPREAD_SIZES
                        .iter()
                        .map(|&b| [lx(b), (pop.std[j] / (b as f64).sqrt()).log10()])
                        .collect();
                    p.line(
                        Line::new("theory σ/√B", theory)
                            .color(GREY)
                            .style(LineStyle::dashed_loose()),
                    );
                    let pts: PlotPoints = curve
                        .iter()
                        .map(|c| [lx(c.b), c.mean_sd.max(1e-12).log10()])
                        .collect();
                    p.points(
                        Points::new("sd of the batch mean", pts)
                            .radius(4.0)
                            .color(COLORS[0]),
                    );
                    let pts: PlotPoints = curve
                        .iter()
                        .filter(|c| c.b > 1)
                        .map(|c| [lx(c.b), c.var_sd.max(1e-12).log10()])
                        .collect();
                    p.points(
                        Points::new("sd of the batch variance", pts)
                            .radius(4.0)
                            .color(COLORS[1]),
                    );
                    p.vline(VLine::new("chosen B", lx(s.batch)).color(GREY));
                });
            cols[1].strong(format!(
                "{TRIALS} batch means of feature {j} at B = {}",
                s.batch
            ));
            let sd = pop.std[j];
            let (lo, hi) = (pop.mean[j] - 3.5 * sd, pop.mean[j] + 3.5 * sd);
            let bins = histogram(&now.means, lo, hi, 40);
            Figure::new("norms_batch_means")
                .x("batch mean", Scale::Linear)
                .y("density", Scale::Linear)
                .rows(&cols[1], 2.0)
                .legend(vec![
                    entry("batch means", COLORS[0], Mark::Bar),
                    entry("population mean", COLORS[1], Mark::Line),
                ])
                .show(&mut cols[1], |p| {
                    let w = (hi - lo) / 40.0;
                    p.bar_chart(
                        BarChart::new(
                            "batch means",
                            bins.iter()
                                .map(|&(x, y)| Bar::new(x, y).width(w * 0.9))
                                .collect(),
                        )
                        .color(COLORS[0]),
                    );
                    p.vline(
                        VLine::new("population mean", pop.mean[j])
                            .color(COLORS[1])
                            .width(2.0),
                    );
                });
        });
        ui.strong("Train mode uses each batch's mean (dots); eval mode uses the running mean (line), updated with momentum 0.1");
        Figure::new("norms_running")
            .x("training batches seen", Scale::Index)
            .y(format!("mean of feature {j}"), Scale::Linear)
            .rows(ui, 2.0)
            .legend(vec![
                entry("batch mean (train mode)", COLORS[0], Mark::Points),
                entry("running mean (eval mode)", COLORS[1], Mark::Line),
                entry("population mean", GREY, Mark::Line),
            ])
            .show(ui, |p| {
                p.points(
                    Points::new(
                        "batch mean (train mode)",
                        trace.iter().map(|t| [t[0], t[2]]).collect::<PlotPoints>(),
                    )
                    .radius(2.0)
                    .color(COLORS[0]),
                );
                p.line(
                    Line::new(
                        "running mean (eval mode)",
                        trace.iter().map(|t| [t[0], t[1]]).collect::<PlotPoints>(),
                    )
                    .color(COLORS[1])
                    .width(2.0),
                );
                p.hline(egui_plot::HLine::new("population mean", pop.mean[j]).color(GREY));
            });
    }

    fn csv(&mut self, s: &NormSettings) -> String {
        let pop = s.population();
        let j = s.feature.min(s.features - 1);
        let sizes: Vec<f64> = SPREAD_SIZES.iter().map(|&b| b as f64).collect();
        let sd: Vec<f64> = SPREAD_SIZES
            .iter()
            .map(|&b| batch_spread(&pop, j, b, s.seed).mean_sd)
            .collect();
        let theory: Vec<f64> = SPREAD_SIZES
            .iter()
            .map(|&b| pop.std[j] / (b as f64).sqrt())
            .collect();
        columns_csv(&[
            ("batch", sizes),
            ("sd_of_batch_mean", sd),
            ("theory_sigma_over_sqrt_b", theory),
        ])
    }
}
