//! The live lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::data::Task;
use crate::lessons::lesson::{Validate, check, range};
use crate::model::{GptConfig, NormKind, PosEncoding};
use crate::train::TrainConfig;

/// The lesson's tabs: the main scene first, the secondary panels after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LiveTab {
    /// The loss, the prompt and its next token, and the attention of every layer × head.
    #[default]
    Training,
    /// Each head's output, their concatenation and the mixing matrix W_O.
    Mixing,
    /// The query "bears" in the lecture's three sentences.
    Bears,
    /// Configurations trained side by side.
    Compare,
    /// The model and the task a Reset trains.
    Model,
}

impl LiveTab {
    /// Every tab, in order, with its label.
    pub const ALL: [(LiveTab, &'static str); 5] = [
        (LiveTab::Training, "Training"),
        (LiveTab::Mixing, "Multi-head mixing"),
        (LiveTab::Bears, "The three bears"),
        (LiveTab::Compare, "Compare runs"),
        (LiveTab::Model, "Model and task"),
    ];
}

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
    /// The open tab.
    pub tab: LiveTab,
    /// Show one map large instead of the grid of every layer × head.
    pub enlarged: bool,
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
    /// Skip connections around each sub-layer.
    pub residual: bool,
    /// Norm.
    pub norm: NormKind,
    /// Seed of the next reset.
    pub seed: u64,
    /// The file of the text task.
    pub text_file: Option<std::path::PathBuf>,
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
            // Both senses of "bears" the causal model can read: a verb, then a team.
            prompt: "she bears the pain . the bears won the game".into(),
            tab: LiveTab::Training,
            enlarged: false,
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
            residual: true,
            norm: NormKind::LayerNorm,
            seed: 0,
            text_file: None,
            mixing_layer: 0,
            greedy: true,
            sample_seed: 0,
            replay: false,
            replay_frame: 0,
        }
    }
}

impl LiveSettings {
    /// The training run these settings describe.
    pub fn train_config(&self) -> TrainConfig {
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
                residual: self.residual,
            },
            task: self.task.clone(),
            // The file is read by the text task only (it stays chosen for when the task is
            // switched back).
            text_file: (self.task == Task::Text)
                .then(|| self.text_file.clone())
                .flatten(),
            batch: self.batch,
            lr: self.lr,
            seed: self.seed,
            ..TrainConfig::default()
        }
    }
}

/// The ranges of the live lesson's controls. Validation takes exactly what the controls can
/// show, so that a value set with `--set` or read from saved settings is never displayed as
/// something else than what trains.
pub mod ranges {
    /// Width d.
    pub const D: (usize, usize) = (8, 256);
    /// Layers.
    pub const LAYERS: (usize, usize) = (1, 6);
    /// Heads.
    pub const HEADS: (usize, usize) = (1, 16);
    /// Context.
    pub const CTX: (usize, usize) = (4, 64);
    /// Sequences per batch.
    pub const BATCH: (usize, usize) = (1, 64);
    /// Learning rate (a logarithmic slider).
    pub const LR: (f32, f32) = (1e-5, 1.0);
    /// Softmax temperature of the next-token chart.
    pub const TEMPERATURE: (f32, f32) = (0.1, 3.0);
    /// Next tokens listed.
    pub const TOP_K: (usize, usize) = (1, 50);
    /// The longest prompt, in characters.
    pub const PROMPT_CHARS: usize = 2000;
}

impl Validate for LiveSettings {
    fn validate(&self) -> Result<(), String> {
        use ranges::*;
        let size = |name: &str, v: usize, (lo, hi): (usize, usize)| {
            range(name, v as f64, lo as f64, hi as f64)
        };
        if self.task == crate::data::Task::BearsSense {
            return Err("task bears-sense trains an encoder to tag \"bears\" (the attention lesson's model); the live lesson predicts the next word: bears, reverse, sort or text".into());
        }
        size("d", self.d, D)?;
        size("layers", self.layers, LAYERS)?;
        size("heads", self.heads, HEADS)?;
        size("ctx", self.ctx, CTX)?;
        size("batch", self.batch, BATCH)?;
        size("top_k", self.top_k, TOP_K)?;
        range("lr", f64::from(self.lr), f64::from(LR.0), f64::from(LR.1))?;
        let (t0, t1) = TEMPERATURE;
        range(
            "temperature",
            f64::from(self.temperature),
            f64::from(t0),
            f64::from(t1),
        )?;
        let chars = self.prompt.chars().count();
        check(
            "prompt",
            chars <= PROMPT_CHARS,
            &format!("at most {PROMPT_CHARS} characters"),
            chars,
        )?;
        if !self.d.is_multiple_of(self.heads) {
            return Err(format!(
                "d ({}) must be a multiple of heads ({}): each head gets d / heads dimensions",
                self.d, self.heads
            ));
        }
        self.train_config().validate()
    }
}
