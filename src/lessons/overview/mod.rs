//! Lesson "The transformer at a glance": the lecture's block diagram, drawn with egui's painter.
//!
//! tokens → embedding + positional encoding → [LayerNorm → multi-head masked self-attention
//! → add the skip → LayerNorm → MLP → add the skip] × L → final LayerNorm → linear head →
//! softmax over the vocabulary → next token. Every block is clickable and opens the lesson that explains it;
//! hovering a block shows the shapes that flow through it for the chosen model size.

mod diagram;

use egui::Ui;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::lessons::lesson::{Lesson, LessonContext, LessonInfo, LessonSettings, Validate, check};
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
        // The bundled bears model's own sizes ("i love bears" is 3 of its tokens); the numbers
        // of its file if it could not be read.
        let (d, heads, layers, vocab) =
            crate::pretrained::bears_shared().map_or((64, 4, 2, 39), |(g, _)| {
                let c = &g.config;
                (c.n_embd, c.n_head, c.n_layer, c.vocab_size)
            });
        Self {
            tokens: 3,
            d,
            heads,
            layers,
            vocab,
        }
    }
}

impl Validate for OverviewSettings {
    fn validate(&self) -> Result<(), String> {
        let range = |name: &str, v: usize, lo: usize, hi: usize| {
            check(
                name,
                (lo..=hi).contains(&v),
                &format!("between {lo} and {hi}"),
                v,
            )
        };
        range("tokens", self.tokens, 1, 4096)?;
        range("d", self.d, 1, 65_536)?;
        range("heads", self.heads, 1, 256)?;
        range("layers", self.layers, 1, 256)?;
        range("vocab", self.vocab, 1, 1_000_000)?;
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
            "attention",
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

/// The lesson, for the registry.
pub fn lesson() -> Box<dyn Lesson> {
    Box::new(Overview::default())
}

impl Lesson for Overview {
    fn info(&self) -> LessonInfo {
        LessonInfo {
            id: "overview",
            title: "The transformer at a glance",
            summary: "The lecture's block diagram: tokens become vectors, L blocks of attention and MLP move them, \
                      and a softmax over the vocabulary picks the next token. Click a block to open its lesson; \
                      hover it for its shapes.",
        }
    }

    fn settings(&mut self) -> &mut dyn LessonSettings {
        &mut self.settings
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
        diagram::draw_diagram(ui, &blocks(&self.settings), self.settings.layers, ctx);
    }

    fn data(&mut self) -> Value {
        let blocks: Vec<Value> = blocks(&self.settings)
            .into_iter()
            .map(|b| json!({"name": b.name, "shape": b.shape, "lesson": b.lesson, "repeated": b.in_stack}))
            .collect();
        json!({"settings": self.settings.to_json(), "blocks": blocks})
    }

    fn csv(&mut self) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_bundled_model() {
        let Ok((g, _)) = crate::pretrained::bears_shared() else {
            panic!("the bundled model loads")
        };
        let s = OverviewSettings::default();
        assert_eq!(s.vocab, g.config.vocab_size);
        assert_eq!(s.vocab, 39);
        assert_eq!(
            (s.d, s.heads, s.layers),
            (g.config.n_embd, g.config.n_head, g.config.n_layer)
        );
    }

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
        let Some(att) = b.iter().find(|b| b.name.contains("attention")) else {
            panic!("no attention block in {b:?}");
        };
        let att = &att.shape;
        assert!(att.contains("Q, K, V: 3 × 64"), "{att}");
        assert!(att.contains("4 × 3 × 3"), "{att}");
        assert!(att.contains("√16"), "{att}");
    }

    #[test]
    fn invalid_settings_are_refused() {
        let mut o = Overview::default();
        assert!(o.settings().set_json(json!({"d": 30, "heads": 4})).is_err());
        assert!(o.settings().set_json(json!({"tokens": 0})).is_err());
        assert_eq!(o.settings, OverviewSettings::default());
        assert!(o.settings().set_json(json!({"d": 32, "heads": 4})).is_ok());
    }
}
