//! The colours every figure uses: the Okabe–Ito palette (Okabe & Ito 2008, "Color universal
//! design"), distinguishable with every common form of colour blindness. Series keep their
//! colour across lessons: blue is the first (or "scaled", "with"), orange the second, then
//! green and pink; grey is for reference lines (theory, uniform, chance).

use egui::Color32;

/// Okabe–Ito blue.
pub const BLUE: Color32 = Color32::from_rgb(0, 114, 178);
/// Okabe–Ito orange.
pub const ORANGE: Color32 = Color32::from_rgb(230, 159, 0);
/// Okabe–Ito bluish green.
pub const GREEN: Color32 = Color32::from_rgb(0, 158, 115);
/// Okabe–Ito reddish purple.
pub const PINK: Color32 = Color32::from_rgb(204, 121, 167);
/// Okabe–Ito sky blue.
pub const SKY: Color32 = Color32::from_rgb(86, 180, 233);
/// Okabe–Ito vermillion.
pub const VERMILLION: Color32 = Color32::from_rgb(213, 94, 0);
/// Reference lines: theory, uniform, chance.
pub const GREY: Color32 = Color32::from_rgb(128, 128, 128);

/// Okabe–Ito yellow.
pub const YELLOW: Color32 = Color32::from_rgb(240, 228, 66);

/// Eight distinguishable colours for items that each need their own (tokens of a prompt).
pub const CATEGORICAL: [Color32; 7] = [BLUE, ORANGE, GREEN, PINK, SKY, VERMILLION, YELLOW];

/// The colours of up to four series (compare runs, the four norms, the four encodings).
pub const SERIES: [Color32; 4] = [BLUE, ORANGE, GREEN, PINK];

/// WCAG 2 relative luminance of an sRGB colour.
fn luminance(c: Color32) -> f32 {
    let lin = |v: u8| {
        let s = f32::from(v) / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
}

/// WCAG 2 contrast ratio of two colours (1 … 21).
pub fn contrast(a: Color32, b: Color32) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `color` made readable as text on `background`: darkened (light background) or lightened
/// (dark background) just enough for a contrast of at least 4.5 : 1 (WCAG AA), keeping its hue.
pub fn readable_on(color: Color32, background: Color32) -> Color32 {
    let dark_bg = luminance(background) < 0.18;
    let mut c = color;
    for _ in 0..40 {
        if contrast(c, background) >= 4.5 {
            return c;
        }
        let step = |v: u8| {
            if dark_bg {
                v.saturating_add(((255 - v) / 8).max(1))
            } else {
                v.saturating_sub((v / 8).max(1))
            }
        };
        c = Color32::from_rgb(step(c.r()), step(c.g()), step(c.b()));
    }
    c
}

/// `color` as readable text on this UI's panels (both themes).
pub fn text(ui: &egui::Ui, color: Color32) -> Color32 {
    readable_on(color, ui.visuals().panel_fill)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_colours_are_readable_on_both_themes() {
        let light = egui::Visuals::light().panel_fill;
        let dark = egui::Visuals::dark().panel_fill;
        for c in [BLUE, ORANGE, GREEN, PINK, SKY, VERMILLION, GREY] {
            assert!(
                contrast(readable_on(c, light), light) >= 4.5,
                "{c:?} on light"
            );
            assert!(contrast(readable_on(c, dark), dark) >= 4.5, "{c:?} on dark");
        }
        // Orange on white was 2.1 : 1.
        assert!(contrast(ORANGE, Color32::WHITE) < 2.5);
        // The themes' own text colours pass too.
        for v in [egui::Visuals::light(), egui::Visuals::dark()] {
            assert!(contrast(v.text_color(), v.panel_fill) >= 4.5);
        }
    }
}
