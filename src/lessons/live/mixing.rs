//! Multi-head mixing: each head's output Ŷ_h, their concatenation, the mixing matrix W_O and the
//! mixed result Ŷ W_Oᵀ + b (what attention adds to the residual stream).

use egui::Ui;
use ndarray::s;

use super::Live;
use crate::train::Snapshot;
use crate::widgets::{Colormap, Heatmap, layout};

impl Live {
    pub(super) fn mixing_panel(&mut self, ui: &mut Ui, snap: &Snapshot) {
        let layers = snap.gpt.config.n_layer;
        ui.horizontal(|ui| {
            let l = ui.label("layer");
            ui.add(
                egui::Slider::new(
                    &mut self.settings.mixing_layer,
                    0..=layers.saturating_sub(1),
                )
                .custom_formatter(|v, _| format!("{}", v as usize + 1)),
            )
            .labelled_by(l.id);
        });
        let layer = self.settings.mixing_layer.min(layers.saturating_sub(1));
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
            "Layer {}: each head h writes a {t} × {hs} block Ŷ_h = A_h V_h (its attention weights times its values). \
             The {h} blocks side by side make Ŷ ({t} × {c}); the mixing matrix W_O ({c} × {c}, the attention's output \
             projection) combines the heads: Ŷ W_Oᵀ + b ({t} × {c}) is what attention adds to each token's vector.",
            layer + 1
        ));
        let side = layout::plot_height(ui, 3.0);
        layout::grid(ui, h, 170.0, |ui, head| {
            let block = concat.slice(s![.., head * hs..(head + 1) * hs]).to_owned();
            ui.strong(format!("Ŷ_{}: {t} × {hs}", head + 1));
            Heatmap::new(format!("head output {}", head + 1), block.view())
                .labels(Some(labels), None)
                .axis_names("token", "dimension")
                .colormap(Colormap::Diverging)
                .max_size(egui::vec2(ui.available_width(), side))
                .show(ui);
        });
        ui.add_space(6.0);
        ui.strong(format!("The heads side by side, Ŷ: {t} × {c}"));
        Heatmap::new("heads concatenated", concat.view())
            .labels(Some(labels), Some(&dims))
            .axis_names("token", "dimension")
            .colormap(Colormap::Diverging)
            .max_size(egui::vec2(ui.available_width(), side))
            .show(ui);
        ui.add_space(6.0);
        layout::grid(ui, 2, 340.0, |ui, i| {
            let box_side = egui::vec2(ui.available_width(), layout::plot_height(ui, 2.0));
            if i == 0 {
                ui.strong(format!("The mixing matrix W_O: {c} × {c}"));
                Heatmap::new("mixing matrix W_O", bp.attn_proj_w.view())
                    .axis_names("output", "input")
                    .colormap(Colormap::Diverging)
                    .max_size(box_side)
                    .show(ui);
            } else {
                ui.strong(format!("Mixed, Ŷ W_Oᵀ + b: {t} × {c}"));
                Heatmap::new("mixed output", mixed.view())
                    .labels(Some(labels), Some(&dims))
                    .axis_names("token", "dimension")
                    .colormap(Colormap::Diverging)
                    .max_size(box_side)
                    .show(ui);
            }
        });
    }
}
