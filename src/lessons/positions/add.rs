//! §4 "Add or concatenate": positions are added to the token embeddings; their sizes, the cost
//! of concatenating instead, and the tokens before and after in 2-D.

use egui::{RichText, Ui};
use egui_plot::{Line, PlotPoints, Points, Text};

use super::norm;
use super::settings::PositionSettings;
use crate::lessons::common::background::Cached;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::positions::{Projected, block_params, project_prompt};
use crate::pretrained::bears_shared;
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{CATEGORICAL, GREY, SERIES as COLORS};
use crate::widgets::plots::Scale;
use crate::widgets::{Figure, Mark, entry};

/// The section: the prompt's projection, cached by prompt.
#[derive(Default)]
pub struct Add {
    projection: Cached<String, Vec<Projected>>,
}

impl Section<PositionSettings> for Add {
    fn title(&self) -> &'static str {
        "4. Add or concatenate"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut PositionSettings, _ctx: &mut LessonContext) {
        ui.label("Positions are added to the token embeddings, x_p = e(token) + r_p, not concatenated. Adding keeps the width: every matrix of every layer stays C × C. It disturbs the context-free vector only as much as r_p is large compared with e — and in a wide space the two can live in nearly orthogonal directions.");
        let Ok((model, tokenizer)) = bears_shared() else {
            ui.label(
                "The bundled bears model could not be loaded, so there is nothing to measure here.",
            );
            return;
        };
        let (wte, Some(wpe)) = (&model.params.wte, &model.params.wpe) else {
            ui.label("The bundled bears model has no learned positions to measure.");
            return;
        };
        let c = wte.ncols();
        let v = wte.nrows();
        let t = wpe.nrows();
        let tok_norms: Vec<f32> = wte.outer_iter().map(norm).collect();
        let pos_norms: Vec<f32> = wpe.outer_iter().map(norm).collect();
        let mean_tok = tok_norms.iter().sum::<f32>() / tok_norms.len().max(1) as f32;
        let mean_pos = pos_norms.iter().sum::<f32>() / pos_norms.len().max(1) as f32;
        let added = block_params(c);
        let concat = block_params(2 * c);
        ui.label(RichText::new(format!(
            "Bears model: C = {c}. Mean ‖e(token)‖ = {mean_tok:.3} over {v} tokens; mean ‖r_p‖ (learned) = {mean_pos:.3} over {t} positions; a sinusoidal row has ‖r_p‖ = √(C/2) = {:.2}. Concatenating a {c}-wide position vector would make every block {c} → {}: {added} → {concat} parameters per block (×{:.1}), and attention and MLP cost grow by the same factor.",
            (c as f32 / 2.0).sqrt(),
            2 * c,
            concat as f64 / added as f64
        )));
        ui.horizontal(|ui| {
            let l = ui.strong("Prompt");
            ui.add(egui::TextEdit::singleline(&mut settings.prompt).desired_width(300.0))
                .labelled_by(l.id);
        });
        let ids = tokenizer.encode(&settings.prompt);
        let projected: &[Projected] = match &ids {
            Ok(ids) => self.projection.get(settings.prompt.clone(), |_| {
                project_prompt(model, tokenizer, ids)
            }),
            Err(_) => &[],
        };
        ui.columns(2, |cols| {
            cols[0].strong("Norms: learned positions vs token embeddings");
            Figure::new("positions_norms")
                .x("position p (tokens: sorted by norm)", Scale::Linear)
                .y("Euclidean norm ‖·‖", Scale::Linear)
                .rows(&cols[0], 1.3)
                .legend(vec![
                    entry("‖r_p‖ learned", COLORS[1], Mark::Line),
                    entry("‖e(token)‖, all tokens", COLORS[0], Mark::Points),
                ])
                .include_y(0.0)
                .show(&mut cols[0], |plot| {
                    let pts: PlotPoints = pos_norms.iter().enumerate().map(|(p, &n)| [p as f64, f64::from(n)]).collect();
                    plot.line(Line::new("‖r_p‖ learned", pts).color(COLORS[1]).width(2.0));
                    let mut sorted = tok_norms.clone();
                    sorted.sort_by(f32::total_cmp);
                    let scale = (t.max(2) - 1) as f64 / (sorted.len().max(2) - 1) as f64;
                    let pts: PlotPoints = sorted.iter().enumerate().map(|(i, &n)| [i as f64 * scale, f64::from(n)]).collect();
                    plot.points(Points::new("‖e(token)‖, all tokens", pts).radius(2.5).color(COLORS[0]));
                });
            cols[1].strong("Tokens before (○) and after (●) adding r_p, projected on the top 2 principal axes of these points");
            match &ids {
                Err(e) => {
                    cols[1].colored_label(
                        cols[1].visuals().error_fg_color,
                        format!("Not in the bears vocabulary: {}", e.unknown.iter().map(|(_, w)| format!("\"{w}\"")).collect::<Vec<_>>().join(", ")),
                    );
                }
                Ok(_) => {
                    let labels: Vec<_> = projected
                        .iter()
                        .map(|(word, p, _, _)| {
                            let c = CATEGORICAL[p % CATEGORICAL.len()];
                            (format!("{word} @{p}"), crate::widgets::palette::text(&cols[1], c))
                        })
                        .collect();
                    Figure::new("positions_projection")
                        .x("principal axis 1", Scale::Linear)
                        .y("principal axis 2", Scale::Linear)
                        .rows(&cols[1], 1.3)
                        .data_aspect(1.0)
                        .legend(vec![
                            entry("e(token) (open circle)", GREY, Mark::Points),
                            entry("e(token) + r_p (filled)", GREY, Mark::Points),
                        ])
                        .show(&mut cols[1], |plot| {
                            let xs: Vec<f64> = projected.iter().flat_map(|(_, _, a, b)| [a[0], b[0]]).collect();
                            let (lo, hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
                            let mid_x = (lo + hi) / 2.0;
                            for ((word, p, a, b), (label, text)) in projected.iter().zip(&labels) {
                                let color = CATEGORICAL[p % CATEGORICAL.len()];
                                plot.line(Line::new(format!("{word} @ {p}"), vec![*a, *b]).color(color));
                                plot.points(Points::new(format!("e({word})"), vec![*a]).radius(5.0).filled(false).color(color));
                                plot.points(Points::new(format!("e({word}) + r_{p}"), vec![*b]).radius(5.0).color(color));
                                // The label beside the filled point, padded off the marker and
                                // towards the middle of the plot, so it is never cut at an edge.
                                let right = b[0] <= mid_x;
                                let anchor = if right { egui::Align2::LEFT_CENTER } else { egui::Align2::RIGHT_CENTER };
                                let padded = if right { format!("   {label}") } else { format!("{label}   ") };
                                plot.text(
                                    Text::new(format!("{word}{p}"), (*b).into(), padded)
                                        .color(*text)
                                        .anchor(anchor),
                                );
                            }
                        });
                }
            }
        });
    }

    fn csv(&mut self, _s: &PositionSettings) -> String {
        let Ok((model, _)) = bears_shared() else {
            return String::new();
        };
        let norms = |a: &ndarray::Array2<f32>| -> Vec<f64> {
            a.outer_iter().map(|r| f64::from(norm(r))).collect()
        };
        let Some(pos) = model.params.wpe.as_ref().map(norms) else {
            return String::new();
        };
        columns_csv(&[
            ("position", (0..pos.len()).map(|p| p as f64).collect()),
            ("learned_position_norm", pos),
        ])
    }
}
