//! How a lesson's section uses the space it is given: figures size to the window, side-by-side
//! figures fall into fewer columns on a narrow window, and nothing is wider than the panel (the
//! lesson area scrolls down, never sideways). The same rules serve a 1024 × 640 laptop and a
//! projector: presentation mode zooms the whole UI so that the window is about
//! [`PRESENT_WIDTH`] points wide, and the layout is the laptop's, larger.

use egui::Ui;

/// Presentation mode sizes the UI so that the window is this many points wide (at 1920 px, a
/// zoom of 1.875: body text of 26 px).
pub const PRESENT_WIDTH: f32 = 1024.0;

/// The height of the visible lesson area, in points.
pub fn viewport_height(ui: &Ui) -> f32 {
    ui.ctx().content_rect().height()
}

/// The height (points) from the cursor to the bottom of the visible area (the scroll area's
/// clip rectangle): what a figure can take and still be seen whole without scrolling.
pub fn remaining_height(ui: &Ui) -> f32 {
    (ui.clip_rect().bottom() - ui.cursor().top()).max(0.0)
}

/// A plot height such that `rows` rows of figures (each with a title and legend above it) fit
/// in the window beside the section's controls and text: between 150 and 560 points.
pub fn plot_height(ui: &Ui, rows: f32) -> f32 {
    let header = 250.0; // title, summary, tabs, a line of text and a row of controls
    let per_row_extra = 52.0; // a figure's title and legend row, spacing
    ((viewport_height(ui) - header) / rows.max(1.0) - per_row_extra).clamp(150.0, 560.0)
}

/// How many columns of at least `min_width` points fit, at most `max`.
pub fn columns_for(ui: &Ui, min_width: f32, max: usize) -> usize {
    ((ui.available_width() / min_width).floor() as usize).clamp(1, max.max(1))
}

/// Lay out `n` items in rows of as many equal columns as fit (each at least `min_width`
/// points), calling `add(ui, i)` for item i.
pub fn grid(ui: &mut Ui, n: usize, min_width: f32, mut add: impl FnMut(&mut Ui, usize)) {
    let k = columns_for(ui, min_width, n);
    let mut i = 0;
    while i < n {
        let row = (n - i).min(k);
        ui.columns(k, |cols| {
            for (j, col) in cols.iter_mut().enumerate().take(row) {
                add(col, i + j);
            }
        });
        i += row;
    }
}

/// One item of a [`flow`]: its width in points and what draws it.
pub type FlowItem<'a> = (f32, Box<dyn FnOnce(&mut Ui) + 'a>);

/// Place items of known width left to right, starting a new row when the next one would not
/// fit (a wrapping row cannot do this for groups: it learns their width only after drawing
/// them, and lets them run past the edge).
pub fn flow(ui: &mut Ui, items: Vec<FlowItem<'_>>) {
    let avail = ui.available_width();
    let gap = ui.spacing().item_spacing.x;
    let mut rows: Vec<Vec<FlowItem<'_>>> = vec![Vec::new()];
    let mut used = 0.0;
    for (w, draw) in items {
        let last = rows.len() - 1;
        if !rows[last].is_empty() && used + gap + w > avail {
            rows.push(Vec::new());
            used = 0.0;
        }
        used += if used > 0.0 { gap + w } else { w };
        let last = rows.len() - 1;
        rows[last].push((w, draw));
    }
    for row in rows {
        ui.horizontal_top(|ui| {
            for (w, draw) in row {
                ui.vertical(|ui| {
                    ui.set_max_width(w);
                    draw(ui);
                });
            }
        });
    }
}

/// The side of a square heatmap that shares the width with `per_row` others and fits in the
/// window's height `rows` times, between `min` and `max` points.
pub fn square(ui: &Ui, per_row: usize, rows: f32, min: f32, max: f32) -> f32 {
    let by_width = ui.available_width() / per_row.max(1) as f32 - 12.0;
    let by_height = plot_height(ui, rows);
    by_width.min(by_height).clamp(min, max)
}
