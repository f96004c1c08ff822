//! "The three bears": the attention row of the query "bears" in each of the lecture's three
//! sentences, for every layer × head.

use egui::Ui;

use super::Live;
use crate::math::readout::BearsRows;
use crate::widgets::Heatmap;

impl Live {
    pub(super) fn three_bears_panel(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.settings.three_bears, "The three bears")
                .on_hover_text("One token, three meanings: where does the query \"bears\" look in each sentence?");
        });
        if !self.settings.three_bears {
            return;
        }
        if self.bears.is_empty() {
            ui.label("This model's vocabulary has no \"bears\": train on the bears task to see this panel.");
            return;
        }
        ui.label(
            "The attention row of the query \"bears\" in each sentence, for every layer × head and their mean. \
             The same token is pulled toward different context words. With the causal mask, \"bears\" sees only \
             the words before it (the hatched keys are masked).",
        );
        ui.columns(3, |cols| {
            for (
                col,
                BearsRows {
                    sentence,
                    tokens,
                    heads: names,
                    rows: m,
                },
            ) in cols.iter_mut().zip(&self.bears)
            {
                col.strong(format!("\"{sentence}\""));
                Heatmap::new(format!("bears in: {sentence}"), m.view())
                    .labels(Some(names), Some(tokens))
                    .axis_names("head", "key")
                    .range(0.0, 1.0)
                    .max_cell(34.0)
                    .colorbar(false)
                    .show(col);
            }
        });
    }
}
