//! The main scene: "watch the loss fall and the heads form" on one screen — the controls, then
//! the loss curve, the prompt and its next token beside the attention maps of every layer ×
//! head. On a narrow window the two columns stack.

use egui::Ui;

use super::Live;
use crate::train::Snapshot;

/// Below this width (points) the two columns stack.
const TWO_COLUMNS: f32 = 760.0;

impl Live {
    pub(super) fn training(&mut self, ui: &mut Ui, snap: &Snapshot) {
        self.controls(ui, snap);
        ui.separator();
        let width = ui.available_width();
        if width < TWO_COLUMNS {
            self.loss_plot(ui, snap);
            self.attention_grid(ui, snap);
            self.prompt(ui, snap);
            self.next_token(ui, snap);
            return;
        }
        let spacing = ui.spacing().item_spacing.x;
        let left = (width * 0.4).clamp(300.0, 520.0);
        let right = width - left - 3.0 * spacing;
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(left);
                self.loss_plot(ui, snap);
                ui.add_space(4.0);
                self.prompt(ui, snap);
                self.next_token(ui, snap);
            });
            ui.separator();
            ui.vertical(|ui| {
                ui.set_width(right);
                self.attention_grid(ui, snap);
            });
        });
    }
}
