//! §3 "Experts and a gate, trained live": a 1-D target made of pieces; an ensemble of k small
//! MLPs (different seeds, each fitted to all the data) against a mixture of k experts of the
//! same size with a softmax gate, fitted jointly — with the engine's linear layers and AdamW,
//! full batch, a fixed number of steps per frame (a few milliseconds; see the frame benchmark).
//! The fits, each expert where the gate makes it responsible, the gate gᵢ(x) as bands, the loss
//! curves; soft or top-1 routing, with the parameters held and used per input.

use egui::Ui;
use egui_plot::{Line, LineStyle, Points};

use super::settings::ExpertsSettings;
use super::{trained_run, x_grid};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::experts::{
    ExpertsRun, Routing, TARGET_NOISE, Target, parameter_counts, responsible,
};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREEN, GREY, ORANGE, PINK, SKY, VERMILLION, YELLOW};
use crate::widgets::plots::{Scale, labelled, stacked_bands};
use crate::widgets::{Figure, Mark, entry, layout};

/// Training steps per frame while playing at the default size (k = 3, h = 8); a larger model
/// takes proportionally fewer, so a frame stays within a few milliseconds (frame benchmark:
/// k = 6, h = 32). A fixed count, not a time budget: the same frames give the same run.
pub const STEPS_PER_FRAME: usize = 20;

/// Steps per frame for k experts of h hidden units: the cost of a step grows like k·h.
pub fn steps_per_frame(k: usize, h: usize) -> usize {
    (STEPS_PER_FRAME * 24 / (k * h).max(1)).clamp(1, STEPS_PER_FRAME)
}
/// Training stops here.
pub const MAX_STEPS: usize = 3000;
/// The experts' colours (the ensemble is blue, the mixture vermillion).
pub const EXPERT_COLORS: [egui::Color32; 6] = [ORANGE, GREEN, PINK, SKY, YELLOW, GREY];

type Key = (Target, usize, usize, Routing, u64);

/// The section: the run being trained and whether it plays.
pub struct ExpertsAndGate {
    run: Option<(Key, ExpertsRun)>,
    playing: bool,
}

impl Default for ExpertsAndGate {
    fn default() -> Self {
        // Training starts as soon as the section opens: the effect is on screen within seconds.
        Self {
            run: None,
            playing: true,
        }
    }
}

fn key(s: &ExpertsSettings) -> Key {
    (s.target, s.experts, s.hidden, s.routing, s.seed)
}

impl ExpertsAndGate {
    fn run(&mut self, s: &ExpertsSettings) -> &mut ExpertsRun {
        let k = key(s);
        if self.run.as_ref().is_none_or(|(old, _)| *old != k) {
            self.run = Some((k, trained_run(s, 0)));
        }
        match &mut self.run {
            Some((_, r)) => r,
            None => unreachable!("set just above"),
        }
    }
}

impl Section<ExpertsSettings> for ExpertsAndGate {
    fn title(&self) -> &'static str {
        "3. Experts and a gate, trained live"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut ExpertsSettings, _ctx: &mut LessonContext) {
        ui.label("A mixture of experts is a conditional ensemble: a gate g(x) = softmax(W_g x + b_g) weights experts fᵢ, ŷ(x) = Σᵢ gᵢ(x) fᵢ(x) (Jacobs, Jordan, Nowlan & Hinton 1991). An ensemble of k small MLPs (1 → h tanh → 1, different seeds, each fitted to all the data, averaged) against a mixture of k experts of the same size trained jointly, both with AdamW.");
        ui.horizontal_wrapped(|ui| {
            ui.label("target:");
            for t in Target::ALL {
                ui.radio_value(&mut s.target, t, t.label());
            }
            ui.separator();
            labelled(ui, "experts k", |ui| {
                ui.add(egui::Slider::new(&mut s.experts, 2..=6))
            });
            labelled(ui, "hidden units h", |ui| {
                ui.add(egui::Slider::new(&mut s.hidden, 2..=32))
            });
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("gate:");
            ui.radio_value(&mut s.routing, Routing::Competitive, "soft, competing experts")
                .on_hover_text("Trained on the mixture's likelihood −log Σᵢ gᵢ exp(−(y − fᵢ)²/2s²), s = 0.1 (Jacobs et al. 1991): each point's error goes to the experts by their responsibility, so the experts specialise.");
            ui.radio_value(&mut s.routing, Routing::Soft, "soft, squared error of ŷ")
                .on_hover_text("Trained on (y − Σᵢ gᵢ fᵢ)²: the experts cooperate on every point, and need not specialise.");
            ui.radio_value(&mut s.routing, Routing::Top1, "top-1 (one expert runs)")
                .on_hover_text("ŷ = g_i*(x) f_i*(x) with i* = argmax g(x), as in the Switch Transformer (Fedus, Zoph & Shazeer 2022): the gate still learns through g_i*.");
            ui.separator();
            let label = if self.playing { "Pause" } else { "Play" };
            if ui.button(label).clicked() {
                self.playing = !self.playing;
            }
            let step_clicked = ui.button("Step 100").clicked();
            if ui.button("Reset").clicked() {
                self.run = None;
            }
            if ui.button("New seed").clicked() {
                s.seed = s.seed.wrapping_add(1);
            }
            let run = self.run(s);
            if step_clicked {
                for _ in 0..100 {
                    run.train_step();
                }
            }
            ui.label(format!("step {}", run.step));
        });
        let playing = self.playing;
        let run = self.run(s);
        if playing && run.step < MAX_STEPS {
            for _ in 0..steps_per_frame(run.k, run.hidden) {
                run.train_step();
            }
            ui.ctx().request_repaint();
        }
        let xs = x_grid();
        let ens = run.ensemble(&xs);
        let mix = run.mixture(&xs);
        let owner = responsible(&mix.gate);
        let k = run.k;
        let mut legend = vec![
            entry("training points", GREY, Mark::Points),
            entry("target", VERMILLION, Mark::Dashed),
            entry("ensemble (average)", BLUE, Mark::Line),
            entry("mixture ŷ", VERMILLION, Mark::Line),
        ];
        for i in 0..k {
            legend.push(entry(
                format!("expert {} (where picked)", i + 1),
                EXPERT_COLORS[i % EXPERT_COLORS.len()],
                Mark::Line,
            ));
        }
        let target = s.target;
        let run_rho = run.member_error_correlation();
        let history = run.history.clone();
        let (train_x, train_y) = (run.xs.clone(), run.ys.clone());
        layout::grid(ui, 2, 380.0, |ui, col| {
            if col == 0 {
                ui.strong("The fits");
                Figure::new("experts_fits")
                    .x("input x", Scale::Linear)
                    .y("output y", Scale::Linear)
                    .rows(ui, 1.05)
                    .legend(legend.clone())
                    .show(ui, |p| {
                        p.points(
                            Points::new(
                                "training points",
                                train_x
                                    .iter()
                                    .zip(&train_y)
                                    .map(|(&x, &y)| [f64::from(x), f64::from(y)])
                                    .collect::<Vec<_>>(),
                            )
                            .color(GREY)
                            .radius(2.0),
                        );
                        p.line(
                            Line::new(
                                "target",
                                xs.iter()
                                    .map(|&x| [f64::from(x), target.eval(f64::from(x))])
                                    .collect::<Vec<_>>(),
                            )
                            .color(VERMILLION)
                            .style(LineStyle::dashed_loose())
                            .width(1.5),
                        );
                        p.line(
                            Line::new(
                                "ensemble (average)",
                                xs.iter()
                                    .zip(&ens)
                                    .map(|(&x, &y)| [f64::from(x), f64::from(y)])
                                    .collect::<Vec<_>>(),
                            )
                            .color(BLUE)
                            .width(2.5),
                        );
                        // Each expert's own output, drawn only where the gate picks it.
                        for i in 0..k {
                            let mut seg: Vec<[f64; 2]> = Vec::new();
                            let name = format!("expert {} (where picked)", i + 1);
                            let color = EXPERT_COLORS[i % EXPERT_COLORS.len()];
                            for (j, &x) in xs.iter().enumerate() {
                                if owner[j] == i {
                                    seg.push([f64::from(x), f64::from(mix.experts[(j, i)])]);
                                } else if !seg.is_empty() {
                                    p.line(
                                        Line::new(name.clone(), std::mem::take(&mut seg))
                                            .color(color)
                                            .width(5.0),
                                    );
                                }
                            }
                            if !seg.is_empty() {
                                p.line(Line::new(name.clone(), seg).color(color).width(5.0));
                            }
                        }
                        p.line(
                            Line::new(
                                "mixture ŷ",
                                xs.iter()
                                    .zip(mix.y.iter())
                                    .map(|(&x, &y)| [f64::from(x), f64::from(y)])
                                    .collect::<Vec<_>>(),
                            )
                            .color(VERMILLION)
                            .width(2.0),
                        );
                    });
                ui.strong("The gate gᵢ(x) (stacked to 1)");
                Figure::new("experts_gate")
                    .x("input x", Scale::Linear)
                    .y("gate gᵢ(x)", Scale::Linear)
                    .rows(ui, 0.55)
                    .include_y(0.0)
                    .include_y(1.0)
                    .show(ui, |p| {
                        let w = 2.0 / (xs.len() - 1) as f64;
                        let grid: Vec<f64> = xs.iter().map(|&x| f64::from(x)).collect();
                        let values: Vec<Vec<f64>> = (0..k)
                            .map(|i| mix.gate.column(i).iter().map(|&g| f64::from(g)).collect())
                            .collect();
                        let series: Vec<(String, egui::Color32)> = (0..k)
                            .map(|i| {
                                (
                                    format!("expert {}", i + 1),
                                    EXPERT_COLORS[i % EXPERT_COLORS.len()],
                                )
                            })
                            .collect();
                        stacked_bands(p, &grid, w, &values, &series, "g");
                    });
            } else {
                ui.strong("Training loss");
                Figure::new("experts_loss")
                    .x("step", Scale::Index)
                    .y("mean squared error", Scale::Log10)
                    .rows(ui, 1.6)
                    .include_x(0.0)
                    .include_x(100.0)
                    .legend(vec![
                        entry("ensemble (average)", BLUE, Mark::Line),
                        entry("average member", SKY, Mark::Line),
                        entry("mixture", VERMILLION, Mark::Line),
                        entry("noise variance 0.0025", GREY, Mark::Dashed),
                    ])
                    .show(ui, |p| {
                        let stride = (history.len() / 600).max(1);
                        let series = |f: fn(&(usize, f64, f64, f64)) -> f64| -> Vec<[f64; 2]> {
                            history
                                .iter()
                                .step_by(stride)
                                .filter(|h| f(h) > 0.0 && f(h).is_finite())
                                .map(|h| [h.0 as f64, f(h).log10()])
                                .collect()
                        };
                        p.line(
                            Line::new("ensemble (average)", series(|h| h.1))
                                .color(BLUE)
                                .width(2.5),
                        );
                        p.line(
                            Line::new("average member", series(|h| h.2))
                                .color(SKY)
                                .width(1.5),
                        );
                        p.line(
                            Line::new("mixture", series(|h| h.3))
                                .color(VERMILLION)
                                .width(2.5),
                        );
                        let end = history.len().max(100) as f64;
                        let noise = (TARGET_NOISE * TARGET_NOISE).log10();
                        p.line(
                            Line::new("noise variance 0.0025", vec![[0.0, noise], [end, noise]])
                                .color(GREY)
                                .style(LineStyle::dashed_loose())
                                .width(1.5),
                        );
                    });
            }
        });
        let (eh, eu, mh, mu) = parameter_counts(s.experts, s.hidden, s.routing);
        ui.label(format!(
            "Parameters: each expert (and each member) 3h + 1 = {}; ensemble {eh} held, {eu} used per input; mixture {mh} held (the gate adds 2k = {}), {mu} used per input{}.",
            3 * s.hidden + 1,
            2 * s.experts,
            if s.routing == Routing::Top1 { " — the gate and one expert" } else { " — every expert runs" }
        ));
        if let Some(&(step, ens, member, mix)) = history.last() {
            ui.label(format!(
                "Step {step}, mean squared error on the {} training points: ensemble {ens:.4}, average member {member:.4}, mixture {mix:.4}. The noise on the targets alone is {:.4}.",
                train_x.len(),
                TARGET_NOISE * TARGET_NOISE
            ));
        }
        let rho = run_rho;
        let used = (0..k)
            .filter(|&i| owner.iter().filter(|&&o| o == i).count() * 10 >= owner.len())
            .count();
        if let (Some(&(_, ens_mse, member_mse, _)), true) = (history.last(), rho.is_finite()) {
            let ratio = ens_mse / member_mse;
            let gate = match s.routing {
                Routing::Competitive => {
                    "each point's error goes mostly to the experts responsible for it"
                }
                Routing::Top1 => "each point trains only the expert the gate picks",
                Routing::Soft => {
                    "but with the squared error of ŷ every expert is trained on every point, so they need not specialise"
                }
            };
            ui.label(format!(
                "{}: its members' errors on the training points are correlated ρ = {rho:.2} (mean over pairs), and section 1 says averaging then keeps about ρ + (1 − ρ)/k = {:.2} of one member's squared error (approximately: the members' error variances differ). Measured: ensemble ÷ average member = {ratio:.2}. The gate instead splits the inputs — here {used} of the {k} experts are each picked on at least a tenth of the x axis — and {gate}.",
                if ratio > 0.8 { "Why the ensemble gains so little" } else { "How much the ensemble gains" },
                rho + (1.0 - rho) / k as f64,
            ));
        }
    }

    fn csv(&mut self, s: &ExpertsSettings) -> String {
        let run = self.run(s);
        let xs = x_grid();
        let ens = run.ensemble(&xs);
        let mix = run.mixture(&xs);
        let mut cols: Vec<(String, Vec<f64>)> = vec![
            ("x".into(), xs.iter().map(|&v| f64::from(v)).collect()),
            (
                "target".into(),
                xs.iter().map(|&v| s.target.eval(f64::from(v))).collect(),
            ),
            (
                "ensemble".into(),
                ens.iter().map(|&v| f64::from(v)).collect(),
            ),
            (
                "mixture".into(),
                mix.y.iter().map(|&v| f64::from(v)).collect(),
            ),
        ];
        for i in 0..run.k {
            cols.push((
                format!("gate_{}", i + 1),
                mix.gate.column(i).iter().map(|&v| f64::from(v)).collect(),
            ));
            cols.push((
                format!("expert_{}", i + 1),
                mix.experts
                    .column(i)
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect(),
            ));
        }
        let named: Vec<(&str, Vec<f64>)> =
            cols.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
        columns_csv(&named)
    }
}
