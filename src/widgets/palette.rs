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

/// The colours of up to four series (compare runs, the four norms, the four encodings).
pub const SERIES: [Color32; 4] = [BLUE, ORANGE, GREEN, PINK];
