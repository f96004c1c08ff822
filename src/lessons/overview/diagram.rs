//! The diagram itself, drawn with egui's painter: three columns (input, the repeated block,
//! output), arrows between consecutive blocks, the skip connections, and boxes that open their
//! lesson when clicked and show their shapes when hovered.

use egui::{
    Align2, Color32, CornerRadius, FontId, Rect, Sense, Stroke, StrokeKind, Ui, pos2, vec2,
};

use super::Block;
use crate::lessons::{AppRequest, LessonContext};
use crate::widgets::palette::{GREEN, ORANGE, PINK, SKY};

/// Draw the diagram in three columns: input (tokens, embedding), the repeated block, output.
pub fn draw_diagram(ui: &mut Ui, blocks: &[Block], layers: usize, ctx: &mut LessonContext) {
    let width = (ui.available_width() - 24.0).clamp(600.0, 1400.0);
    let gap = 48.0;
    let col_w = ((width - 2.0 * gap) / 3.0).min(300.0);
    let stack_rows = blocks.iter().filter(|b| b.in_stack).count().max(1);
    // Fill the height that is there (a slide), within reason.
    let step = ((ui.available_height() - 70.0) / stack_rows as f32).clamp(54.0, 96.0);
    let box_h = step - 20.0;
    let height = 40.0 + stack_rows as f32 * step + 20.0;
    let (area, _) = ui.allocate_exact_size(vec2(3.0 * col_w + 2.0 * gap, height), Sense::hover());
    let painter = ui.painter_at(area.expand(4.0));

    let visuals = ui.visuals().clone();
    let text = visuals.text_color();
    let strong = visuals.strong_text_color();
    let accent = visuals.selection.bg_fill;
    let fill_for = |b: &Block| {
        let base = if b.name.contains("attention") {
            ORANGE
        } else if b.name.contains("LayerNorm") {
            SKY
        } else if b.name == "MLP" {
            GREEN
        } else if b.name.contains("skip") {
            PINK
        } else {
            Color32::from_rgb(150, 150, 150)
        };
        if visuals.dark_mode {
            base.gamma_multiply(0.6)
        } else {
            base.linear_multiply(0.55)
        }
    };

    // Positions: column 0 holds blocks before the stack, column 1 the stack, column 2 the rest.
    let mut rects = Vec::with_capacity(blocks.len());
    let (mut row0, mut row1, mut row2) = (0usize, 0usize, 0usize);
    let mut seen_stack = false;
    for b in blocks {
        let (col, row) = if b.in_stack {
            seen_stack = true;
            row1 += 1;
            (1, row1 - 1)
        } else if !seen_stack {
            row0 += 1;
            (0, row0 - 1)
        } else {
            row2 += 1;
            (2, row2 - 1)
        };
        let x = area.left() + col as f32 * (col_w + gap);
        let y = area.top() + 40.0 + row as f32 * step;
        rects.push(Rect::from_min_size(pos2(x, y), vec2(col_w, box_h)));
    }

    // The repeated block's frame, with "× L".
    let stack: Vec<Rect> = blocks
        .iter()
        .zip(&rects)
        .filter(|(b, _)| b.in_stack)
        .map(|(_, r)| *r)
        .collect();
    if let (Some(first), Some(last)) = (stack.first(), stack.last()) {
        // Room above the first box for the frame's title, then the skip line's branch below it.
        let frame = Rect::from_min_max(first.min - vec2(14.0, 38.0), last.max + vec2(14.0, 10.0));
        painter.rect_stroke(
            frame,
            CornerRadius::same(10),
            Stroke::new(2.0, text.gamma_multiply(0.6)),
            StrokeKind::Inside,
        );
        painter.text(
            frame.left_top() + vec2(10.0, 4.0),
            Align2::LEFT_TOP,
            format!("transformer block × L = {layers}"),
            FontId::proportional(14.0),
            text,
        );
    }

    // Arrows between consecutive blocks (down a column, or across to the next column's top).
    let arrow = Stroke::new(2.0, text.gamma_multiply(0.8));
    for pair in rects.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if (a.left() - b.left()).abs() < 1.0 {
            painter.arrow(a.center_bottom(), b.center_top() - a.center_bottom(), arrow);
        } else {
            let start = a.right_center();
            let end = b.left_center();
            let mid_x = (start.x + end.x) / 2.0;
            painter.line(vec![start, pos2(mid_x, start.y), pos2(mid_x, end.y)], arrow);
            painter.arrow(pos2(mid_x, end.y), end - pos2(mid_x, end.y), arrow);
        }
    }
    // Skip connections: from the input of each LayerNorm in the stack to its "+ skip".
    for (i, b) in blocks.iter().enumerate() {
        if b.in_stack
            && b.name == "LayerNorm"
            && let Some(j) = blocks[i..]
                .iter()
                .position(|x| x.name == "+ skip")
                .map(|k| i + k)
        {
            let (from, to) = (rects[i], rects[j]);
            let x = from.right() + 8.0;
            let pts = vec![
                pos2(from.center().x + 20.0, from.top() - 7.0),
                pos2(x, from.top() - 7.0),
                pos2(x, to.center().y),
            ];
            painter.line(pts, Stroke::new(1.5, PINK));
            painter.arrow(
                pos2(x, to.center().y),
                vec2(-(x - to.right()), 0.0),
                Stroke::new(1.5, PINK),
            );
        }
    }

    // The boxes themselves: clickable, hover shows shapes.
    for (i, (b, rect)) in blocks.iter().zip(&rects).enumerate() {
        let id = ui.make_persistent_id(("overview_block", i));
        let resp = ui.interact(*rect, id, Sense::click());
        let exists = ctx.has_lesson(b.lesson);
        let label = format!("Block: {}", b.name);
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        let hovered = resp.hovered();
        let stroke = if hovered {
            Stroke::new(2.5, accent)
        } else {
            Stroke::new(1.0, text.gamma_multiply(0.6))
        };
        painter.rect(
            *rect,
            CornerRadius::same(8),
            fill_for(b),
            stroke,
            StrokeKind::Inside,
        );
        // The name in one line inside its box: smaller type when the box is narrow.
        let mut name_size = (box_h * 0.36).clamp(14.0, 19.0);
        let width = painter
            .layout_no_wrap(b.name.to_owned(), FontId::proportional(name_size), strong)
            .size()
            .x;
        if width > rect.width() - 12.0 {
            name_size = (name_size * (rect.width() - 12.0) / width).max(9.0);
        }
        painter.text(
            rect.center() - vec2(0.0, box_h * 0.14),
            Align2::CENTER_CENTER,
            b.name,
            FontId::proportional(name_size),
            strong,
        );
        painter.text(
            rect.center() + vec2(0.0, box_h * 0.26),
            Align2::CENTER_CENTER,
            &b.short,
            FontId::proportional(name_size * 0.72),
            strong.gamma_multiply(0.85),
        );
        let hover = if exists {
            format!("{}\n\nClick to open the lesson \"{}\".", b.shape, b.lesson)
        } else {
            format!("{}\n\nIts lesson (\"{}\") is coming.", b.shape, b.lesson)
        };
        let resp = resp.on_hover_text(hover);
        if resp.clicked() {
            if exists {
                ctx.requests.push(AppRequest::OpenLesson(b.lesson));
            } else {
                ctx.requests.push(AppRequest::Status(format!(
                    "\"{}\": its lesson is coming in a later version.",
                    b.name
                )));
            }
        }
    }
}
