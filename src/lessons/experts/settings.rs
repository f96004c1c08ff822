//! The ensembles-and-experts lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::lessons::lesson::{Validate, check, range};
use crate::math::experts::{Routing, Target};

/// Components of the mixtures of section 2 (at most).
pub const MAX_COMPONENTS: usize = 4;

/// The lesson's persisted settings (also `attention-lab data experts --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExpertsSettings {
    /// Ensemble members k of sections 1 and 4 (1 … 64).
    pub k: usize,
    /// Each member's error variance v (section 1), and its logit-noise variance (section 4).
    pub v: f64,
    /// Correlation ρ = c / v of two members' errors (0 … 1).
    pub rho: f64,
    /// Seed of every random draw (samples, initial weights, noise).
    pub seed: u64,
    /// Section 2: components of the mixture the samples are drawn from (1 … 4).
    pub true_components: usize,
    /// Section 2: their means (4 values; the first `true_components` are used).
    pub true_means: Vec<f64>,
    /// Section 2: their standard deviations.
    pub true_sds: Vec<f64>,
    /// Section 2: their weights (normalised to sum 1).
    pub true_weights: Vec<f64>,
    /// Section 2: samples drawn (20 … 2000).
    pub samples: usize,
    /// Section 2: components EM fits (1 … 4).
    pub fit_components: usize,
    /// Section 2 and `data`: EM steps of the fit (0 … 500).
    pub em_steps: usize,
    /// Section 3: the regression target.
    pub target: Target,
    /// Section 3: experts in the mixture and members in the ensemble (2 … 6).
    pub experts: usize,
    /// Section 3: hidden units per expert (2 … 32).
    pub hidden: usize,
    /// Section 3: how the gate combines the experts.
    pub routing: Routing,
    /// Section 3 and `data`: training steps of the deterministic run in `data` (0 … 5000).
    pub train_steps: usize,
    /// Section 4: classes V (2 … 100).
    pub classes: usize,
    /// Section 4: the true class's logit margin m (0 … 10).
    pub margin: f64,
}

impl Default for ExpertsSettings {
    fn default() -> Self {
        Self {
            k: 8,
            v: 1.0,
            rho: 0.3,
            seed: 0,
            true_components: 2,
            true_means: vec![-2.0, 1.5, 0.0, 3.0],
            true_sds: vec![0.6, 1.0, 0.5, 0.5],
            true_weights: vec![0.4, 0.6, 0.5, 0.5],
            samples: 400,
            fit_components: 2,
            em_steps: 40,
            target: Target::Pieces,
            experts: 3,
            hidden: 8,
            routing: Routing::Competitive,
            train_steps: 1500,
            classes: 10,
            margin: 2.0,
        }
    }
}

impl Validate for ExpertsSettings {
    fn validate(&self) -> Result<(), String> {
        range("k", self.k as f64, 1.0, 64.0)?;
        range("v", self.v, 0.01, 10.0)?;
        range("rho", self.rho, 0.0, 1.0)?;
        range("true_components", self.true_components as f64, 1.0, 4.0)?;
        for (name, values) in [
            ("true_means", &self.true_means),
            ("true_sds", &self.true_sds),
            ("true_weights", &self.true_weights),
        ] {
            check(
                name,
                values.len() == MAX_COMPONENTS,
                &format!("a list of {MAX_COMPONENTS} numbers"),
                format!("{} numbers", values.len()),
            )?;
        }
        for &m in &self.true_means {
            range("true_means", m, -5.0, 5.0)?;
        }
        for &s in &self.true_sds {
            range("true_sds", s, 0.1, 3.0)?;
        }
        for &w in &self.true_weights {
            range("true_weights", w, 0.01, 1.0)?;
        }
        range("samples", self.samples as f64, 20.0, 2000.0)?;
        range("fit_components", self.fit_components as f64, 1.0, 4.0)?;
        range("em_steps", self.em_steps as f64, 0.0, 500.0)?;
        range("experts", self.experts as f64, 2.0, 6.0)?;
        range("hidden", self.hidden as f64, 2.0, 32.0)?;
        range("train_steps", self.train_steps as f64, 0.0, 5000.0)?;
        range("classes", self.classes as f64, 2.0, 100.0)?;
        range("margin", self.margin, 0.0, 10.0)?;
        Ok(())
    }
}
