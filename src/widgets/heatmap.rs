//! A matrix drawn as a texture: the figure behind every attention map, similarity table and
//! activation matrix in the app.
//!
//! - One `ColorImage` texture with `TextureOptions::NEAREST`, rebuilt only when the values, the
//!   colormap or the range change (a hash is kept in egui's temp memory), so a frame that shows an
//!   unchanged 64 × 64 map costs one textured quad (≈ 0.02 ms).
//! - Row and column labels (token strings when given), a colorbar with the value range, values
//!   printed in the cells when they are big enough.
//! - A hover tooltip that names the cell in the caller's words: `query "bears" → key "love": 0.734`.
//! - Masked cells (−∞ before softmax, or a causal mask for weights after it) are grey and hatched;
//!   NaN and ±∞ that are not a mask are magenta, and their tooltip says what went wrong.
//! - The response carries an accessible label, so tests (and screen readers) can find the figure.
//!
//! Pattern: egui's `demo/toggle_switch.rs` (allocate, interact, paint, report `widget_info`).

use std::hash::{Hash, Hasher};

use egui::{
    Align2, Color32, FontId, Mesh, Pos2, Rect, Response, Sense, Shape, Stroke, TextureHandle,
    TextureOptions, Ui, Vec2, pos2, vec2,
};
use ndarray::ArrayView2;

use super::colormap::Colormap;

/// Colour of a masked cell (a future key in a causal map).
pub const MASKED_COLOR: Color32 = Color32::from_rgb(150, 150, 150);
/// Colour of a NaN / ±∞ cell that is not a mask.
pub const INVALID_COLOR: Color32 = Color32::from_rgb(255, 0, 255);

/// How one cell is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// A finite value.
    Value(f32),
    /// Masked: −∞ before softmax (or weight 0 after it), drawn hatched.
    Masked,
    /// NaN or an infinity that is not a mask.
    Invalid(f32),
}

/// A heatmap of a `rows × cols` matrix. Build it, then call [`Heatmap::show`].
pub struct Heatmap<'a> {
    label: String,
    values: ArrayView2<'a, f32>,
    row_labels: Option<&'a [String]>,
    col_labels: Option<&'a [String]>,
    row_name: &'a str,
    col_name: &'a str,
    colormap: Colormap,
    range: Option<(f32, f32)>,
    neg_inf_is_mask: bool,
    causal: bool,
    max_cell: f32,
    /// Columns may be wider than rows are tall (a table of many positions and few dimensions).
    stretch: bool,
    /// Cells as wide as the width allows and as tall as the height allows, separately (a few
    /// tokens × many dimensions).
    free: bool,
    max_size: Option<Vec2>,
    colorbar: bool,
    decimals: usize,
    highlight_row: Option<usize>,
    version: Option<u64>,
    axis_labels: bool,
}

/// What [`Heatmap::show`] hands back.
pub struct HeatmapResponse {
    /// The response of the whole grid (click it to enlarge, etc.).
    pub response: Response,
    /// The cell under the pointer, if any: (row, column).
    pub hovered: Option<(usize, usize)>,
}

impl<'a> Heatmap<'a> {
    /// A heatmap with an accessible `label` (also the figure's name in tests).
    pub fn new(label: impl Into<String>, values: ArrayView2<'a, f32>) -> Self {
        Self {
            label: label.into(),
            values,
            row_labels: None,
            col_labels: None,
            row_name: "row",
            col_name: "column",
            colormap: Colormap::Viridis,
            range: None,
            neg_inf_is_mask: true,
            causal: false,
            max_cell: 44.0,
            stretch: false,
            free: false,
            max_size: None,
            colorbar: true,
            decimals: 3,
            highlight_row: None,
            version: None,
            axis_labels: true,
        }
    }

    /// Draw no row and column labels (a thumbnail in a grid whose labels are said once); the
    /// tooltip still names the cell.
    pub fn hide_axis_labels(mut self) -> Self {
        self.axis_labels = false;
        self
    }

    /// Names of the rows and columns (e.g. the prompt's tokens).
    pub fn labels(mut self, rows: Option<&'a [String]>, cols: Option<&'a [String]>) -> Self {
        self.row_labels = rows;
        self.col_labels = cols;
        self
    }

    /// What a row and a column are, in the caller's words (e.g. `"query"`, `"key"`).
    pub fn axis_names(mut self, row: &'a str, col: &'a str) -> Self {
        self.row_name = row;
        self.col_name = col;
        self
    }

    /// Sequential (default) or diverging colormap.
    pub fn colormap(mut self, colormap: Colormap) -> Self {
        self.colormap = colormap;
        self
    }

    /// Fix the value range of the colormap (default: the finite data range, symmetric for the
    /// diverging map).
    pub fn range(mut self, lo: f32, hi: f32) -> Self {
        self.range = Some((lo, hi));
        self
    }

    /// Treat −∞ as a mask (default true: −∞ before softmax is how the causal mask is written).
    pub fn neg_inf_is_mask(mut self, yes: bool) -> Self {
        self.neg_inf_is_mask = yes;
        self
    }

    /// Mark every cell above the diagonal (key after query) as masked.
    pub fn causal(mut self, yes: bool) -> Self {
        self.causal = yes;
        self
    }

    /// Let the columns widen to fill the width given (up to 6 × a cell's height): a tall, narrow
    /// table — many positions, a few dimensions — stays readable instead of becoming a strip.
    pub fn stretch_columns(mut self) -> Self {
        self.stretch = true;
        self
    }

    /// Size the cells' width and height separately: as wide as the width allows and as tall as
    /// the height allows (both at most the largest cell). A sentence's 3 tokens × 64 dimensions
    /// then shows rows tall enough to read, not a strip.
    pub fn free_aspect(mut self) -> Self {
        self.free = true;
        self
    }

    /// The largest side of a cell in points (default 44).
    pub fn max_cell(mut self, size: f32) -> Self {
        self.max_cell = size;
        self
    }

    /// Fit the whole heatmap — its labels, grid and colour bar — in this box (points), whatever
    /// the width available.
    pub fn max_size(mut self, size: Vec2) -> Self {
        self.max_size = Some(size);
        self
    }

    /// Draw the colorbar (default true).
    pub fn colorbar(mut self, yes: bool) -> Self {
        self.colorbar = yes;
        self
    }

    /// Decimals in tooltips and cell text (default 3).
    pub fn decimals(mut self, decimals: usize) -> Self {
        self.decimals = decimals;
        self
    }

    /// Classify cell (r, c).
    pub fn cell(&self, r: usize, c: usize) -> Cell {
        let v = self.values[[r, c]];
        if (self.causal && c > r) || (v == f32::NEG_INFINITY && self.neg_inf_is_mask) {
            Cell::Masked
        } else if v.is_finite() {
            Cell::Value(v)
        } else {
            Cell::Invalid(v)
        }
    }

    /// The colormap range actually used: the given one, or the finite range of unmasked cells.
    pub fn value_range(&self) -> (f32, f32) {
        if let Some(r) = self.range {
            return r;
        }
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        let (rows, cols) = self.values.dim();
        for r in 0..rows {
            for c in 0..cols {
                if let Cell::Value(v) = self.cell(r, c) {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
        if lo > hi {
            return (0.0, 1.0);
        }
        let (lo, hi) = self.colormap.range_for(lo, hi);
        if hi - lo < 1e-12 {
            (lo - 0.5, hi + 0.5)
        } else {
            (lo, hi)
        }
    }

    /// Outline one row (a position the lesson is reading).
    pub fn highlight_row(mut self, row: Option<usize>) -> Self {
        self.highlight_row = row;
        self
    }

    /// A version number that changes whenever the values change: the texture cache then skips
    /// hashing every value (large maps redrawn every frame).
    pub fn version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    /// The tooltip for cell (r, c), in the caller's words.
    pub fn tooltip(&self, r: usize, c: usize) -> String {
        let name =
            |labels: Option<&[String]>, axis: &str, i: usize| match labels.and_then(|l| l.get(i)) {
                Some(token) => format!("{axis} \"{token}\""),
                None => format!("{axis} {i}"),
            };
        let head = format!(
            "{} → {}",
            name(self.row_labels, self.row_name, r),
            name(self.col_labels, self.col_name, c)
        );
        match self.cell(r, c) {
            Cell::Value(v) => format!("{head}: {}", format_value(v, self.decimals)),
            Cell::Masked => format!("{head}: masked (−∞ before softmax, so its weight is 0)"),
            Cell::Invalid(v) if v.is_nan() => {
                format!("{head}: NaN (not a number: the computation broke down here)")
            }
            Cell::Invalid(v) if v > 0.0 => {
                format!("{head}: +∞ (overflow: the value is too large for f32)")
            }
            Cell::Invalid(_) => format!("{head}: −∞ (overflow: the value is too negative for f32)"),
        }
    }

    /// Draw the heatmap.
    pub fn show(self, ui: &mut Ui) -> HeatmapResponse {
        let (rows, cols) = self.values.dim();
        let font = FontId::proportional(13.0);
        let label_color = ui.visuals().text_color();

        // Margins for labels: measure the longest row label, and whether column labels fit flat.
        let labels = self.axis_labels;
        let row_label_width = if !labels {
            0.0
        } else {
            self.row_labels
                .map(|l| {
                    l.iter()
                        .map(|s| text_width(ui, s, &font))
                        .fold(0.0_f32, f32::max)
                })
                .unwrap_or_else(|| text_width(ui, &rows.saturating_sub(1).to_string(), &font))
                .min(140.0)
                + 6.0
        };
        let col_label_len = self
            .col_labels
            .map(|l| {
                l.iter()
                    .map(|s| text_width(ui, s, &font))
                    .fold(0.0_f32, f32::max)
            })
            .unwrap_or_else(|| text_width(ui, &cols.saturating_sub(1).to_string(), &font))
            .min(140.0);
        let colorbar_width = if self.colorbar {
            let (lo, hi) = self.value_range();
            colorbar_width(ui, lo, hi, self.decimals)
        } else {
            0.0
        };

        // The colour bar's end labels stand half a line above and below the grid.
        let bar_pad = if self.colorbar { 8.0 } else { 0.0 };
        // Column labels lie flat above the grid when a cell is wide enough, else they stand up.
        let col_label_height = |cell: f32| match (labels, col_label_len + 4.0 <= cell) {
            (false, _) => 0.0,
            (true, true) => 18.0,
            (true, false) => col_label_len + 6.0,
        };
        // The largest cell that fits `max` (the whole widget: labels, grid and colour bar) or,
        // without one, the available width.
        let fit = |cell_w: f32, height: Option<f32>| -> f32 {
            let mut cell = cell_w;
            if let Some(h) = height {
                for _ in 0..2 {
                    let top = col_label_height(cell).max(bar_pad);
                    cell = cell.min((h - top - bar_pad) / rows.max(1) as f32);
                }
            }
            cell.min(self.max_cell).max(1.0)
        };
        let width_for_grid =
            |w: f32| (w - row_label_width - colorbar_width - 4.0) / cols.max(1) as f32;
        let by_width = match self.max_size {
            Some(max) => width_for_grid(max.x),
            None => width_for_grid(ui.available_width()),
        };
        let ch = if self.free {
            fit(self.max_cell, self.max_size.map(|m| m.y))
        } else {
            fit(by_width, self.max_size.map(|m| m.y))
        };
        // A cell: as wide as tall, or (stretched) as wide as the width allows.
        let cw = if self.free {
            by_width.min(self.max_cell).max(1.0)
        } else if self.stretch {
            by_width.min(ch * 6.0).max(ch)
        } else {
            ch
        };
        let cell = vec2(cw, ch);
        let col_label_height = col_label_height(cw);
        let flat_cols = col_label_len + 4.0 <= cw;

        let grid_size = vec2(cw * cols as f32, ch * rows as f32);
        let total = vec2(
            row_label_width + grid_size.x + colorbar_width,
            col_label_height.max(bar_pad) + grid_size.y + bar_pad,
        );
        let (outer, response) = ui.allocate_exact_size(total, Sense::click());
        let grid = Rect::from_min_size(
            outer.min + vec2(row_label_width, col_label_height.max(bar_pad)),
            grid_size,
        );
        let label = self.label.clone();
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));

        let hovered = response
            .hover_pos()
            .filter(|p| grid.contains(*p))
            .map(|p| {
                let r = (((p.y - grid.top()) / ch) as usize).min(rows.saturating_sub(1));
                let c = (((p.x - grid.left()) / cw) as usize).min(cols.saturating_sub(1));
                (r, c)
            })
            .filter(|_| rows > 0 && cols > 0);

        if ui.is_rect_visible(outer) && rows > 0 && cols > 0 {
            let (lo, hi) = self.value_range();
            let texture = self.texture(ui, response.id, lo, hi);
            let painter = ui.painter_at(outer.expand(2.0));
            painter.image(
                texture.id(),
                grid,
                Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                Color32::WHITE,
            );
            self.paint_cell_details(&painter, grid, cell, lo, hi);
            // A thin frame: a map of near-zero values (white in a diverging colormap) is still
            // seen as a map.
            painter.rect_stroke(
                grid,
                0.0,
                Stroke::new(1.0, ui.visuals().weak_text_color().gamma_multiply(0.6)),
                egui::StrokeKind::Outside,
            );
            if labels {
                self.paint_labels(&painter, grid, cell, flat_cols, &font, label_color);
            }
            if self.colorbar {
                let bar = Rect::from_min_size(
                    pos2(grid.right() + 8.0, grid.top()),
                    vec2(14.0, grid.height().max(40.0)),
                );
                paint_colorbar(
                    &painter,
                    bar,
                    self.colormap,
                    lo,
                    hi,
                    self.decimals,
                    label_color,
                );
            }
            if let Some(r) = self.highlight_row.filter(|&r| r < rows) {
                let rect = Rect::from_min_size(
                    grid.min + vec2(0.0, r as f32 * ch),
                    vec2(grid.width(), ch),
                )
                .expand(1.5);
                painter.rect_stroke(
                    rect,
                    0.0,
                    Stroke::new(2.5, Color32::from_rgb(230, 159, 0)),
                    egui::StrokeKind::Outside,
                );
            }
            if let Some((r, c)) = hovered {
                let rect = Rect::from_min_size(grid.min + vec2(c as f32 * cw, r as f32 * ch), cell);
                painter.rect_stroke(
                    rect,
                    0.0,
                    Stroke::new(2.0, label_color),
                    egui::StrokeKind::Inside,
                );
            }
        }

        let response = match hovered {
            Some((r, c)) => response.on_hover_text_at_pointer(self.tooltip(r, c)),
            None => response,
        };
        HeatmapResponse { response, hovered }
    }

    /// The texture, rebuilt only when values, colormap or range changed.
    fn texture(&self, ui: &Ui, id: egui::Id, lo: f32, hi: f32) -> TextureHandle {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.values.dim().hash(&mut hasher);
        match self.version {
            Some(version) => version.hash(&mut hasher),
            None => {
                for v in self.values.iter() {
                    v.to_bits().hash(&mut hasher);
                }
            }
        }
        (
            self.colormap,
            lo.to_bits(),
            hi.to_bits(),
            self.causal,
            self.neg_inf_is_mask,
        )
            .hash(&mut hasher);
        let key = hasher.finish();
        let cache_id = id.with("heatmap_texture");
        if let Some((h, tex)) = ui.data(|d| d.get_temp::<(u64, TextureHandle)>(cache_id))
            && h == key
        {
            return tex;
        }
        let (rows, cols) = self.values.dim();
        let mut pixels = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for c in 0..cols {
                pixels.push(match self.cell(r, c) {
                    Cell::Value(v) => self.colormap.at((v - lo) / (hi - lo)),
                    Cell::Masked => MASKED_COLOR,
                    Cell::Invalid(_) => INVALID_COLOR,
                });
            }
        }
        let image = egui::ColorImage::new([cols, rows], pixels);
        let tex = ui.ctx().load_texture(
            format!("heatmap:{}", self.label),
            image,
            TextureOptions::NEAREST,
        );
        ui.data_mut(|d| d.insert_temp(cache_id, (key, tex.clone())));
        tex
    }

    /// Hatching of masked cells and values written in cells, when cells are big enough.
    fn paint_cell_details(
        &self,
        painter: &egui::Painter,
        grid: Rect,
        cell: Vec2,
        lo: f32,
        hi: f32,
    ) {
        let (rows, cols) = self.values.dim();
        let hatch = cell.min_elem() >= 10.0;
        let text = cell.x >= 34.0 && cell.y >= 20.0;
        if !hatch && !text {
            return;
        }
        let font = FontId::proportional((cell.min_elem() * 0.3).clamp(9.0, 13.0));
        let hatch_stroke = Stroke::new(1.0, Color32::from_gray(110));
        for r in 0..rows {
            for c in 0..cols {
                let min = grid.min + vec2(c as f32 * cell.x, r as f32 * cell.y);
                let rect = Rect::from_min_size(min, cell);
                match self.cell(r, c) {
                    Cell::Masked if hatch => {
                        painter.line_segment([rect.left_bottom(), rect.right_top()], hatch_stroke);
                    }
                    Cell::Value(v) if text => {
                        let t = (v - lo) / (hi - lo);
                        painter.text(
                            rect.center(),
                            Align2::CENTER_CENTER,
                            format_cell(v),
                            font.clone(),
                            self.colormap.text_on(t),
                        );
                    }
                    Cell::Invalid(v) if text => {
                        let s = if v.is_nan() {
                            "NaN"
                        } else if v > 0.0 {
                            "+∞"
                        } else {
                            "−∞"
                        };
                        painter.text(
                            rect.center(),
                            Align2::CENTER_CENTER,
                            s,
                            font.clone(),
                            Color32::BLACK,
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    /// Row labels on the left, column labels on top (turned upright when they do not fit flat).
    fn paint_labels(
        &self,
        painter: &egui::Painter,
        grid: Rect,
        cell: Vec2,
        flat_cols: bool,
        font: &FontId,
        color: Color32,
    ) {
        let (rows, cols) = self.values.dim();
        // With many tiny cells, label every k-th index only.
        let every = |n: usize, cell: f32| {
            if cell >= 13.0 {
                1
            } else {
                ((14.0 / cell).ceil() as usize).max(1)
            }
            .min(n.max(1))
        };
        let row_step = every(rows, cell.y);
        for r in (0..rows).step_by(row_step) {
            let text = label_or_index(self.row_labels, r);
            let y = grid.top() + (r as f32 + 0.5) * cell.y;
            painter.text(
                pos2(grid.left() - 4.0, y),
                Align2::RIGHT_CENTER,
                text,
                font.clone(),
                color,
            );
        }
        let col_step = every(cols, cell.x);
        for c in (0..cols).step_by(col_step) {
            let text = label_or_index(self.col_labels, c);
            let x = grid.left() + (c as f32 + 0.5) * cell.x;
            if flat_cols {
                painter.text(
                    pos2(x, grid.top() - 3.0),
                    Align2::CENTER_BOTTOM,
                    text,
                    font.clone(),
                    color,
                );
            } else {
                let galley = painter.layout_no_wrap(text, font.clone(), color);
                let h = galley.size().y;
                // Rotated −90°: the text reads bottom-to-top, ending just above the grid.
                let pos = pos2(x - h / 2.0, grid.top() - 4.0);
                painter.add(
                    egui::epaint::TextShape::new(pos, galley, color)
                        .with_angle(-std::f32::consts::FRAC_PI_2),
                );
            }
        }
    }
}

fn label_or_index(labels: Option<&[String]>, i: usize) -> String {
    labels
        .and_then(|l| l.get(i))
        .cloned()
        .unwrap_or_else(|| i.to_string())
}

fn text_width(ui: &Ui, text: &str, font: &FontId) -> f32 {
    ui.painter()
        .layout_no_wrap(text.to_owned(), font.clone(), Color32::WHITE)
        .size()
        .x
}

/// A value as written in a tooltip: fixed decimals, scientific for very large or small values.
pub fn format_value(v: f32, decimals: usize) -> String {
    let a = v.abs();
    if v != 0.0 && (a >= 1e5 || a < 10f32.powi(-(decimals as i32))) {
        format!("{v:.2e}")
    } else {
        format!("{v:.decimals$}")
    }
}

/// A value short enough to fit in a cell.
fn format_cell(v: f32) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a < 0.005 {
        // Would print as "-0.00" for a tiny negative value.
        "0.00".to_owned()
    } else {
        format!("{v:.2}")
    }
}

/// A vertical colorbar with the range's top, middle and bottom values.
pub fn paint_colorbar(
    painter: &egui::Painter,
    bar: Rect,
    colormap: Colormap,
    lo: f32,
    hi: f32,
    decimals: usize,
    text_color: Color32,
) {
    const STEPS: usize = 32;
    let mut mesh = Mesh::default();
    for i in 0..=STEPS {
        let t = i as f32 / STEPS as f32;
        let y = bar.bottom() - t * bar.height();
        let color = colormap.at(t);
        mesh.colored_vertex(pos2(bar.left(), y), color);
        mesh.colored_vertex(pos2(bar.right(), y), color);
        if i > 0 {
            let k = (2 * i) as u32;
            mesh.add_triangle(k - 2, k - 1, k);
            mesh.add_triangle(k - 1, k + 1, k);
        }
    }
    painter.add(Shape::mesh(mesh));
    painter.rect_stroke(
        bar,
        0.0,
        Stroke::new(1.0, text_color.gamma_multiply(0.5)),
        egui::StrokeKind::Outside,
    );
    for (t, v) in [(1.0, hi), (0.5, 0.5 * (lo + hi)), (0.0, lo)] {
        let y = bar.bottom() - t * bar.height();
        painter.text(
            Pos2::new(bar.right() + 4.0, y),
            Align2::LEFT_CENTER,
            format_value(v, decimals.min(3)),
            colorbar_font(),
            text_color,
        );
    }
}

fn colorbar_font() -> FontId {
    FontId::proportional(12.5)
}

/// The width a colour bar and its labels take.
pub fn colorbar_width(ui: &Ui, lo: f32, hi: f32, decimals: usize) -> f32 {
    let widest = [hi, 0.5 * (lo + hi), lo]
        .iter()
        .map(|v| text_width(ui, &format_value(*v, decimals.min(3)), &colorbar_font()))
        .fold(0.0_f32, f32::max);
    8.0 + 14.0 + 4.0 + widest + 4.0
}

/// A colour bar on its own, for a group of maps that share one range (thumbnails in a grid):
/// `height` points tall, with the range's top, middle and bottom values.
pub fn colorbar(
    ui: &mut Ui,
    label: &str,
    colormap: Colormap,
    lo: f32,
    hi: f32,
    height: f32,
) -> Response {
    let width = colorbar_width(ui, lo, hi, 3);
    let (outer, response) = ui.allocate_exact_size(vec2(width, height + 16.0), Sense::hover());
    let bar = Rect::from_min_size(outer.min + vec2(8.0, 8.0), vec2(14.0, height));
    let painter = ui.painter_at(outer);
    paint_colorbar(
        &painter,
        bar,
        colormap,
        lo,
        hi,
        3,
        ui.visuals().text_color(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, label));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cells_are_classified() {
        let a = array![[0.5, f32::NEG_INFINITY], [f32::NAN, f32::INFINITY]];
        let h = Heatmap::new("t", a.view());
        assert_eq!(h.cell(0, 0), Cell::Value(0.5));
        assert_eq!(h.cell(0, 1), Cell::Masked);
        assert!(matches!(h.cell(1, 0), Cell::Invalid(v) if v.is_nan()));
        assert_eq!(h.cell(1, 1), Cell::Invalid(f32::INFINITY));
        let h = Heatmap::new("t", a.view()).neg_inf_is_mask(false);
        assert_eq!(h.cell(0, 1), Cell::Invalid(f32::NEG_INFINITY));
        let b = array![[0.5, 0.5], [0.5, 0.5]];
        assert_eq!(
            Heatmap::new("t", b.view()).causal(true).cell(0, 1),
            Cell::Masked
        );
    }

    #[test]
    fn tooltip_names_the_cell_in_the_callers_words() {
        let tokens: Vec<String> = ["i", "love", "bears"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let a = array![[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.1, 0.734, 0.166]];
        let h = Heatmap::new("t", a.view())
            .labels(Some(&tokens), Some(&tokens))
            .axis_names("query", "key")
            .causal(true);
        assert_eq!(h.tooltip(2, 1), "query \"bears\" → key \"love\": 0.734");
        assert!(h.tooltip(0, 2).contains("masked"));
    }

    #[test]
    fn range_ignores_masked_and_invalid_cells() {
        let a = array![[-2.0, f32::NEG_INFINITY], [f32::NAN, 3.0]];
        assert_eq!(Heatmap::new("t", a.view()).value_range(), (-2.0, 3.0));
        assert_eq!(
            Heatmap::new("t", a.view())
                .colormap(Colormap::Diverging)
                .value_range(),
            (-3.0, 3.0)
        );
        let c = array![[1.0, 1.0]];
        assert_eq!(Heatmap::new("t", c.view()).value_range(), (0.5, 1.5));
    }

    #[test]
    fn values_are_formatted_readably() {
        assert_eq!(format_value(0.7341, 3), "0.734");
        assert_eq!(format_value(123456.0, 3), "1.23e5");
        assert_eq!(format_value(0.0, 3), "0.000");
        assert_eq!(format_cell(12.345), "12.3");
    }
}
