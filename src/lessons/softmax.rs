//! Lesson "Softmax sharpness and the 1/√d scaling": the lecture's demo (a Gaussian vector through
//! softmax, then the same × 100), why dot products grow like √d, why a saturated softmax starves
//! W_Q and W_K of gradient, and the same effect in a real model trained both ways.
//! Math: `model::sharpness`; this file draws it and caches what is expensive.

use egui::{Color32, RichText, Ui};
use egui_plot::{Bar, BarChart, Legend, Line, LineStyle, Plot, PlotPoints, Points, VLine};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::background::{Background, Cached};
use super::compare_runs::{CompareRuns, Preset};
use super::{Lesson, LessonContext, settings_from_json, settings_to_json};
use crate::model::sharpness::{
    SoftmaxStats, TABLE_DIMS, dot_products, gaussian_scores, jacobian_norm, mean_attention_entropy,
    softmax_f64, softmax_jacobian, softmax_stats, variance_table,
};
use crate::model::stats::{histogram, normal_pdf, variance};
use crate::train::TrainConfig;
use crate::widgets::export::{columns_csv, csv_field};
use crate::widgets::plots::{Scale, hover, hover_on, labelled, section_tabs};
use crate::widgets::{Colormap, Heatmap};

const SECTIONS: [&str; 4] = [
    "1. The lecture's demo",
    "2. Why √d",
    "3. Gradient starvation",
    "4. In a real model",
];
const BLUE: Color32 = Color32::from_rgb(0, 114, 178);
const ORANGE: Color32 = Color32::from_rgb(230, 159, 0);
const GREY: Color32 = Color32::from_rgb(128, 128, 128);

/// Dot-product samples per histogram (at the chosen d).
const HIST_PAIRS: usize = 4000;
/// Samples per d in the variance table.
const TABLE_PAIRS: usize = 2000;
/// Queries averaged per point of the entropy-vs-d curve.
const ENTROPY_QUERIES: usize = 200;

/// The lesson's persisted settings (also `attention-lab data softmax --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SoftmaxSettings {
    /// The open section (0…3).
    pub section: usize,
    /// Number of scores n (2…64).
    pub n: usize,
    /// Seed of the Gaussian scores and the random vectors. Seed 0 with n = 8: ×100 puts 0.9999
    /// of the weight on one score (see the tests).
    pub seed: u64,
    /// The factor of the second softmax (1…100).
    pub scale: f64,
    /// Head size d of panel 2 (1…1024).
    pub d: usize,
    /// Keys T for the entropy curve (2…256).
    pub keys: usize,
}

impl Default for SoftmaxSettings {
    fn default() -> Self {
        Self {
            section: 0,
            n: 8,
            seed: 0,
            scale: 100.0,
            d: 64,
            keys: 16,
        }
    }
}

impl SoftmaxSettings {
    fn validate(&self) -> Result<(), String> {
        let check = |name: &str, ok: bool, range: &str| {
            if ok {
                Ok(())
            } else {
                Err(format!("{name} must be {range}"))
            }
        };
        check("n", (2..=64).contains(&self.n), "between 2 and 64")?;
        check(
            "scale",
            self.scale.is_finite() && (1.0..=100.0).contains(&self.scale),
            "between 1 and 100",
        )?;
        check("d", (1..=1024).contains(&self.d), "between 1 and 1024")?;
        check("keys", (2..=256).contains(&self.keys), "between 2 and 256")?;
        check("section", self.section <= 3, "0, 1, 2 or 3")?;
        Ok(())
    }
}

/// The lesson.
#[derive(Default)]
pub struct SoftmaxLesson {
    settings: SoftmaxSettings,
    /// The variance table, by seed.
    table: Background<u64, Vec<(usize, f64, f64)>>,
    /// Dot-product samples at (d, seed).
    dots: Background<(usize, u64), (usize, Vec<f64>)>,
    /// Entropy vs d, (d, unscaled, scaled), at (keys, seed).
    curve: Background<(usize, u64), Vec<EntropyPoint>>,
    compare: CompareRuns,
    /// ‖J‖_F over the scale axis, by (n, seed).
    jacobian_curve: Cached<(usize, u64), Vec<f64>>,
}

/// (d, mean entropy unscaled, mean entropy scaled).
type EntropyPoint = (usize, f64, f64);

fn entropy_curve(keys: usize, seed: u64) -> Vec<EntropyPoint> {
    TABLE_DIMS
        .iter()
        .map(|&d| {
            (
                d,
                mean_attention_entropy(d, keys, ENTROPY_QUERIES, false, seed),
                mean_attention_entropy(d, keys, ENTROPY_QUERIES, true, seed),
            )
        })
        .collect()
}

/// Scale factors of the Jacobian curve: 0.01 … 1000, log-spaced.
fn jacobian_scales() -> Vec<f64> {
    (0..=100)
        .map(|i| 10f64.powf(-2.0 + 5.0 * i as f64 / 100.0))
        .collect()
}

fn stats_line(ui: &mut Ui, what: &str, s: &SoftmaxStats, n: usize) {
    ui.label(
        RichText::new(format!(
            "{what}: entropy {:.3} nats = {:.0} % of ln {n} · max weight {:.4} · effective tokens attended e^H = {:.2}",
            s.entropy,
            100.0 * s.entropy_fraction,
            s.max_weight,
            s.effective_tokens
        ))
        .size(14.0),
    );
}

fn weight_bars(ui: &mut Ui, id: &str, name: &str, p: &[f32], color: Color32) {
    Plot::new(id)
        .height(260.0)
        .x_axis_label("score index i")
        .y_axis_label("weight p_i")
        .include_y(0.0)
        .include_y(1.0)
        .label_formatter(hover("i", "p_i"))
        .allow_scroll(false)
        .show(ui, |plot| {
            let bars = p
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    Bar::new(i as f64, f64::from(v))
                        .width(0.8)
                        .name(format!("p_{i} = {v:.4}"))
                })
                .collect();
            plot.bar_chart(BarChart::new(name, bars).color(color));
        });
}

impl SoftmaxLesson {
    fn demo(&mut self, ui: &mut Ui) {
        ui.label("The lecture's demo: n Gaussian scores x through softmax, then the same vector multiplied by a factor. The softmax of x spreads its weight over several scores; multiplied by 100 the same scores put nearly all of it on the largest one.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "scores n", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.n, 2..=64))
            });
            if ui
                .button("Reseed")
                .on_hover_text("Draw new Gaussian scores")
                .clicked()
            {
                self.settings.seed = self.settings.seed.wrapping_add(1);
            }
            ui.label(format!("seed {}", self.settings.seed));
            ui.separator();
            labelled(ui, "scale", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.scale, 1.0..=100.0).logarithmic(true))
            });
            if ui.button("×1").clicked() {
                self.settings.scale = 1.0;
            }
            if ui
                .button("×100")
                .on_hover_text("The lecture's picture")
                .clicked()
            {
                self.settings.scale = 100.0;
            }
        });
        let x = gaussian_scores(self.settings.n, self.settings.seed);
        let scale = self.settings.scale as f32;
        let plain = softmax_stats(&x, 1.0);
        let sharp = softmax_stats(&x, scale);
        let n = self.settings.n;
        ui.columns(3, |cols| {
            cols[0].strong("The scores x_i ~ N(0, 1)");
            Plot::new("softmax_scores")
                .height(260.0)
                .x_axis_label("score index i")
                .y_axis_label("x_i")
                .label_formatter(hover("i", "x_i"))
                .allow_scroll(false)
                .show(&mut cols[0], |plot| {
                    let bars = x
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| Bar::new(i as f64, f64::from(v)).width(0.8))
                        .collect();
                    plot.bar_chart(BarChart::new("x", bars).color(GREY));
                });
            cols[1].strong("softmax(x)");
            weight_bars(&mut cols[1], "softmax_plain", "softmax(x)", &plain.p, BLUE);
            cols[2].strong(format!("softmax({} · x)", fmt_scale(f64::from(scale))));
            weight_bars(
                &mut cols[2],
                "softmax_scaled",
                "softmax(scale·x)",
                &sharp.p,
                ORANGE,
            );
        });
        stats_line(ui, "softmax(x)", &plain, n);
        stats_line(
            ui,
            &format!("softmax({}·x)", fmt_scale(f64::from(scale))),
            &sharp,
            n,
        );
        ui.label("Multiplying the scores by a constant is what an unscaled dot product does when the head size grows: the same ranking, but a far sharper distribution.");
    }

    fn why_sqrt_d(&mut self, ui: &mut Ui) {
        ui.label("Draw q, k ~ N(0, I_d). The dot product q·k = Σ q_i k_i adds d independent terms of variance 1, so Var(q·k) = d: the scores spread like √d and the softmax saturates. Dividing by √d brings the variance back to 1 for every d.")
            .on_hover_text("How it is sampled: q is drawn in full; k is rotation invariant, so its component along q is N(0, 1) and q·k = ‖q‖·z has exactly the distribution of the full product, with d + 1 draws instead of 2d.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "head size d", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.d, 1..=1024).logarithmic(true))
            });
            labelled(ui, "keys T", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.keys, 2..=256).logarithmic(true))
            });
            if ui.button("New samples").clicked() {
                self.settings.seed = self.settings.seed.wrapping_add(1);
            }
        });
        let (d, seed, keys) = (self.settings.d, self.settings.seed, self.settings.keys);
        let ctx = ui.ctx().clone();
        let (dots, dots_fresh) = self.dots.get(&(d, seed), &ctx, |(d, seed)| {
            (d, dot_products(d, HIST_PAIRS, seed))
        });
        let (table, table_fresh) = self.table.get(&seed, &ctx, |seed| {
            variance_table(&TABLE_DIMS, TABLE_PAIRS, seed)
        });
        let (curve, curve_fresh) = self.curve.get(&(keys, seed), &ctx, |(keys, seed)| {
            entropy_curve(keys, seed)
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
            ))
            .size(15.0),
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
            Plot::new("softmax_variance")
                .height(240.0)
                .x_axis_label("d")
                .y_axis_label("variance")
                .x_axis_formatter(|m, _| crate::widgets::plots::log_tick(m.value))
                .y_axis_formatter(|m, _| crate::widgets::plots::log_tick(m.value))
                .label_formatter(hover_on(("d", Scale::Log10), ("variance", Scale::Log10)))
                .legend(Legend::default())
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
            Plot::new("softmax_entropy_vs_d")
                .height(240.0)
                .x_axis_label("d")
                .y_axis_label("entropy (nats)")
                .x_axis_formatter(|m, _| crate::widgets::plots::log_tick(m.value))
                .label_formatter(hover_on(
                    ("d", Scale::Log10),
                    ("entropy (nats)", Scale::Linear),
                ))
                .include_y(0.0)
                .legend(Legend::default())
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

    fn starvation(&mut self, ui: &mut Ui) {
        ui.label("Back-propagation through softmax multiplies by its Jacobian J = diag(p) − ppᵀ. When the softmax saturates (p one-hot) every entry of J goes to 0, so almost no gradient reaches the scores — nor W_Q and W_K behind them. That is why scaling matters for training, not only for the picture.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "scale", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.scale, 1.0..=100.0).logarithmic(true))
            });
            if ui.button("×1").clicked() {
                self.settings.scale = 1.0;
            }
            if ui.button("×100").clicked() {
                self.settings.scale = 100.0;
            }
            labelled(ui, "scores n", |ui| {
                ui.add(egui::Slider::new(&mut self.settings.n, 2..=64))
            });
        });
        let x = gaussian_scores(self.settings.n, self.settings.seed);
        let scale = self.settings.scale;
        let now = jacobian_norm(&x, scale);
        let at_one = jacobian_norm(&x, 1.0);
        ui.label(
            RichText::new(format!(
                "‖J‖_F at scale {}: {now:.3e} ({:.2e} × its value at scale 1, {at_one:.3}). The gradient with respect to the unscaled scores is scale · J: {:.3e}.{}",
                fmt_scale(scale),
                now / at_one.max(f64::MIN_POSITIVE),
                scale * now,
                if now < 1e-30 { " In f32, the precision the model trains in, these weights round to exactly 0: no gradient at all." } else { "" }
            ))
            .size(15.0),
        );
        let scales = jacobian_scales();
        let key = (self.settings.n, self.settings.seed);
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
            Plot::new("softmax_jacobian_norm")
                .height(300.0)
                .x_axis_label("scale factor")
                .custom_y_axes(vec![crate::widgets::plots::log_y_axis("norm")])
                .x_axis_formatter(|m, _| crate::widgets::plots::log_tick(m.value))
                .label_formatter(hover_on(("scale", Scale::Log10), ("norm", Scale::Log10)))
                .legend(Legend::default())
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
            Heatmap::new("softmax Jacobian", j.view())
                .axis_names("∂p_i", "∂z_j")
                .colormap(Colormap::Diverging)
                .range(-lim, lim)
                .decimals(5)
                .max_size(egui::vec2(300.0, 300.0))
                .show(&mut cols[1]);
        });
    }

    fn real_model(&mut self, ui: &mut Ui) {
        ui.label("The same transformer trained twice from the same seed on the bears task, with head size 64: once with scores divided by √64 = 8, once without. Without scaling the heads saturate early (entropy near 0) and the loss falls more slowly.");
        self.compare.preset = Preset::Scaling;
        self.compare.lock_preset = true;
        self.compare.show_entropy = true;
        let base = TrainConfig::default();
        self.compare.ui(ui, &base, "i love bears");
    }
}

/// "100", "3.162": a scale factor without trailing zeros.
fn fmt_scale(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

fn hist_plot(ui: &mut Ui, id: &str, hist: &[(f64, f64)], sd: f64, name: &str, color: Color32) {
    let width = hist.get(1).map_or(1.0, |b| b.0 - hist[0].0);
    Plot::new(id)
        .height(220.0)
        .x_axis_label(name.to_owned())
        .y_axis_label("density")
        .label_formatter(hover("value", "density"))
        .legend(Legend::default())
        .allow_scroll(false)
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

impl Lesson for SoftmaxLesson {
    fn id(&self) -> &'static str {
        "softmax"
    }

    fn title(&self) -> &'static str {
        "Softmax sharpness and the 1/√d scaling"
    }

    fn summary(&self) -> &'static str {
        "The same scores ×100 put all the attention on one token. Dot products of d-dimensional vectors have variance d; dividing by √d keeps the softmax — and its gradient — alive."
    }

    fn ui(&mut self, ui: &mut Ui, _ctx: &mut LessonContext) {
        section_tabs(ui, &mut self.settings.section, &SECTIONS);
        match self.settings.section {
            1 => self.why_sqrt_d(ui),
            2 => self.starvation(ui),
            3 => self.real_model(ui),
            _ => self.demo(ui),
        }
    }

    fn settings(&self) -> Value {
        settings_to_json(&self.settings)
    }

    fn set_settings(&mut self, settings: Value) -> Result<(), String> {
        let s: SoftmaxSettings = settings_from_json(settings)?;
        s.validate()?;
        self.settings = s;
        Ok(())
    }

    fn data(&self) -> Value {
        let s = &self.settings;
        let x = gaussian_scores(s.n, s.seed);
        let plain = softmax_stats(&x, 1.0);
        let sharp = softmax_stats(&x, s.scale as f32);
        let table = variance_table(&TABLE_DIMS, TABLE_PAIRS, s.seed);
        let curve = entropy_curve(s.keys, s.seed);
        json!({
            "settings": self.settings(),
            "x": x,
            "softmax": plain.p,
            "softmax_scaled": sharp.p,
            "entropy": plain.entropy,
            "entropy_scaled": sharp.entropy,
            "entropy_fraction": plain.entropy_fraction,
            "entropy_fraction_scaled": sharp.entropy_fraction,
            "max_weight": plain.max_weight,
            "max_weight_scaled": sharp.max_weight,
            "effective_tokens": plain.effective_tokens,
            "effective_tokens_scaled": sharp.effective_tokens,
            "jacobian_norm": jacobian_norm(&x, 1.0),
            "jacobian_norm_scaled": jacobian_norm(&x, s.scale),
            "variance": {
                "d": table.iter().map(|r| r.0).collect::<Vec<_>>(),
                "var_unscaled": table.iter().map(|r| r.1).collect::<Vec<_>>(),
                "var_scaled": table.iter().map(|r| r.2).collect::<Vec<_>>(),
            },
            "attention_entropy": {
                "keys": s.keys,
                "d": curve.iter().map(|r| r.0).collect::<Vec<_>>(),
                "unscaled": curve.iter().map(|r| r.1).collect::<Vec<_>>(),
                "scaled": curve.iter().map(|r| r.2).collect::<Vec<_>>(),
            },
        })
    }

    fn csv(&self) -> String {
        let s = &self.settings;
        match s.section {
            1 => {
                let table = variance_table(&TABLE_DIMS, TABLE_PAIRS, s.seed);
                columns_csv(&[
                    ("d", table.iter().map(|r| r.0 as f64).collect()),
                    ("var_unscaled", table.iter().map(|r| r.1).collect()),
                    ("var_scaled", table.iter().map(|r| r.2).collect()),
                ])
            }
            2 => {
                let x = gaussian_scores(s.n, s.seed);
                let scales = jacobian_scales();
                let norms = scales.iter().map(|&c| jacobian_norm(&x, c)).collect();
                columns_csv(&[("scale", scales), ("jacobian_frobenius_norm", norms)])
            }
            3 => {
                // Long format: one row per run, recorded step and head.
                let mut out = String::from("run,step,head,entropy_nats\n");
                for (label, hist) in self.compare.entropy_history() {
                    for (step, heads) in hist {
                        for (h, e) in heads.iter().enumerate() {
                            out.push_str(&format!("{},{step},{},{e}\n", csv_field(&label), h + 1));
                        }
                    }
                }
                out
            }
            _ => {
                let x = gaussian_scores(s.n, s.seed);
                let plain = softmax_stats(&x, 1.0);
                let sharp = softmax_stats(&x, s.scale as f32);
                columns_csv(&[
                    ("i", (0..s.n).map(|i| i as f64).collect()),
                    ("x", x.iter().map(|&v| f64::from(v)).collect()),
                    ("softmax", plain.p.iter().map(|&v| f64::from(v)).collect()),
                    (
                        "softmax_scaled",
                        sharp.p.iter().map(|&v| f64::from(v)).collect(),
                    ),
                ])
            }
        }
    }
}
