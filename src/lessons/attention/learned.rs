//! §4 "Learned Q, K, V": one head of a trained model. The query of "bears" against every key
//! (the scores, then the softmax), the non-symmetric S, and in each of the three sentences where
//! v_bears lands: three helpers, three places. The bundled encoder sees the words after "bears";
//! the decoder cannot, and disambiguates the other way round.

use egui::Ui;
use ndarray::Array2;

use super::settings::{AttentionSettings, ModelChoice, Sentence};
use super::view::{Dot, Move, plane, sentence_picker, token_color};
use super::{bears_at, head_for, trained};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::attention::{Head, asymmetry};
use crate::math::pca::Pca2;
use crate::widgets::bars::{BarRow, bars};
use crate::widgets::export::matrix_csv;
use crate::widgets::palette::SERIES;
use crate::widgets::plots::labelled;
use crate::widgets::{Colormap, Heatmap, Mark, entry, layout};

/// The section.
pub struct Learned;

impl Section<AttentionSettings> for Learned {
    fn title(&self) -> &'static str {
        "4. Learned Q, K, V"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut AttentionSettings, _ctx: &mut LessonContext) {
        ui.label("In a trained model W_Q, W_K, W_V are learned: S = QKᵀ/√d_k = X W_Q W_Kᵀ Xᵀ/√d_k is a generalised dot product — learned, and no longer symmetric — and V′ = softmax(S)V. Here X is what the head reads: the normalised token-plus-position vectors of its layer.");
        sentence_picker(ui, s, true);
        // This section is about trained heads: the hand-made choice of sections 1–3 reads as
        // the encoder here.
        let model = if s.model == ModelChoice::Handmade {
            ModelChoice::Encoder
        } else {
            s.model
        };
        let (gpt, _) = match trained(model) {
            Ok(m) => m,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let (layers, heads) = (gpt.config.n_layer, gpt.config.n_head);
        s.layer = s.layer.min(layers - 1);
        s.head = s.head.min(heads - 1);
        ui.horizontal_wrapped(|ui| {
            ui.label("model:");
            for (choice, name, hover) in [
                (ModelChoice::Encoder, "encoder (no mask)", "Trained to tell the three senses of \"bears\" apart: its queries see every word"),
                (ModelChoice::Causal, "decoder (causal mask)", "The live lesson's model: each word sees only itself and the words before it"),
            ] {
                if ui.selectable_label(model == choice, name).on_hover_text(hover).clicked() {
                    s.model = choice;
                }
            }
            labelled(ui, "layer", |ui| {
                ui.add(egui::Slider::new(&mut s.layer, 0..=layers - 1).custom_formatter(|v, _| format!("{}", v as usize + 1)))
            });
            labelled(ui, "head", |ui| {
                ui.add(egui::Slider::new(&mut s.head, 0..=heads - 1).custom_formatter(|v, _| format!("{}", v as usize + 1)))
            });
        });
        let text = s.sentence.text(&s.prompt);
        let (words, _, head) = match head_for(s, model, &text) {
            Ok(v) => v,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let causal = gpt.config.causal;
        let Some(b) = bears_at(&words) else {
            ui.label("This sentence has no \"bears\": the bars below follow its last word.");
            return;
        };
        let row = head.weights.row(b);
        let best = (0..row.len())
            .max_by(|&p, &q| row[p].total_cmp(&row[q]))
            .unwrap_or(b);
        ui.label(format!(
            "Layer {} head {}: the query of \"bears\" finds \"{}\" ({:.2} of its weight). S is not symmetric: max |S_ij − S_ji| = {:.2}.{}",
            s.layer + 1,
            s.head + 1,
            words[best],
            row[best],
            asymmetry(&head.scores),
            if causal {
                later_words(&words, &head, b)
            } else {
                String::new()
            }
        ));
        let side = layout::plot_height(ui, 1.3);
        layout::grid(ui, 3, 300.0, |ui, i| match i {
            0 => {
                ui.strong("q_bears · k_j / √d_k, then the softmax");
                let finite = |v: f32| if v.is_finite() { v } else { 0.0 };
                let score_rows: Vec<BarRow> = words
                    .iter()
                    .enumerate()
                    .map(|(j, w)| BarRow {
                        label: w.clone(),
                        value: finite(head.scores[[b, j]]),
                        text: if head.scores[[b, j]].is_finite() {
                            format!("{:.2}", head.scores[[b, j]])
                        } else {
                            "masked".into()
                        },
                        hover: format!(
                            "score of \"{w}\" for the query \"bears\": {:.4}",
                            head.scores[[b, j]]
                        ),
                        highlight: j == best,
                    })
                    .collect();
                let (lo, hi) = score_rows.iter().fold((0.0_f32, 0.0_f32), |(l, h), r| {
                    (l.min(r.value), h.max(r.value))
                });
                bars(
                    ui,
                    "scores of the query bears",
                    &score_rows,
                    lo,
                    hi,
                    SERIES[0],
                );
                ui.add_space(6.0);
                let weight_rows: Vec<BarRow> = words
                    .iter()
                    .enumerate()
                    .map(|(j, w)| BarRow {
                        label: w.clone(),
                        value: row[j],
                        text: format!("{:.2}", row[j]),
                        hover: format!("weight of \"{w}\" for the query \"bears\": {:.4}", row[j]),
                        highlight: j == best,
                    })
                    .collect();
                bars(
                    ui,
                    "weights of the query bears",
                    &weight_rows,
                    0.0,
                    1.0,
                    Colormap::Viridis.at(0.6),
                );
            }
            1 => {
                ui.strong("A = softmax(QKᵀ/√d_k)");
                Heatmap::new("learned weights A", head.weights.view())
                    .labels(Some(&words), Some(&words))
                    .axis_names("query", "key")
                    .range(0.0, 1.0)
                    .causal(causal)
                    .decimals(2)
                    .max_size(egui::vec2(ui.available_width(), side))
                    .show(ui);
            }
            _ => {
                ui.strong("Where \"bears\" lands: v_bears (hollow) → v′_bears (filled), one colour per sentence");
                three_places(ui, s, model);
            }
        });
    }

    fn csv(&mut self, s: &AttentionSettings) -> String {
        let model = if s.model == ModelChoice::Handmade {
            ModelChoice::Encoder
        } else {
            s.model
        };
        match head_for(s, model, &s.sentence.text(&s.prompt)) {
            Ok((words, _, head)) => matrix_csv(head.weights.view(), Some(&words), Some(&words)),
            Err(_) => String::new(),
        }
    }
}

/// For the decoder: which later words look back at "bears", and how much.
fn later_words(words: &[String], head: &Head, b: usize) -> String {
    let later: Vec<String> = (b + 1..words.len())
        .map(|i| format!("\"{}\" {:.2}", words[i], head.weights[[i, b]]))
        .collect();
    if later.is_empty() {
        " With the causal mask \"bears\" sees only the words before it.".into()
    } else {
        format!(
            " With the causal mask \"bears\" cannot see the words after it (weight 0); instead they look back at it: {}.",
            later.join(", ")
        )
    }
}

/// v_bears → v̂_bears in the three sentences, on the top two principal axes of all of their
/// values and outputs.
fn three_places(ui: &mut Ui, s: &AttentionSettings, model: ModelChoice) {
    let mut heads = Vec::new();
    for sentence in Sentence::LECTURE {
        if let Ok((words, _, head)) = head_for(s, model, &sentence.text(""))
            && let Some(b) = bears_at(&words)
        {
            heads.push((sentence, words, head, b));
        }
    }
    let d = heads.first().map_or(0, |(_, _, h, _)| h.v.ncols());
    let n: usize = heads.iter().map(|(_, w, _, _)| w.len() + 1).sum();
    let mut all = Array2::<f32>::zeros((n, d));
    let mut r = 0;
    for (_, words, head, b) in &heads {
        for j in 0..words.len() {
            all.row_mut(r).assign(&head.v.row(j));
            r += 1;
        }
        all.row_mut(r).assign(&head.v_hat.row(*b));
        r += 1;
    }
    let pca = Pca2::fit(&all);
    let mut dots = Vec::new();
    let mut moves = Vec::new();
    let mut legend = Vec::new();
    for (k, (sentence, _, head, b)) in heads.iter().enumerate() {
        let color = token_color(k + 1);
        let from = pca.project(head.v.row(*b));
        let to = pca.project(head.v_hat.row(*b));
        let name = sentence.text("");
        dots.push(Dot {
            label: String::new(),
            xy: from,
            color,
            filled: false,
        });
        dots.push(Dot {
            label: format!("\"{name}\""),
            xy: to,
            color,
            filled: true,
        });
        moves.push(Move {
            name: format!("v_bears → v′_bears in \"{name}\""),
            from,
            to,
            color,
        });
        legend.push(entry(format!("\"{name}\""), color, Mark::Points));
    }
    let axes = [
        format!("principal axis 1 ({:.0} %)", 100.0 * pca.explained[0]),
        format!("principal axis 2 ({:.0} %)", 100.0 * pca.explained[1]),
    ];
    plane(
        ui,
        "attention_learned_plane",
        [&axes[0], &axes[1]],
        1.3,
        &[],
        &[],
        &moves,
        &dots,
        legend,
    );
}
