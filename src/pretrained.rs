//! The pretrained bears model bundled with the app (`assets/bears.safetensors`, made by the
//! `attention-lab train` command in the README). Several lessons read it: the live lesson starts
//! from it, the positions lesson shows its learned position table and its token embeddings.

use crate::data::Tokenizer;
use crate::model::{Gpt, checkpoint};

/// The checkpoint's bytes.
pub const BEARS: &[u8] = include_bytes!("../assets/bears.safetensors");

/// Load the bundled bears model and its tokenizer.
pub fn bears() -> Result<(Gpt, Tokenizer), String> {
    let (gpt, tok) = checkpoint::from_bytes(BEARS)?;
    let tokenizer: Tokenizer = serde_json::from_str(&tok).map_err(|e| e.to_string())?;
    Ok((gpt, tokenizer))
}
