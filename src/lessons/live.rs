//! Lesson "The transformer, live": the bears model, trained in front of the class.
//!
//! It opens on a pretrained model (`assets/bears.safetensors`, made by the `attention-lab train`
//! command in the README), so the first frame already shows meaningful attention; Reset retrains
//! from scratch while the loss curve, the attention maps of every layer × head and the next-token
//! probabilities update live. Training runs on the worker thread (`train::worker`); this file only
//! sends commands and draws the newest snapshot, running a cheap forward pass on the prompt.

use std::sync::Arc;
use std::time::Duration;

use egui::{Color32, RichText, Ui};
use ndarray::{Array2, s};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Lesson, LessonContext, settings_from_json, settings_to_json};
use crate::data::{Task, Tokenizer};
use crate::model::gpt::{Activations, Gpt, gpt_forward};
use crate::model::softmax::softmax;
use crate::model::{GptConfig, NormKind, PosEncoding};
use crate::train::TrainConfig;
use crate::train::worker::{Command, Snapshot, Worker};
use crate::widgets::export::matrix_csv;
use crate::widgets::file_dialog::{DialogMode, FileDialog};
use crate::widgets::{Colormap, Heatmap};

/// The pretrained bears model (see the README for the command that made it).
pub const PRETRAINED: &[u8] = crate::pretrained::BEARS;

/// The lesson's persisted settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveSettings {
    /// The prompt whose attention is drawn.
    pub prompt: String,
    /// Show the pre-softmax scores (with the mask's −∞) instead of the weights.
    pub show_scores: bool,
    /// Show the average over heads of each layer.
    pub head_average: bool,
    /// The enlarged map: layer, head.
    pub selected_layer: usize,
    /// The enlarged map's head.
    pub selected_head: usize,
    /// Log scale for the loss plot.
    pub log_loss: bool,
    /// How many next tokens to list.
    pub top_k: usize,
    /// Softmax temperature of the next-token chart.
    pub temperature: f32,
    /// Learning rate.
    pub lr: f32,
    /// Sequences per batch.
    pub batch: usize,
    /// Task to retrain on.
    pub task: Task,
    /// Model to retrain: width.
    pub d: usize,
    /// Layers.
    pub layers: usize,
    /// Heads.
    pub heads: usize,
    /// Context.
    pub ctx: usize,
    /// Positional encoding.
    pub pos: PosEncoding,
    /// 1/√d scaling.
    pub scale: bool,
    /// Causal mask.
    pub causal: bool,
    /// Norm.
    pub norm: NormKind,
    /// Seed of the next reset.
    pub seed: u64,
    /// The file of the text task.
    pub text_file: Option<std::path::PathBuf>,
    /// Show "the three bears" panel.
    pub three_bears: bool,
    /// Show the multi-head mixing panel.
    pub mixing: bool,
    /// Show the compare-runs panel.
    pub compare: bool,
    /// The layer the mixing panel shows.
    pub mixing_layer: usize,
    /// Generate greedily (argmax) instead of sampling.
    pub greedy: bool,
    /// Seed of sampled generation.
    pub sample_seed: u64,
    /// Show the attention recorded during training instead of the current one.
    pub replay: bool,
    /// Which recorded frame the replay shows (index; clamped to what was recorded).
    pub replay_frame: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            prompt: "i love bears".into(),
            show_scores: false,
            head_average: false,
            selected_layer: 0,
            selected_head: 0,
            log_loss: true,
            top_k: 8,
            temperature: 1.0,
            lr: 3e-3,
            batch: 16,
            task: Task::Bears,
            d: 64,
            layers: 2,
            heads: 4,
            ctx: 16,
            pos: PosEncoding::Learned,
            scale: true,
            causal: true,
            norm: NormKind::LayerNorm,
            seed: 0,
            text_file: None,
            three_bears: true,
            mixing: false,
            compare: false,
            mixing_layer: 0,
            greedy: true,
            sample_seed: 0,
            replay: false,
            replay_frame: 0,
        }
    }
}

impl LiveSettings {
    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            model: GptConfig {
                vocab_size: 1,
                n_layer: self.layers,
                n_head: self.heads,
                n_embd: self.d,
                block_size: self.ctx,
                pos_encoding: self.pos,
                attn_scale: self.scale,
                causal: self.causal,
                norm: self.norm,
            },
            task: self.task.clone(),
            text_file: self.text_file.clone(),
            batch: self.batch,
            lr: self.lr,
            seed: self.seed,
            ..TrainConfig::default()
        }
    }
}

/// What the prompt looks like to the model: its pieces, ids, and what went wrong.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptView {
    /// Every piece of the prompt, known or not.
    pub pieces: Vec<String>,
    /// Which pieces are not in the vocabulary.
    pub unknown: Vec<bool>,
    /// The ids fed to the model (known pieces, cut to the context).
    pub ids: Vec<usize>,
    /// The labels of the ids.
    pub labels: Vec<String>,
    /// How many tokens were cut because the prompt is longer than the context.
    pub cut: usize,
}

/// Tokenize a prompt for display: unknown pieces are listed (not silently dropped) and the
/// model sees only the known ones, cut to the context.
pub fn prompt_view(tokenizer: &Tokenizer, prompt: &str, context: usize) -> PromptView {
    let pieces = tokenizer.pieces(prompt);
    let unknown: Vec<bool> = pieces.iter().map(|p| tokenizer.id(p).is_none()).collect();
    let known: Vec<(usize, String)> = pieces
        .iter()
        .filter_map(|p| tokenizer.id(p).map(|id| (id, p.clone())))
        .collect();
    let cut = known.len().saturating_sub(context);
    let kept = &known[cut..];
    PromptView {
        pieces,
        unknown,
        ids: kept.iter().map(|(i, _)| *i).collect(),
        labels: kept.iter().map(|(_, s)| s.clone()).collect(),
        cut,
    }
}

/// The model's view of a prompt: attention, scores, next-token probabilities.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Attention weights per layer and head: (T, T) each.
    pub attention: Vec<Vec<Array2<f32>>>,
    /// Pre-softmax scores per layer and head (−∞ where masked).
    pub scores: Vec<Vec<Array2<f32>>>,
    /// Logits of the last position (V).
    pub last_logits: Vec<f32>,
    /// Per layer: the concatenated head outputs [V̂_1 … V̂_H] before mixing, (T, C).
    pub heads_concat: Vec<Array2<f32>>,
    /// Per layer: the mixed result V̂ W_Oᵀ + b, (T, C).
    pub mixed: Vec<Array2<f32>>,
}

/// One eval-mode forward pass of the prompt ids.
pub fn analyze(gpt: &Gpt, ids: &[usize]) -> Analysis {
    if ids.is_empty() {
        return Analysis::default();
    }
    let t = ids.len();
    let mut acts = Activations::default();
    gpt_forward(gpt, &mut acts, ids, None, 1, t, false);
    let per_head = |f: &dyn Fn(usize) -> Array2<f32>, h: usize| (0..h).map(f).collect::<Vec<_>>();
    let mut attention = Vec::new();
    let mut scores = Vec::new();
    for blk in &acts.blocks {
        let h = blk.attn.att.dim().1;
        attention.push(per_head(
            &|hh| blk.attn.att.slice(s![0, hh, .., ..]).to_owned(),
            h,
        ));
        scores.push(per_head(
            &|hh| blk.attn.preatt.slice(s![0, hh, .., ..]).to_owned(),
            h,
        ));
    }
    let last_logits = acts.logits.row(t - 1).to_vec();
    let heads_concat: Vec<Array2<f32>> = acts.blocks.iter().map(|b| b.atty.clone()).collect();
    let mixed = heads_concat
        .iter()
        .zip(&gpt.params.blocks)
        .map(|(y, bp)| y.dot(&bp.attn_proj_w.t()) + &bp.attn_proj_b)
        .collect();
    Analysis {
        attention,
        scores,
        last_logits,
        heads_concat,
        mixed,
    }
}

/// The top `k` next tokens after the prompt at a temperature: (token, probability).
pub fn top_next(
    tokenizer: &Tokenizer,
    logits: &[f32],
    temperature: f32,
    k: usize,
) -> Vec<(String, f32)> {
    let t = temperature.max(1e-3);
    let p = softmax(&logits.iter().map(|l| l / t).collect::<Vec<_>>());
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    order
        .into_iter()
        .take(k)
        .map(|i| (tokenizer.vocab.get(i).cloned().unwrap_or_default(), p[i]))
        .collect()
}

/// The next token: the argmax, or a sample at the temperature from a seeded generator.
pub fn generate_next(
    tokenizer: &Tokenizer,
    logits: &[f32],
    temperature: f32,
    greedy: bool,
    seed: u64,
) -> Option<String> {
    if logits.is_empty() {
        return None;
    }
    let t = temperature.max(1e-3);
    let p = softmax(&logits.iter().map(|l| l / t).collect::<Vec<_>>());
    let index = if greedy {
        (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]))?
    } else {
        use rand::{RngExt, SeedableRng};
        let u: f32 = rand::rngs::StdRng::seed_from_u64(seed).random();
        let mut acc = 0.0;
        p.iter()
            .position(|&pi| {
                acc += pi;
                acc > u
            })
            .unwrap_or(p.len() - 1)
    };
    tokenizer.vocab.get(index).cloned()
}

/// Load the pretrained model.
pub fn pretrained() -> Result<(Gpt, Tokenizer), String> {
    crate::pretrained::bears()
}

/// The lecture's three sentences: one token, three meanings.
pub const THREE_BEARS: [&str; 3] = [
    "i love bears",
    "she bears the pain",
    "the bears won the game",
];

/// One sentence of the three-bears panel.
#[derive(Debug, Clone)]
pub struct BearsRows {
    /// The sentence.
    pub sentence: String,
    /// Its tokens (the columns).
    pub tokens: Vec<String>,
    /// "L1 H1" … and "mean" (the rows).
    pub heads: Vec<String>,
    /// The attention of the query "bears" to each key; −∞ where the causal mask hides a key.
    pub rows: Array2<f32>,
}

/// For each sentence: its tokens, and the attention row of the query "bears" for every
/// layer × head (rows "L1 H1" …) and their mean (last row): a (L·H + 1) × T matrix.
pub fn bears_rows(gpt: &Gpt, tokenizer: &Tokenizer) -> Vec<BearsRows> {
    THREE_BEARS
        .iter()
        .filter_map(|sentence| {
            let view = prompt_view(tokenizer, sentence, gpt.config.block_size);
            // Only sentences whose "bears" the model sees (a cut or unknown one is skipped).
            let q = view.labels.iter().position(|t| t == "bears")?;
            let a = analyze(gpt, &view.ids);
            let t = view.labels.len();
            let mut names = Vec::new();
            let mut rows: Vec<f32> = Vec::new();
            for (l, layer) in a.attention.iter().enumerate() {
                for (h, m) in layer.iter().enumerate() {
                    names.push(format!("L{} H{}", l + 1, h + 1));
                    rows.extend(m.row(q).iter());
                }
            }
            let n = names.len().max(1);
            let mean: Vec<f32> = (0..t)
                .map(|k| (0..names.len()).map(|r| rows[r * t + k]).sum::<f32>() / n as f32)
                .collect();
            rows.extend(mean);
            names.push("mean".into());
            if gpt.config.causal {
                // Keys after the query are masked (weight 0 because −∞ before the softmax).
                for (i, v) in rows.iter_mut().enumerate() {
                    if i % t.max(1) > q {
                        *v = f32::NEG_INFINITY;
                    }
                }
            }
            let m = Array2::from_shape_vec((names.len(), t), rows)
                .unwrap_or_else(|_| Array2::zeros((0, 0)));
            Some(BearsRows {
                sentence: sentence.to_string(),
                tokens: view.labels,
                heads: names,
                rows: m,
            })
        })
        .collect()
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
    compare: super::compare_runs::CompareRuns,
}

impl Live {
    /// Start the worker on the pretrained model (first frame).
    fn ensure_worker(&mut self, ctx: &egui::Context) {
        if self.worker.is_some() || self.error.is_some() {
            return;
        }
        let waker = ctx.clone();
        let wake = move || waker.request_repaint_after(Duration::from_millis(30));
        // The pretrained bears model; its vocabulary is the grammar's, the same as the data's.
        let started = pretrained().and_then(|(gpt, _)| {
            let mut config = self.settings.train_config();
            config.task = Task::Bears;
            config.model = gpt.config.clone();
            Worker::spawn("live", config, Some(gpt), wake)
        });
        match started {
            Ok(w) => self.worker = Some(w),
            Err(e) => self.error = Some(format!("could not start training: {e}")),
        }
    }

    /// The newest snapshot (polls the worker).
    fn snapshot(&mut self) -> Option<Snapshot> {
        let w = self.worker.as_mut()?;
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

    fn controls(&mut self, ui: &mut Ui, snap: &Snapshot) {
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
            let here = std::env::current_dir().unwrap_or_default();
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

    fn file_dialog(&mut self, ui: &mut Ui) {
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

    fn model_settings(&mut self, ui: &mut Ui) {
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
            let here = std::env::current_dir().unwrap_or_default();
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

    fn loss_plot(&mut self, ui: &mut Ui, snap: &Snapshot) {
        ui.horizontal(|ui| {
            ui.strong("Loss (cross-entropy, nats)");
            ui.checkbox(&mut self.settings.log_loss, "log scale");
        });
        let log = self.settings.log_loss;
        let y = |v: f32| {
            if log {
                f64::from(v.max(1e-6)).log10()
            } else {
                f64::from(v)
            }
        };
        let train: Vec<[f64; 2]> = snap
            .history
            .iter()
            .map(|p| [p.step as f64, y(p.train)])
            .collect();
        let val: Vec<[f64; 2]> = snap
            .history
            .iter()
            .filter_map(|p| p.val.map(|v| [p.step as f64, y(v)]))
            .collect();
        let mut plot = egui_plot::Plot::new("live_loss")
            .height(170.0)
            .x_axis_label("step")
            .legend(egui_plot::Legend::default())
            .allow_scroll(false);
        if log {
            plot = plot.y_axis_formatter(|m, _| format!("{:.2}", 10f64.powf(m.value)));
        }
        if snap.history.is_empty() {
            ui.label("The pretrained model is loaded. Press Reset to retrain it from scratch and watch the loss fall.");
        }
        plot.show(ui, |p| {
            p.line(egui_plot::Line::new("train", train));
            p.line(egui_plot::Line::new("validation", val));
        });
    }

    fn prompt(&mut self, ui: &mut Ui, snap: &Snapshot) {
        ui.horizontal(|ui| {
            let l = ui.strong("Prompt");
            ui.add(egui::TextEdit::singleline(&mut self.settings.prompt).desired_width(260.0))
                .labelled_by(l.id);
        });
        ui.horizontal_wrapped(|ui| {
            for (piece, unknown) in self.view.pieces.iter().zip(&self.view.unknown) {
                let (fill, text) = if *unknown {
                    (ui.visuals().error_fg_color, Color32::WHITE)
                } else {
                    (
                        ui.visuals().selection.bg_fill,
                        ui.visuals().strong_text_color(),
                    )
                };
                egui::Frame::new()
                    .fill(fill)
                    .corner_radius(6)
                    .inner_margin(egui::Margin::symmetric(6, 2))
                    .show(ui, |ui| {
                        ui.label(RichText::new(piece).color(text).size(15.0));
                    });
            }
        });
        let unknown: Vec<&str> = self
            .view
            .pieces
            .iter()
            .zip(&self.view.unknown)
            .filter(|(_, u)| **u)
            .map(|(p, _)| p.as_str())
            .collect();
        if !unknown.is_empty() {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!(
                    "Not in the vocabulary: {} — the model skips these; the vocabulary has {} tokens (hover for the list).",
                    unknown.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", "),
                    snap.tokenizer.len()
                ),
            )
            .on_hover_text(snap.tokenizer.vocab.join(" "));
        }
        if self.view.cut > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "The prompt is longer than the context ({} tokens): the first {} are cut.",
                    snap.gpt.config.block_size, self.view.cut
                ),
            );
        }
    }

    fn next_token(&mut self, ui: &mut Ui, snap: &Snapshot) {
        ui.horizontal(|ui| {
            ui.strong("Next token");
            let l = ui.label("temperature");
            ui.add(egui::Slider::new(&mut self.settings.temperature, 0.1..=3.0))
                .labelled_by(l.id);
        });
        if self.analysis.last_logits.is_empty() {
            ui.label("Type a prompt of known tokens.");
            return;
        }
        let top = top_next(
            &snap.tokenizer,
            &self.analysis.last_logits,
            self.settings.temperature,
            self.settings.top_k,
        );
        next_token_bars(ui, &top);
        ui.horizontal_wrapped(|ui| {
            ui.radio_value(&mut self.settings.greedy, true, "greedy");
            ui.radio_value(&mut self.settings.greedy, false, "sampled");
            if !self.settings.greedy {
                let l = ui.label("seed");
                ui.add(egui::DragValue::new(&mut self.settings.sample_seed))
                    .labelled_by(l.id);
            }
            if ui
                .button("Generate")
                .on_hover_text("Append the next token to the prompt")
                .clicked()
            {
                let next = generate_next(
                    &snap.tokenizer,
                    &self.analysis.last_logits,
                    self.settings.temperature,
                    self.settings.greedy,
                    self.settings.sample_seed,
                );
                if let Some(tok) = next {
                    self.settings.prompt = format!("{} {tok}", self.settings.prompt.trim_end());
                    self.settings.sample_seed = self.settings.sample_seed.wrapping_add(1);
                }
            }
        });
    }

    fn mixing_panel(&mut self, ui: &mut Ui, snap: &Snapshot) {
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.settings.mixing, "Multi-head and mixing")
                .on_hover_text("Each head's output V̂_h, their concatenation, the mixing matrix W_O and the mixed result");
            if self.settings.mixing {
                let layers = snap.gpt.config.n_layer;
                let l = ui.label("layer");
                ui.add(egui::Slider::new(&mut self.settings.mixing_layer, 0..=layers.saturating_sub(1)).custom_formatter(|v, _| format!("{}", v as usize + 1)))
                    .labelled_by(l.id);
            }
        });
        if !self.settings.mixing {
            return;
        }
        let layer = self
            .settings
            .mixing_layer
            .min(snap.gpt.config.n_layer.saturating_sub(1));
        let (Some(concat), Some(mixed), Some(bp)) = (
            self.analysis.heads_concat.get(layer),
            self.analysis.mixed.get(layer),
            snap.gpt.params.blocks.get(layer),
        ) else {
            ui.label("Type a prompt of known tokens.");
            return;
        };
        let (t, c) = concat.dim();
        let h = snap.gpt.config.n_head;
        let hs = c / h.max(1);
        let labels = &self.view.labels;
        let dims: Vec<String> = (0..c).map(|j| j.to_string()).collect();
        ui.label(format!(
            "Layer {}: each head writes a {t} × {hs} block V̂_h = A_h V_h; the {h} blocks side by side make V̂ ({t} × {c}); \
             the mixing matrix W_O ({c} × {c}, `c_proj`) combines them: V̂ W_Oᵀ + b ({t} × {c}).",
            layer + 1
        ));
        ui.horizontal_wrapped(|ui| {
            for head in 0..h {
                let block = concat.slice(s![.., head * hs..(head + 1) * hs]).to_owned();
                ui.vertical(|ui| {
                    ui.label(format!("V̂_{}: {t} × {hs}", head + 1));
                    Heatmap::new(format!("head output {}", head + 1), block.view())
                        .labels(Some(labels), None)
                        .axis_names("token", "dimension")
                        .colormap(Colormap::Diverging)
                        .max_size(egui::vec2(110.0, 110.0))
                        .colorbar(false)
                        .show(ui);
                });
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.vertical(|ui| {
                ui.label(format!("concatenation V̂: {t} × {c}"));
                Heatmap::new("heads concatenated", concat.view())
                    .labels(Some(labels), Some(&dims))
                    .axis_names("token", "dimension")
                    .colormap(Colormap::Diverging)
                    .max_size(egui::vec2(300.0, 150.0))
                    .show(ui);
            });
            ui.vertical(|ui| {
                ui.label(format!("mixing matrix W_O: {c} × {c}"));
                Heatmap::new("mixing matrix W_O", bp.attn_proj_w.view())
                    .axis_names("output", "input")
                    .colormap(Colormap::Diverging)
                    .max_size(egui::vec2(200.0, 200.0))
                    .show(ui);
            });
            ui.vertical(|ui| {
                ui.label(format!("mixed V̂ W_Oᵀ + b: {t} × {c}"));
                Heatmap::new("mixed output", mixed.view())
                    .labels(Some(labels), Some(&dims))
                    .axis_names("token", "dimension")
                    .colormap(Colormap::Diverging)
                    .max_size(egui::vec2(300.0, 150.0))
                    .show(ui);
            });
        });
    }

    fn three_bears_panel(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.settings.three_bears, "The three bears")
                .on_hover_text("One token, three meanings: where does the query \"bears\" look in each sentence?");
        });
        if !self.settings.three_bears {
            return;
        }
        if self.bears.is_empty() {
            ui.label("This model's vocabulary has no \"bears\": train on the bears task to see this panel.");
            return;
        }
        ui.label(
            "The attention row of the query \"bears\" in each sentence, for every layer × head and their mean. \
             The same token is pulled toward different context words. With the causal mask, \"bears\" sees only \
             the words before it (the hatched keys are masked).",
        );
        ui.columns(3, |cols| {
            for (
                col,
                BearsRows {
                    sentence,
                    tokens,
                    heads: names,
                    rows: m,
                },
            ) in cols.iter_mut().zip(&self.bears)
            {
                col.strong(format!("\"{sentence}\""));
                Heatmap::new(format!("bears in: {sentence}"), m.view())
                    .labels(Some(names), Some(tokens))
                    .axis_names("head", "key")
                    .range(0.0, 1.0)
                    .max_cell(34.0)
                    .colorbar(false)
                    .show(col);
            }
        });
    }

    fn attention_grid(&mut self, ui: &mut Ui, snap: &Snapshot) {
        let frames = &snap.probe.1;
        let probe_matches = snap.probe.0 == self.view.ids && !frames.is_empty();
        ui.horizontal_wrapped(|ui| {
            ui.add_enabled(
                probe_matches,
                egui::Checkbox::new(&mut self.settings.replay, "replay training"),
            )
            .on_hover_text("Show the attention recorded every few steps while the model trained");
            if probe_matches && self.settings.replay {
                let last = frames.len() - 1;
                self.settings.replay_frame = self.settings.replay_frame.min(last);
                let l = ui.label("recorded frame");
                ui.add(
                    egui::Slider::new(&mut self.settings.replay_frame, 0..=last).show_value(false),
                )
                .labelled_by(l.id);
                ui.label(format!(
                    "step {} (recorded)",
                    frames[self.settings.replay_frame].step
                ));
            }
        });
        let replayed = (probe_matches && self.settings.replay && !self.settings.show_scores)
            .then(|| {
                frames
                    .get(self.settings.replay_frame)
                    .map(|f| f.attention.clone())
            })
            .flatten();
        ui.horizontal_wrapped(|ui| {
            ui.strong("Attention: rows = queries, columns = keys");
            ui.checkbox(&mut self.settings.show_scores, "pre-softmax scores")
                .on_hover_text("QKᵀ/√d before the softmax; masked (future) keys are −∞");
            ui.checkbox(&mut self.settings.head_average, "average over heads");
        });
        let maps = match &replayed {
            Some(r) => r,
            None if self.settings.show_scores => &self.analysis.scores,
            None => &self.analysis.attention,
        };
        if maps.is_empty() {
            return;
        }
        let labels = self.view.labels.clone();
        let cmap = if self.settings.show_scores {
            Colormap::Diverging
        } else {
            Colormap::Viridis
        };
        let causal = !self.settings.show_scores && snap.gpt.config.causal;
        let mut clicked = None;
        egui::Grid::new("live_attention_grid")
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                for (l, layer) in maps.iter().enumerate() {
                    if self.settings.head_average {
                        let avg = average(layer);
                        ui.vertical(|ui| {
                            ui.label(format!("layer {} · mean of {} heads", l + 1, layer.len()));
                            let mut h = Heatmap::new(
                                format!("attention layer {} average", l + 1),
                                avg.view(),
                            )
                            .labels(Some(&labels), Some(&labels))
                            .axis_names("query", "key")
                            .colormap(cmap)
                            .causal(causal)
                            .max_size(egui::vec2(180.0, 180.0))
                            .colorbar(false);
                            if !self.settings.show_scores {
                                h = h.range(0.0, 1.0);
                            }
                            h.show(ui);
                        });
                    } else {
                        for (hh, map) in layer.iter().enumerate() {
                            ui.vertical(|ui| {
                                let sel = l == self.settings.selected_layer
                                    && hh == self.settings.selected_head;
                                let title = format!("layer {} head {}", l + 1, hh + 1);
                                ui.label(if sel {
                                    RichText::new(&title).strong()
                                } else {
                                    RichText::new(&title)
                                });
                                let mut h = Heatmap::new(format!("attention {title}"), map.view())
                                    .labels(Some(&labels), Some(&labels))
                                    .axis_names("query", "key")
                                    .colormap(cmap)
                                    .causal(causal)
                                    .max_size(egui::vec2(130.0, 130.0))
                                    .colorbar(false);
                                if !self.settings.show_scores {
                                    h = h.range(0.0, 1.0);
                                }
                                if h.show(ui).response.clicked() {
                                    clicked = Some((l, hh));
                                }
                            });
                        }
                    }
                    ui.end_row();
                }
            });
        if let Some((l, h)) = clicked {
            self.settings.selected_layer = l;
            self.settings.selected_head = h;
        }
        if !self.settings.head_average
            && let Some(map) = maps
                .get(self.settings.selected_layer)
                .and_then(|m| m.get(self.settings.selected_head))
        {
            ui.add_space(6.0);
            ui.strong(format!(
                "layer {} head {} (click a thumbnail to enlarge it)",
                self.settings.selected_layer + 1,
                self.settings.selected_head + 1
            ));
            let mut h = Heatmap::new("attention enlarged", map.view())
                .labels(Some(&labels), Some(&labels))
                .axis_names("query", "key")
                .colormap(cmap)
                .causal(causal)
                .max_size(egui::vec2(420.0, 420.0));
            if !self.settings.show_scores {
                h = h.range(0.0, 1.0);
            }
            h.show(ui);
        }
    }
}

/// The top next tokens as a bar list: token, bar, percentage — readable from the back row.
fn next_token_bars(ui: &mut Ui, top: &[(String, f32)]) {
    let font = egui::FontId::proportional(15.0);
    let text = ui.visuals().text_color();
    let bar_color = crate::widgets::Colormap::Viridis.at(0.6);
    let width = ui.available_width().clamp(200.0, 520.0);
    for (token, p) in top {
        let (rect, resp) = ui.allocate_exact_size(egui::vec2(width, 22.0), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        let label_w = 90.0;
        painter.text(
            rect.left_center() + egui::vec2(label_w - 6.0, 0.0),
            egui::Align2::RIGHT_CENTER,
            token,
            font.clone(),
            text,
        );
        let bar_max = rect.width() - label_w - 70.0;
        let bar = egui::Rect::from_min_size(
            rect.left_top() + egui::vec2(label_w, 3.0),
            egui::vec2((bar_max * p.clamp(0.0, 1.0)).max(1.0), rect.height() - 6.0),
        );
        painter.rect_filled(bar, 3.0, bar_color);
        painter.text(
            bar.right_center() + egui::vec2(6.0, 0.0),
            egui::Align2::LEFT_CENTER,
            format!("{:.1} %", 100.0 * p),
            font.clone(),
            text,
        );
        resp.on_hover_text(format!("p(next = \"{token}\") = {p:.4}"));
    }
}

fn average(maps: &[Array2<f32>]) -> Array2<f32> {
    let mut out = maps
        .first()
        .map(|m| Array2::zeros(m.dim()))
        .unwrap_or_else(|| Array2::zeros((0, 0)));
    for m in maps {
        out += m;
    }
    out / maps.len().max(1) as f32
}

impl Lesson for Live {
    fn id(&self) -> &'static str {
        "live"
    }
    fn title(&self) -> &'static str {
        "The transformer, live"
    }
    fn summary(&self) -> &'static str {
        "A small GPT trained on sentences where \"bears\" is an animal, a verb and a team. Press Reset to \
         retrain it from scratch and watch the loss fall and the attention heads form."
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
        self.controls(ui, &snap);
        self.model_settings(ui);
        self.file_dialog(ui);
        ui.separator();
        ui.columns(2, |cols| {
            self.loss_plot(&mut cols[0], &snap);
            self.prompt(&mut cols[1], &snap);
            cols[1].add_space(4.0);
            self.next_token(&mut cols[1], &snap);
        });
        ui.separator();
        self.mixing_panel(ui, &snap);
        ui.separator();
        self.three_bears_panel(ui);
        ui.separator();
        self.attention_grid(ui, &snap);
        ui.separator();
        ui.checkbox(&mut self.settings.compare, "Compare runs")
            .on_hover_text("Train up to 4 configurations from the same seed side by side");
        if self.settings.compare {
            let base = self.settings.train_config();
            self.compare.ui(ui, &base, &self.settings.prompt);
        }
    }

    fn settings(&self) -> Value {
        settings_to_json(&self.settings)
    }
    fn set_settings(&mut self, settings: Value) -> Result<(), String> {
        let s: LiveSettings = settings_from_json(settings)?;
        if !(s.temperature.is_finite() && s.temperature > 0.0) {
            return Err("temperature must be positive".into());
        }
        if s.top_k == 0 {
            return Err("top_k must be at least 1".into());
        }
        self.settings = s;
        self.cache_key = None;
        Ok(())
    }

    fn data(&self) -> Value {
        // Headless: the pretrained model (the GUI starts from the same weights).
        let Ok((gpt, tokenizer)) = pretrained() else {
            return json!({"error": "the pretrained model could not be loaded"});
        };
        let view = prompt_view(&tokenizer, &self.settings.prompt, gpt.config.block_size);
        let a = analyze(&gpt, &view.ids);
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
                &tokenizer,
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
            "settings": self.settings(),
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

    fn csv(&self) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_bears_skips_sentences_the_model_cannot_read() {
        let (gpt, tok) = pretrained().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bears_rows(&gpt, &tok).len(), 3);
        let mut no_bears = tok.clone();
        no_bears.vocab.retain(|v| v != "bears");
        assert!(bears_rows(&gpt, &no_bears).is_empty());
    }

    #[test]
    fn pretrained_model_loads_and_attends() {
        let (gpt, tok) = pretrained().unwrap_or_else(|e| panic!("{e}"));
        let view = prompt_view(&tok, "i love bears", gpt.config.block_size);
        assert_eq!(view.labels, vec!["i", "love", "bears"]);
        let a = analyze(&gpt, &view.ids);
        assert_eq!(a.attention.len(), gpt.config.n_layer);
        assert_eq!(a.attention[0].len(), gpt.config.n_head);
        for row in a.attention[0][0].outer_iter() {
            assert!((row.sum() - 1.0).abs() < 1e-5);
        }
        // Causal: the first query sees only itself.
        assert_eq!(a.attention[0][0][[0, 1]], 0.0);
        let top = top_next(&tok, &a.last_logits, 1.0, 3);
        assert_eq!(
            top[0].0, ".",
            "after \"i love bears\" the sentence ends: {top:?}"
        );
    }

    #[test]
    fn mixing_reproduces_the_attention_branch_of_the_residual_stream() {
        let (gpt, tok) = pretrained().unwrap_or_else(|e| panic!("{e}"));
        let ids = tok.encode("the bears won the game").unwrap_or_default();
        let a = analyze(&gpt, &ids);
        let mut acts = Activations::default();
        gpt_forward(&gpt, &mut acts, &ids, None, 1, ids.len(), false);
        for l in 0..gpt.config.n_layer {
            // resid2 = x + mixed: the mixed heads are exactly what attention adds to the stream.
            let added = &acts.blocks[l].resid2 - &acts.resid[l];
            let diff = (&a.mixed[l] - &added)
                .mapv(f32::abs)
                .fold(0.0_f32, |m, v| m.max(*v));
            assert!(diff < 1e-5, "layer {l}: {diff}");
        }
    }

    #[test]
    fn generation_is_greedy_or_seeded() {
        let (gpt, tok) = pretrained().unwrap_or_else(|e| panic!("{e}"));
        let ids = tok.encode("she bears the").unwrap_or_default();
        let a = analyze(&gpt, &ids);
        let greedy = generate_next(&tok, &a.last_logits, 1.0, true, 0).unwrap_or_default();
        assert!(
            ["pain", "weight", "burden", "cost"].contains(&greedy.as_str()),
            "{greedy}"
        );
        let s1 = generate_next(&tok, &a.last_logits, 1.0, false, 7);
        assert_eq!(s1, generate_next(&tok, &a.last_logits, 1.0, false, 7));
    }

    #[test]
    fn unknown_words_are_listed_and_long_prompts_cut() {
        let (gpt, tok) = pretrained().unwrap_or_else(|e| panic!("{e}"));
        let v = prompt_view(&tok, "i love salmon bears", gpt.config.block_size);
        assert_eq!(v.unknown, vec![false, false, true, false]);
        assert_eq!(v.labels, vec!["i", "love", "bears"]);
        let long = "the bears won the game . ".repeat(6);
        let v = prompt_view(&tok, &long, gpt.config.block_size);
        assert_eq!(v.ids.len(), gpt.config.block_size);
        assert_eq!(v.cut, 36 - gpt.config.block_size);
    }
}
