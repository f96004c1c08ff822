//! Compare runs: up to 4 configurations trained side by side from the same seed, in lock-step on
//! one worker thread (one step of each in turn, so they are always at the same step), with
//! overlaid loss curves and one attention map each. Not a lesson itself: the
//! live lesson shows it, and other lessons reuse it to show the lecture's claims empirically
//! (scaling on/off, LayerNorm vs BatchNorm vs none, positions or not). The presets are in
//! `preset.rs`.

mod building;
mod preset;

pub use preset::Preset;

use egui::Ui;

use crate::data::Tokenizer;
use crate::model::gpt::prompt_attention;
use crate::train::{Command, Snapshot, TrainConfig, Worker};
use crate::widgets::palette::SERIES as COLORS;
use crate::widgets::plots::Scale;
use crate::widgets::{Figure, Heatmap, Mark, entry, layout};

/// How many steps the runs train when they start (the bundled model's 600); "Resume runs"
/// goes on without a limit.
pub const FIRST_STEPS: usize = 600;

/// (step, mean attention entropy of each head, nats) over training.
pub type EntropyHistory = Vec<(usize, Vec<f64>)>;

/// One run: its name and its map for the prompt (cached per snapshot and prompt).
struct Run {
    label: String,
    map_key: Option<(usize, String)>,
    map: (Vec<String>, ndarray::Array2<f32>),
    /// (step, mean attention entropy of each head of the last layer, nats) over training.
    entropy: EntropyHistory,
}

/// The compare-runs panel.
#[derive(Default)]
pub struct CompareRuns {
    /// The switch the runs differ in.
    pub preset: Preset,
    /// Hide the preset picker (a lesson that compares one switch only).
    pub lock_preset: bool,
    /// Also plot the attention entropy of each head over training.
    pub show_entropy: bool,
    /// Leave out the attention map of each run (a lesson that draws its own figures instead).
    pub hide_maps: bool,
    runs: Vec<Run>,
    /// The worker that steps every run in turn.
    worker: Option<Worker>,
    error: Option<String>,
    /// The runs were started once (automatically or by the button).
    started: bool,
    /// Runs being made, one a frame, before their worker starts.
    building: Option<building::Building>,
}

impl CompareRuns {
    /// How many runs exist.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Are there no runs?
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Start the preset's runs from `base` (paused), replacing any earlier ones. `ui` makes
    /// them, one a frame (`building.rs`), then one worker trains them.
    pub fn start(&mut self, base: &TrainConfig, ctx: &egui::Context) {
        self.started = true;
        self.runs.clear();
        self.worker = None;
        self.error = None;
        self.building = Some(building::Building::new(
            self.preset.runs(base).into_iter().take(4).collect(),
        ));
        ctx.request_repaint();
    }

    /// Start the preset's runs for [`FIRST_STEPS`] steps, the first time this is called: a
    /// section that compares runs opens on runs that are already training, not on an empty
    /// plot.
    pub fn start_once(&mut self, base: &TrainConfig, ctx: &egui::Context) {
        if !self.started {
            self.start(base, ctx);
            self.send_all(&Command::Step(FIRST_STEPS));
        }
    }

    /// Each run's label and newest snapshot (for lessons that evaluate the trained models).
    pub fn latest(&self) -> Vec<(String, Snapshot)> {
        let snaps = self.worker.as_ref().map_or(&[][..], Worker::latest_all);
        self.runs
            .iter()
            .zip(snaps)
            .map(|(r, s)| (r.label.clone(), s.clone()))
            .collect()
    }

    /// Each run's label and recorded per-head entropies (step, nats per head).
    pub fn entropy_history(&self) -> Vec<(String, EntropyHistory)> {
        self.runs
            .iter()
            .map(|r| (r.label.clone(), r.entropy.clone()))
            .collect()
    }

    /// Send a command to every run (kept for the worker while the runs are being made).
    pub fn send_all(&mut self, command: &Command) {
        if let Some(b) = self.building.as_mut() {
            b.send(command.clone());
        } else if let Some(w) = &self.worker {
            w.send(command.clone());
        }
    }

    /// Draw: controls, overlaid loss curves, one head-averaged attention map per run for `prompt`.
    pub fn ui(&mut self, ui: &mut Ui, base: &TrainConfig, prompt: &str) {
        self.start_once(base, ui.ctx());
        self.build_some(ui.ctx());
        let snaps: Vec<Snapshot> = match self.worker.as_mut() {
            Some(w) => {
                w.request_model();
                w.poll_all().to_vec()
            }
            None => Vec::new(),
        };
        ui.horizontal_wrapped(|ui| {
            if self.lock_preset {
                ui.strong(self.preset.label());
            } else {
                egui::ComboBox::from_label("compare")
                    .selected_text(self.preset.label())
                    .show_ui(ui, |ui| {
                        for p in Preset::ALL {
                            ui.selectable_value(&mut self.preset, p, p.label());
                        }
                    });
            }
            if ui
                .button("Start runs")
                .on_hover_text(format!(
                    "Start every run from scratch, same seed, for {FIRST_STEPS} steps"
                ))
                .clicked()
            {
                self.start(base, ui.ctx());
                self.send_all(&Command::Step(FIRST_STEPS));
            }
            if !self.runs.is_empty() {
                if ui.button("Pause runs").clicked() {
                    self.send_all(&Command::Pause);
                }
                if ui
                    .button("Resume runs")
                    .on_hover_text("Train on, without a step limit")
                    .clicked()
                {
                    self.send_all(&Command::Play);
                }
            }
            ui.label(format!("{} runs", self.runs.len()));
        });
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let Some(why) = snaps.iter().find_map(|s| s.failed.clone()) {
            ui.colored_label(ui.visuals().error_fg_color, why);
        }
        for (run, snap) in self.runs.iter().zip(&snaps) {
            if let Some(why) = &snap.diverged {
                ui.colored_label(ui.visuals().warn_fg_color, format!("{}: {why}", run.label));
            }
        }
        if let Some((made, all)) = self.building() {
            ui.label(format!("Preparing the runs: {made} of {all} made…"));
            return;
        }
        if self.runs.is_empty() {
            ui.label(if self.lock_preset {
                "Press Start runs: each configuration trains from the same seed, side by side."
            } else {
                "Pick what to compare and press Start runs: each configuration trains from the same seed."
            });
            return;
        }
        let legend = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, r)| entry(r.label.clone(), COLORS[i % COLORS.len()], Mark::Line))
            .collect();
        let step = snaps.iter().map(|s| s.step).min().unwrap_or(0);
        ui.strong(format!(
            "Training loss of each run (each point: the mean of 10 steps) — every run is at step {step}"
        ));
        Figure::new("compare_loss")
            .x("step", Scale::Index)
            .y("train loss (nats)", Scale::Linear)
            .rows(ui, if self.show_entropy { 3.2 } else { 2.2 })
            .include_x(0.0)
            // The whole first run in view from the start: the curves grow into a fixed frame.
            .include_x(FIRST_STEPS as f64)
            .include_y(0.0)
            .legend(legend)
            .show(ui, |p| {
                for (i, (run, snap)) in self.runs.iter().zip(&snaps).enumerate() {
                    let pts: Vec<[f64; 2]> = snap
                        .history
                        .chunks(10)
                        .map(|c| {
                            let step = c.last().map(|x| x.step).unwrap_or(0) as f64;
                            let mean =
                                c.iter().map(|x| f64::from(x.train)).sum::<f64>() / c.len() as f64;
                            [step, mean]
                        })
                        .collect();
                    p.line(
                        egui_plot::Line::new(run.label.clone(), pts)
                            .color(COLORS[i % COLORS.len()])
                            .width(2.0),
                    );
                }
            });
        for (run, snap) in self.runs.iter_mut().zip(&snaps) {
            let key = (snap.step, prompt.to_owned());
            if (self.show_entropy || !self.hide_maps) && run.map_key.as_ref() != Some(&key) {
                let (pieces, maps) = last_layer_maps(&snap.tokenizer, snap, prompt);
                run.map = (pieces, head_mean(&maps));
                if self.show_entropy
                    && !maps.is_empty()
                    && run.entropy.last().is_none_or(|(s, _)| *s < snap.step)
                {
                    run.entropy
                        .push((snap.step, head_entropies(&maps, snap.gpt.config.causal)));
                }
                run.map_key = Some(key);
            }
        }
        if self.show_entropy {
            self.entropy_plot(ui);
        }
        if self.hide_maps {
            return;
        }
        ui.strong(format!(
            "Last layer's attention for \"{prompt}\", mean of its heads, at step {step} in every run"
        ));
        let n = self.runs.len();
        let side = layout::square(ui, n, 2.5, 110.0, 280.0);
        ui.horizontal_top(|ui| {
            for (run, snap) in self.runs.iter().zip(&snaps) {
                ui.vertical(|ui| {
                    let loss = snap
                        .history
                        .last()
                        .map(|p| format!("{:.3}", p.train))
                        .unwrap_or("—".into());
                    ui.strong(&run.label);
                    ui.label(format!("step {} · loss {loss}", snap.step));
                    let (labels, map) = &run.map;
                    Heatmap::new(format!("run: {}", run.label), map.view())
                        .labels(Some(labels), Some(labels))
                        .axis_names("query", "key")
                        .range(0.0, 1.0)
                        .causal(snap.gpt.config.causal)
                        .hide_axis_labels()
                        .max_size(egui::vec2(side, side))
                        .colorbar(false)
                        .show(ui);
                });
            }
            crate::widgets::heatmap::colorbar(
                ui,
                "attention weight",
                crate::widgets::Colormap::Viridis,
                0.0,
                1.0,
                side,
            );
        });
    }
}

impl CompareRuns {
    fn entropy_plot(&self, ui: &mut Ui) {
        ui.strong("Mean attention entropy of each head of the last layer over training (rows with at least 2 keys)");
        let mut legend: Vec<_> = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, r)| entry(r.label.clone(), COLORS[i % COLORS.len()], Mark::Line))
            .collect();
        legend.push(entry(
            "odd heads solid, even heads dashed",
            crate::widgets::palette::GREY,
            Mark::Dashed,
        ));
        Figure::new("compare_entropy")
            .x("step", Scale::Index)
            .y("entropy (nats)", Scale::Linear)
            .rows(ui, 3.2)
            .include_x(0.0)
            .include_x(FIRST_STEPS as f64)
            .include_y(0.0)
            .legend(legend)
            .show(ui, |p| {
                for (i, run) in self.runs.iter().enumerate() {
                    let heads = run.entropy.first().map_or(0, |(_, h)| h.len());
                    for h in 0..heads {
                        let pts: Vec<[f64; 2]> = run
                            .entropy
                            .iter()
                            .filter_map(|(s, e)| e.get(h).map(|v| [*s as f64, *v]))
                            .collect();
                        let style = if h % 2 == 0 {
                            egui_plot::LineStyle::Solid
                        } else {
                            egui_plot::LineStyle::dashed_loose()
                        };
                        p.line(
                            egui_plot::Line::new(format!("{} · head {}", run.label, h + 1), pts)
                                .color(COLORS[i % COLORS.len()])
                                .style(style)
                                .width(2.0),
                        );
                    }
                }
            });
    }
}

/// Mean over heads. maps: H × (T, T) → (T, T)
fn head_mean(maps: &[ndarray::Array2<f32>]) -> ndarray::Array2<f32> {
    let t = maps.first().map_or(0, |m| m.nrows());
    let mut mean = ndarray::Array2::<f32>::zeros((t, t));
    for m in maps {
        mean += m;
    }
    mean /= maps.len().max(1) as f32;
    mean
}

/// Mean row entropy (nats) of each head, over the rows that see at least 2 keys (with the causal
/// mask the first query sees only itself, so its entropy is 0 by construction and is left out).
pub fn head_entropies(maps: &[ndarray::Array2<f32>], causal: bool) -> Vec<f64> {
    maps.iter()
        .map(|m| {
            let rows: Vec<f64> = m
                .outer_iter()
                .skip(usize::from(causal))
                .map(|r| {
                    let p: Vec<f64> = r.iter().map(|&v| f64::from(v)).collect();
                    crate::math::stats::entropy(&p)
                })
                .collect();
            crate::math::stats::mean(&rows)
        })
        .collect()
}

/// The prompt's known tokens and the attention maps of the last layer (one per head).
fn last_layer_maps(
    tokenizer: &Tokenizer,
    snap: &Snapshot,
    prompt: &str,
) -> (Vec<String>, Vec<ndarray::Array2<f32>>) {
    let pieces: Vec<String> = tokenizer
        .pieces(prompt)
        .into_iter()
        .filter(|p| tokenizer.id(p).is_some())
        .collect();
    let pieces: Vec<String> =
        pieces[pieces.len().saturating_sub(snap.gpt.config.block_size)..].to_vec();
    let ids: Vec<usize> = pieces.iter().filter_map(|p| tokenizer.id(p)).collect();
    let mut maps = prompt_attention(&snap.gpt, &ids);
    match maps.pop() {
        Some(last) => (pieces, last),
        // No known token, no forward pass: no heads to draw.
        None => (pieces, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_change_one_switch_and_keep_the_seed() {
        let base = TrainConfig {
            seed: 42,
            ..TrainConfig::default()
        };
        let runs = Preset::Norms.runs(&base);
        assert_eq!(runs.len(), 4);
        assert!(runs.iter().all(|(_, c)| c.seed == 42));
        let runs = Preset::Scaling.runs(&base);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].1.model.head_size(), 64);
        assert!(runs[0].1.model.attn_scale && !runs[1].1.model.attn_scale);
    }
}
