//! The softmax lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::lessons::lesson::{SectionSettings, Validate, check};

/// The lesson's persisted settings (also `attention-lab data softmax --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SoftmaxSettings {
    /// The open section (0…3).
    pub section: usize,
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
            section: 0,
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
        check("n", (2..=64).contains(&self.n), "between 2 and 64", self.n)?;
        check(
            "scale",
            self.scale.is_finite() && (1.0..=100.0).contains(&self.scale),
            "between 1 and 100",
            self.scale,
        )?;
        check(
            "d",
            (1..=1024).contains(&self.d),
            "between 1 and 1024",
            self.d,
        )?;
        check(
            "keys",
            (2..=256).contains(&self.keys),
            "between 2 and 256",
            self.keys,
        )?;
        check("section", self.section <= 3, "0, 1, 2 or 3", self.section)?;
        Ok(())
    }
}

impl SectionSettings for SoftmaxSettings {
    fn section(&mut self) -> &mut usize {
        &mut self.section
    }
}
