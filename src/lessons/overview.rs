//! Lesson "The transformer at a glance": the lecture's block diagram, drawn with egui's painter.
//!
//! tokens → embedding + positional encoding → [LayerNorm → multi-head masked self-attention
//! → add the skip → LayerNorm → MLP → add the skip] × L → final LayerNorm → linear head →
//! softmax over the vocabulary → next token. Every block is clickable and opens the lesson that explains it;
//! hovering a block shows the shapes that flow through it for the chosen model size.

use egui::{
    Align2, Color32, CornerRadius, FontId, Rect, Sense, Stroke, StrokeKind, Ui, pos2, vec2,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AppRequest, Lesson, LessonContext, settings_from_json, settings_to_json};
use crate::widgets::export::csv_field;

/// The model size whose shapes the diagram shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OverviewSettings {
    /// Tokens in the prompt (T).
    pub tokens: usize,
    /// Width of the residual stream (d, `n_embd`).
    pub d: usize,
    /// Attention heads (H); each head has d / H dimensions.
    pub heads: usize,
    /// Transformer blocks (L).
    pub layers: usize,
    /// Vocabulary size (V).
    pub vocab: usize,
}

impl Default for OverviewSettings {
    fn default() -> Self {
        // The bears model: "i love bears" is 3 tokens of a small word vocabulary.
        Self {
            tokens: 3,
            d: 64,
            heads: 4,
            layers: 2,
            vocab: 48,
        }
    }
}

impl OverviewSettings {
    fn validate(&self) -> Result<(), String> {
        let check = |name: &str, v: usize, lo: usize, hi: usize| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be between {lo} and {hi}, got {v}"))
            }
        };
        check("tokens", self.tokens, 1, 4096)?;
        check("d", self.d, 1, 65_536)?;
        check("heads", self.heads, 1, 256)?;
        check("layers", self.layers, 1, 256)?;
        check("vocab", self.vocab, 1, 1_000_000)?;
        if !self.d.is_multiple_of(self.heads) {
            return Err(format!(
                "d ({}) must be a multiple of heads ({})",
                self.d, self.heads
            ));
        }
        Ok(())
    }
}

/// One box of the diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// What the box says.
    pub name: &'static str,
    /// The shapes flowing through it (hover text), for the current settings.
    pub shape: String,
    /// The output shape, short enough to print in the box.
    pub short: String,
    /// The lesson that explains it.
    pub lesson: &'static str,
    /// Inside the repeated transformer block?
    pub in_stack: bool,
}

/// The blocks, top to bottom, with the shapes for `s`.
pub fn blocks(s: &OverviewSettings) -> Vec<Block> {
    let (t, d, h, l, v) = (s.tokens, s.d, s.heads, s.layers, s.vocab);
    let hs = d / h.max(1);
    let td = format!("{t} × {d}");
    let b = |name, shape: String, short: String, lesson, in_stack| Block {
        name,
        shape,
        short,
        lesson,
        in_stack,
    };
    vec![
        b(
            "Tokens",
            format!("token ids: {t} (one integer per token, vocabulary of {v})"),
            format!("T = {t} ids"),
            "live",
            false,
        ),
        b(
            "Embedding + positional encoding",
            format!("X = E[ids] + P: {t} × {d}   (E: {v} × {d}, P: {t} × {d})"),
            td.clone(),
            "positions",
            false,
        ),
        b(
            "LayerNorm",
            format!("{t} × {d} → {t} × {d}   (statistics over the {d} features of each token)"),
            td.clone(),
            "norms",
            true,
        ),
        b(
            "Multi-head masked self-attention",
            format!(
                "Q, K, V: {t} × {d}  ({h} heads of {t} × {hs});  A = softmax(QKᵀ/√{hs}): {h} × {t} × {t};  W_O: {d} × {d}"
            ),
            format!("A: {h} × {t} × {t}, out {td}"),
            "live",
            true,
        ),
        b(
            "+ skip",
            format!("x + attention(LN(x)): {t} × {d}"),
            td.clone(),
            "residuals",
            true,
        ),
        b(
            "LayerNorm",
            format!("{t} × {d} → {t} × {d}"),
            td.clone(),
            "norms",
            true,
        ),
        b(
            "MLP",
            format!("{t} × {d} → {t} × {} (GELU) → {t} × {d}", 4 * d),
            format!("{t} × {} → {td}", 4 * d),
            "residuals",
            true,
        ),
        b(
            "+ skip",
            format!("x + MLP(LN(x)): {t} × {d}   — repeated for each of the {l} blocks"),
            td.clone(),
            "residuals",
            true,
        ),
        b(
            "Final LayerNorm",
            format!("{t} × {d}"),
            td.clone(),
            "norms",
            false,
        ),
        b(
            "Linear head",
            format!("logits = x Eᵀ: {t} × {v}   (tied to the embedding E: {v} × {d})"),
            format!("logits {t} × {v}"),
            "live",
            false,
        ),
        b(
            "Softmax over the vocabulary",
            format!("p: {t} × {v}, each row sums to 1"),
            format!("p: {t} × {v}"),
            "softmax",
            false,
        ),
        b(
            "Next token",
            format!("argmax or a sample of p[{}]: 1 token", t.saturating_sub(1)),
            "1 token".into(),
            "decoding",
            false,
        ),
    ]
}

/// The lesson.
#[derive(Default)]
pub struct Overview {
    settings: OverviewSettings,
}

impl Lesson for Overview {
    fn id(&self) -> &'static str {
        "overview"
    }
    fn title(&self) -> &'static str {
        "The transformer at a glance"
    }
    fn summary(&self) -> &'static str {
        "The lecture's block diagram: tokens become vectors, L blocks of attention and MLP move them, \
         and a softmax over the vocabulary picks the next token. Click a block to open its lesson; \
         hover it for its shapes."
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut LessonContext) {
        ui.horizontal_wrapped(|ui| {
            let s = &mut self.settings;
            ui.label("Shapes for:");
            drag(ui, "tokens T", &mut s.tokens, 1..=512);
            drag(ui, "width d", &mut s.d, 1..=4096);
            drag(ui, "heads H", &mut s.heads, 1..=64);
            drag(ui, "layers L", &mut s.layers, 1..=48);
            drag(ui, "vocabulary V", &mut s.vocab, 1..=100_000);
        });
        if !self.settings.d.is_multiple_of(self.settings.heads) {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "d = {} is not a multiple of H = {}: each head gets d / H dimensions, so pick d divisible by H.",
                    self.settings.d, self.settings.heads
                ),
            );
        }
        ui.add_space(6.0);
        draw_diagram(ui, &blocks(&self.settings), self.settings.layers, ctx);
    }

    fn settings(&self) -> Value {
        settings_to_json(&self.settings)
    }
    fn set_settings(&mut self, settings: Value) -> Result<(), String> {
        let s: OverviewSettings = settings_from_json(settings)?;
        s.validate()?;
        self.settings = s;
        Ok(())
    }
    fn data(&self) -> Value {
        let blocks: Vec<Value> = blocks(&self.settings)
            .into_iter()
            .map(|b| json!({"name": b.name, "shape": b.shape, "lesson": b.lesson, "repeated": b.in_stack}))
            .collect();
        json!({"settings": self.settings(), "blocks": blocks})
    }
    fn csv(&self) -> String {
        let mut out = String::from("block,repeated,shape,lesson\n");
        for b in blocks(&self.settings) {
            out.push_str(&format!(
                "{},{},{},{}\n",
                csv_field(b.name),
                b.in_stack,
                csv_field(&b.shape),
                b.lesson
            ));
        }
        out
    }
}

fn drag(ui: &mut Ui, label: &str, value: &mut usize, range: std::ops::RangeInclusive<usize>) {
    let name = ui.label(label);
    ui.add(egui::DragValue::new(value).range(range))
        .on_hover_text(format!("{label}: drag or type"))
        .labelled_by(name.id);
}

/// Draw the diagram in three columns: input (tokens, embedding), the repeated block, output.
fn draw_diagram(ui: &mut Ui, blocks: &[Block], layers: usize, ctx: &mut LessonContext) {
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
            Color32::from_rgb(230, 159, 0) // Okabe–Ito orange
        } else if b.name.contains("LayerNorm") {
            Color32::from_rgb(86, 180, 233) // sky blue
        } else if b.name == "MLP" {
            Color32::from_rgb(0, 158, 115) // bluish green
        } else if b.name.contains("skip") {
            Color32::from_rgb(204, 121, 167) // reddish purple
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
        let frame = Rect::from_min_max(first.min - vec2(14.0, 28.0), last.max + vec2(14.0, 10.0));
        painter.rect_stroke(
            frame,
            CornerRadius::same(10),
            Stroke::new(2.0, text.gamma_multiply(0.6)),
            StrokeKind::Inside,
        );
        painter.text(
            frame.left_top() + vec2(10.0, 6.0),
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
                pos2(from.center().x + 20.0, from.top() - 10.0),
                pos2(x, from.top() - 10.0),
                pos2(x, to.center().y),
            ];
            painter.line(pts, Stroke::new(1.5, Color32::from_rgb(204, 121, 167)));
            painter.arrow(
                pos2(x, to.center().y),
                vec2(-(x - to.right()), 0.0),
                Stroke::new(1.5, Color32::from_rgb(204, 121, 167)),
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
        let name_size = (box_h * 0.36).clamp(14.0, 19.0);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_settings() {
        let s = OverviewSettings {
            tokens: 3,
            d: 64,
            heads: 4,
            layers: 2,
            vocab: 48,
        };
        let b = blocks(&s);
        assert_eq!(b.len(), 12);
        assert_eq!(b.iter().filter(|b| b.in_stack).count(), 6);
        let att = b
            .iter()
            .find(|b| b.name.contains("attention"))
            .map(|b| b.shape.clone())
            .unwrap_or_default();
        assert!(att.contains("Q, K, V: 3 × 64"), "{att}");
        assert!(att.contains("4 × 3 × 3"), "{att}");
        assert!(att.contains("√16"), "{att}");
    }

    #[test]
    fn invalid_settings_are_refused() {
        let mut o = Overview::default();
        assert!(o.set_settings(json!({"d": 30, "heads": 4})).is_err());
        assert!(o.set_settings(json!({"tokens": 0})).is_err());
        assert_eq!(o.settings, OverviewSettings::default());
        assert!(o.set_settings(json!({"d": 32, "heads": 4})).is_ok());
    }
}
