//! Data: tokenizers, the built-in tasks and user text files.

pub mod tasks;
pub mod tokenizer;

pub use tasks::{Dataset, Task};
pub use tokenizer::{Tokenizer, TokenizerKind, UnknownTokens};
