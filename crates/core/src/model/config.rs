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
    /// The skip connections x + f(x) around every sub-layer (true in every real transformer);
    /// false: x ← f(x), a plain stack. Checkpoints without the field load as true.
    pub residual: bool,
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
            residual: true,
        }
    }
}

/// The largest models this app builds: what a 2-core laptop with a few GB of memory can train
/// in front of a class. Every path that takes a config — command-line flags, `--set`, persisted
/// settings, checkpoint metadata, the GUI — checks these before allocating anything.
///
/// | limit | value | what it implies |
/// |---|---|---|
/// | `n_embd` (C) | ≤ 1024 | |
/// | `n_layer` (L) | ≤ 24 | |
/// | `n_head` (H) | ≤ 64, and dividing C | |
/// | `block_size` (T) | ≤ 1024 | the attention maps: 2·H·T² floats per layer and sequence |
/// | `vocab_size` (V) | ≤ 65 536 | the embedding V·C (256 MB at C = 1024) |
/// | parameters | ≤ 50 M | 200 MB of weights; training keeps 7 copies (weights, gradients, two AdamW moments, and the last good weights and moments): 1.4 GB |
/// A number as an error message shows it: plain for ordinary sizes, scientific for very small or
/// large ones (1e-308 is "1e-308", not three hundred zeros), at most 6 significant digits.
pub fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e6).contains(&v.abs()) {
        let s = format!("{v:.6}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    } else {
        let s = format!("{v:.5e}");
        match s.split_once('e') {
            Some((mantissa, exp)) => {
                let m = mantissa.trim_end_matches('0').trim_end_matches('.');
                format!("{m}e{exp}")
            }
            None => s,
        }
    }
}

pub mod limits {
    /// Largest width of the residual stream C.
    pub const MAX_EMBD: usize = 1024;
    /// Most transformer blocks L.
    pub const MAX_LAYERS: usize = 24;
    /// Most attention heads per block H.
    pub const MAX_HEADS: usize = 64;
    /// Longest context T.
    pub const MAX_CONTEXT: usize = 1024;
    /// Largest vocabulary V.
    pub const MAX_VOCAB: usize = 65_536;
    /// Most parameters (weights as f32: 4 bytes each).
    pub const MAX_PARAMS: usize = 50_000_000;
    /// No weight of a working model comes near this (trained weights here are of order 1–10);
    /// a larger one means a diverged run.
    pub const MAX_WEIGHT: f32 = 1e4;
}

impl GptConfig {
    /// Head size C / H.
    pub fn head_size(&self) -> usize {
        self.n_embd / self.n_head.max(1)
    }

    /// The number of trainable parameters: V·C (tied embedding and head) + T·C (learned
    /// positions) + L·(12C² + 13C) (attention 4C² + 4C, MLP 8C² + 5C, two norms 4C) + 2C (ln_f),
    /// saturating instead of overflowing for absurd sizes.
    pub fn param_count(&self) -> usize {
        let (v, c, t, l) = (self.vocab_size, self.n_embd, self.block_size, self.n_layer);
        let wpe = if self.pos_encoding == PosEncoding::Learned {
            t.saturating_mul(c)
        } else {
            0
        };
        let block = c
            .saturating_mul(c)
            .saturating_mul(12)
            .saturating_add(13 * c);
        v.saturating_mul(c)
            .saturating_add(wpe)
            .saturating_add(l.saturating_mul(block))
            .saturating_add(2 * c)
    }

    /// Check the sizes make a model this app can hold ([`limits`]); the error names the field,
    /// its value and the range.
    pub fn validate(&self) -> Result<(), String> {
        use limits::*;
        let sizes = [
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("n_layer", self.n_layer, MAX_LAYERS),
            ("n_head", self.n_head, MAX_HEADS),
            ("n_embd", self.n_embd, MAX_EMBD),
            ("block_size", self.block_size, MAX_CONTEXT),
        ];
        for (name, v, max) in sizes {
            if !(1..=max).contains(&v) {
                return Err(format!("{name} must be between 1 and {max}, got {v}"));
            }
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return Err(format!(
                "n_embd ({}) must be a multiple of n_head ({})",
                self.n_embd, self.n_head
            ));
        }
        let params = self.param_count();
        if params > MAX_PARAMS {
            return Err(format!(
                "a model of {params} parameters is too large for this app (at most {MAX_PARAMS}: \
                 {} MB of weights)",
                MAX_PARAMS * 4 / 1_000_000
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_saved_before_the_residual_switch_load_with_skips() {
        // The metadata of a checkpoint written before the field existed.
        let old = r#"{"vocab_size":48,"n_layer":2,"n_head":4,"n_embd":64,"block_size":16,"pos_encoding":"learned","attn_scale":true,"causal":true,"norm":"layernorm"}"#;
        let cfg: GptConfig = serde_json::from_str(old).unwrap_or_else(|e| panic!("{e}"));
        assert!(cfg.residual);
        let off: GptConfig = serde_json::from_str(&old.replace('}', r#","residual":false}"#))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!off.residual);
    }

    #[test]
    fn numbers_in_messages_stay_short() {
        assert_eq!(number(1e-308), "1e-308");
        assert_eq!(number(1e9), "1e9");
        assert_eq!(number(-2.5e-7), "-2.5e-7");
        assert_eq!(number(0.003), "0.003");
        assert_eq!(number(64.0), "64");
        assert_eq!(number(f64::INFINITY), "inf");
    }

    #[test]
    fn limits_are_checked_before_anything_is_allocated() {
        let huge = GptConfig {
            n_embd: 4096,
            n_layer: 64,
            vocab_size: 1 << 20,
            ..GptConfig::default()
        };
        let e = huge.validate().unwrap_err();
        assert!(e.contains("must be between 1 and"), "{e}");
        let big = GptConfig {
            n_embd: 1024,
            n_layer: 24,
            n_head: 16,
            ..GptConfig::default()
        };
        let e = big.validate().unwrap_err();
        assert!(e.contains("parameters"), "{e}");
        assert!(GptConfig::default().validate().is_ok());
    }
}
