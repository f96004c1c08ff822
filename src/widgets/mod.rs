//! Reusable drawing pieces: the heatmap, its colormaps, figure export.

pub mod colormap;
pub mod export;
pub mod file_dialog;
pub mod fonts;
pub mod heatmap;
pub mod palette;
pub mod plots;

pub use colormap::Colormap;
pub use heatmap::Heatmap;
