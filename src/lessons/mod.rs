//! The lessons, in lecture order, behind ONE registry ([`registry::all_lessons`]).
//!
//! A lesson is a folder: `mod.rs` (its id, title, summary, the sections, `data`), `settings.rs`
//! (one `#[serde(default)]` struct: what persists and what `--set key=value` changes), and one
//! file per section. Math goes in `crate::math` or `crate::model` (never egui); drawing shared by
//! several lessons goes in `crate::widgets`; what several lessons share at run time (cached and
//! background computations, compare runs) is in [`common`]. Adding a lesson: a folder here and
//! one line in the registry (`docs/ARCHITECTURE.md`, "Adding a lesson").

pub mod common;
pub mod lesson;
pub mod overrides;
pub mod registry;

pub mod attention;
pub mod decoding;
pub mod experts;
pub mod live;
pub mod norms;
pub mod overview;
pub mod positions;
pub mod residuals;
pub mod rnn;
pub mod softmax;

pub use lesson::{AppRequest, Lesson, LessonContext, LessonInfo};
pub use overrides::apply_overrides;
pub use registry::{all_lessons, lesson_ids};
