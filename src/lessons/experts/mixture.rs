//! §2 "Mixture of Gaussians": samples from a mixture set with sliders; EM fits a mixture to
//! them step by step (a button, or play), the log-likelihood rising; the fitted density, each
//! component, and the responsibilities γᵢ(x) as coloured bands — the soft split of the input
//! space that a gate learns in section 3.

use egui::Ui;
use egui_plot::{Bar, BarChart, Line, LineStyle};

use super::settings::{ExpertsSettings, MAX_COMPONENTS};
use super::{em_fits, mixture_samples, true_mixture};
use crate::lessons::common::background::Cached;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::experts::Gmm;
use crate::math::stats::histogram;
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{CATEGORICAL, GREY, VERMILLION};
use crate::widgets::plots::{Scale, labelled, stacked_bands};
use crate::widgets::{Figure, Mark, entry, layout};

/// EM steps taken per second while playing.
const STEPS_PER_SECOND: f64 = 8.0;
/// Most EM steps.
pub const MAX_EM_STEPS: usize = 500;
/// EM steps computed per frame when the settings ask for many at once (`--set em_steps=500`):
/// the fit catches up over a few frames instead of freezing one.
const CATCH_UP_PER_FRAME: usize = 20;

type SampleKey = (Vec<u64>, usize, u64);

/// The section: the samples, the fits so far, play state.
#[derive(Default)]
pub struct MixtureOfGaussians {
    samples: Cached<SampleKey, Vec<f64>>,
    fits: Vec<Gmm>,
    /// The mean log-likelihood of each fit on the samples.
    lls: Vec<f64>,
    fit_key: Option<(SampleKey, usize)>,
    playing: bool,
    last_step_time: f64,
}

fn sample_key(s: &ExpertsSettings) -> SampleKey {
    let t = true_mixture(s);
    let bits = t
        .weights
        .iter()
        .chain(&t.means)
        .chain(&t.sds)
        .map(|v| v.to_bits())
        .collect();
    (bits, s.samples, s.seed)
}

/// The x range that shows every component of both mixtures (±3.5 σ).
fn x_range(a: &Gmm, b: &Gmm) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for g in [a, b] {
        for (m, sd) in g.means.iter().zip(&g.sds) {
            lo = lo.min(m - 3.5 * sd);
            hi = hi.max(m + 3.5 * sd);
        }
    }
    (lo.max(-10.0), hi.min(10.0))
}

impl MixtureOfGaussians {
    /// The fits for the settings: after 0 … em_steps EM steps, kept between frames and
    /// extended by at most `limit` steps per call. Returns whether it caught up.
    fn update(&mut self, s: &ExpertsSettings, limit: usize) -> bool {
        let key = sample_key(s);
        let samples = self
            .samples
            .get(key.clone(), |_| mixture_samples(s))
            .clone();
        let fit_key = (key, s.fit_components);
        if self.fit_key.as_ref() != Some(&fit_key) || self.fits.is_empty() {
            self.fits = em_fits(&samples, s.fit_components, 0);
            self.lls = vec![self.fits[0].mean_log_likelihood(&samples)];
            self.fit_key = Some(fit_key);
        }
        self.fits.truncate(s.em_steps + 1);
        self.lls.truncate(s.em_steps + 1);
        let mut done = 0;
        while self.fits.len() < s.em_steps + 1 && done < limit {
            let next = self.fits[self.fits.len() - 1].em_step(&samples);
            self.lls.push(next.mean_log_likelihood(&samples));
            self.fits.push(next);
            done += 1;
        }
        self.fits.len() == s.em_steps + 1
    }
}

impl Section<ExpertsSettings> for MixtureOfGaussians {
    fn title(&self) -> &'static str {
        "2. Mixture of Gaussians"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut ExpertsSettings, _ctx: &mut LessonContext) {
        ui.label("The mixture of experts has its roots in the mixture of Gaussians p(x) = Σᵢ πᵢ N(x; μᵢ, σᵢ²): each component takes a soft responsibility γᵢ(x) = πᵢ N(x; μᵢ, σᵢ²) / p(x) for part of the input space. EM fits one to samples (Bishop, PRML §9.2.2): the E step computes the responsibilities, the M step refits each component to the points weighted by them.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "components drawn from", |ui| {
                ui.add(egui::Slider::new(
                    &mut s.true_components,
                    1..=MAX_COMPONENTS,
                ))
            });
            labelled(ui, "samples", |ui| {
                ui.add(egui::Slider::new(&mut s.samples, 20..=2000).logarithmic(true))
            });
            if ui.button("New samples").clicked() {
                s.seed = s.seed.wrapping_add(1);
                s.em_steps = 0;
            }
            labelled(ui, "components fitted", |ui| {
                ui.add(egui::Slider::new(&mut s.fit_components, 1..=MAX_COMPONENTS))
            });
        });
        egui::Grid::new("true mixture")
            .spacing([14.0, 4.0])
            .show(ui, |ui| {
                for i in 0..s.true_components.min(MAX_COMPONENTS) {
                    ui.colored_label(
                        crate::widgets::palette::text(ui, GREY),
                        format!("true component {}", i + 1),
                    );
                    labelled(ui, "mean μ", |ui| {
                        ui.add(egui::Slider::new(&mut s.true_means[i], -5.0..=5.0))
                    });
                    labelled(ui, "σ", |ui| {
                        ui.add(egui::Slider::new(&mut s.true_sds[i], 0.1..=3.0))
                    });
                    labelled(ui, "weight", |ui| {
                        ui.add(egui::Slider::new(&mut s.true_weights[i], 0.01..=1.0))
                    });
                    ui.end_row();
                }
            });
        ui.horizontal_wrapped(|ui| {
            if ui.button("EM step").clicked() && s.em_steps < MAX_EM_STEPS {
                s.em_steps += 1;
            }
            let play = if self.playing { "Pause" } else { "Play" };
            if ui.button(play).clicked() {
                self.playing = !self.playing;
                self.last_step_time = ui.input(|i| i.time);
            }
            if ui.button("Restart fit").clicked() {
                s.em_steps = 0;
            }
            ui.label(format!("EM step {}", s.em_steps));
        });
        if !self.update(s, CATCH_UP_PER_FRAME) {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Computing EM step {} of {}…",
                    self.fits.len(),
                    s.em_steps
                ));
            });
            ui.ctx().request_repaint();
        }
        if self.playing {
            let now = ui.input(|i| i.time);
            if now - self.last_step_time >= 1.0 / STEPS_PER_SECOND {
                self.last_step_time = now;
                let n = self.lls.len();
                let converged = n >= 2 && (self.lls[n - 1] - self.lls[n - 2]).abs() < 1e-7;
                if converged || s.em_steps >= MAX_EM_STEPS {
                    self.playing = false;
                } else {
                    s.em_steps += 1;
                    self.update(s, 1);
                }
            }
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs_f64(1.0 / STEPS_PER_SECOND));
        }
        let samples = self
            .samples
            .get(sample_key(s), |_| mixture_samples(s))
            .clone();
        let truth = true_mixture(s);
        let Some(fit) = self.fits.last().cloned() else {
            return;
        };
        let lls = self.lls.clone();
        let true_ll = truth.mean_log_likelihood(&samples);
        let ll = lls.last().copied().unwrap_or(f64::NAN);
        let drops = lls.windows(2).filter(|w| w[1] < w[0] - 1e-9).count();
        ui.label(format!(
            "After {} EM steps: mean log-likelihood {ll:.4} nats per sample (the mixture the samples came from: {true_ll:.4}). {}",
            self.fits.len() - 1,
            if drops == 0 {
                "It has not fallen at any step, as EM guarantees (Dempster, Laird & Rubin 1977).".to_owned()
            } else {
                format!("It fell at {drops} steps by more than 1e-9 — EM should never do that.")
            }
        ));
        let fitted = (0..fit.len())
            .map(|i| {
                format!(
                    "π = {:.2}, μ = {:.2}, σ = {:.2}",
                    fit.weights[i], fit.means[i], fit.sds[i]
                )
            })
            .collect::<Vec<_>>()
            .join(" · ");
        ui.weak(format!("Fitted components: {fitted}"));
        let (lo, hi) = x_range(&truth, &fit);
        let xs: Vec<f64> = (0..=300)
            .map(|i| lo + (hi - lo) * f64::from(i) / 300.0)
            .collect();
        let fit_color = ui.visuals().strong_text_color();
        let mut legend = vec![
            entry("samples (histogram)", GREY, Mark::Bar),
            entry("true density", VERMILLION, Mark::Dashed),
            entry("fitted density", fit_color, Mark::Line),
        ];
        for i in 0..fit.len() {
            legend.push(entry(
                format!("component {}", i + 1),
                CATEGORICAL[i % CATEGORICAL.len()],
                Mark::Line,
            ));
        }
        layout::grid(ui, 2, 380.0, |ui, col| {
            if col == 0 {
                ui.strong("Density: samples, the truth, the fit and its components");
                Figure::new("experts_gmm_density")
                    .x("x", Scale::Linear)
                    .y("density p(x)", Scale::Linear)
                    .rows(ui, 1.3)
                    .include_y(0.0)
                    .legend(legend.clone())
                    .show(ui, |p| {
                        let bins = 40;
                        let h = histogram(&samples, lo, hi, bins);
                        let w = (hi - lo) / bins as f64;
                        let n = samples.len().max(1) as f64;
                        let bars = h
                            .iter()
                            .map(|&(c, count)| {
                                Bar::new(c, count / (n * w))
                                    .width(w * 0.95)
                                    .name(format!("{count:.0} samples"))
                            })
                            .collect();
                        p.bar_chart(
                            BarChart::new("samples (histogram)", bars)
                                .color(GREY.gamma_multiply(0.5)),
                        );
                        p.line(
                            Line::new(
                                "true density",
                                xs.iter().map(|&x| [x, truth.pdf(x)]).collect::<Vec<_>>(),
                            )
                            .color(VERMILLION)
                            .style(LineStyle::dashed_loose())
                            .width(2.0),
                        );
                        for i in 0..fit.len() {
                            p.line(
                                Line::new(
                                    format!("component {}", i + 1),
                                    xs.iter()
                                        .map(|&x| [x, fit.component_pdf(i, x)])
                                        .collect::<Vec<_>>(),
                                )
                                .color(CATEGORICAL[i % CATEGORICAL.len()])
                                .width(2.0),
                            );
                        }
                        p.line(
                            Line::new(
                                "fitted density",
                                xs.iter().map(|&x| [x, fit.pdf(x)]).collect::<Vec<_>>(),
                            )
                            .color(fit_color)
                            .width(2.5),
                        );
                    });
                ui.strong("Responsibilities γᵢ(x) of the fit (stacked to 1)");
                Figure::new("experts_gmm_resp")
                    .x("x", Scale::Linear)
                    .y("responsibility γᵢ(x)", Scale::Linear)
                    .rows(ui, 0.8)
                    .include_y(0.0)
                    .include_y(1.0)
                    .show(ui, |p| {
                        let n = 120;
                        let w = (hi - lo) / n as f64;
                        let centres: Vec<f64> = (0..n).map(|j| lo + w * (j as f64 + 0.5)).collect();
                        let resp: Vec<Vec<f64>> =
                            centres.iter().map(|&x| fit.responsibilities(x)).collect();
                        let values: Vec<Vec<f64>> = (0..fit.len())
                            .map(|i| resp.iter().map(|r| r[i]).collect())
                            .collect();
                        let series: Vec<(String, egui::Color32)> = (0..fit.len())
                            .map(|i| {
                                (
                                    format!("component {}", i + 1),
                                    CATEGORICAL[i % CATEGORICAL.len()],
                                )
                            })
                            .collect();
                        stacked_bands(p, &centres, w, &values, &series, "γ");
                    });
            } else {
                ui.strong("Mean log-likelihood per EM step");
                Figure::new("experts_gmm_ll")
                    .x("EM step", Scale::Index)
                    .y("mean log-likelihood (nats per sample)", Scale::Linear)
                    .rows(ui, 1.3)
                    .include_x(0.0)
                    .include_x(10.0)
                    .legend(vec![
                        entry("EM fit", CATEGORICAL[0], Mark::Line),
                        entry(
                            "the mixture the samples came from",
                            VERMILLION,
                            Mark::Dashed,
                        ),
                    ])
                    .show(ui, |p| {
                        let pts: Vec<[f64; 2]> = lls
                            .iter()
                            .enumerate()
                            .map(|(i, &v)| [i as f64, v])
                            .collect();
                        p.line(
                            Line::new("EM fit", pts.clone())
                                .color(CATEGORICAL[0])
                                .width(2.5),
                        );
                        p.points(
                            egui_plot::Points::new("EM fit", pts)
                                .color(CATEGORICAL[0])
                                .radius(3.0),
                        );
                        let end = (lls.len().max(11) - 1) as f64;
                        p.line(
                            Line::new(
                                "the mixture the samples came from",
                                vec![[0.0, true_ll], [end, true_ll]],
                            )
                            .color(VERMILLION)
                            .style(LineStyle::dashed_loose())
                            .width(1.5),
                        );
                    });
            }
        });
        ui.label("A fit can end above the true mixture's likelihood: it is fitted to these samples, the truth was not. With more components than the data have, EM still never lowers the likelihood, but the extra components split a cluster between them.");
    }

    fn csv(&mut self, s: &ExpertsSettings) -> String {
        self.update(s, usize::MAX);
        let samples = self
            .samples
            .get(sample_key(s), |_| mixture_samples(s))
            .clone();
        let mut cols: Vec<(String, Vec<f64>)> = vec![
            (
                "em_step".into(),
                (0..self.fits.len()).map(|i| i as f64).collect(),
            ),
            (
                "mean_log_likelihood".into(),
                self.fits
                    .iter()
                    .map(|g| g.mean_log_likelihood(&samples))
                    .collect(),
            ),
        ];
        for i in 0..s.fit_components {
            cols.push((
                format!("weight_{}", i + 1),
                self.fits.iter().map(|g| g.weights[i]).collect(),
            ));
            cols.push((
                format!("mean_{}", i + 1),
                self.fits.iter().map(|g| g.means[i]).collect(),
            ));
            cols.push((
                format!("sd_{}", i + 1),
                self.fits.iter().map(|g| g.sds[i]).collect(),
            ));
        }
        let named: Vec<(&str, Vec<f64>)> =
            cols.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
        columns_csv(&named)
    }
}
