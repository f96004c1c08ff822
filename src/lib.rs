//! attention-lab: run a small transformer live in front of a class.
//!
//! The layers, bottom to top (each uses only those above it in this list; `docs/ARCHITECTURE.md`
//! is the map):
//! - [`engine`]: matrix products, vector loops, the thread pool — the speed, behind a small
//!   interface; [`files`]: reading and writing the user's files safely;
//! - [`model`]: the transformer as a student reads it (forward/backward pairs, llm.c style);
//! - [`inference`]: one sequence as fast as possible, bit-identical to the textbook forward;
//! - [`data`]: tokenizers and the built-in tasks; [`train`]: trainer, worker thread, the
//!   data-parallel step;
//! - [`math`]: the lessons' own math (RNNs, statistics, …), never egui;
//! - [`widgets`], [`lessons`] (one folder per lesson behind one registry), [`app`], [`cli`];
//!   `web` (wasm32 only): the browser's entry point and URL fragment, above the app; `browser`
//!   (wasm32 only, beside [`files`]): the page's document, downloads and the file picker.

pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod data;
pub mod engine;
pub mod files;
pub mod inference;
pub mod lessons;
pub mod math;
pub mod model;
pub mod pretrained;
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod widgets;

pub use app::LabApp;
