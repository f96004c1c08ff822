//! A trained model as a file: the checkpoint (`model::checkpoint`, which keeps the tokenizer as
//! opaque JSON) together with its tokenizer, checked to agree — as many tokens as the model's
//! vocabulary, so that no id the tokenizer makes can index past the embedding.

use std::path::Path;

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
