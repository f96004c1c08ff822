//! Lesson "The transformer, live": the bears model, trained in front of the class.
//!
//! It opens on a pretrained model (`assets/bears.safetensors`, made by the `attention-lab train`
//! command in the README), so the first frame already shows meaningful attention; Reset retrains
//! from scratch while the loss curve, the attention maps of every layer × head and the next-token
//! probabilities update live. Training runs on the worker thread (`train::worker`); this lesson
//! only sends commands and draws the newest snapshot, reading the prompt off the model with
//! `math::readout`. One file per panel: controls, loss, prompt (and next token), mixing, the
//! three bears, the attention grid.

mod bears;
mod controls;
mod grid;
mod loss;
mod mixing;
mod prompt;
pub mod settings;
mod training;

use std::sync::Arc;

use egui::Ui;
use ndarray::Array2;
use serde_json::{Value, json};

use crate::data::Task;
use crate::lessons::common::compare_runs::CompareRuns;
use crate::lessons::lesson::{Lesson, LessonContext, LessonInfo, LessonSettings};
use crate::math::readout::{
    Analysis, BearsRows, PromptView, analyze, bears_rows, prompt_view, top_next,
};
use crate::pretrained::bears_shared;
use crate::train::{Command, Snapshot, Worker};
use crate::widgets::export::matrix_csv;
use crate::widgets::file_dialog::FileDialog;
pub use settings::{LiveSettings, LiveTab};

/// The lesson, for the registry.
pub fn lesson() -> Box<dyn Lesson> {
    Box::new(Live::default())
}

/// What an open file dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DialogPurpose {
    SaveCheckpoint,
    LoadCheckpoint,
    ChooseText,
}

/// The lesson.
#[derive(Default)]
pub struct Live {
    settings: LiveSettings,
    worker: Option<Worker>,
    error: Option<String>,
    status: Option<Result<String, String>>,
    confirm_reset: bool,
    /// (snapshot step, prompt, weights pointer) the cached analysis belongs to.
    cache_key: Option<(usize, String, usize)>,
    view: PromptView,
    analysis: Analysis,
    probe_sent: Vec<usize>,
    bears: Vec<BearsRows>,
    dialog: Option<(DialogPurpose, FileDialog)>,
    compare: CompareRuns,
    /// How many of the prompt's last tokens Generate added (outlined in the chips).
    generated: usize,
}

impl Live {
    /// Start the worker on the pretrained model (first frame).
    fn ensure_worker(&mut self, ctx: &egui::Context) {
        if self.worker.is_some() || self.error.is_some() {
            return;
        }
        let wake = crate::lessons::common::waker(ctx);
        // The pretrained bears model; its vocabulary is the grammar's, the same as the data's.
        // Its training run's loss curve comes with it: the first picture is a trained run.
        let started = bears_shared().and_then(|(gpt, _)| {
            let mut config = self.settings.train_config();
            config.task = Task::Bears;
            config.model = gpt.config.clone();
            let history = crate::pretrained::bears_history()?;
            Worker::spawn_resumed("live", config, gpt.clone(), history, wake)
        });
        match started {
            Ok(w) => self.worker = Some(w),
            Err(e) => self.error = Some(format!("could not start training: {e}")),
        }
    }

    /// The newest snapshot (polls the worker).
    fn snapshot(&mut self) -> Option<Snapshot> {
        let w = self.worker.as_mut()?;
        // This lesson draws the model every frame: a fresh copy with the next update.
        w.request_model();
        let snap = w.poll().clone();
        if let Some(m) = snap.message.clone() {
            self.status = Some(m);
        }
        Some(snap)
    }

    fn refresh_analysis(&mut self, snap: &Snapshot) {
        let key = (
            snap.step,
            self.settings.prompt.clone(),
            Arc::as_ptr(&snap.gpt) as usize,
        );
        if self.cache_key.as_ref() == Some(&key) {
            return;
        }
        self.view = prompt_view(
            &snap.tokenizer,
            &self.settings.prompt,
            snap.gpt.config.block_size,
        );
        self.analysis = analyze(&snap.gpt, &self.view.ids);
        self.bears = if snap.tokenizer.id("bears").is_some() {
            bears_rows(&snap.gpt, &snap.tokenizer)
        } else {
            Vec::new()
        };
        self.cache_key = Some(key);
        if self.view.ids != self.probe_sent
            && let Some(w) = &self.worker
        {
            w.send(Command::SetProbe(self.view.ids.clone()));
            self.probe_sent = self.view.ids.clone();
        }
    }
}

impl Lesson for Live {
    fn info(&self) -> LessonInfo {
        LessonInfo {
            id: "live",
            title: "The transformer, live",
            summary: "A small GPT trained on sentences where \"bears\" is an animal, a verb and a team. Press Reset to \
                      retrain it from scratch and watch the loss fall and the attention heads form.",
        }
    }

    fn settings(&mut self) -> &mut dyn LessonSettings {
        &mut self.settings
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut LessonContext) {
        self.ensure_worker(ui.ctx());
        if ctx.autoplay
            && let Some(w) = &self.worker
        {
            w.send(Command::Reset(Box::new(self.settings.train_config())));
            w.send(Command::Play);
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
            return;
        }
        let Some(snap) = self.snapshot() else { return };
        self.refresh_analysis(&snap);
        ui.horizontal_wrapped(|ui| {
            for (tab, label) in LiveTab::ALL {
                ui.selectable_value(&mut self.settings.tab, tab, label);
            }
        });
        ui.separator();
        match self.settings.tab {
            LiveTab::Training => self.training(ui, &snap),
            LiveTab::Mixing => self.mixing_panel(ui, &snap),
            LiveTab::Bears => self.three_bears_panel(ui, &snap),
            LiveTab::Compare => {
                ui.label("Up to four configurations trained from the same seed, one step of each in turn, so they are always compared at the same step. They train for 600 steps when this tab first opens; Resume runs trains on.");
                let base = self.settings.train_config();
                self.compare.start_once(&base, ui.ctx());
                self.compare.ui(ui, &base, &self.settings.prompt);
            }
            LiveTab::Model => self.model_settings(ui),
        }
        self.file_dialog(ui);
    }

    fn data(&mut self) -> Value {
        // Headless: the pretrained model (the GUI starts from the same weights).
        let Ok((gpt, tokenizer)) = bears_shared() else {
            return json!({"error": "the pretrained model could not be loaded"});
        };
        let view = prompt_view(tokenizer, &self.settings.prompt, gpt.config.block_size);
        let a = analyze(gpt, &view.ids);
        let to_vec = |maps: &Vec<Vec<Array2<f32>>>| -> Vec<Vec<Vec<Vec<f32>>>> {
            maps.iter()
                .map(|l| {
                    l.iter()
                        .map(|m| m.outer_iter().map(|r| r.to_vec()).collect())
                        .collect()
                })
                .collect()
        };
        let top: Vec<Value> = if a.last_logits.is_empty() {
            Vec::new()
        } else {
            top_next(
                tokenizer,
                &a.last_logits,
                self.settings.temperature,
                self.settings.top_k,
            )
            .into_iter()
            .map(|(t, p)| json!({"token": t, "p": p}))
            .collect()
        };
        let unknown: Vec<&String> = view
            .pieces
            .iter()
            .zip(&view.unknown)
            .filter(|(_, u)| **u)
            .map(|(p, _)| p)
            .collect();
        json!({
            "settings": self.settings.to_json(),
            "tokens": view.labels,
            "token_ids": view.ids,
            "unknown": unknown,
            "cut": view.cut,
            "attention": to_vec(&a.attention),
            "top_next": top,
        })
    }

    fn training_rate(&self) -> Option<f32> {
        self.worker.as_ref().map(|w| w.latest().tokens_per_sec)
    }

    fn training_step(&self) -> Option<usize> {
        self.worker.as_ref().map(|w| w.latest().step)
    }

    fn csv(&mut self) -> String {
        let maps = if self.settings.show_scores {
            &self.analysis.scores
        } else {
            &self.analysis.attention
        };
        match maps
            .get(self.settings.selected_layer)
            .and_then(|m| m.get(self.settings.selected_head))
        {
            Some(m) => matrix_csv(m.view(), Some(&self.view.labels), Some(&self.view.labels)),
            None => String::from("row\n"),
        }
    }
}
