//! §2 "The MLP is per token": replace one word of the prompt and see which tokens' outputs
//! change — every later one through attention (it mixes tokens), only that one through the MLP
//! (the same network on each row alone: exactly 0 change elsewhere).

use egui::Ui;

use super::prompt_ids;
use super::settings::ResidualSettings;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::block::change_one_token;
use crate::pretrained::bears_shared;
use crate::widgets::bars::{BarRow, bars};
use crate::widgets::export::columns_csv;
use crate::widgets::layout;
use crate::widgets::palette::SERIES;
use crate::widgets::plots::labelled;

/// The section.
pub struct PerToken;

impl Section<ResidualSettings> for PerToken {
    fn title(&self) -> &'static str {
        "2. The MLP is per token"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut ResidualSettings, _ctx: &mut LessonContext) {
        ui.label("Replace one word of the prompt. Attention mixes tokens: the output of every token that can see the changed one changes too. The MLP acts on each token's vector alone: fed the same vectors with only the changed token's row replaced, its output changes in that row and in no other — exactly.");
        let Ok((gpt, tok)) = bears_shared() else {
            ui.colored_label(
                ui.visuals().error_fg_color,
                "The bundled model could not be loaded.",
            );
            return;
        };
        let layers = gpt.config.n_layer;
        let (words, ids) = match prompt_ids(&s.prompt) {
            Ok(v) => v,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        s.position = s.position.min(words.len() - 1);
        s.layer = s.layer.min(layers - 1);
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "replace word", |ui| {
                ui.add(
                    egui::Slider::new(&mut s.position, 0..=words.len() - 1)
                        .custom_formatter(|v, _| format!("{}", v as usize + 1)),
                )
            });
            let l = ui.label(format!("(\"{}\") by", words[s.position]));
            egui::ComboBox::from_id_salt("replacement")
                .selected_text(&s.replacement)
                .show_ui(ui, |ui| {
                    for w in tok.vocab() {
                        ui.selectable_value(&mut s.replacement, w.clone(), w.as_str());
                    }
                })
                .response
                .labelled_by(l.id);
            labelled(ui, "block", |ui| {
                ui.add(
                    egui::Slider::new(&mut s.layer, 0..=layers - 1)
                        .custom_formatter(|v, _| format!("{}", v as usize + 1)),
                )
            });
        });
        let Some(replacement) = tok.id(&s.replacement) else {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("\"{}\" is not in the vocabulary.", s.replacement),
            );
            return;
        };
        let Some((attn, mlp)) = change_one_token(gpt, &ids, s.layer, s.position, replacement)
        else {
            return;
        };
        let others_mlp = mlp
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != s.position)
            .fold(0.0_f32, |m, (_, &d)| m.max(d));
        let others_attn = attn
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != s.position && attn[*j] > 0.0)
            .count();
        ui.label(format!(
            "\"{}\" → \"{}\": attention's output changes for {others_attn} other token(s); the MLP's largest change for any other token is {others_mlp} (exactly 0).",
            words[s.position], s.replacement
        ));
        let top = attn
            .iter()
            .chain(&mlp)
            .copied()
            .fold(0.0_f32, f32::max)
            .max(1e-6);
        let rows = |d: &[f32], what: &str| -> Vec<BarRow> {
            words
                .iter()
                .zip(d)
                .enumerate()
                .map(|(j, (w, &v))| BarRow {
                    label: w.clone(),
                    value: v,
                    text: if v == 0.0 {
                        "0".into()
                    } else {
                        format!("{v:.3}")
                    },
                    hover: format!("‖Δ {what}‖ of \"{w}\" = {v:e}"),
                    highlight: j == s.position,
                })
                .collect()
        };
        layout::grid(ui, 2, 300.0, |ui, i| {
            if i == 0 {
                ui.strong("‖change‖ of attention's output, per token");
                bars(
                    ui,
                    "change of attention output",
                    &rows(&attn, "attention output"),
                    0.0,
                    top,
                    SERIES[0],
                );
            } else {
                ui.strong("‖change‖ of the MLP's output, per token");
                bars(
                    ui,
                    "change of MLP output",
                    &rows(&mlp, "MLP output"),
                    0.0,
                    top,
                    SERIES[1],
                );
            }
        });
    }

    fn csv(&mut self, s: &ResidualSettings) -> String {
        let (Ok((_, ids)), Ok((gpt, tok))) = (prompt_ids(&s.prompt), bears_shared()) else {
            return String::new();
        };
        let Some(r) = tok.id(&s.replacement) else {
            return String::new();
        };
        match change_one_token(
            gpt,
            &ids,
            s.layer.min(gpt.config.n_layer - 1),
            s.position.min(ids.len() - 1),
            r,
        ) {
            Some((a, m)) => columns_csv(&[
                ("token", (0..a.len()).map(|j| j as f64).collect()),
                (
                    "attention_change",
                    a.iter().map(|&v| f64::from(v)).collect(),
                ),
                ("mlp_change", m.iter().map(|&v| f64::from(v)).collect()),
            ]),
            None => String::new(),
        }
    }
}
