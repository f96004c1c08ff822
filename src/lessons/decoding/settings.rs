//! The decoding lesson's settings: what persists and what `--set key=value` changes.

use serde::{Deserialize, Serialize};

use crate::lessons::lesson::{Validate, check, range};
use crate::math::decoding::{Smoothing, Trellis};

/// Which model `attention-lab data decoding` searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The hand-set trellis of section 1.
    Trellis,
    /// The language model (bundled or loaded).
    Model,
}

/// The widest beam.
pub const MAX_BEAM: usize = 16;
/// The longest continuation.
pub const MAX_LEN: usize = 12;
/// The deepest trellis.
pub const MAX_DEPTH: usize = 4;
/// The longest exact-search horizon on the model.
pub const MAX_HORIZON: usize = 5;

/// The lesson's persisted settings (also `attention-lab data decoding --set key=value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DecodingSettings {
    /// The prompt the model continues.
    pub prompt: String,
    /// A checkpoint to decode with instead of the bundled bears model (`None`: bundled).
    pub checkpoint: Option<String>,
    /// Beam width (1 = greedy … 16).
    pub beam: usize,
    /// Most tokens generated after the prompt.
    pub max_len: usize,
    /// Length-normalisation exponent α: hypotheses score log p / length^α (0: off).
    pub length_alpha: f64,
    /// Steps of the search tree drawn (the step button advances it; at least 1).
    pub shown_steps: usize,
    /// What `data` searches: the trellis or the model.
    pub source: Source,
    /// The exact search's horizon on the model (section 3).
    pub horizon: usize,
    /// The trellis: weights of the first word (3).
    pub trellis_start: Vec<f64>,
    /// The trellis: weights of the next word, one row per current word (3 × 3).
    pub trellis_next: Vec<Vec<f64>>,
    /// The trellis's depth (words per path).
    pub depth: usize,
    /// The BLEU candidate.
    pub candidate: String,
    /// The BLEU references, one per line (or separated by "|").
    pub references: String,
    /// Smoothing of zero n-gram counts.
    pub smoothing: Smoothing,
    /// The reference the greedy and beam outputs are scored against.
    pub model_reference: String,
}

impl Default for DecodingSettings {
    fn default() -> Self {
        let t = Trellis::lecture();
        Self {
            prompt: "the".into(),
            checkpoint: None,
            beam: 4,
            max_len: 8,
            length_alpha: 0.0,
            shown_steps: MAX_LEN,
            source: Source::Model,
            horizon: 4,
            trellis_start: t.start,
            trellis_next: t.next,
            depth: 3,
            candidate: "the bears won the match .".into(),
            references: "the bears won the game .\nthe bears lost the game .".into(),
            smoothing: Smoothing::None,
            model_reference: "the bears play tonight .".into(),
        }
    }
}

impl DecodingSettings {
    /// The trellis these settings describe.
    pub fn trellis(&self) -> Trellis {
        Trellis {
            words: Trellis::lecture().words,
            start: self.trellis_start.clone(),
            next: self.trellis_next.clone(),
        }
    }

    /// The references, one per non-empty line or "|"-separated piece.
    pub fn reference_list(&self) -> Vec<String> {
        self.references
            .split(['\n', '|'])
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

fn weights(name: &str, row: &[f64]) -> Result<(), String> {
    for &w in row {
        range(name, w, 0.0, 100.0)?;
    }
    check(
        name,
        row.iter().sum::<f64>() > 0.0,
        "weights with a positive sum",
        "all zeros",
    )
}

impl Validate for DecodingSettings {
    fn validate(&self) -> Result<(), String> {
        range("beam", self.beam as f64, 1.0, MAX_BEAM as f64)?;
        range("max_len", self.max_len as f64, 1.0, MAX_LEN as f64)?;
        range("length_alpha", self.length_alpha, 0.0, 2.0)?;
        range("shown_steps", self.shown_steps as f64, 1.0, MAX_LEN as f64)?;
        range("horizon", self.horizon as f64, 1.0, MAX_HORIZON as f64)?;
        range("depth", self.depth as f64, 1.0, MAX_DEPTH as f64)?;
        let v = Trellis::lecture().words.len();
        check(
            "trellis_start",
            self.trellis_start.len() == v,
            &format!("{v} weights"),
            self.trellis_start.len(),
        )?;
        weights("trellis_start", &self.trellis_start)?;
        check(
            "trellis_next",
            self.trellis_next.len() == v && self.trellis_next.iter().all(|r| r.len() == v),
            &format!("{v} rows of {v} weights"),
            format!("{} rows", self.trellis_next.len()),
        )?;
        for row in &self.trellis_next {
            weights("trellis_next", row)?;
        }
        for (name, text) in [
            ("prompt", &self.prompt),
            ("candidate", &self.candidate),
            ("references", &self.references),
            ("model_reference", &self.model_reference),
        ] {
            let n = text.chars().count();
            check(name, n <= 2000, "at most 2000 characters", n)?;
        }
        if let Some(path) = &self.checkpoint {
            check(
                "checkpoint",
                !path.is_empty() && path.chars().count() <= 4096,
                "a file path",
                "an empty or overlong text",
            )?;
        }
        Ok(())
    }
}
