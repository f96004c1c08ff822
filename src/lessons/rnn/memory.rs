//! §6 "Memory, trained live": the recall task (a symbol at t = 0, k steps of noise, then the
//! cue: name the symbol). A tanh RNN and an LSTM of the same hidden size train side by side on
//! the same batches, off the UI thread in chunks of steps (`Background`): loss curves,
//! ‖∂L/∂h_0‖ over training, accuracy on 256 held-out sequences, and a sweep of k for both.

use std::collections::BTreeMap;

use egui::Ui;
use egui_plot::{Line, LineStyle, Points};

use super::settings::RnnSettings;
use crate::lessons::common::background::Background;
use crate::lessons::common::chunked::{Chunked, Steppable};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::recall::{EVAL, RecallPoint, RecallRun, SWEEP_K, SYMBOLS, train_recall_in_steps};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREY, ORANGE};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry, layout};

/// Hidden units of both cells.
pub const HIDDEN: usize = 16;
/// Steps per chunk of background training (and per click of the step button).
pub const CHUNK: usize = 25;
/// Training stops here.
pub const MAX_STEPS: usize = 3000;
/// Steps of each training in the sweep.
pub const SWEEP_STEPS: usize = 1000;

type RunKey = (usize, u64);

impl Steppable for RecallRun {
    type Point = RecallPoint;
    type Eval = [f64; 2];
    fn steps(&self) -> usize {
        self.step
    }
    fn train_step(&mut self) -> RecallPoint {
        RecallRun::train_step(self)
    }
    fn evaluate(&self) -> [f64; 2] {
        self.accuracy()
    }
}

/// The section: the live run, the sweep.
#[derive(Default)]
pub struct Memory {
    live: Chunked<RunKey, RecallRun>,
    sweeping: bool,
    sweep: BTreeMap<(usize, u64), [f64; 2]>,
    sweep_job: Background<(usize, u64), [f64; 2]>,
    /// The first frame has been drawn (`--play` starts training and the sweep then).
    started: bool,
}

impl Section<RnnSettings> for Memory {
    fn title(&self) -> &'static str {
        "6. Memory, trained live"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut RnnSettings, lesson: &mut LessonContext) {
        if !self.started {
            self.started = true;
            if lesson.autoplay {
                self.live.playing = true;
                self.sweeping = true;
            }
        }
        ui.label(format!("The recall task: one of {SYMBOLS} symbols is shown at t = 0, then k steps of noise, then a cue — name the symbol. A tanh RNN and an LSTM, both with {HIDDEN} hidden units, train on the same batches of 32 sequences (AdamW, lr 0.01, global-norm clipping at 1). Chance is 1/{SYMBOLS} = {:.2}.", 1.0 / SYMBOLS as f64));
        let ctx = ui.ctx().clone();
        let mut step_now = false;
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "delay k", |ui| {
                ui.add(egui::Slider::new(&mut s.recall_k, 1..=100).logarithmic(true))
            });
            let play = if self.live.playing { "Pause" } else { "Play" };
            if ui.button(play).clicked() {
                self.live.playing = !self.live.playing;
            }
            step_now = ui.button(format!("Step {CHUNK}")).clicked();
            if ui.button("Reset").clicked() {
                self.live.reset();
            }
            if ui.button("New seed").clicked() {
                s.seed = s.seed.wrapping_add(1);
            }
        });
        let key = (s.recall_k, s.seed);
        let (k, seed) = key;
        let make = move || RecallRun::new(k, HIDDEN, seed);
        if step_now {
            self.live.step_now(&key, make, CHUNK);
        } else {
            self.live.poll(&key, make, CHUNK, MAX_STEPS, &ctx);
        }
        let run = self.live.current(&key, make);
        match self.live.evals.last() {
            Some((_, acc)) => ui.label(format!(
                "Step {}, delay k = {}: accuracy on {EVAL} held-out sequences — RNN {:.3}, LSTM {:.3} (chance {:.2}).",
                run.step,
                run.k,
                acc[0],
                acc[1],
                1.0 / SYMBOLS as f64
            )),
            None => ui.label(format!(
                "Step {}, delay k = {}: press Play or Step {CHUNK} to train.",
                run.step, run.k
            )),
        };
        // The sweep: one training of each cell per k, in order, each on a background thread.
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Sweep k")
                .on_hover_text(format!(
                    "Train both cells {SWEEP_STEPS} steps at each k = {SWEEP_K:?} and plot their accuracy"
                ))
                .clicked()
            {
                self.sweeping = true;
            }
            let done = SWEEP_K.iter().filter(|&&k| self.sweep.contains_key(&(k, s.seed))).count();
            if self.sweeping && done < SWEEP_K.len() {
                ui.spinner();
                ui.label(format!("Sweeping: {done} of {} delays trained…", SWEEP_K.len()));
            }
        });
        if self.sweeping
            && let Some(&k) = SWEEP_K
                .iter()
                .find(|&&k| !self.sweep.contains_key(&(k, s.seed)))
        {
            let (res, fresh) = self
                .sweep_job
                .get_in_steps(&(k, s.seed), &ctx, |(k, seed)| {
                    Box::new(train_recall_in_steps(k, HIDDEN, SWEEP_STEPS, seed))
                });
            if fresh && let Some(a) = res {
                let a = *a;
                self.sweep.insert((k, s.seed), a);
            }
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        let sweep: Vec<(usize, [f64; 2])> = self
            .sweep
            .iter()
            .filter(|((_, seed), _)| *seed == s.seed)
            .map(|((k, _), a)| (*k, *a))
            .collect();
        let legend = vec![
            entry("tanh RNN", ORANGE, Mark::Line),
            entry("LSTM", BLUE, Mark::Line),
        ];
        let history = &self.live.history;
        let accuracy = &self.live.evals;
        layout::grid(ui, 3, 320.0, |ui, col| match col {
            0 => {
                ui.strong("Training loss (cross-entropy)");
                Figure::new("rnn_recall_loss")
                    .x("step", Scale::Index)
                    .y("loss (nats)", Scale::Linear)
                    .rows(ui, 1.4)
                    .include_x(0.0)
                    .include_x(100.0)
                    .include_y(0.0)
                    .include_y((SYMBOLS as f64).ln())
                    .legend(legend.clone())
                    .show(ui, |p| {
                        for (m, (name, color)) in [("tanh RNN", ORANGE), ("LSTM", BLUE)]
                            .into_iter()
                            .enumerate()
                        {
                            p.line(
                                Line::new(
                                    name,
                                    history
                                        .iter()
                                        .map(|h| [h.step as f64, h.loss[m]])
                                        .collect::<Vec<_>>(),
                                )
                                .color(color)
                                .width(2.0),
                            );
                        }
                        let chance = (SYMBOLS as f64).ln();
                        let end = history.len().max(100) as f64;
                        p.line(
                            Line::new("chance: ln 4", vec![[0.0, chance], [end, chance]])
                                .color(GREY)
                                .style(LineStyle::dashed_loose()),
                        );
                    });
            }
            1 => {
                ui.strong("‖∂L/∂h₀‖: the gradient reaching the start");
                Figure::new("rnn_recall_h0")
                    .x("step", Scale::Index)
                    .y("‖∂L/∂h₀‖", Scale::Log10)
                    .rows(ui, 1.4)
                    .include_x(0.0)
                    .include_x(100.0)
                    .include_y(-6.0)
                    .include_y(0.0)
                    .legend(legend.clone())
                    .show(ui, |p| {
                        for (m, (name, color)) in [("tanh RNN", ORANGE), ("LSTM", BLUE)]
                            .into_iter()
                            .enumerate()
                        {
                            let pts: Vec<[f64; 2]> = history
                                .iter()
                                .filter(|h| h.h0_grad[m] > 0.0 && h.h0_grad[m].is_finite())
                                .map(|h| [h.step as f64, h.h0_grad[m].log10()])
                                .collect();
                            p.line(Line::new(name, pts).color(color).width(1.5));
                        }
                    });
            }
            _ => {
                ui.strong("Accuracy against the delay k");
                Figure::new("rnn_recall_sweep")
                    .x("delay k (steps of noise)", Scale::Log10)
                    .y("accuracy", Scale::Linear)
                    .rows(ui, 1.4)
                    .include_y(0.0)
                    .include_y(1.0)
                    .include_x(0.0)
                    .include_x(2.0)
                    .legend(vec![
                        entry(
                            format!("tanh RNN ({SWEEP_STEPS} steps)"),
                            ORANGE,
                            Mark::Line,
                        ),
                        entry(format!("LSTM ({SWEEP_STEPS} steps)"), BLUE, Mark::Line),
                        entry("this run, now", GREY, Mark::Points),
                        entry("chance 1/4", GREY, Mark::Dashed),
                    ])
                    .show(ui, |p| {
                        for (m, (name, color)) in [
                            (format!("tanh RNN ({SWEEP_STEPS} steps)"), ORANGE),
                            (format!("LSTM ({SWEEP_STEPS} steps)"), BLUE),
                        ]
                        .into_iter()
                        .enumerate()
                        {
                            let pts: Vec<[f64; 2]> = sweep
                                .iter()
                                .map(|(k, a)| [(*k as f64).log10(), a[m]])
                                .collect();
                            p.line(Line::new(name.clone(), pts.clone()).color(color).width(2.0));
                            // The RNN's points larger: where both reach 1.0 both stay visible.
                            p.points(Points::new(name, pts).color(color).radius(if m == 0 {
                                6.0
                            } else {
                                3.5
                            }));
                        }
                        if let Some((_, a)) = accuracy.last() {
                            let x = (run.k as f64).log10();
                            p.points(
                                Points::new("this run, now", vec![[x, a[0]], [x, a[1]]])
                                    .color(GREY)
                                    .radius(6.0),
                            );
                        }
                        p.line(
                            Line::new("chance 1/4", vec![[0.0, 0.25], [2.0, 0.25]])
                                .color(GREY)
                                .style(LineStyle::dashed_loose()),
                        );
                    });
            }
        });
        let early = self.live.history.len().min(200);
        if early >= 50 {
            let geo = |m: usize| {
                let logs: Vec<f64> = self.live.history[..early]
                    .iter()
                    .map(|h| h.h0_grad[m])
                    .filter(|v| *v > 0.0 && v.is_finite())
                    .map(f64::ln)
                    .collect();
                (logs.iter().sum::<f64>() / logs.len().max(1) as f64).exp()
            };
            ui.label(format!(
                "Over the first {early} steps the gradient reaching h₀ averages {:.1e} for the RNN and {:.1e} for the LSTM (geometric mean): through the RNN it is multiplied by Wᵀ diag(1 − h_t²) at every step of noise, through the LSTM's cell by the forget gate alone. Once a cell has learned, its loss and with it this gradient fall.",
                geo(0),
                geo(1)
            ));
        }
        if sweep.len() == SWEEP_K.len() {
            let worst_rnn = sweep.iter().find(|(_, a)| a[0] < 0.5).map(|(k, _)| *k);
            let worst_lstm = sweep.iter().find(|(_, a)| a[1] < 0.5).map(|(k, _)| *k);
            let say = |k: Option<usize>| {
                k.map_or("at no k of the sweep".to_owned(), |k| {
                    format!("from k = {k}")
                })
            };
            ui.label(format!(
                "After {SWEEP_STEPS} steps, accuracy is below 0.5 for the RNN {} and for the LSTM {}.",
                say(worst_rnn),
                say(worst_lstm)
            ));
        }
    }

    fn csv(&mut self, _s: &RnnSettings) -> String {
        columns_csv(&[
            (
                "step",
                self.live.history.iter().map(|h| h.step as f64).collect(),
            ),
            (
                "loss_rnn",
                self.live.history.iter().map(|h| h.loss[0]).collect(),
            ),
            (
                "loss_lstm",
                self.live.history.iter().map(|h| h.loss[1]).collect(),
            ),
            (
                "h0_grad_rnn",
                self.live.history.iter().map(|h| h.h0_grad[0]).collect(),
            ),
            (
                "h0_grad_lstm",
                self.live.history.iter().map(|h| h.h0_grad[1]).collect(),
            ),
        ])
    }
}
