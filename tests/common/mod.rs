//! Helpers shared by the UI tests.

pub mod ui;
pub mod views;
