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

/// The name of the text style for live numbers (`TextStyle::Name(BIG)`).
pub const BIG: &str = "big";

/// Install the app's fonts and text sizes into a context: body text of 14 points (egui's
/// default is 12.5), headings of 24 — readable on a laptop at zoom 1, and at 26 px and 45 px on
/// a 1080p projector in presentation mode.
pub fn install(ctx: &egui::Context) {
    ctx.set_fonts(font_definitions());
    ctx.all_styles_mut(|style| {
        use egui::{FontId, TextStyle};
        style.text_styles = [
            (TextStyle::Small, FontId::proportional(11.5)),
            (TextStyle::Body, FontId::proportional(14.0)),
            (TextStyle::Button, FontId::proportional(14.0)),
            (TextStyle::Monospace, FontId::monospace(13.5)),
            (TextStyle::Heading, FontId::proportional(24.0)),
            // Numbers that change while training (step, loss): fixed width, larger.
            (TextStyle::Name(BIG.into()), FontId::monospace(16.5)),
        ]
        .into();
    });
}
