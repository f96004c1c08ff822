//! §5 "The head": the stack's output at the prompt's last position, through the final norm, times
//! the embedding table (tied: the same E that turned tokens into vectors) gives one logit per
//! word; their softmax is the next-token distribution the live lesson draws.

use egui::Ui;

use super::prompt_ids;
use super::settings::ResidualSettings;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::block::head;
use crate::pretrained::bears_shared;
use crate::widgets::bars::{BarRow, bars};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::SERIES;
use crate::widgets::{Colormap, Heatmap, layout};

/// The section.
pub struct Head;

/// Words shown: the most likely ones.
const TOP: usize = 8;

impl Section<ResidualSettings> for Head {
    fn title(&self) -> &'static str {
        "5. The head"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut ResidualSettings, _ctx: &mut LessonContext) {
        ui.label("After the last block and the final norm, the vector at the prompt's last position is multiplied by the embedding table Eᵀ (the head is tied to the embedding): one logit per word of the vocabulary. Their softmax is the next-token distribution — the same numbers as the live lesson's next-token bars for the bundled model at temperature 1.");
        ui.horizontal(|ui| {
            let l = ui.strong("Prompt");
            ui.add(
                egui::TextEdit::singleline(&mut s.prompt)
                    .desired_width(360.0)
                    .char_limit(400),
            )
            .labelled_by(l.id);
        });
        let (Ok((gpt, tok)), words) = (bears_shared(), prompt_ids(&s.prompt)) else {
            return;
        };
        let (words, ids) = match words {
            Ok(v) => v,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let Some((x, logits, probs)) = head(gpt, &ids) else {
            return;
        };
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let best = order[0];
        ui.label(format!(
            "After \"{}\" the model's next word is \"{}\" ({:.1} %); the vocabulary has {} words, the vector {} numbers.",
            words.last().map_or("", String::as_str),
            tok.word(best),
            100.0 * probs[best],
            probs.len(),
            x.len()
        ));
        let xm = ndarray::Array2::from_shape_vec((1, x.len()), x.clone())
            .unwrap_or_else(|_| ndarray::Array2::zeros((1, 0)));
        let lim = x.iter().fold(0.0_f32, |m, v| m.max(v.abs())).max(1e-6);
        ui.strong("The last position's vector after the final norm");
        let last = vec![words.last().cloned().unwrap_or_default()];
        Heatmap::new("last position after the final norm", xm.view())
            .labels(Some(&last), None)
            .axis_names("", "feature")
            .colormap(Colormap::Diverging)
            .range(-lim, lim)
            .free_aspect()
            .max_size(egui::vec2(ui.available_width(), 90.0))
            .show(ui);
        let (lo, hi) = order
            .iter()
            .take(TOP)
            .fold((0.0_f32, 0.0_f32), |(l, h), &i| {
                (l.min(logits[i]), h.max(logits[i]))
            });
        layout::grid(ui, 2, 300.0, |ui, k| {
            if k == 0 {
                ui.strong(format!("Logits x · e_word of the {TOP} likeliest words"));
                let rows: Vec<BarRow> = order
                    .iter()
                    .take(TOP)
                    .map(|&i| BarRow {
                        label: tok.word(i),
                        value: logits[i],
                        text: format!("{:.2}", logits[i]),
                        hover: format!("logit of \"{}\" = {:.4}", tok.word(i), logits[i]),
                        highlight: i == best,
                    })
                    .collect();
                bars(ui, "logits of the head", &rows, lo, hi, SERIES[0]);
            } else {
                ui.strong("softmax: the next-token probabilities");
                let rows: Vec<BarRow> = order
                    .iter()
                    .take(TOP)
                    .map(|&i| BarRow {
                        label: tok.word(i),
                        value: probs[i],
                        text: format!("{:.1} %", 100.0 * probs[i]),
                        hover: format!("p(next = \"{}\") = {:.4}", tok.word(i), probs[i]),
                        highlight: i == best,
                    })
                    .collect();
                bars(
                    ui,
                    "next-token probabilities",
                    &rows,
                    0.0,
                    1.0,
                    Colormap::Viridis.at(0.6),
                );
            }
        });
    }

    fn csv(&mut self, s: &ResidualSettings) -> String {
        let (Ok((gpt, _)), Ok((_, ids))) = (bears_shared(), prompt_ids(&s.prompt)) else {
            return String::new();
        };
        match head(gpt, &ids) {
            Some((_, logits, probs)) => columns_csv(&[
                ("token_id", (0..logits.len()).map(|i| i as f64).collect()),
                ("logit", logits.iter().map(|&v| f64::from(v)).collect()),
                ("probability", probs.iter().map(|&v| f64::from(v)).collect()),
            ]),
            None => String::new(),
        }
    }
}
