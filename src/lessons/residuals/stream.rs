//! §1 "One block, every tensor": the residual stream of the bundled model through one block —
//! x → LN₁ → attention → x + attention → LN₂ → MLP → + — each step a heatmap (tokens × features)
//! with each token's norm, and what each piece of the block costs in parameters.

use egui::Ui;

use super::prompt_ids;
use super::settings::ResidualSettings;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::block::{STREAM, block_pieces, block_tensors, row_norms};
use crate::pretrained::bears_shared;
use crate::widgets::bars::{BarRow, bars};
use crate::widgets::export::matrix_csv;
use crate::widgets::plots::labelled;
use crate::widgets::{Colormap, Heatmap, layout};

/// The section.
pub struct Stream;

impl Section<ResidualSettings> for Stream {
    fn title(&self) -> &'static str {
        "1. One block, every tensor"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut ResidualSettings, _ctx: &mut LessonContext) {
        ui.label("After attention every token has been moved by a weighted average of the tokens — weights that depend on the input — but nothing has yet transformed a token on its own. That is the MLP's job: d → 4d → GELU → d, the same small network applied to every position separately. Around each sub-layer the skip connection adds its input back: x + f(x). Click a step to see its tensor.");
        let Ok((gpt, _)) = bears_shared() else {
            ui.colored_label(
                ui.visuals().error_fg_color,
                "The bundled model could not be loaded.",
            );
            return;
        };
        let layers = gpt.config.n_layer;
        ui.horizontal_wrapped(|ui| {
            let l = ui.strong("Prompt");
            ui.add(
                egui::TextEdit::singleline(&mut s.prompt)
                    .desired_width(360.0)
                    .char_limit(400),
            )
            .labelled_by(l.id);
            s.layer = s.layer.min(layers - 1);
            labelled(ui, "block", |ui| {
                ui.add(
                    egui::Slider::new(&mut s.layer, 0..=layers - 1)
                        .custom_formatter(|v, _| format!("{}", v as usize + 1)),
                )
            });
        });
        let (words, ids) = match prompt_ids(&s.prompt) {
            Ok(v) => v,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let Some(t) = block_tensors(gpt, &ids, s.layer) else {
            return;
        };
        // The block as a row of steps, the chosen one highlighted.
        ui.horizontal_wrapped(|ui| {
            for (k, name) in STREAM.iter().enumerate() {
                if k > 0 {
                    ui.label("→");
                }
                ui.selectable_value(&mut s.tensor, k, *name);
            }
        });
        s.tensor = s.tensor.min(STREAM.len() - 1);
        let m = &t.stream[s.tensor];
        let norms = row_norms(m);
        let note = match s.tensor {
            5 => {
                let neg = m.iter().filter(|&&v| v < 0.0).count() as f64 / m.len().max(1) as f64;
                format!(" {:.0} % of the hidden values are negative: GELU maps those to nearly 0 (the dark region of the next step).", 100.0 * neg)
            }
            3 => " The attention output is added to x, not put in its place: the token keeps what it was.".into(),
            8 => " The block's output: x + attention + MLP, the next block's input.".into(),
            _ => String::new(),
        };
        ui.label(format!(
            "{}: {} × {}.{note}",
            STREAM[s.tensor],
            m.nrows(),
            m.ncols()
        ));
        let lim = m.iter().fold(0.0_f32, |a, v| a.max(v.abs())).max(1e-6);
        let dims: Vec<String> = (0..m.ncols()).map(|j| j.to_string()).collect();
        layout::grid(ui, 2, 300.0, |ui, i| {
            if i == 0 {
                Heatmap::new(format!("block tensor: {}", STREAM[s.tensor]), m.view())
                    .labels(Some(&words), Some(&dims))
                    .axis_names("token", "feature")
                    .colormap(Colormap::Diverging)
                    .range(-lim, lim)
                    .free_aspect()
                    .max_size(egui::vec2(
                        ui.available_width(),
                        layout::plot_height(ui, 1.4),
                    ))
                    .show(ui);
            } else {
                ui.strong("‖row‖ of each token");
                let top = norms.iter().copied().fold(0.0_f32, f32::max).max(1e-6);
                let rows: Vec<BarRow> = words
                    .iter()
                    .zip(&norms)
                    .map(|(w, &n)| BarRow {
                        label: w.clone(),
                        value: n,
                        text: format!("{n:.2}"),
                        hover: format!("‖{}‖ of \"{w}\" = {n:.4}", STREAM[s.tensor]),
                        highlight: false,
                    })
                    .collect();
                bars(
                    ui,
                    "norm of each token",
                    &rows,
                    0.0,
                    top,
                    Colormap::Viridis.at(0.6),
                );
            }
        });
        let (attention, mlp, norms_p) = block_pieces(&gpt.config);
        let total = (attention + mlp + norms_p) as f64;
        ui.label(format!(
            "Parameters of one block (d = {}): attention {attention} ({:.0} %: W_qkv and W_O, 4d² + 4d), MLP {mlp} ({:.1} %: 8d² + 5d — about two thirds), the two norms {norms_p} ({:.1} %).",
            gpt.config.n_embd,
            100.0 * attention as f64 / total,
            100.0 * mlp as f64 / total,
            100.0 * norms_p as f64 / total
        ));
    }

    fn csv(&mut self, s: &ResidualSettings) -> String {
        let (Ok((words, ids)), Ok((gpt, _))) = (prompt_ids(&s.prompt), bears_shared()) else {
            return String::new();
        };
        match block_tensors(gpt, &ids, s.layer.min(gpt.config.n_layer - 1)) {
            Some(t) => matrix_csv(t.stream[s.tensor.min(8)].view(), Some(&words), None),
            None => String::new(),
        }
    }
}
