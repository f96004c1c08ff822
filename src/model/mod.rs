//! Pure math on ndarray f32: the transformer and its layers. Never imports egui.
//!
//! Each layer file pairs `*_forward` with `*_backward` (llm.c style); the forward returns or
//! fills what the backward needs. `gpt.rs` chains them; `optim.rs` is AdamW.

pub mod attention;
pub mod checkpoint;
pub mod config;
pub mod embedding;
pub mod gemm;
pub mod gpt;
pub mod linear;
pub mod loss;
pub mod mlp;
pub mod norm;
pub mod optim;
pub mod parallel;
pub mod position;
pub mod rnn;
pub mod sharpness;
pub mod simd;
pub mod softmax;
pub mod stats;

pub use config::{GptConfig, NormKind, PosEncoding};
pub use gpt::{Activations, Gpt, Grads, Params, gpt_backward, gpt_forward};
