//! Reusable drawing pieces: the heatmap, its colormaps, figure export.

pub mod bars;
pub mod colormap;
pub mod export;
pub mod figure;
pub mod file_dialog;
pub mod fonts;
pub mod heatmap;
pub mod layout;
pub mod palette;
pub mod paths;
pub mod plots;

pub use colormap::Colormap;
pub use figure::{Figure, LegendEntry, Mark, entry};
pub use heatmap::Heatmap;
