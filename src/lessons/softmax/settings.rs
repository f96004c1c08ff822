//! The softmax lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::lessons::lesson::{Validate, range};

/// The lesson's persisted settings (also `attention-lab data softmax --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SoftmaxSettings {
    /// Number of scores n (2…64).
    pub n: usize,
    /// Seed of the Gaussian scores and the random vectors. Seed 0 with n = 8: ×100 puts 0.9999
    /// of the weight on one score (see the tests).
    pub seed: u64,
    /// The factor of the second softmax (1…100).
    pub scale: f64,
    /// Head size d of panel 2 (1…1024).
    pub d: usize,
    /// Keys T for the entropy curve (2…256).
    pub keys: usize,
}

impl Default for SoftmaxSettings {
    fn default() -> Self {
        Self {
            n: 8,
            seed: 0,
            scale: 100.0,
            d: 64,
            keys: 16,
        }
    }
}

impl Validate for SoftmaxSettings {
    fn validate(&self) -> Result<(), String> {
        range("n", self.n as f64, 2.0, 64.0)?;
        range("scale", self.scale, 1.0, 100.0)?;
        range("d", self.d as f64, 1.0, 1024.0)?;
        range("keys", self.keys as f64, 2.0, 256.0)?;
        Ok(())
    }
}
