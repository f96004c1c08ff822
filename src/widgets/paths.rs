//! A diagram of paths through steps: columns are steps, each node a box with a word and a number
//! under it, edges from a node to its parent in the column before. Draws a search tree (beam
//! search: kept hypotheses solid, pruned ones faded) and a trellis (every word at every step,
//! two paths picked out in colour). Each node has hover text with its exact numbers.

use egui::{Align2, Color32, Rect, Sense, Stroke, Ui, pos2, vec2};

use super::palette::readable_on;

/// How a node is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStyle {
    /// Solid: a kept hypothesis, a state.
    Kept,
    /// Faded: a pruned candidate.
    Pruned,
}

/// One node.
#[derive(Debug, Clone)]
pub struct PathNode {
    /// Column (step, from 0).
    pub col: usize,
    /// Row within the column (from 0, top first).
    pub row: usize,
    /// The word (bold).
    pub label: String,
    /// The number under it.
    pub sub: String,
    /// What hovering shows.
    pub hover: String,
    /// Solid or faded.
    pub style: NodeStyle,
    /// Outline colour (a path it lies on), if any.
    pub outline: Option<Color32>,
}

/// One edge between two nodes (indices into the node list).
#[derive(Debug, Clone)]
pub struct PathEdge {
    /// Parent node.
    pub from: usize,
    /// Child node.
    pub to: usize,
    /// Colour (None: the text colour, thin).
    pub color: Option<Color32>,
    /// Line width in points.
    pub width: f32,
    /// Drawn faded (an edge to a pruned node).
    pub faded: bool,
}

/// Draw the diagram with column headers, rows × columns cells filling the available width, each
/// row `row_height` points tall; `id` names it for screen readers and the tests.
pub fn path_diagram(
    ui: &mut Ui,
    id: &str,
    headers: &[String],
    rows: usize,
    row_height: f32,
    nodes: &[PathNode],
    edges: &[PathEdge],
) {
    let cols = headers.len().max(1);
    let body = egui::TextStyle::Body.resolve(ui.style());
    let small = egui::TextStyle::Small.resolve(ui.style());
    let header_h = body.size + 8.0;
    let width = ui.available_width().max(100.0);
    let size = vec2(width, header_h + rows.max(1) as f32 * row_height);
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, id));
    let painter = ui.painter_at(rect.expand(2.0));
    let visuals = ui.visuals().clone();
    let text = visuals.text_color();
    let bg = visuals.panel_fill;
    let col_w = width / cols as f32;
    let gap = (col_w * 0.22).clamp(8.0, 40.0);
    let box_w = col_w - gap;
    let cell = |c: usize, r: usize| {
        Rect::from_min_size(
            pos2(
                rect.left() + c as f32 * col_w,
                rect.top() + header_h + r as f32 * row_height,
            ),
            vec2(box_w, row_height - 4.0),
        )
    };
    for (c, h) in headers.iter().enumerate() {
        painter.text(
            pos2(rect.left() + c as f32 * col_w + box_w / 2.0, rect.top()),
            Align2::CENTER_TOP,
            h,
            body.clone(),
            text,
        );
    }
    let faded = visuals.weak_text_color();
    for e in edges {
        let (Some(a), Some(b)) = (nodes.get(e.from), nodes.get(e.to)) else {
            continue;
        };
        let (ra, rb) = (cell(a.col, a.row), cell(b.col, b.row));
        let color = match (e.color, e.faded) {
            (Some(c), false) => c,
            (Some(c), true) => c.gamma_multiply(0.35),
            (None, false) => text.gamma_multiply(0.7),
            (None, true) => faded.gamma_multiply(0.5),
        };
        painter.line_segment(
            [ra.right_center(), rb.left_center()],
            Stroke::new(e.width, color),
        );
    }
    let hover_pos = response.hover_pos();
    for n in nodes {
        let r = cell(n.col, n.row);
        let (fill, ink, stroke) = match n.style {
            NodeStyle::Kept => (
                visuals.faint_bg_color,
                text,
                Stroke::new(1.0, text.gamma_multiply(0.6)),
            ),
            NodeStyle::Pruned => (bg, faded, Stroke::new(1.0, faded.gamma_multiply(0.5))),
        };
        painter.rect_filled(r, 4.0, fill);
        painter.rect_stroke(r, 4.0, stroke, egui::StrokeKind::Inside);
        if let Some(c) = n.outline {
            painter.rect_stroke(r, 4.0, Stroke::new(3.0, c), egui::StrokeKind::Outside);
        }
        let two_lines = r.height() >= body.size + small.size + 4.0;
        let label = fit(ui, &n.label, &body, r.width() - 6.0);
        if two_lines {
            painter.text(
                pos2(r.center().x, r.top() + 2.0),
                Align2::CENTER_TOP,
                label,
                body.clone(),
                ink,
            );
            painter.text(
                pos2(r.center().x, r.bottom() - 2.0),
                Align2::CENTER_BOTTOM,
                &n.sub,
                small.clone(),
                readable_on(ink, fill),
            );
        } else {
            painter.text(
                r.center(),
                Align2::CENTER_CENTER,
                format!("{label} {}", n.sub),
                small.clone(),
                ink,
            );
        }
        if hover_pos.is_some_and(|p| r.contains(p)) {
            response.clone().on_hover_text(&n.hover);
        }
    }
}

/// `s` cut with "…" to fit `width` points in `font`.
fn fit(ui: &Ui, s: &str, font: &egui::FontId, width: f32) -> String {
    let measure = |t: &str| {
        ui.painter()
            .layout_no_wrap(t.to_owned(), font.clone(), Color32::WHITE)
            .size()
            .x
    };
    if measure(s) <= width {
        return s.to_owned();
    }
    let chars: Vec<char> = s.chars().collect();
    for keep in (1..chars.len()).rev() {
        let t: String = chars[..keep].iter().collect::<String>() + "…";
        if measure(&t) <= width {
            return t;
        }
    }
    "…".into()
}
