//! §3 "Roles as directions": the lecture's hand-drawn picture made exact — a hand-made embedding
//! whose axes are named, and W_Q, W_K a student can edit. The query of "bears" says what it looks
//! for, the keys what each word is; the helper it finds decides where it lands.

use egui::Ui;
use ndarray::Array2;

use super::settings::{AttentionSettings, ModelChoice, PRESET_STRENGTH, Sentence, to_rows};
use super::view::sentence_picker;
use super::{bears_at, head_for};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::attention::{HANDMADE_AXES, HANDMADE_KEY_DIMS, Handmade, Role};
use crate::widgets::bars::{BarRow, bars};
use crate::widgets::export::matrix_csv;
use crate::widgets::{Colormap, Heatmap, layout};

/// The section.
pub struct Roles;

/// A 6 × 2 matrix as rows of number fields: rows are the named axes, columns the key
/// dimensions. (Plain rows, not an `egui::Grid`: a grid measures itself in a second pass on its
/// first frame, which would re-run the frame that presentation mode sets its zoom in.)
fn matrix_editor(ui: &mut Ui, name: &str, m: &mut [[f32; 2]; 6]) {
    let label_w = 80.0;
    let field = egui::vec2(64.0, ui.spacing().interact_size.y);
    ui.horizontal(|ui| {
        ui.add_sized(
            [label_w, field.y],
            egui::Label::new(egui::RichText::new(name).strong()),
        );
        for d in HANDMADE_KEY_DIMS {
            ui.add_sized(field, egui::Label::new(egui::RichText::new(d).strong()));
        }
    });
    for (r, row) in m.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let l = ui.add_sized([label_w, field.y], egui::Label::new(HANDMADE_AXES[r]));
            for (c, v) in row.iter_mut().enumerate() {
                ui.add_sized(
                    field,
                    egui::DragValue::new(v)
                        .range(-20.0..=20.0)
                        .speed(0.05)
                        .max_decimals(2),
                )
                .labelled_by(l.id)
                .on_hover_text(format!(
                    "{name}: axis \"{}\" → {}",
                    HANDMADE_AXES[r], HANDMADE_KEY_DIMS[c]
                ));
            }
        });
    }
}

impl Section<AttentionSettings> for Roles {
    fn title(&self) -> &'static str {
        "3. Roles as directions"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut AttentionSettings, _ctx: &mut LessonContext) {
        ui.label("To pick the right helper, \"bears\" must say what it looks for (its query q = xW_Q) apart from what it is (its key k = xW_K); every word's key is matched against the query, q·k/√d_k, and the softmax of those scores says who helps. Here the embedding's six axes are named and W_Q, W_K are set by hand — a real model never names its axes; these are made up to show the idea. V = X, so x′ stays on the named axes.");
        sentence_picker(ui, s, false);
        if s.sentence == Sentence::Custom {
            s.sentence = Sentence::Love;
        }
        let h = Handmade::new();
        ui.horizontal_wrapped(|ui| {
            ui.label("presets:");
            if ui
                .button("bears as object or subject: looks for a verb")
                .on_hover_text("\"i love bears\", \"the bears won the game\": its noun axis feeds the verb? query")
                .clicked()
            {
                s.w_q = to_rows(&h.w_q(Role::LooksForVerb, PRESET_STRENGTH));
                s.w_k = to_rows(&h.w_k());
            }
            if ui
                .button("bears as a verb: looks for its object")
                .on_hover_text("\"she bears the pain\": its verb axis feeds the noun? query")
                .clicked()
            {
                s.w_q = to_rows(&h.w_q(Role::LooksForObject, PRESET_STRENGTH));
                s.w_k = to_rows(&h.w_k());
            }
        });
        let mut sentences = Vec::new();
        for sentence in Sentence::LECTURE {
            match head_for(s, ModelChoice::Handmade, &sentence.text("")) {
                Ok(v) => sentences.push((sentence, v)),
                Err(e) => {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                    return;
                }
            }
        }
        layout::grid(ui, 3, 250.0, |ui, i| {
            if i == 0 {
                matrix_editor(ui, "W_Q", &mut s.w_q);
                return;
            }
            if i == 1 {
                matrix_editor(ui, "W_K", &mut s.w_k);
                return;
            }
            // The chosen sentence: the query of "bears" against every key.
            let Some((_, (words, _, head))) = sentences.iter().find(|(x, _)| *x == s.sentence)
            else {
                return;
            };
            let Some(b) = bears_at(words) else { return };
            let row = head.weights.row(b);
            let best = (0..row.len())
                .max_by(|&p, &q| row[p].total_cmp(&row[q]))
                .unwrap_or(b);
            ui.strong(format!(
                "\"{}\": q_bears = ({:.2}, {:.2}); its strongest helper is \"{}\" ({:.2})",
                s.sentence.text(""),
                head.q[[b, 0]],
                head.q[[b, 1]],
                words[best],
                row[best]
            ));
            let rows: Vec<BarRow> = words
                .iter()
                .enumerate()
                .map(|(j, w)| BarRow {
                    label: format!("{w}  k = ({:.1}, {:.1})", head.k[[j, 0]], head.k[[j, 1]]),
                    value: row[j],
                    text: format!("{:.2}", row[j]),
                    hover: format!(
                        "q·k/√2 = {:.3}; weight of \"{w}\" in the row of \"bears\": {:.4}",
                        head.scores[[b, j]],
                        row[j]
                    ),
                    highlight: j == best,
                })
                .collect();
            bars(
                ui,
                "weights of the query bears",
                &rows,
                0.0,
                1.0,
                Colormap::Viridis.at(0.6),
            );
        });
        // Where "bears" lands in each sentence, on the named axes.
        ui.strong("Where \"bears\" lands: x_bears and x′_bears = Σ_j a_j x_j in each sentence, on the named axes");
        let mut lands = Array2::<f32>::zeros((4, HANDMADE_AXES.len()));
        let mut names = vec!["x_bears (alone)".to_owned()];
        if let Some((_, (words, x, _))) = sentences.first()
            && let Some(b) = bears_at(words)
        {
            lands.row_mut(0).assign(&x.row(b));
        }
        for (k, (sentence, (words, _, head))) in sentences.iter().enumerate() {
            if let Some(b) = bears_at(words) {
                lands.row_mut(k + 1).assign(&head.v_hat.row(b));
            }
            names.push(format!("in \"{}\"", sentence.text("")));
        }
        let axes: Vec<String> = HANDMADE_AXES.iter().map(|a| (*a).to_owned()).collect();
        Heatmap::new("where bears lands", lands.view())
            .labels(Some(&names), Some(&axes))
            .axis_names("", "axis")
            .colormap(Colormap::Viridis)
            .range(0.0, 1.0)
            .decimals(2)
            .max_size(egui::vec2(
                ui.available_width().min(720.0),
                layout::plot_height(ui, 1.6),
            ))
            .show(ui);
        ui.label("With one preset, one sentence goes right and another wrong: a fixed query cannot know which role \"bears\" plays. A trained model computes its query from context (earlier layers, positions) — section 4 reads one off.");
    }

    fn csv(&mut self, s: &AttentionSettings) -> String {
        match head_for(s, ModelChoice::Handmade, &s.sentence.text(&s.prompt)) {
            Ok((words, _, head)) => matrix_csv(head.weights.view(), Some(&words), Some(&words)),
            Err(_) => String::new(),
        }
    }
}
