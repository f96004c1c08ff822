//! The pretrained bears model bundled with the app (`assets/bears.safetensors`, made by the
//! `attention-lab train` command in the README). Several lessons read it: the live lesson starts
//! from it, the positions lesson shows its learned position table and its token embeddings. The
//! bundled encoder (`assets/bears-encoder.safetensors`) is the attention lesson's learned Q, K, V.

use std::sync::OnceLock;

use crate::data::Tokenizer;
use crate::model::Gpt;

/// The checkpoint's bytes.
pub const BEARS: &[u8] = include_bytes!("../assets/bears.safetensors");

/// Load the bundled bears model and its tokenizer.
pub fn bears() -> Result<(Gpt, Tokenizer), String> {
    crate::train::saved::from_bytes(BEARS)
}

/// The bundled bears model, loaded once per process and shared by every lesson that reads it.
pub fn bears_shared() -> Result<&'static (Gpt, Tokenizer), String> {
    static BEARS: OnceLock<Result<(Gpt, Tokenizer), String>> = OnceLock::new();
    BEARS.get_or_init(bears).as_ref().map_err(Clone::clone)
}

/// The loss curve of the run that trained the bundled model (empty if the file has none).
pub fn bears_history() -> Result<Vec<crate::train::LossPoint>, String> {
    crate::train::saved::history_from_bytes(BEARS)
}

/// The checkpoint of the bundled encoder: the same corpus, no causal mask, trained to tag each
/// "bears" with its sense (`attention-lab train --task bears-sense --no-mask …`, README), so the
/// query of "bears" learns to find the words after it too.
pub const ENCODER: &[u8] = include_bytes!("../assets/bears-encoder.safetensors");

/// The bundled encoder, loaded once per process.
pub fn encoder_shared() -> Result<&'static (Gpt, Tokenizer), String> {
    static ENCODER_MODEL: OnceLock<Result<(Gpt, Tokenizer), String>> = OnceLock::new();
    ENCODER_MODEL
        .get_or_init(|| crate::train::saved::from_bytes(ENCODER))
        .as_ref()
        .map_err(Clone::clone)
}
