//! The positions lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::lessons::lesson::{Validate, check, range};
use crate::model::PosEncoding;

/// The lesson's persisted settings (also `attention-lab data positions --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PositionSettings {
    /// Positions T (2…256).
    pub ctx: usize,
    /// Width d of the sinusoidal table (2…128, even).
    pub d: usize,
    /// The sinusoids' base (10…100000; 10000 in the paper).
    pub base: f64,
    /// The position read in section 2 (clamped to T − 1).
    pub position: usize,
    /// The prompt of sections 4 and 5 (words of the bears vocabulary).
    pub prompt: String,
    /// Seed of the shuffle and of the random encoder in section 5.
    pub seed: u64,
    /// The positional encoding compared against "none" in section 5.
    pub with: PosEncoding,
}

impl Default for PositionSettings {
    fn default() -> Self {
        Self {
            ctx: 64,
            d: 32,
            base: 10_000.0,
            position: 5,
            prompt: "the bears won the game".into(),
            seed: 0,
            with: PosEncoding::Sinusoidal,
        }
    }
}

impl Validate for PositionSettings {
    fn validate(&self) -> Result<(), String> {
        check(
            "ctx",
            (2..=256).contains(&self.ctx),
            "between 2 and 256",
            self.ctx,
        )?;
        let even = (2..=128).contains(&self.d) && self.d.is_multiple_of(2);
        check("d", even, "an even number between 2 and 128", self.d)?;
        range("base", self.base, 10.0, 100_000.0)?;
        if self.with == PosEncoding::None {
            return Err(
                "with must be learned, sinusoidal or binary (it is compared against none)".into(),
            );
        }
        Ok(())
    }
}
