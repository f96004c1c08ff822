//! Data: tokenizers, the built-in tasks and user text files.

pub mod tasks;
pub mod text;
pub mod tokenizer;

pub use tasks::{Dataset, Task};
pub use text::TextLoader;
pub use tokenizer::{Tokenizer, TokenizerKind, UnknownTokens};
