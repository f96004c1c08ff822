//! The run's controls: Play, Pause, Step, Reset, Save/Load, the learning rate, the status
//! line, and the model and task settings (Apply retrains from scratch).

use egui::{RichText, Ui};

use super::settings::ranges;
use super::{DialogPurpose, Live};
use crate::data::Task;
use crate::model::{NormKind, PosEncoding};
use crate::train::{Command, Snapshot};
use crate::widgets::file_dialog::{DialogMode, FileDialog};

impl Live {
    pub(super) fn controls(&mut self, ui: &mut Ui, snap: &Snapshot) {
        let mut reset = false;
        if let Some(why) = &snap.failed {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!(
                    "{why}. Save… still saves the last weights shown; Reset starts training again."
                ),
            );
        }
        if let Some(done) = snap.loading {
            ui.horizontal(|ui| {
                ui.add(
                    egui::ProgressBar::new(done)
                        .desired_width(240.0)
                        .show_percentage()
                        .text(format!("reading the text file: {:.0} %", 100.0 * done)),
                );
                ui.label("Pause cancels it.");
            });
        }
        ui.horizontal_wrapped(|ui| {
            let w = self.worker.as_ref();
            let send = |c: Command| {
                if let Some(w) = w {
                    w.send(c);
                }
            };
            if snap.running {
                if ui.button(RichText::new("⏸ Pause").size(16.0)).clicked() {
                    send(Command::Pause);
                }
            } else if ui
                .button(RichText::new("▶ Play").size(16.0))
                .on_hover_text("Train continuously")
                .clicked()
            {
                send(Command::Play);
            }
            if ui.button("Step").on_hover_text("Train one step").clicked() {
                send(Command::Step(1));
            }
            if ui
                .button("Reset")
                .on_hover_text("Retrain from scratch with the same seed")
                .clicked()
            {
                reset = true;
            }
            if ui
                .button("Reset (new seed)")
                .on_hover_text("Retrain from scratch with the next seed")
                .clicked()
            {
                self.settings.seed = self.settings.seed.wrapping_add(1);
                reset = true;
            }
            ui.separator();
            let here = working_dir();
            if ui
                .button("Save…")
                .on_hover_text("Save the current weights as .safetensors")
                .clicked()
            {
                let name = format!("bears-{}.safetensors", crate::widgets::export::timestamp());
                let dialog = FileDialog::new(DialogMode::Save, here.clone(), name, "safetensors");
                self.dialog = Some((DialogPurpose::SaveCheckpoint, dialog));
            }
            if ui
                .button("Load…")
                .on_hover_text("Load weights from a .safetensors checkpoint")
                .clicked()
            {
                let dialog = FileDialog::new(DialogMode::Load, here, String::new(), "safetensors");
                self.dialog = Some((DialogPurpose::LoadCheckpoint, dialog));
            }
            ui.separator();
            let lr_label = ui.label("learning rate");
            let lr = ui
                .add(
                    egui::Slider::new(&mut self.settings.lr, ranges::LR.0..=ranges::LR.1)
                        .logarithmic(true),
                )
                .labelled_by(lr_label.id);
            if lr.changed() {
                send(Command::SetLr(self.settings.lr));
            }
        });
        let last = snap.history.last();
        let val = snap.history.iter().rev().find_map(|p| p.val);
        // The rate the next step uses: the schedule of the run, at the slider's peak.
        let lr_now = crate::train::TrainConfig {
            lr: self.settings.lr,
            ..(*snap.config).clone()
        }
        .lr_at(snap.step + 1);
        ui.horizontal_wrapped(|ui| {
            let big = |s: String| RichText::new(s).text_style(egui::TextStyle::Name(crate::widgets::fonts::BIG.into()));
            ui.label(big(format!("step {}", snap.step)));
            ui.separator();
            ui.label(big(format!(
                "train loss {}",
                last.map(|p| format!("{:.3}", p.train))
                    .unwrap_or("—".into())
            )))
            .on_hover_text("mean cross-entropy of the last step's batch, in nats");
            ui.separator();
            ui.label(big(format!(
                "val loss {}",
                val.map(|v| format!("{v:.3}")).unwrap_or("—".into())
            )))
            .on_hover_text("mean cross-entropy on held-out sentences, in nats; measured every few steps");
            ui.separator();
            ui.label(big(format!("lr now {lr_now:.1e}")))
                .on_hover_text(format!(
                    "The learning rate falls from the slider's value to {:.0} % of it along a half cosine over the first {} steps, so the heads settle into a state you can point at; with a constant rate they keep swinging while the loss stays flat.",
                    100.0 * snap.config.lr_min_ratio,
                    snap.config.lr_decay_steps
                ));
            ui.separator();
            // A rate only while training: paused, the run moves no tokens, and "0 tokens/s"
            // would read as a measurement.
            let rate = if snap.running && snap.tokens_per_sec > 0.0 {
                format!("{:.0} tokens/s", snap.tokens_per_sec)
            } else {
                "— tokens/s".to_owned()
            };
            ui.label(big(rate)).on_hover_text(if snap.running {
                "training throughput: tokens of the training batches per second of wall-clock time, over the last half second or more"
            } else {
                "training throughput, shown while the run trains (Play or Step)"
            });
            ui.separator();
            // Whole on this row or the next, never broken.
            ui.add(
                egui::Label::new(format!(
                    "model: d {} · {} layers · {} heads · context {} · {:?} positions · {:?}",
                    snap.gpt.config.n_embd,
                    snap.gpt.config.n_layer,
                    snap.gpt.config.n_head,
                    snap.gpt.config.block_size,
                    snap.gpt.config.pos_encoding,
                    snap.gpt.config.norm
                ))
                .extend(),
            );
        });
        if let Some(why) = &snap.diverged {
            ui.colored_label(ui.visuals().error_fg_color, why);
        }
        if reset {
            self.reset(ui.ctx());
        }
        match &self.status {
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            Some(Ok(m)) if m != "reset" => {
                ui.label(m);
            }
            _ => {}
        }
    }

    pub(super) fn file_dialog(&mut self, ui: &mut Ui) {
        let Some((purpose, dialog)) = &mut self.dialog else {
            return;
        };
        let purpose = *purpose;
        if let Some(choice) = dialog.show(ui.ctx()) {
            if let Some(path) = choice {
                match (purpose, &self.worker) {
                    // A stopped worker cannot save: the UI saves the last weights it received.
                    (DialogPurpose::SaveCheckpoint, Some(w)) if w.latest().failed.is_some() => {
                        let snap = w.latest();
                        self.status = Some(
                            crate::train::saved::save(&path, &snap.gpt, &snap.tokenizer)
                                .map(|()| format!("saved {}", path.display())),
                        );
                    }
                    (DialogPurpose::SaveCheckpoint, Some(w)) => w.send(Command::Save(path)),
                    (DialogPurpose::LoadCheckpoint, Some(w)) => w.send(Command::Load(path)),
                    (DialogPurpose::ChooseText, _) => {
                        self.settings.task = Task::Text;
                        self.settings.text_file = Some(path);
                    }
                    _ => {}
                }
            }
            self.dialog = None;
        }
    }

    pub(super) fn model_settings(&mut self, ui: &mut Ui) {
        let mut choose_text = false;
        let mut reset = false;
        ui.label("Choose a task and a model; Apply retrains from scratch (the current weights are lost unless saved).");
        {
            {
                let s = &mut self.settings;
                ui.horizontal_wrapped(|ui| {
                    egui::ComboBox::from_label("task")
                        .selected_text(format!("{:?}", s.task))
                        .show_ui(ui, |ui| {
                            for t in [Task::Bears, Task::Reverse, Task::Sort, Task::Text] {
                                ui.selectable_value(&mut s.task, t.clone(), format!("{t:?}"));
                            }
                        });
                    if s.task == Task::Text {
                        let file = s.text_file.as_ref().map(|p| p.display().to_string());
                        if ui
                            .button(file.unwrap_or_else(|| "Choose text file…".into()))
                            .on_hover_text(
                                "Any UTF-8 text; the model learns it character by character",
                            )
                            .clicked()
                        {
                            choose_text = true;
                        }
                    }
                    egui::ComboBox::from_label("positions")
                        .selected_text(format!("{:?}", s.pos))
                        .show_ui(ui, |ui| {
                            for p in [
                                PosEncoding::Learned,
                                PosEncoding::Sinusoidal,
                                PosEncoding::Binary,
                                PosEncoding::None,
                            ] {
                                ui.selectable_value(&mut s.pos, p, format!("{p:?}"));
                            }
                        });
                    egui::ComboBox::from_label("norm")
                        .selected_text(format!("{:?}", s.norm))
                        .show_ui(ui, |ui| {
                            for n in [
                                NormKind::LayerNorm,
                                NormKind::RmsNorm,
                                NormKind::BatchNorm,
                                NormKind::None,
                            ] {
                                ui.selectable_value(&mut s.norm, n, format!("{n:?}"));
                            }
                        });
                    ui.checkbox(&mut s.scale, "scale by 1/√d");
                    ui.checkbox(&mut s.causal, "causal mask");
                    ui.checkbox(&mut s.residual, "skip connections")
                        .on_hover_text("x + f(x) around each sub-layer; off: x ← f(x)");
                });
                ui.horizontal_wrapped(|ui| {
                    for (label, v, (lo, hi)) in [
                        ("width d", &mut s.d, ranges::D),
                        ("layers", &mut s.layers, ranges::LAYERS),
                        ("heads", &mut s.heads, ranges::HEADS),
                        ("context", &mut s.ctx, ranges::CTX),
                        ("batch", &mut s.batch, ranges::BATCH),
                    ] {
                        let l = ui.label(label);
                        ui.add(egui::DragValue::new(v).range(lo..=hi))
                            .labelled_by(l.id);
                    }
                });
                // The whole validation (also the memory a run needs), as `--set` gets it.
                let check = crate::lessons::lesson::Validate::validate(&*s);
                let valid = check.is_ok();
                if let Err(e) = check {
                    ui.colored_label(ui.visuals().warn_fg_color, e);
                }
                if ui.add_enabled(valid, egui::Button::new("Apply")).clicked() {
                    // The current model is always a trained one (the pretrained model or a run).
                    self.confirm_reset = true;
                }
            }
        }
        if choose_text {
            let here = working_dir();
            self.dialog = Some((
                DialogPurpose::ChooseText,
                FileDialog::new(DialogMode::Load, here, String::new(), "txt")
                    .title("Choose a text file"),
            ));
        }
        if self.confirm_reset {
            let modal = egui::Modal::new(egui::Id::unique("live_confirm_reset")).show(ui.ctx(), |ui| {
                ui.heading("Discard the trained model?");
                ui.label("Applying the new model settings retrains from scratch; the current weights are lost (save them first if you want them).");
                ui.horizontal(|ui| {
                    if ui.button("Discard and retrain").clicked() {
                        reset = true;
                        self.confirm_reset = false;
                        // Show the new run train.
                        self.settings.tab = super::LiveTab::Training;
                    }
                    if ui.button("Cancel").clicked() {
                        self.confirm_reset = false;
                    }
                });
            });
            if modal.should_close() {
                self.confirm_reset = false;
            }
        }
        if reset {
            self.reset(ui.ctx());
        }
    }

    /// Retrain from scratch with the settings: a Reset for a working worker; a new worker when
    /// the old one stopped.
    pub(super) fn reset(&mut self, ctx: &egui::Context) {
        let config = self.settings.train_config();
        match &self.worker {
            Some(w) if w.latest().failed.is_none() => w.send(Command::Reset(Box::new(config))),
            _ => {
                let wake = crate::lessons::common::waker(ctx);
                match crate::train::Worker::spawn("live", config, None, wake) {
                    Ok(w) => {
                        self.worker = Some(w);
                        self.probe_sent.clear();
                        self.status = Some(Ok("training restarted from scratch".into()));
                    }
                    Err(e) => self.status = Some(Err(format!("could not start training: {e}"))),
                }
            }
        }
    }
}

/// Where the file dialogs open: the working directory, or "." when it cannot be read (the
/// dialog then says what it cannot list).
fn working_dir() -> std::path::PathBuf {
    std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."))
}
