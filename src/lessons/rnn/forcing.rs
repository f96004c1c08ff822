//! §7 "Teacher forcing vs free running": an LSTM decoder copies a sequence of symbols, each
//! answer step fed the previous symbol. Trained with teacher forcing it is fed the true
//! previous symbol; running free it is fed its own previous guess — as at test time. Two LSTMs
//! from the same start train side by side on the same batches (in chunks, off the UI thread):
//! the losses, and the accuracy of both when they run free, with the teacher-forced model's
//! accuracy when fed the truth beside it (the gap is exposure bias: its own mistakes are inputs
//! it never saw in training).

use egui::{RichText, Ui};
use egui_plot::{Line, LineStyle};

use super::settings::RnnSettings;
use crate::lessons::common::chunked::{Chunked, Steppable};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::recall::{COPY_LEN, CopyPoint, CopyRun, EVAL, SYMBOLS};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREEN, VERMILLION, text};
use crate::widgets::plots::Scale;
use crate::widgets::{Figure, Mark, entry, layout};

/// Hidden units of the decoder.
pub const HIDDEN: usize = 16;
/// Steps per chunk (and per click of the step button).
pub const CHUNK: usize = 25;
/// Training stops here.
pub const MAX_STEPS: usize = 2000;

/// What is measured after each chunk.
#[derive(Debug, Clone)]
pub struct CopyEval {
    /// Running free, per symbol and whole sequence: [teacher-forced model, free-running model].
    pub free: [(f64, f64); 2],
    /// The teacher-forced model fed the truth.
    pub fed_truth: (f64, f64),
    /// The first held-out sequence and what each model writes running free.
    pub example: (Vec<usize>, [Vec<usize>; 2]),
}

impl Steppable for CopyRun {
    type Point = CopyPoint;
    type Eval = CopyEval;
    fn steps(&self) -> usize {
        self.step
    }
    fn train_step(&mut self) -> CopyPoint {
        CopyRun::train_step(self)
    }
    fn evaluate(&self) -> CopyEval {
        CopyEval {
            free: self.free_accuracy(),
            fed_truth: self.teacher_accuracy(),
            example: self.example(),
        }
    }
}

/// The section: the two runs.
#[derive(Default)]
pub struct Forcing {
    live: Chunked<u64, CopyRun>,
    /// The first frame has been drawn (`--play` starts training then).
    started: bool,
}

fn symbols(s: &[usize]) -> String {
    s.iter()
        .map(|v| ["A", "B", "C", "D"].get(*v).copied().unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Section<RnnSettings> for Forcing {
    fn title(&self) -> &'static str {
        "7. Teacher forcing vs free running"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut RnnSettings, lesson: &mut LessonContext) {
        if !self.started {
            self.started = true;
            self.live.playing = lesson.autoplay;
        }
        ui.label(format!("A decoder is fed its previous output. The task: read {COPY_LEN} symbols (A–D), then on \"go\" write them back, one per step, each step fed the previous symbol. With teacher forcing (Williams & Zipser 1989) training feeds the true previous symbol; running free feeds the network's own previous guess, as at test time (the guess is an input, not differentiated through). Two LSTMs with {HIDDEN} units from the same start train on the same batches (AdamW, lr 0.01):"));
        let ctx = ui.ctx().clone();
        let key = s.seed;
        let make = move || CopyRun::new(HIDDEN, key);
        ui.horizontal_wrapped(|ui| {
            let play = if self.live.playing { "Pause" } else { "Play" };
            if ui.button(play).clicked() {
                self.live.playing = !self.live.playing;
            }
            if ui.button(format!("Step {CHUNK}")).clicked() {
                self.live.step_now(&key, make, CHUNK);
            }
            if ui.button("Reset").clicked() {
                self.live.reset();
            }
            if ui.button("New seed").clicked() {
                s.seed = s.seed.wrapping_add(1);
            }
        });
        let seed = s.seed;
        let make = move || CopyRun::new(HIDDEN, seed);
        self.live.poll(&seed, make, CHUNK, MAX_STEPS, &ctx);
        let run = self.live.current(&seed, make);
        match self.live.evals.last() {
            Some((_, e)) => {
                let gap = e.fed_truth.0 - e.free[0].0;
                let widest = self
                    .live
                    .evals
                    .iter()
                    .map(|(st, v)| (*st, v.fed_truth.0 - v.free[0].0))
                    .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
                let bias = if gap > 0.005 {
                    format!(
                        "The teacher-forced model fed the truth gets {:.3} of the symbols right: the gap of {gap:.3} is exposure bias — after its first mistake it is fed inputs it never saw in training, and mistakes compound.",
                        e.fed_truth.0
                    )
                } else {
                    format!(
                        "The teacher-forced model fed the truth gets {:.3}: no gap now, as it makes almost no first mistake to compound. The widest gap so far (exposure bias) was {:.3}, at step {}.",
                        e.fed_truth.0,
                        widest.1.max(0.0),
                        widest.0
                    )
                };
                ui.label(format!(
                    "Step {}: running free on {EVAL} held-out sequences, symbols right — teacher-forced model {:.3}, free-running model {:.3}; whole sequences right {:.3} and {:.3}. {bias}",
                    run.step, e.free[0].0, e.free[1].0, e.free[0].1, e.free[1].1
                ));
                let (target, outs) = &e.example;
                let ink = ui.visuals().strong_text_color();
                let wrong = text(ui, VERMILLION);
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(format!("A held-out sequence: {}", symbols(target)))
                            .color(ink),
                    );
                    for (name, out) in [
                        ("teacher-forced model writes", &outs[0]),
                        ("free-running model writes", &outs[1]),
                    ] {
                        ui.separator();
                        ui.label(format!("{name}:"));
                        for (o, t) in out.iter().zip(target) {
                            let sym = symbols(&[*o]);
                            if o == t {
                                ui.label(RichText::new(sym).color(ink).strong());
                            } else {
                                ui.label(RichText::new(format!("{sym}✗")).color(wrong).strong())
                                    .on_hover_text(format!("should be {}", symbols(&[*t])));
                            }
                        }
                    }
                });
            }
            None => {
                ui.label(format!(
                    "Step {}: press Play or Step {CHUNK} to train.",
                    run.step
                ));
            }
        }
        let history = &self.live.history;
        let evals = &self.live.evals;
        layout::grid(ui, 2, 380.0, |ui, col| {
            if col == 0 {
                ui.strong("Training loss, each under its own feeding");
                Figure::new("rnn_forcing_loss")
                    .x("step", Scale::Index)
                    .y("loss (nats per symbol)", Scale::Log10)
                    .rows(ui, 1.4)
                    .include_x(0.0)
                    .include_x(100.0)
                    // From 0.01 nats to above ln 4 = 1.39 (the loss of a uniform guess).
                    .include_y(-2.0)
                    .include_y(0.3)
                    .legend(vec![
                        entry("teacher forcing", BLUE, Mark::Line),
                        entry("free running", GREEN, Mark::Line),
                    ])
                    .show(ui, |p| {
                        for (m, (name, color)) in
                            [("teacher forcing", BLUE), ("free running", GREEN)]
                                .into_iter()
                                .enumerate()
                        {
                            let pts: Vec<[f64; 2]> = history
                                .iter()
                                .filter(|h| h.loss[m] > 0.0)
                                .map(|h| [h.step as f64, h.loss[m].log10()])
                                .collect();
                            p.line(Line::new(name, pts).color(color).width(2.0));
                        }
                    });
            } else {
                ui.strong(format!("Symbols right on {EVAL} held-out sequences"));
                Figure::new("rnn_forcing_accuracy")
                    .x("step", Scale::Index)
                    .y("accuracy per symbol", Scale::Linear)
                    .rows(ui, 1.4)
                    .include_x(0.0)
                    .include_x(100.0)
                    .include_y(1.0 / SYMBOLS as f64)
                    .include_y(1.0)
                    .legend(vec![
                        entry("teacher-forced model, running free", BLUE, Mark::Line),
                        entry("teacher-forced model, fed the truth", BLUE, Mark::Dashed),
                        entry("free-running model, running free", GREEN, Mark::Line),
                    ])
                    .show(ui, |p| {
                        let series = |f: &dyn Fn(&CopyEval) -> f64| -> Vec<[f64; 2]> {
                            evals.iter().map(|(st, e)| [*st as f64, f(e)]).collect()
                        };
                        p.line(
                            Line::new(
                                "teacher-forced model, running free",
                                series(&|e| e.free[0].0),
                            )
                            .color(BLUE)
                            .width(2.5),
                        );
                        p.line(
                            Line::new(
                                "teacher-forced model, fed the truth",
                                series(&|e| e.fed_truth.0),
                            )
                            .color(BLUE)
                            .style(LineStyle::dashed_loose())
                            .width(1.5),
                        );
                        p.line(
                            Line::new("free-running model, running free", series(&|e| e.free[1].0))
                                .color(GREEN)
                                .width(2.5),
                        );
                    });
            }
        });
    }

    fn csv(&mut self, _s: &RnnSettings) -> String {
        let e = &self.live.evals;
        columns_csv(&[
            ("step", e.iter().map(|(st, _)| *st as f64).collect()),
            (
                "teacher_forced_free",
                e.iter().map(|(_, v)| v.free[0].0).collect(),
            ),
            (
                "teacher_forced_fed_truth",
                e.iter().map(|(_, v)| v.fed_truth.0).collect(),
            ),
            (
                "free_running_free",
                e.iter().map(|(_, v)| v.free[1].0).collect(),
            ),
        ])
    }
}
