//! §5 "Training moves the keys": the encoder trained from scratch, live, with the chosen head's
//! query of "bears" and the keys of the three sentences' words as points, and the weight each
//! sentence's "bears" puts on its helper over the steps — the helpers' keys drift toward the
//! queries that need them.

use egui::Ui;
use ndarray::Array2;

use super::settings::{AttentionSettings, Sentence};
use super::{bears_at, encoder_shared};
use crate::data::Task;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::attention::learned_head;
use crate::math::pca::Pca2;
use crate::train::{Command, TrainConfig, Worker};
use crate::widgets::export::columns_csv;
use crate::widgets::plots::Scale;
use crate::widgets::{Figure, Mark, entry, layout};

use super::view::{Dot, Link, plane, token_color};

/// Steps of a run (as the bundled encoder was trained).
pub const RUN_STEPS: usize = 800;

/// The words whose keys the lecture means: the helper of "bears" in each sentence.
const HELPERS: [&str; 3] = ["love", "pain", "game"];

/// The section: a training run and what it recorded.
#[derive(Default)]
pub struct Keys {
    worker: Option<Worker>,
    error: Option<String>,
    /// (step, weight of "bears" on its helper in each sentence) at the chosen layer and head.
    history: Vec<(usize, [f32; 3])>,
    /// The layer and head the history is about.
    recorded: (usize, usize),
}

impl Keys {
    fn start(&mut self, ctx: &egui::Context) {
        self.history.clear();
        let started = encoder_shared().and_then(|(gpt, _)| {
            let config = TrainConfig {
                model: gpt.config.clone(),
                task: Task::BearsSense,
                ..TrainConfig::default()
            };
            Worker::spawn("keys", config, None, crate::lessons::common::waker(ctx))
        });
        match started {
            Ok(w) => {
                w.send(Command::Step(RUN_STEPS));
                self.worker = Some(w);
                self.error = None;
            }
            Err(e) => self.error = Some(format!("could not start training: {e}")),
        }
    }
}

impl Section<AttentionSettings> for Keys {
    fn title(&self) -> &'static str {
        "5. Training moves the keys"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut AttentionSettings, _ctx: &mut LessonContext) {
        ui.label(format!("The encoder again, trained from scratch here for {RUN_STEPS} steps to tell the three senses of \"bears\" apart. At first every key is random and \"bears\" spreads its weight evenly; as training goes on, the keys of the words that tell its sense — love, pain, game — move toward its query, and its weight on them grows."));
        if self.worker.is_none() && self.error.is_none() {
            self.start(ui.ctx());
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
            return;
        }
        let Some(w) = self.worker.as_mut() else {
            return;
        };
        w.request_model();
        let snap = w.poll().clone();
        let (layers, heads) = (snap.gpt.config.n_layer, snap.gpt.config.n_head);
        s.layer = s.layer.min(layers - 1);
        s.head = s.head.min(heads - 1);
        let mut restart = false;
        ui.horizontal_wrapped(|ui| {
            if snap.running {
                if ui.button("⏸ Pause").clicked() {
                    w.send(Command::Pause);
                }
            } else if ui.button("▶ Play").on_hover_text("Train on").clicked() {
                w.send(Command::Play);
            }
            if ui
                .button("Restart")
                .on_hover_text(format!("Train from scratch again for {RUN_STEPS} steps"))
                .clicked()
            {
                restart = true;
            }
            crate::widgets::plots::labelled(ui, "layer", |ui| {
                ui.add(
                    egui::Slider::new(&mut s.layer, 0..=layers - 1)
                        .custom_formatter(|v, _| format!("{}", v as usize + 1)),
                )
            });
            crate::widgets::plots::labelled(ui, "head", |ui| {
                ui.add(
                    egui::Slider::new(&mut s.head, 0..=heads - 1)
                        .custom_formatter(|v, _| format!("{}", v as usize + 1)),
                )
            });
            ui.label(format!("step {}", snap.step));
        });
        if restart {
            self.start(ui.ctx());
            return;
        }
        let tok = snap.tokenizer.clone();
        let ids = |text: &str| -> Vec<usize> {
            text.split_whitespace().filter_map(|w| tok.id(w)).collect()
        };
        let sentences: Vec<(Vec<String>, Vec<usize>)> = Sentence::LECTURE
            .iter()
            .map(|x| {
                let t = x.text("");
                (t.split_whitespace().map(str::to_owned).collect(), ids(&t))
            })
            .collect();
        let heads_now: Vec<_> = sentences
            .iter()
            .filter_map(|(words, ids)| {
                learned_head(&snap.gpt, ids, s.layer, s.head).map(|(_, h)| (words.clone(), h))
            })
            .collect();
        // Record the weight on each helper once per step.
        if self.recorded != (s.layer, s.head) {
            self.history.clear();
            self.recorded = (s.layer, s.head);
        }
        if self.history.last().is_none_or(|(st, _)| *st != snap.step) && heads_now.len() == 3 {
            let mut w = [0.0; 3];
            for (k, (words, h)) in heads_now.iter().enumerate() {
                if let (Some(b), Some(j)) =
                    (bears_at(words), words.iter().position(|x| x == HELPERS[k]))
                {
                    w[k] = h.weights[[b, j]];
                }
            }
            self.history.push((snap.step, w));
        }
        layout::grid(ui, 2, 380.0, |ui, i| {
            if i == 0 {
                ui.strong("Weight of \"bears\" on its helper");
                let legend = HELPERS
                    .iter()
                    .zip(Sentence::LECTURE)
                    .enumerate()
                    .map(|(k, (h, x))| {
                        entry(
                            format!("on \"{h}\" in \"{}\"", x.text("")),
                            token_color(k + 1),
                            Mark::Line,
                        )
                    })
                    .collect();
                Figure::new("attention_keys_weights")
                    .x("step", Scale::Index)
                    .y("attention weight", Scale::Linear)
                    .rows(ui, 1.2)
                    .include_x(0.0)
                    .include_x(RUN_STEPS as f64)
                    .include_y(0.0)
                    .include_y(1.0)
                    .legend(legend)
                    .show(ui, |p| {
                        for k in 0..3 {
                            let pts: Vec<[f64; 2]> = self
                                .history
                                .iter()
                                .map(|(st, w)| [*st as f64, f64::from(w[k])])
                                .collect();
                            p.line(
                                egui_plot::Line::new(format!("on \"{}\"", HELPERS[k]), pts)
                                    .color(token_color(k + 1))
                                    .width(2.0),
                            );
                        }
                    });
            } else {
                ui.strong(format!(
                    "Queries of \"bears\" (filled) and keys (hollow), step {}",
                    snap.step
                ));
                keys_plane(ui, &heads_now);
            }
        });
    }

    fn csv(&mut self, _s: &AttentionSettings) -> String {
        let col = |k: usize| self.history.iter().map(|(_, w)| f64::from(w[k])).collect();
        columns_csv(&[
            (
                "step",
                self.history.iter().map(|(s, _)| *s as f64).collect(),
            ),
            ("weight_on_love", col(0)),
            ("weight_on_pain", col(1)),
            ("weight_on_game", col(2)),
        ])
    }
}

/// The query of "bears" in each sentence and the keys of the sentence's words, on the top two
/// principal axes of all of them (fitted anew each step: the picture is about who is near whom).
fn keys_plane(ui: &mut Ui, heads: &[(Vec<String>, crate::math::attention::Head)]) {
    let d = heads.first().map_or(0, |(_, h)| h.k.ncols());
    let n: usize = heads.iter().map(|(w, _)| w.len() + 1).sum();
    let mut all = Array2::<f32>::zeros((n, d));
    let mut r = 0;
    for (words, h) in heads {
        for j in 0..words.len() {
            all.row_mut(r).assign(&h.k.row(j));
            r += 1;
        }
        if let Some(b) = bears_at(words) {
            all.row_mut(r).assign(&h.q.row(b));
        }
        r += 1;
    }
    let pca = Pca2::fit(&all);
    let mut dots: Vec<Dot> = Vec::new();
    let mut links = Vec::new();
    for (k, (words, h)) in heads.iter().enumerate() {
        let Some(b) = bears_at(words) else { continue };
        let color = token_color(k + 1);
        let q = pca.project(h.q.row(b));
        // In layer 1 the query of "bears" depends only on "bears" and its position: the same
        // in two sentences where it is the second word — one dot, named for both.
        let same = dots
            .iter_mut()
            .find(|d| d.filled && (d.xy[0] - q[0]).abs() + (d.xy[1] - q[1]).abs() < 1e-6);
        match same {
            Some(d) => d.label = format!("{} = ({})", d.label, HELPERS[k]),
            None => dots.push(Dot {
                label: format!("q bears ({})", HELPERS[k]),
                xy: q,
                color,
                filled: true,
            }),
        }
        if let Some(j) = words.iter().position(|x| x == HELPERS[k]) {
            let key = pca.project(h.k.row(j));
            dots.push(Dot {
                label: format!("k {}", HELPERS[k]),
                xy: key,
                color,
                filled: false,
            });
            links.push(Link {
                name: format!("bears → {}: {:.2}", HELPERS[k], h.weights[[b, j]]),
                from: q,
                to: key,
                weight: h.weights[[b, j]],
            });
        }
    }
    let axes = [
        format!("principal axis 1 ({:.0} %)", 100.0 * pca.explained[0]),
        format!("principal axis 2 ({:.0} %)", 100.0 * pca.explained[1]),
    ];
    let legend = vec![
        entry(
            "query of bears (filled), key of its helper (hollow)",
            token_color(1),
            Mark::Points,
        ),
        entry("line width: weight", ui.visuals().text_color(), Mark::Line),
    ];
    plane(
        ui,
        "attention_keys_plane",
        [&axes[0], &axes[1]],
        1.2,
        &[],
        &links,
        &[],
        &dots,
        legend,
    );
}
