//! §1 "Tokens as points": the sentence's context-free token vectors as the rows of X, and as
//! points on a plane fitted once to the whole vocabulary — "bears" is the same point in all
//! three sentences.

use egui::Ui;

use super::settings::{AttentionSettings, ModelChoice};
use super::view::{Dot, model_picker, plane, sentence_picker, token_color};
use super::{embed, vocabulary};
use crate::lessons::lesson::{LessonContext, Section};
use crate::widgets::export::matrix_csv;
use crate::widgets::palette::GREY;
use crate::widgets::{Colormap, Heatmap, Mark, entry, layout};

/// The section.
pub struct Points;

impl Section<AttentionSettings> for Points {
    fn title(&self) -> &'static str {
        "1. Tokens as points"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut AttentionSettings, _ctx: &mut LessonContext) {
        ui.label("Each token starts as a context-free vector: its row of the embedding table, whatever sentence it is in. Stack a sentence's T vectors as the rows of X (T × d). On the right, the same vectors as points, seen on the two directions along which the whole vocabulary varies most.");
        sentence_picker(ui, s, true);
        model_picker(ui, s, true);
        let text = s.sentence.text(&s.prompt);
        let vocab = match vocabulary(s.model) {
            Ok(v) => v,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let (words, x) = match embed(vocab, &text) {
            Ok(v) => v,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let bears = vocab.words.iter().position(|w| w == "bears");
        if let Some(b) = bears {
            let xy = vocab.pca.project(vocab.table.row(b));
            ui.label(format!(
                "\"bears\" is the point ({:.2}, {:.2}) in every sentence: nothing in its row of X depends on the words around it.",
                xy[0], xy[1]
            ));
        }
        let named = s.model == ModelChoice::Handmade;
        layout::grid(ui, 2, 380.0, |ui, i| {
            if i == 0 {
                ui.strong(format!("X: {} × {}", x.nrows(), x.ncols()));
                let lim = x.iter().fold(0.0_f32, |m, v| m.max(v.abs())).max(1e-6);
                Heatmap::new("X, the token vectors", x.view())
                    .labels(Some(&words), Some(&vocab.columns))
                    .axis_names("token", if named { "axis" } else { "dimension" })
                    .colormap(Colormap::Diverging)
                    .range(-lim, lim)
                    .free_aspect()
                    .max_size(egui::vec2(
                        ui.available_width(),
                        layout::plot_height(ui, 1.2),
                    ))
                    .show(ui);
            } else {
                ui.strong("The tokens as points");
                let background: Vec<(String, [f64; 2])> = vocab
                    .words
                    .iter()
                    .zip(vocab.pca.project_rows(&vocab.table))
                    .filter(|(w, _)| !words.contains(w))
                    .map(|(w, xy)| (w.clone(), xy))
                    .collect();
                let dots: Vec<Dot> = words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| Dot {
                        label: w.clone(),
                        xy: vocab.pca.project(x.row(i)),
                        color: token_color(i),
                        filled: true,
                    })
                    .collect();
                let [a, b] = vocab.pca.explained;
                let axes = [
                    format!("principal axis 1 ({:.0} % of the variance)", 100.0 * a),
                    format!("principal axis 2 ({:.0} %)", 100.0 * b),
                ];
                plane(
                    ui,
                    "attention_points",
                    [&axes[0], &axes[1]],
                    1.2,
                    &background,
                    &[],
                    &[],
                    &dots,
                    vec![
                        entry("the sentence's tokens", token_color(0), Mark::Points),
                        entry("the rest of the vocabulary (hover)", GREY, Mark::Points),
                    ],
                );
            }
        });
    }

    fn csv(&mut self, s: &AttentionSettings) -> String {
        let Ok(vocab) = vocabulary(s.model) else {
            return String::new();
        };
        match embed(vocab, &s.sentence.text(&s.prompt)) {
            Ok((words, x)) => matrix_csv(x.view(), Some(&words), Some(&vocab.columns)),
            Err(_) => String::new(),
        }
    }
}
