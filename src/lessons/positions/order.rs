//! §5 "Order needs positions": without positions, self-attention is permutation-equivariant;
//! shuffle the prompt and the outputs are the same rows, shuffled.

use egui::{RichText, Ui};

use super::pos_name;
use super::settings::PositionSettings;
use crate::lessons::common::background::Cached;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::positions::{Permutation, permutation};
use crate::model::PosEncoding;
use crate::pretrained::bears_shared;
use crate::widgets::Heatmap;
use crate::widgets::export::columns_csv;
use crate::widgets::palette::SERIES as COLORS;

/// The section: the experiment, cached by (prompt, seed, encoding).
#[derive(Default)]
pub struct Order {
    perm: Cached<(String, u64, PosEncoding), Result<Permutation, String>>,
}

impl Section<PositionSettings> for Order {
    fn title(&self) -> &'static str {
        "5. Order needs positions"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut PositionSettings, _ctx: &mut LessonContext) {
        ui.label("Self-attention with no positions is permutation-equivariant: shuffle the input tokens and every output row is the same as before, just shuffled. The model literally cannot tell \"the bears won the game\" from \"game the won bears the\". Add positions and it can. (This uses a random encoder, i.e. no causal mask: the mask itself orders the tokens, so a decoder gets some order even without positions.)");
        ui.horizontal_wrapped(|ui| {
            let l = ui.strong("Prompt");
            ui.add(egui::TextEdit::singleline(&mut settings.prompt).desired_width(300.0))
                .labelled_by(l.id);
            if ui
                .button("Shuffle")
                .on_hover_text("A new shuffle and a new random model")
                .clicked()
            {
                settings.seed = settings.seed.wrapping_add(1);
            }
            ui.label("compare against:");
            for (p, name) in [
                (PosEncoding::Sinusoidal, "sinusoidal"),
                (PosEncoding::Learned, "learned"),
                (PosEncoding::Binary, "binary"),
            ] {
                ui.selectable_value(&mut settings.with, p, name);
            }
        });
        let Ok((_, tokenizer)) = bears_shared() else {
            ui.label("The bundled bears model (its vocabulary) could not be loaded.");
            return;
        };
        let s = &*settings;
        let result = self.perm.get(
            (s.prompt.clone(), s.seed, s.with),
            |(prompt, seed, with)| permutation(tokenizer, prompt, *seed, *with),
        );
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        let shuffled: Vec<String> = r.perm.iter().map(|&p| r.tokens[p].clone()).collect();
        ui.label(RichText::new(format!(
            "original: {}    shuffled: {}",
            r.tokens.join(" "),
            shuffled.join(" ")
        )));
        let (good, bad) = (
            crate::widgets::palette::text(ui, COLORS[2]),
            crate::widgets::palette::text(ui, COLORS[1]),
        );
        let ok = |v: f32| if v < 1e-4 { good } else { bad };
        ui.label(RichText::new(format!("no positions: max |f(shuffled) − shuffled f(original)| = {:.2e} — the same rows, shuffled (only float rounding).", r.max_diff_none)).color(ok(r.max_diff_none)));
        ui.label(
            RichText::new(format!(
                "with {} positions: {:.3} — the outputs change, order is visible.",
                pos_name(settings.with),
                r.max_diff_with
            ))
            .color(ok(r.max_diff_with)),
        );
        ui.label("Layer 1, head 1 attention. Without positions the shuffled map is the original with its rows and columns shuffled the same way.");
        // Four maps in a row (two on a narrow window), one colour bar for all, at the end.
        let titles = [
            "no positions, original",
            "no positions, shuffled",
            "with positions, original",
            "with positions, shuffled",
        ];
        let height = crate::widgets::layout::plot_height(ui, 1.4).min(300.0);
        let bar = 80.0;
        let maps_width = (ui.available_width() - bar).max(200.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(maps_width);
                crate::widgets::layout::grid(ui, r.maps.len(), 220.0, |ui, k| {
                    let labels = if k % 2 == 0 { &r.tokens } else { &shuffled };
                    ui.strong(titles[k]);
                    Heatmap::new(format!("attention: {}", titles[k]), r.maps[k].view())
                        .labels(Some(labels), Some(labels))
                        .axis_names("query", "key")
                        .range(0.0, 1.0)
                        .max_size(egui::vec2(ui.available_width(), height))
                        .colorbar(false)
                        .show(ui);
                });
            });
            crate::widgets::heatmap::colorbar(
                ui,
                "attention weight",
                crate::widgets::Colormap::Viridis,
                0.0,
                1.0,
                height - 30.0,
            );
        });
    }

    fn csv(&mut self, s: &PositionSettings) -> String {
        let Ok((_, tokenizer)) = bears_shared() else {
            return String::new();
        };
        match permutation(tokenizer, &s.prompt, s.seed, s.with) {
            Ok(r) => columns_csv(&[
                ("max_diff_no_positions", vec![f64::from(r.max_diff_none)]),
                ("max_diff_with_positions", vec![f64::from(r.max_diff_with)]),
            ]),
            Err(_) => String::new(),
        }
    }
}
