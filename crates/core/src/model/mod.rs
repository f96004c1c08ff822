//! The transformer, as a student reads it: pure math on ndarray f32, never egui, never threads.
//!
//! Each layer file pairs `*_forward` with `*_backward` (llm.c style): the equation and its source
//! at the top, shapes in doc comments, the backward quoting the forward line it undoes, and a
//! finite-difference check of every backward in `tests/gradcheck.rs`. `gpt.rs` chains them into
//! the whole model; `params.rs` lists the parameters once; `optim.rs` is AdamW; `checkpoint.rs`
//! reads and writes nanoGPT-compatible `.safetensors` files.
//!
//! The layers call the matrix products and marked vector loops of [`crate::engine`]; what makes
//! them fast lives there, not here.

pub mod attention;
pub mod checkpoint;
pub mod config;
pub mod embedding;
pub mod gpt;
pub mod linear;
pub mod loss;
pub mod mlp;
pub mod norm;
pub mod optim;
pub mod params;
pub mod position;
pub mod residual;
pub mod softmax;

pub use config::{GptConfig, NormKind, PosEncoding};
pub use gpt::{Activations, Gpt, gpt_backward, gpt_forward};
pub use params::{Grads, Params};
