//! "The three bears": the attention row of the query "bears" in each of the lecture's three
//! sentences, for every layer × head, and what a causal model can and cannot show with it.

use egui::Ui;

use super::Live;
use crate::math::readout::BearsRows;
use crate::train::Snapshot;
use crate::widgets::{Heatmap, layout};

impl Live {
    pub(super) fn three_bears_panel(&mut self, ui: &mut Ui, snap: &Snapshot) {
        if self.bears.is_empty() {
            ui.label("This model's vocabulary has no \"bears\": train on the bears task to see this panel.");
            return;
        }
        let causal = snap.gpt.config.causal;
        ui.label(
            "One token, three roles: \"bears\" is an object, a verb and a subject. Each map is the attention row of the \
             query \"bears\" in one sentence, for every layer × head and their mean (rows), over the sentence's words \
             (columns).",
        );
        if causal {
            ui.label(
                "This model is a decoder: with the causal mask a query sees only itself and the words before it \
                 (hatched keys are masked). In \"i love bears\" the word that tells the sense, \"love\", comes first and \
                 \"bears\" can look at it. In the other two sentences the telling words (pain; won, game) come after \
                 \"bears\", so its own row cannot reach them: there the later words look back at \"bears\" instead. \
                 An encoder, without the mask, lets \"bears\" look ahead (lesson \"From XXᵀ to Q, K, V\").",
            );
        }
        layout::grid(ui, self.bears.len(), 300.0, |ui, i| {
            let BearsRows {
                sentence,
                tokens,
                heads: names,
                rows: m,
            } = &self.bears[i];
            ui.strong(format!("\"{sentence}\""));
            // What the map shows, in numbers: the weight "bears" keeps on itself (mean row).
            let q = tokens.iter().position(|t| t == "bears");
            let last = m.nrows().saturating_sub(1);
            if let Some(q) = q {
                ui.label(format!("mean weight on itself: {:.2}", m[[last, q]]));
            }
            let width = ui.available_width();
            Heatmap::new(format!("bears in: {sentence}"), m.view())
                .labels(Some(names), Some(tokens))
                .axis_names("head", "key")
                .range(0.0, 1.0)
                // What is left of the screen below (the maps are the section's only figure).
                .max_size(egui::vec2(
                    width,
                    (layout::remaining_height(ui) - 12.0).max(200.0),
                ))
                .show(ui);
        });
    }
}
