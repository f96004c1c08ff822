//! `GptConfig`: the model's size and the switches the lessons flip.
//!
//! Field names and JSON spellings follow the checkpoint metadata of ARCHITECTURE.md, so a config
//! round-trips through a `.safetensors` file unchanged.

use serde::{Deserialize, Serialize};

/// How positions enter the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PosEncoding {
    /// A trained table `wpe` (T × C), as in GPT-2.
    #[default]
    Learned,
    /// Vaswani et al.: PE[p, 2i] = sin(p / base^(2i/C)), PE[p, 2i+1] = cos(p / base^(2i/C)).
    Sinusoidal,
    /// Bit j of p (least significant first) as ±1 in column j.
    Binary,
    /// No positions: attention is permutation-equivariant.
    None,
}

/// Which normalisation the blocks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum NormKind {
    /// Statistics over the C features of each token (the transformer default).
    #[default]
    LayerNorm,
    /// Root mean square over the features, no centring.
    RmsNorm,
    /// Statistics over the batch · time rows of each feature; running averages for inference.
    BatchNorm,
    /// Identity.
    None,
}

/// Model size and switches. Defaults: the bears model of the live lesson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GptConfig {
    /// Vocabulary size V.
    pub vocab_size: usize,
    /// Number of transformer blocks L.
    pub n_layer: usize,
    /// Attention heads H per block.
    pub n_head: usize,
    /// Width of the residual stream C (`n_embd`); head size is C / H.
    pub n_embd: usize,
    /// Context length T (the longest sequence the model sees).
    pub block_size: usize,
    /// Positional encoding.
    pub pos_encoding: PosEncoding,
    /// Scale scores by 1/√(head size) (true in every real transformer).
    pub attn_scale: bool,
    /// Causal mask: a query sees only keys at or before it (decoder); false = encoder.
    pub causal: bool,
    /// Normalisation in the blocks and at the end.
    pub norm: NormKind,
}

impl Default for GptConfig {
    fn default() -> Self {
        Self {
            vocab_size: 64,
            n_layer: 2,
            n_head: 4,
            n_embd: 64,
            block_size: 16,
            pos_encoding: PosEncoding::Learned,
            attn_scale: true,
            causal: true,
            norm: NormKind::LayerNorm,
        }
    }
}

impl GptConfig {
    /// Head size C / H.
    pub fn head_size(&self) -> usize {
        self.n_embd / self.n_head.max(1)
    }

    /// Check the sizes make a model; the error names the problem.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
            ("n_embd", self.n_embd),
            ("block_size", self.block_size),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return Err(format!(
                "n_embd ({}) must be a multiple of n_head ({})",
                self.n_embd, self.n_head
            ));
        }
        if self.n_embd > 4096
            || self.block_size > 4096
            || self.n_layer > 64
            || self.vocab_size > 1 << 20
        {
            return Err(
                "model too large for this app (n_embd, block_size ≤ 4096, n_layer ≤ 64)".into(),
            );
        }
        Ok(())
    }
}
