//! The run's controls: Play, Pause, Step, Reset, Save/Load, the learning rate, the status
//! line, and the model and task settings (Apply retrains from scratch).

use egui::{RichText, Ui};

use super::{DialogPurpose, Live};
use crate::data::Task;
use crate::model::{NormKind, PosEncoding};
use crate::train::{Command, Snapshot};
use crate::widgets::file_dialog::{DialogMode, FileDialog};

impl Live {
    pub(super) fn controls(&mut self, ui: &mut Ui, snap: &Snapshot) {
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
                send(Command::Reset(Box::new(self.settings.train_config())));
            }
            if ui
                .button("Reset (new seed)")
                .on_hover_text("Retrain from scratch with the next seed")
                .clicked()
            {
                self.settings.seed = self.settings.seed.wrapping_add(1);
                send(Command::Reset(Box::new(self.settings.train_config())));
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
                .add(egui::Slider::new(&mut self.settings.lr, 1e-4..=3e-2).logarithmic(true))
                .labelled_by(lr_label.id);
            if lr.changed() {
                send(Command::SetLr(self.settings.lr));
            }
        });
        let last = snap.history.last();
        let val = snap.history.iter().rev().find_map(|p| p.val);
        ui.horizontal_wrapped(|ui| {
            let big = |s: String| RichText::new(s).size(16.0).monospace();
            ui.label(big(format!("step {}", snap.step)));
            ui.separator();
            ui.label(big(format!(
                "train loss {}",
                last.map(|p| format!("{:.3}", p.train))
                    .unwrap_or("—".into())
            )));
            ui.separator();
            ui.label(big(format!(
                "val loss {}",
                val.map(|v| format!("{v:.3}")).unwrap_or("—".into())
            )));
            ui.separator();
            ui.label(big(format!("{:.0} tokens/s", snap.tokens_per_sec)));
            ui.separator();
            ui.label(format!(
                "model: d {} · {} layers · {} heads · context {} · {:?} positions · {:?}",
                snap.gpt.config.n_embd,
                snap.gpt.config.n_layer,
                snap.gpt.config.n_head,
                snap.gpt.config.block_size,
                snap.gpt.config.pos_encoding,
                snap.gpt.config.norm
            ));
        });
        if snap.diverged {
            ui.colored_label(
                ui.visuals().error_fg_color,
                "Training diverged (the loss or the weights became NaN/∞): paused, and the last good weights are kept. \
                 Lower the learning rate and press Play.",
            );
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
        egui::CollapsingHeader::new("Model and task (Apply retrains from scratch)").show(
            ui,
            |ui| {
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
                });
                ui.horizontal_wrapped(|ui| {
                    for (label, v, lo, hi) in [
                        ("width d", &mut s.d, 8, 256),
                        ("layers", &mut s.layers, 1, 6),
                        ("heads", &mut s.heads, 1, 16),
                        ("context", &mut s.ctx, 4, 64),
                        ("batch", &mut s.batch, 1, 64),
                    ] {
                        let l = ui.label(label);
                        ui.add(egui::DragValue::new(v).range(lo..=hi))
                            .labelled_by(l.id);
                    }
                });
                let valid = s.d.is_multiple_of(s.heads);
                if !valid {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        "width d must be a multiple of heads",
                    );
                }
                if ui.add_enabled(valid, egui::Button::new("Apply")).clicked() {
                    // The current model is always a trained one (the pretrained model or a run).
                    self.confirm_reset = true;
                }
            },
        );
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
                        if let Some(w) = &self.worker {
                            w.send(Command::Reset(Box::new(self.settings.train_config())));
                        }
                        self.confirm_reset = false;
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
    }
}

/// Where the file dialogs open: the working directory, or "." when it cannot be read (the
/// dialog then says what it cannot list).
fn working_dir() -> std::path::PathBuf {
    std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."))
}
