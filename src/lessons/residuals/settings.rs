//! The residuals lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::lessons::lesson::{Validate, range};
use crate::model::NormKind;

/// The lesson's persisted settings (also `attention-lab data residuals --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResidualSettings {
    /// The prompt the bundled model reads (sections 1, 2 and 5).
    pub prompt: String,
    /// The block shown (from 0).
    pub layer: usize,
    /// Which tensor of the block is drawn large (an index of `math::block::STREAM`).
    pub tensor: usize,
    /// The token replaced in section 2 (from 0).
    pub position: usize,
    /// What it is replaced by.
    pub replacement: String,
    /// Depth of the runs of section 3 and of `data`'s gradient table (1 … 12).
    pub layers: usize,
    /// Skip connections in `data`'s gradient table.
    pub residual: bool,
    /// The norm in `data`'s gradient table.
    pub norm: NormKind,
    /// The input's scale in section 4 (0.01 … 100).
    pub scale: f32,
}

impl Default for ResidualSettings {
    fn default() -> Self {
        Self {
            prompt: "she bears the pain . the bears won the".into(),
            layer: 0,
            tensor: 3,
            position: 3,
            replacement: "game".into(),
            layers: 8,
            residual: true,
            norm: NormKind::LayerNorm,
            scale: 1.0,
        }
    }
}

impl Validate for ResidualSettings {
    fn validate(&self) -> Result<(), String> {
        range("layer", self.layer as f64, 0.0, 23.0)?;
        range("tensor", self.tensor as f64, 0.0, 8.0)?;
        range("position", self.position as f64, 0.0, 1023.0)?;
        range("layers", self.layers as f64, 1.0, 12.0)?;
        range("scale", f64::from(self.scale), 0.01, 100.0)?;
        if self.prompt.chars().count() > 400 {
            return Err(format!(
                "prompt must be at most 400 characters, got {}",
                self.prompt.chars().count()
            ));
        }
        Ok(())
    }
}
