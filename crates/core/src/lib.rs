//! attention-lab's core: the transformer, its training and the speed under it, with no UI.
//!
//! The layers, bottom to top (each uses only those above it in this list; `docs/ARCHITECTURE.md`
//! is the map):
//! - [`engine`]: matrix products, vector loops, the thread pool — the speed, behind a small
//!   interface; [`files`]: reading and writing the user's files safely; `browser` (wasm32 only,
//!   beside [`files`]): the page's document, downloads and the file picker;
//! - [`model`]: the transformer as a student reads it (forward/backward pairs, llm.c style);
//! - [`inference`]: one sequence as fast as possible, bit-identical to the textbook forward;
//! - [`data`]: tokenizers and the built-in tasks; [`train`]: trainer, worker thread, the
//!   data-parallel step.
//!
//! A crate of its own so that the browser build can optimise it for speed while the UI above
//! it (the `attention-lab` crate, which re-exports these modules under the same names) is
//! optimised for size: `web/build.sh` says why and what it measured.

#[cfg(target_arch = "wasm32")]
pub mod browser;
pub mod data;
pub mod engine;
pub mod files;
pub mod inference;
pub mod model;
pub mod train;
