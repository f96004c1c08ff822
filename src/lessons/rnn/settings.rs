//! The RNN lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::lessons::lesson::{Validate, range};
use crate::math::rnn::{Activation, ClipMode, RnnSpec, WInit};

/// The lesson's persisted settings (also `attention-lab data rnn --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RnnSettings {
    /// The scalar filter's coefficient w (−1.5…1.5).
    pub w_scalar: f64,
    /// Spectral radius of W (0.5…1.5).
    pub radius: f64,
    /// Sequence length T (1…200).
    pub steps: usize,
    /// Hidden size n (2…64).
    pub hidden: usize,
    /// Seed of W, the inputs and ∂L/∂h_T.
    pub seed: u64,
    /// φ: linear or tanh.
    pub activation: Activation,
    /// W = radius · orthogonal, or Gaussian rescaled to the radius.
    pub init: WInit,
    /// Clip the back-propagated gradient.
    pub clip: bool,
    /// Its threshold (norm).
    pub clip_threshold: f64,
    /// Clip ∂L/∂W once by its global norm (as practised), or ∂L/∂h at every step (a variant).
    pub clip_mode: ClipMode,
    /// s in a_t = W h_{t−1} + s·x_t (0.01…10), for the tanh panel.
    pub input_scale: f64,
    /// The LSTM's forget-gate bias b_f (−4…8): f ≈ σ(b_f).
    pub forget_bias: f64,
    /// The recall task's delay k (1…100): steps of noise between the symbol and the cue.
    pub recall_k: usize,
    /// Training steps of the recall run in `attention-lab data rnn` (0…3000).
    pub recall_steps: usize,
    /// Training steps of the teacher-forcing run in `attention-lab data rnn` (0…3000).
    pub forcing_steps: usize,
    /// The cell diagram's step t (1…T) and unit (0…n−1).
    pub cell_step: usize,
    /// The unit of the cell diagram.
    pub cell_unit: usize,
}

impl Default for RnnSettings {
    fn default() -> Self {
        Self {
            w_scalar: -0.9,
            radius: 0.9,
            steps: 100,
            hidden: 16,
            seed: 0,
            activation: Activation::Linear,
            init: WInit::Orthogonal,
            clip: false,
            clip_threshold: 10.0,
            clip_mode: ClipMode::Global,
            input_scale: 1.0,
            forget_bias: 3.0,
            recall_k: 20,
            recall_steps: 300,
            forcing_steps: 300,
            cell_step: 1,
            cell_unit: 0,
        }
    }
}

impl Validate for RnnSettings {
    fn validate(&self) -> Result<(), String> {
        range("w_scalar", self.w_scalar, -1.5, 1.5)?;
        range("radius", self.radius, 0.5, 1.5)?;
        range("steps", self.steps as f64, 1.0, 200.0)?;
        range("hidden", self.hidden as f64, 2.0, 64.0)?;
        range("clip_threshold", self.clip_threshold, 0.01, 1e6)?;
        range("input_scale", self.input_scale, 0.01, 10.0)?;
        range("forget_bias", self.forget_bias, -4.0, 8.0)?;
        range("recall_k", self.recall_k as f64, 1.0, 100.0)?;
        range("recall_steps", self.recall_steps as f64, 0.0, 3000.0)?;
        range("forcing_steps", self.forcing_steps as f64, 0.0, 3000.0)?;
        range("cell_step", self.cell_step as f64, 1.0, 200.0)?;
        range("cell_unit", self.cell_unit as f64, 0.0, 63.0)?;
        Ok(())
    }
}

impl RnnSettings {
    /// The matrix RNN of section 2.
    pub fn spec(&self) -> RnnSpec {
        RnnSpec {
            hidden: self.hidden,
            steps: self.steps,
            radius: self.radius,
            init: self.init,
            activation: self.activation,
            input_scale: 1.0,
            clip: self.clip.then_some(self.clip_threshold),
            clip_mode: self.clip_mode,
            seed: self.seed,
        }
    }

    /// Section 3: tanh at ρ(W) = 1 (orthogonal) with the input-scale slider, and the linear twin.
    pub fn saturation_specs(&self) -> (RnnSpec, RnnSpec) {
        let tanh = RnnSpec {
            hidden: self.hidden,
            steps: self.steps,
            radius: 1.0,
            init: WInit::Orthogonal,
            activation: Activation::Tanh,
            input_scale: self.input_scale,
            clip: None,
            clip_mode: ClipMode::Global,
            seed: self.seed,
        };
        let linear = RnnSpec {
            activation: Activation::Linear,
            ..tanh
        };
        (tanh, linear)
    }
}
