//! The attention lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::lessons::lesson::{Validate, range};
use crate::math::attention::{HANDMADE_AXES, HANDMADE_KEY_DIMS, Handmade, Role};

/// The lecture's three sentences, or the student's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sentence {
    /// "i love bears": bears the animal, the object of "love".
    #[default]
    Love,
    /// "she bears the pain": bears the verb.
    Pain,
    /// "the bears won the game": bears the team, the subject.
    Game,
    /// The `prompt` setting.
    Custom,
}

impl Sentence {
    /// The three sentences, in the lecture's order.
    pub const LECTURE: [Sentence; 3] = [Sentence::Love, Sentence::Pain, Sentence::Game];

    /// The sentence's words.
    pub fn text(self, prompt: &str) -> String {
        match self {
            Sentence::Love => "i love bears".into(),
            Sentence::Pain => "she bears the pain".into(),
            Sentence::Game => "the bears won the game".into(),
            Sentence::Custom => prompt.trim().to_owned(),
        }
    }
}

/// Whose numbers: the hand-made embedding with named axes, or a trained model's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ModelChoice {
    /// Named axes and hand-set W_Q, W_K (section 3).
    Handmade,
    /// The bundled encoder: no causal mask, trained to tell the three senses of "bears".
    #[default]
    Encoder,
    /// The bundled decoder of the live lesson (causal mask, next-token prediction).
    Causal,
}

/// The lesson's persisted settings (also `attention-lab data attention --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttentionSettings {
    /// Which sentence.
    pub sentence: Sentence,
    /// The student's own sentence (`sentence = custom`), in the model's vocabulary.
    pub prompt: String,
    /// Whose embeddings and heads.
    pub model: ModelChoice,
    /// The factor c of S = c·XXᵀ in parameter-free attention (0.05 … 5).
    pub scale: f32,
    /// Layer of the learned head (from 0).
    pub layer: usize,
    /// Head of the learned head (from 0).
    pub head: usize,
    /// W_Q of the hand-made section: one row per named axis, one column per key dimension.
    pub w_q: [[f32; 2]; 6],
    /// W_K of the hand-made section.
    pub w_k: [[f32; 2]; 6],
}

/// A hand-made matrix (6 × 2) as the settings keep it.
pub fn to_rows(m: &ndarray::Array2<f32>) -> [[f32; 2]; 6] {
    let mut out = [[0.0; 2]; 6];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = m.get((r, c)).copied().unwrap_or(0.0);
        }
    }
    out
}

/// The settings' matrix as an array (6 × 2).
pub fn to_array(rows: &[[f32; 2]; 6]) -> ndarray::Array2<f32> {
    ndarray::Array2::from_shape_fn((6, 2), |(r, c)| rows[r][c])
}

/// The query strength of the presets: with it the preset's helper takes most of the weight.
pub const PRESET_STRENGTH: f32 = 6.0;

impl Default for AttentionSettings {
    fn default() -> Self {
        let h = Handmade::new();
        Self {
            sentence: Sentence::Love,
            prompt: "she bears the pain".into(),
            model: ModelChoice::Handmade,
            scale: 1.0,
            layer: 0,
            // Layer 1, head 2 of the bundled encoder: the head whose "bears" finds love, pain
            // and game (tests/lessons.rs checks it).
            head: 1,
            w_q: to_rows(&h.w_q(Role::LooksForVerb, PRESET_STRENGTH)),
            w_k: to_rows(&h.w_k()),
        }
    }
}

impl Validate for AttentionSettings {
    fn validate(&self) -> Result<(), String> {
        range("scale", f64::from(self.scale), 0.05, 5.0)?;
        range("layer", self.layer as f64, 0.0, 23.0)?;
        range("head", self.head as f64, 0.0, 63.0)?;
        if self.prompt.chars().count() > 200 {
            return Err(format!(
                "prompt must be at most 200 characters, got {}",
                self.prompt.chars().count()
            ));
        }
        for (name, m) in [("w_q", &self.w_q), ("w_k", &self.w_k)] {
            for (r, row) in m.iter().enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    if !(v.is_finite() && v.abs() <= 20.0) {
                        return Err(format!(
                            "{name}[{}][{}] ({} → {}) must be between −20 and 20, got {v}",
                            r, c, HANDMADE_AXES[r], HANDMADE_KEY_DIMS[c]
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}
