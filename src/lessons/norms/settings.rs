//! The norms lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::lessons::lesson::{Validate, check, range};
use crate::math::norms::Population;
pub use crate::math::norms::ReluOrder;

/// Where the activation matrix comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Features with different means and scales, seeded.
    #[default]
    Synthetic,
    /// The residual stream of the bundled bears model (rows = tokens of a batch).
    Model,
}

/// The lesson's persisted settings (also `attention-lab data norms --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NormSettings {
    /// Rows B of the matrix (1…256).
    pub batch: usize,
    /// Columns C (2…64).
    pub features: usize,
    /// Seed of the synthetic matrix and of the batches.
    pub seed: u64,
    /// Synthetic or the model's residual stream.
    pub source: Source,
    /// Spread of the features' means (synthetic).
    pub mean_spread: f64,
    /// Spread of the features' log-scales (synthetic).
    pub scale_spread: f64,
    /// The feature whose histogram and estimates are drawn.
    pub feature: usize,
    /// γ of section 4 (0.1…3).
    pub gamma: f64,
    /// β of section 4 (−3…3).
    pub beta: f64,
    /// BN before or after the ReLU.
    pub relu: ReluOrder,
    /// The residual-stream layer captured from the model (0 = embeddings).
    pub layer: usize,
}

impl Default for NormSettings {
    fn default() -> Self {
        Self {
            batch: 8,
            features: 16,
            seed: 0,
            source: Source::Synthetic,
            mean_spread: 2.0,
            scale_spread: 0.7,
            feature: 0,
            gamma: 1.0,
            beta: 0.5,
            relu: ReluOrder::Before,
            layer: 1,
        }
    }
}

impl Validate for NormSettings {
    fn validate(&self) -> Result<(), String> {
        range("batch", self.batch as f64, 1.0, 256.0)?;
        range("features", self.features as f64, 2.0, 64.0)?;
        range("mean_spread", self.mean_spread, 0.0, 5.0)?;
        range("scale_spread", self.scale_spread, 0.0, 2.0)?;
        range("gamma", self.gamma, 0.1, 3.0)?;
        range("beta", self.beta, -3.0, 3.0)?;
        check("layer", self.layer <= 2, "0, 1 or 2", self.layer)?;
        Ok(())
    }
}

impl NormSettings {
    /// The synthetic population these settings describe.
    pub fn population(&self) -> Population {
        Population::new(
            self.features,
            self.mean_spread,
            self.scale_spread,
            self.seed,
        )
    }
}
