//! A list of labelled horizontal bars — one row per token: its name, a bar from zero (left for a
//! negative value, right for a positive one) and the value written beside it — readable from the
//! back row, where a bar chart's category axis would need rotated labels.

use egui::{Align2, Color32, Rect, Sense, Stroke, Ui, vec2};

/// One bar.
#[derive(Debug, Clone)]
pub struct BarRow {
    /// The row's name (a token).
    pub label: String,
    /// Its value.
    pub value: f32,
    /// The text written beside the bar ("0.734", "12.5 %").
    pub text: String,
    /// Hover text (the value in words).
    pub hover: String,
    /// Draw this row's bar outlined (the row a text talks about).
    pub highlight: bool,
}

/// The bars over the value range `lo … hi` (0 inside it), each row a line of body text tall,
/// with a name `id` for screen readers and the UI tests.
pub fn bars(ui: &mut Ui, id: &str, rows: &[BarRow], lo: f32, hi: f32, color: Color32) {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let text = ui.visuals().text_color();
    let width = ui.available_width().clamp(200.0, 560.0);
    let label_w = rows
        .iter()
        .map(|r| {
            ui.painter()
                .layout_no_wrap(r.label.clone(), font.clone(), text)
                .size()
                .x
        })
        .fold(40.0_f32, f32::max)
        + 10.0;
    let value_w = 64.0;
    let (lo, hi) = (lo.min(0.0), hi.max(0.0).max(lo + 1e-6));
    let total = egui::vec2(width, rows.len() as f32 * (font.size + 8.0));
    let (outer, response) = ui.allocate_exact_size(total, Sense::hover());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, id));
    let painter = ui.painter_at(outer.expand(2.0));
    let area_left = outer.left() + label_w;
    let area_w = (outer.width() - label_w - value_w).max(20.0);
    let x_of = |v: f32| area_left + area_w * (v - lo) / (hi - lo);
    let zero = x_of(0.0);
    for (i, r) in rows.iter().enumerate() {
        let top = outer.top() + i as f32 * (font.size + 8.0);
        let row = Rect::from_min_size(
            egui::pos2(outer.left(), top),
            vec2(outer.width(), font.size + 8.0),
        );
        painter.text(
            egui::pos2(area_left - 8.0, row.center().y),
            Align2::RIGHT_CENTER,
            &r.label,
            font.clone(),
            text,
        );
        let end = x_of(r.value.clamp(lo, hi));
        let bar = Rect::from_x_y_ranges(
            zero.min(end)..=zero.max(end).max(zero.min(end) + 1.0),
            row.top() + 3.0..=row.bottom() - 3.0,
        );
        painter.rect_filled(bar, 2.0, color);
        if r.highlight {
            painter.rect_stroke(
                bar.expand(1.5),
                2.0,
                Stroke::new(2.0, text),
                egui::StrokeKind::Outside,
            );
        }
        let (anchor, at) = if r.value >= 0.0 {
            (Align2::LEFT_CENTER, bar.right() + 6.0)
        } else {
            (Align2::RIGHT_CENTER, bar.left() - 6.0)
        };
        painter.text(
            egui::pos2(at, row.center().y),
            anchor,
            &r.text,
            font.clone(),
            text,
        );
        ui.interact(row, response.id.with(i), Sense::hover())
            .on_hover_text(&r.hover);
    }
    if lo < 0.0 {
        painter.line_segment(
            [
                egui::pos2(zero, outer.top()),
                egui::pos2(zero, outer.bottom()),
            ],
            Stroke::new(1.0, ui.visuals().weak_text_color()),
        );
    }
}
