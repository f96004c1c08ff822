//! attention-lab: run a small transformer live in front of a class.
//!
//! The layers, bottom to top (each uses only those above it in this list; `docs/ARCHITECTURE.md`
//! is the map):
//! - [`engine`], [`files`], [`model`], [`inference`], [`data`], [`train`]: the transformer, its
//!   training and the speed under it, in the `attention-lab-core` crate (`crates/core`), which
//!   has no UI; re-exported here under the same names, so `crate::model::…` reads the same
//!   everywhere;
//! - [`math`]: the lessons' own math (RNNs, statistics, …), never egui;
//! - [`widgets`], [`lessons`] (one folder per lesson behind one registry), [`app`], [`cli`];
//!   `web` (wasm32 only): the browser's entry point and URL fragment, above the app; `browser`
//!   (wasm32 only, in the core beside [`files`]): the page's document, downloads and the file
//!   picker.

pub mod app;
#[cfg(target_arch = "wasm32")]
pub use attention_lab_core::browser;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub use attention_lab_core::data;
pub use attention_lab_core::engine;
pub use attention_lab_core::files;
pub use attention_lab_core::inference;
pub mod lessons;
pub mod math;
pub use attention_lab_core::model;
pub mod pretrained;
pub use attention_lab_core::train;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod widgets;

pub use app::LabApp;
