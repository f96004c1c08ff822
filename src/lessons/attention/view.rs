//! What the sections share on screen: the sentence and model pickers, and the plane on which
//! tokens are points and attention moves them (arrows from where a token was to where it lands,
//! and lines to its helpers as thick as their weights — the lecture's "communication network").

use egui::{Color32, Ui};
use egui_plot::{Arrows, Line, PlotPoint, Points, Text};

use super::settings::{AttentionSettings, ModelChoice, Sentence};
use crate::widgets::palette::{CATEGORICAL, GREY, text};
use crate::widgets::plots::Scale;
use crate::widgets::{Figure, LegendEntry};

/// Radio buttons for the three sentences (and a text box for one's own, if `custom`).
pub fn sentence_picker(ui: &mut Ui, s: &mut AttentionSettings, custom: bool) {
    ui.horizontal_wrapped(|ui| {
        ui.label("sentence:");
        for sentence in Sentence::LECTURE {
            ui.selectable_value(
                &mut s.sentence,
                sentence,
                format!("\"{}\"", sentence.text("")),
            );
        }
        if custom {
            ui.selectable_value(&mut s.sentence, Sentence::Custom, "your own:");
            let l = ui.label("own sentence");
            ui.add(
                egui::TextEdit::singleline(&mut s.prompt)
                    .desired_width(220.0)
                    .char_limit(200),
            )
            .labelled_by(l.id);
        }
    });
}

/// Radio buttons for whose embedding: the hand-made one or a trained model's.
pub fn model_picker(ui: &mut Ui, s: &mut AttentionSettings, handmade: bool) {
    ui.horizontal_wrapped(|ui| {
        ui.label("model:");
        if handmade {
            ui.selectable_value(&mut s.model, ModelChoice::Handmade, "hand-made (named axes)")
                .on_hover_text("Six named axes, set by hand for this lesson");
        }
        ui.selectable_value(&mut s.model, ModelChoice::Encoder, "trained encoder")
            .on_hover_text("The bundled encoder: no causal mask, trained to tell the three senses of \"bears\" apart");
        ui.selectable_value(&mut s.model, ModelChoice::Causal, "trained decoder")
            .on_hover_text("The live lesson's model: a causal mask, trained to predict the next word");
    });
}

/// A token drawn on the plane.
pub struct Dot {
    /// Its label ("bears", "bears @ i love bears").
    pub label: String,
    /// Where it is.
    pub xy: [f64; 2],
    /// Its colour.
    pub color: Color32,
    /// Filled (where a token lands) or hollow (where it starts).
    pub filled: bool,
}

/// An arrow from where a token starts to where it lands.
pub struct Move {
    /// Its name (hover).
    pub name: String,
    /// From, to.
    pub from: [f64; 2],
    /// To.
    pub to: [f64; 2],
    /// Its colour.
    pub color: Color32,
}

/// A line from a token to a helper, `weight` thick (0 … 1).
pub struct Link {
    /// Its name (hover).
    pub name: String,
    /// The token.
    pub from: [f64; 2],
    /// The helper.
    pub to: [f64; 2],
    /// The attention weight.
    pub weight: f32,
}

/// The colour of the i-th token of a sentence.
pub fn token_color(i: usize) -> Color32 {
    CATEGORICAL[i % CATEGORICAL.len()]
}

/// The plane: faint background points (the rest of the vocabulary, named on hover), links,
/// moves and labelled dots. Axis names say what the axes are.
#[allow(clippy::too_many_arguments)]
pub fn plane(
    ui: &mut Ui,
    id: &str,
    axes: [&str; 2],
    rows: f32,
    background: &[(String, [f64; 2])],
    links: &[Link],
    moves: &[Move],
    dots: &[Dot],
    legend: Vec<LegendEntry>,
) {
    let xs: Vec<f64> = dots.iter().map(|d| d.xy[0]).collect();
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
            (l.min(x), h.max(x))
        });
    let mid = if lo.is_finite() { (lo + hi) / 2.0 } else { 0.0 };
    let labels: Vec<Color32> = dots.iter().map(|d| text(ui, d.color)).collect();
    let link_color = ui.visuals().text_color().gamma_multiply(0.55);
    Figure::new(id)
        .x(axes[0], Scale::Linear)
        .y(axes[1], Scale::Linear)
        .rows(ui, rows)
        .data_aspect(1.0)
        .legend(legend)
        .show(ui, |p| {
            for (word, xy) in background {
                p.points(Points::new(word.clone(), vec![*xy]).radius(2.5).color(GREY));
            }
            for l in links {
                p.line(
                    Line::new(l.name.clone(), vec![l.from, l.to])
                        .color(link_color)
                        .width(1.0 + 9.0 * l.weight.clamp(0.0, 1.0)),
                );
            }
            for m in moves {
                p.arrows(
                    Arrows::new(m.name.clone(), vec![m.from], vec![m.to])
                        .color(m.color)
                        .tip_length(14.0),
                );
            }
            for (d, color) in dots.iter().zip(&labels) {
                p.points(
                    Points::new(d.label.clone(), vec![d.xy])
                        .radius(5.5)
                        .filled(d.filled)
                        .color(d.color),
                );
                if d.label.is_empty() {
                    continue;
                }
                // The label beside its dot, towards the middle, so it is never cut at an edge.
                let right = d.xy[0] <= mid;
                let (anchor, padded) = if right {
                    (egui::Align2::LEFT_CENTER, format!("   {}", d.label))
                } else {
                    (egui::Align2::RIGHT_CENTER, format!("{}   ", d.label))
                };
                p.text(
                    Text::new(d.label.clone(), PlotPoint::new(d.xy[0], d.xy[1]), padded)
                        .color(*color)
                        .anchor(anchor),
                );
            }
        });
}
