//! attention-lab: run a small transformer live in front of a class.
//!
//! The crate is laid out as in `ARCHITECTURE.md`: `model/` is pure math (never imports egui),
//! `lessons/` holds one file per lesson behind ONE registry, `widgets/` the reusable drawing
//! pieces, `cli/` the headless subcommands, and `app.rs` the eframe application.

pub mod app;
pub mod cli;
pub mod data;
pub mod lessons;
pub mod model;
pub mod pretrained;
pub mod train;
pub mod widgets;

pub use app::LabApp;
