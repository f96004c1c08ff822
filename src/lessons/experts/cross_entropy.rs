//! §4 "The cross-entropy question": the lecture ends by asking what the best and worst cases of
//! section 1 become when the loss is cross-entropy. k classifiers over V classes whose logits are
//! the truth plus noise with correlation ρ; the cross-entropy of the average member, of the
//! averaged probabilities and of the softmax of the averaged logits, by Monte-Carlo, against ρ,
//! with the MSE theory beside it. Every sentence under the figures is computed from the table
//! the figures draw.

use egui::Ui;
use egui_plot::{Line, LineStyle};

use super::ensemble::error_bars;
use super::settings::ExpertsSettings;
use super::{CE_TRIALS, ce_table, ce_table_in_steps, rho_grid};
use crate::lessons::common::background::Background;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::experts::{CeRow, Estimate, ce_floor, ensemble_mse_theory};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREEN, GREY, ORANGE, VERMILLION};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry, layout};

type Key = (usize, u64, usize, u64, u64);

/// The section: the table, simulated off the UI thread.
#[derive(Default)]
pub struct CrossEntropy {
    table: Background<Key, Vec<CeRow>>,
}

/// The share of the average member's loss above the floor that an average keeps.
fn remaining(e: &Estimate, member: &Estimate, floor: f64) -> f64 {
    (e.mean - floor) / (member.mean - floor)
}

impl Section<ExpertsSettings> for CrossEntropy {
    fn title(&self) -> &'static str {
        "4. The cross-entropy question"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut ExpertsSettings, _ctx: &mut LessonContext) {
        ui.label("Language models are trained on cross-entropy, not squared error. What are the best and worst cases of an ensemble then? k classifiers over V classes: member i's logits are the truth — a margin m on the true class, 0 elsewhere — plus Gaussian noise of variance v per class, correlated ρ between members. Two ways to average: the probabilities (1/k) Σ softmax(zᵢ), or the logits, softmax((1/k) Σ zᵢ).");
        ui.horizontal_wrapped(|ui| {
            super::k_and_v_sliders(ui, s, "noise variance v");
            labelled(ui, "classes V", |ui| {
                ui.add(egui::Slider::new(&mut s.classes, 2..=100).logarithmic(true))
            });
            labelled(ui, "margin m", |ui| {
                ui.add(egui::Slider::new(&mut s.margin, 0.0..=10.0))
            });
            if ui.button("New samples").clicked() {
                s.seed = s.seed.wrapping_add(1);
            }
        });
        let key: Key = (s.k, s.v.to_bits(), s.classes, s.margin.to_bits(), s.seed);
        let ctx = ui.ctx().clone();
        let (table, fresh) =
            self.table
                .get_in_steps(&key, &ctx, |(k, v, classes, margin, seed)| {
                    ce_table_in_steps(k, f64::from_bits(v), classes, f64::from_bits(margin), seed)
                });
        let Some(table) = table else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Sampling the classifiers' logits…");
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
        let (Some(first), Some(last)) = (table.first(), table.last()) else {
            return;
        };
        let k = first.k;
        let floor = ce_floor(s.classes, s.margin);
        let violations: usize = table.iter().map(|r| r.jensen_violations).sum();
        let legend = vec![
            entry("average member", GREY, Mark::Line),
            entry("probability average", ORANGE, Mark::Line),
            entry("logit average", BLUE, Mark::Line),
            entry("noise-free logits (floor)", VERMILLION, Mark::Dashed),
        ];
        layout::grid(ui, 2, 380.0, |ui, col| {
            if col == 0 {
                ui.strong(format!("Cross-entropy against ρ (k = {k}, ± 2 s.e.)"));
                Figure::new("experts_ce")
                    .x("correlation ρ of the members' noise", Scale::Linear)
                    .y("cross-entropy (nats)", Scale::Linear)
                    .rows(ui, 1.7)
                    .include_y(0.0)
                    .legend(legend.clone())
                    .show(ui, |p| {
                        for (name, color, get) in [
                            (
                                "average member",
                                GREY,
                                (|r: &CeRow| r.member) as fn(&CeRow) -> Estimate,
                            ),
                            ("probability average", ORANGE, |r: &CeRow| r.prob_avg),
                            ("logit average", BLUE, |r: &CeRow| r.logit_avg),
                        ] {
                            let pts: Vec<[f64; 4]> = table
                                .iter()
                                .map(|r| {
                                    let e = get(r);
                                    [
                                        r.rho,
                                        e.mean,
                                        e.mean - 2.0 * e.stderr,
                                        e.mean + 2.0 * e.stderr,
                                    ]
                                })
                                .collect();
                            p.line(
                                Line::new(
                                    name,
                                    pts.iter().map(|q| [q[0], q[1]]).collect::<Vec<_>>(),
                                )
                                .color(color)
                                .width(2.0),
                            );
                            error_bars(p, name, &pts, color);
                        }
                        p.line(
                            Line::new(
                                "noise-free logits (floor)",
                                vec![[0.0, floor], [1.0, floor]],
                            )
                            .color(VERMILLION)
                            .style(LineStyle::dashed_loose())
                            .width(1.5),
                        );
                    });
            } else {
                ui.strong("Share of the member's loss above the floor that the average keeps: (ensemble − floor) / (member − floor)");
                Figure::new("experts_ce_fraction")
                    .x("correlation ρ", Scale::Linear)
                    .y("share kept", Scale::Linear)
                    .rows(ui, 1.7)
                    .include_y(0.0)
                    .include_y(1.0)
                    .legend(vec![
                        entry("MSE theory ρ + (1 − ρ)/k", GREEN, Mark::Dashed),
                        entry("probability average", ORANGE, Mark::Line),
                        entry("logit average", BLUE, Mark::Line),
                    ])
                    .show(ui, |p| {
                        let rhos = rho_grid();
                        p.line(
                            Line::new(
                                "MSE theory ρ + (1 − ρ)/k",
                                rhos.iter()
                                    .map(|&r| [r, ensemble_mse_theory(k, 1.0, r)])
                                    .collect::<Vec<_>>(),
                            )
                            .color(GREEN)
                            .style(LineStyle::dashed_loose())
                            .width(2.0),
                        );
                        let ok = |r: &&CeRow| r.member.mean - floor > 1e-9;
                        p.line(
                            Line::new(
                                "probability average",
                                table
                                    .iter()
                                    .filter(ok)
                                    .map(|r| [r.rho, remaining(&r.prob_avg, &r.member, floor)])
                                    .collect::<Vec<_>>(),
                            )
                            .color(ORANGE)
                            .width(2.5),
                        );
                        p.line(
                            Line::new(
                                "logit average",
                                table
                                    .iter()
                                    .filter(ok)
                                    .map(|r| [r.rho, remaining(&r.logit_avg, &r.member, floor)])
                                    .collect::<Vec<_>>(),
                            )
                            .color(BLUE)
                            .width(2.5),
                        );
                    });
            }
        });
        ui.label(format!(
            "Worst case, ρ = 1 (identical members): all three are {:.4}, {:.4}, {:.4} nats — equal, as they must be: no gain, as under MSE.",
            last.member.mean, last.prob_avg.mean, last.logit_avg.mean
        ));
        let (pa0, la0) = (first.prob_avg.mean, first.logit_avg.mean);
        ui.label(format!(
            "Best case, ρ = 0, k = {k}: average member {:.4}, probability average {pa0:.4}, logit average {la0:.4} nats (the {} average is lower here). Under MSE the best case tends to 0 as k grows. Under cross-entropy the logit average's noise variance is exactly v(ρ + (1 − ρ)/k), section 1's formula, so it tends to the loss of the noise-free logits, ln(1 + (V − 1)e^(−m)) = {floor:.4}, not to 0; the probability average tends to −log E[p_y], a different limit.",
            first.member.mean,
            if la0 < pa0 { "logit" } else { "probability" }
        ));
        ui.label(format!(
            "Never worse than the average member: in all {} draws (11 values of ρ × {CE_TRIALS}), the probability average and the logit average exceeded the average member's loss {violations} times — Jensen's inequality, since −log p is convex in p and −log softmax(z)_y = logsumexp(z) − z_y is convex in z.",
            11 * CE_TRIALS
        ));
        if first.member.mean - floor > 1e-9 {
            ui.label(format!(
                "Against MSE: at ρ = 0 the logit average keeps {:.2} of the member's loss above the floor, the probability average {:.2}; squared error keeps 1/k = {:.3}. For small noise the excess cross-entropy of a logit vector is approximately proportional to its noise variance (a second-order expansion), so the logit average follows the MSE line approximately; the probability average does not — with a confident truth (large m) it keeps most of the member's loss. Move v and m: the MSE line stays put, the cross-entropy curves do not.",
                remaining(&first.logit_avg, &first.member, floor),
                remaining(&first.prob_avg, &first.member, floor),
                1.0 / k as f64
            ));
        }
    }

    fn csv(&mut self, s: &ExpertsSettings) -> String {
        let t = ce_table(s.k, s.v, s.classes, s.margin, s.seed);
        columns_csv(&[
            ("rho", t.iter().map(|r| r.rho).collect()),
            ("member", t.iter().map(|r| r.member.mean).collect()),
            ("prob_avg", t.iter().map(|r| r.prob_avg.mean).collect()),
            ("logit_avg", t.iter().map(|r| r.logit_avg.mean).collect()),
            (
                "mse_fraction",
                t.iter()
                    .map(|r| ensemble_mse_theory(s.k, 1.0, r.rho))
                    .collect(),
            ),
        ])
    }
}
