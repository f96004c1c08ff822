//! The live lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::data::Task;
use crate::lessons::lesson::{Validate, check};
use crate::model::{GptConfig, NormKind, PosEncoding};
use crate::train::TrainConfig;

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

impl Validate for LiveSettings {
    fn validate(&self) -> Result<(), String> {
        let t = self.temperature;
        check(
            "temperature",
            t.is_finite() && t > 0.0,
            "a positive number",
            t,
        )?;
        check("top_k", self.top_k >= 1, "at least 1", self.top_k)?;
        Ok(())
    }
}
