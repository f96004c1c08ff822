//! Multi-head mixing: each head's output V̂_h, their concatenation, the mixing matrix W_O and the
//! mixed result V̂ W_Oᵀ + b.

use egui::Ui;
use ndarray::s;

use super::Live;
use crate::train::Snapshot;
use crate::widgets::{Colormap, Heatmap};

impl Live {
    pub(super) fn mixing_panel(&mut self, ui: &mut Ui, snap: &Snapshot) {
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.settings.mixing, "Multi-head and mixing")
                .on_hover_text("Each head's output V̂_h, their concatenation, the mixing matrix W_O and the mixed result");
            if self.settings.mixing {
                let layers = snap.gpt.config.n_layer;
                let l = ui.label("layer");
                ui.add(egui::Slider::new(&mut self.settings.mixing_layer, 0..=layers.saturating_sub(1)).custom_formatter(|v, _| format!("{}", v as usize + 1)))
                    .labelled_by(l.id);
            }
        });
        if !self.settings.mixing {
            return;
        }
        let layer = self
            .settings
            .mixing_layer
            .min(snap.gpt.config.n_layer.saturating_sub(1));
        let (Some(concat), Some(mixed), Some(bp)) = (
            self.analysis.heads_concat.get(layer),
            self.analysis.mixed.get(layer),
            snap.gpt.params.blocks.get(layer),
        ) else {
            ui.label("Type a prompt of known tokens.");
            return;
        };
        let (t, c) = concat.dim();
        let h = snap.gpt.config.n_head;
        let hs = c / h.max(1);
        let labels = &self.view.labels;
        let dims: Vec<String> = (0..c).map(|j| j.to_string()).collect();
        ui.label(format!(
            "Layer {}: each head writes a {t} × {hs} block V̂_h = A_h V_h; the {h} blocks side by side make V̂ ({t} × {c}); \
             the mixing matrix W_O ({c} × {c}, `c_proj`) combines them: V̂ W_Oᵀ + b ({t} × {c}).",
            layer + 1
        ));
        ui.horizontal_wrapped(|ui| {
            for head in 0..h {
                let block = concat.slice(s![.., head * hs..(head + 1) * hs]).to_owned();
                ui.vertical(|ui| {
                    ui.label(format!("V̂_{}: {t} × {hs}", head + 1));
                    Heatmap::new(format!("head output {}", head + 1), block.view())
                        .labels(Some(labels), None)
                        .axis_names("token", "dimension")
                        .colormap(Colormap::Diverging)
                        .max_size(egui::vec2(110.0, 110.0))
                        .colorbar(false)
                        .show(ui);
                });
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.vertical(|ui| {
                ui.label(format!("concatenation V̂: {t} × {c}"));
                Heatmap::new("heads concatenated", concat.view())
                    .labels(Some(labels), Some(&dims))
                    .axis_names("token", "dimension")
                    .colormap(Colormap::Diverging)
                    .max_size(egui::vec2(300.0, 150.0))
                    .show(ui);
            });
            ui.vertical(|ui| {
                ui.label(format!("mixing matrix W_O: {c} × {c}"));
                Heatmap::new("mixing matrix W_O", bp.attn_proj_w.view())
                    .axis_names("output", "input")
                    .colormap(Colormap::Diverging)
                    .max_size(egui::vec2(200.0, 200.0))
                    .show(ui);
            });
            ui.vertical(|ui| {
                ui.label(format!("mixed V̂ W_Oᵀ + b: {t} × {c}"));
                Heatmap::new("mixed output", mixed.view())
                    .labels(Some(labels), Some(&dims))
                    .axis_names("token", "dimension")
                    .colormap(Colormap::Diverging)
                    .max_size(egui::vec2(300.0, 150.0))
                    .show(ui);
            });
        });
    }
}
