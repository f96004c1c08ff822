//! A trained model as a file: the checkpoint (`model::checkpoint`, which keeps the tokenizer as
//! opaque JSON) together with its tokenizer, checked to agree — as many tokens as the model's
//! vocabulary, so that no id the tokenizer makes can index past the embedding.

use std::path::Path;

use super::runner::LossPoint;
use crate::data::Tokenizer;
use crate::model::checkpoint;
use crate::model::gpt::Gpt;

/// Parse a tokenizer from a checkpoint's metadata and check it against the model.
fn with_tokenizer(gpt: Gpt, tokenizer_json: &str) -> Result<(Gpt, Tokenizer), String> {
    let tokenizer: Tokenizer = serde_json::from_str(tokenizer_json)
        .map_err(|e| format!("the tokenizer is invalid: {e}"))?;
    if tokenizer.len() != gpt.config.vocab_size {
        return Err(format!(
            "the tokenizer has {} tokens but the model's vocabulary is {}",
            tokenizer.len(),
            gpt.config.vocab_size
        ));
    }
    Ok((gpt, tokenizer))
}

/// Load a model and its tokenizer from a checkpoint file.
pub fn load(path: &Path) -> Result<(Gpt, Tokenizer), String> {
    let (gpt, tokenizer) = checkpoint::load(path)?;
    with_tokenizer(gpt, &tokenizer).map_err(|e| format!("{}: {e}", path.display()))
}

/// [`load`] from the bytes of a checkpoint (a bundled model, a browser upload).
pub fn from_bytes(bytes: &[u8]) -> Result<(Gpt, Tokenizer), String> {
    let (gpt, tokenizer) = checkpoint::from_bytes(bytes)?;
    with_tokenizer(gpt, &tokenizer)
}

/// Save a model with its tokenizer.
pub fn save(path: &Path, gpt: &Gpt, tokenizer: &Tokenizer) -> Result<(), String> {
    let json =
        serde_json::to_string(tokenizer).map_err(|e| format!("cannot write the tokenizer: {e}"))?;
    checkpoint::save(path, gpt, &json)
}

/// The most loss points a checkpoint's `"history"` keeps (the run is thinned evenly to this).
pub const HISTORY_POINTS: usize = 2000;

/// Save a model with its tokenizer and the loss curve of the run that trained it (kept as
/// `"history"` metadata: `[[step, train, val or null], …]`, at most [`HISTORY_POINTS`]).
pub fn save_with_history(
    path: &Path,
    gpt: &Gpt,
    tokenizer: &Tokenizer,
    history: &[LossPoint],
) -> Result<(), String> {
    let json =
        serde_json::to_string(tokenizer).map_err(|e| format!("cannot write the tokenizer: {e}"))?;
    let every = history.len().div_ceil(HISTORY_POINTS).max(1);
    let rows: Vec<(usize, f32, Option<f32>)> = history
        .iter()
        .enumerate()
        // Every validation point, and every `every`-th training point.
        .filter(|(i, p)| p.val.is_some() || i % every == 0 || *i + 1 == history.len())
        .map(|(_, p)| (p.step, p.train, p.val))
        .collect();
    let rows =
        serde_json::to_string(&rows).map_err(|e| format!("cannot write the history: {e}"))?;
    checkpoint::save_with(path, gpt, &json, &[("history", rows)])
}

/// The loss curve a checkpoint's bytes carry (empty when it has none). Refused when it is not
/// a list of `[step, train, val or null]` with steps increasing and finite losses.
pub fn history_from_bytes(bytes: &[u8]) -> Result<Vec<LossPoint>, String> {
    let Some(json) = checkpoint::metadata_entry(bytes, "history")? else {
        return Ok(Vec::new());
    };
    let rows: Vec<(usize, f32, Option<f32>)> = serde_json::from_str(&json)
        .map_err(|e| format!("the \"history\" metadata is invalid: {e}"))?;
    if rows.len() > 10 * HISTORY_POINTS {
        return Err(format!(
            "the \"history\" metadata has {} points",
            rows.len()
        ));
    }
    let mut last = 0;
    let mut out = Vec::with_capacity(rows.len());
    for (step, train, val) in rows {
        let finite = train.is_finite() && val.is_none_or(f32::is_finite);
        if step <= last || !finite {
            return Err(format!(
                "the \"history\" metadata is invalid at step {step}: steps must increase and losses be finite"
            ));
        }
        last = step;
        out.push(LossPoint { step, train, val });
    }
    Ok(out)
}
