//! Fonts: egui's defaults plus DejaVu Sans as a fallback, so the lecture's notation (Kᵀ, ‖x‖,
//! →, ⊙, subscripts) renders instead of empty boxes. DejaVu's licence: `assets/fonts/`.

use std::sync::Arc;

use egui::{FontData, FontDefinitions, FontFamily};

const DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The font definitions the app uses.
pub fn font_definitions() -> FontDefinitions {
    let mut fonts = FontDefinitions::default();
    fonts.font_data.insert(
        "DejaVuSans".to_owned(),
        Arc::new(FontData::from_static(DEJAVU_SANS)),
    );
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        let list = fonts.families.entry(family).or_default();
        // After the primary font, before the emoji fallbacks.
        list.insert(1.min(list.len()), "DejaVuSans".to_owned());
    }
    fonts
}

/// Install the app's fonts into a context.
pub fn install(ctx: &egui::Context) {
    ctx.set_fonts(font_definitions());
}
