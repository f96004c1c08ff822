//! §1 "The matrix": X through BatchNorm, LayerNorm and RMSNorm, with the axis of the statistics
//! marked.

use egui::Ui;

use super::settings::NormSettings;
use super::{MatrixCache, matrix_controls, norm_map, sym_range};
use crate::lessons::lesson::{LessonContext, Section};
use crate::widgets::export::matrix_csv;

/// The section: the matrix and its normalisations, cached by their inputs.
#[derive(Default)]
pub struct Matrix {
    matrix: MatrixCache,
}

impl Section<NormSettings> for Matrix {
    fn title(&self) -> &'static str {
        "1. The matrix"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut NormSettings, _ctx: &mut LessonContext) {
        ui.label("Rows are samples of a batch (tokens), columns are features. BatchNorm standardises each column with the mean and variance of the batch (statistics ↓ over the batch); LayerNorm standardises each row with the mean and variance of its features (statistics → over the features) — the same operation, transposed. RMSNorm divides each row by its root mean square and does not subtract the mean.");
        matrix_controls(ui, settings);
        let c = self.matrix.get(settings);
        if let Some(e) = &c.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if settings.batch == 1 {
            ui.colored_label(ui.visuals().warn_fg_color, "B = 1: each column's batch mean is the one sample itself, so x − mean = 0 and BatchNorm outputs all zeros (only β would remain). LayerNorm does not care about the batch.");
        }
        // Two maps to a row, each with its labels and colour bar; two rows to a screen.
        let w = (ui.available_width() / 2.0 - 12.0).clamp(200.0, 680.0);
        let size = egui::vec2(w, crate::widgets::layout::plot_height(ui, 2.0));
        let lim = sym_range(&c.x);
        ui.columns(2, |cols| {
            norm_map(
                &mut cols[0],
                "X (input)",
                "the activations as they arrive: features differ in mean and scale",
                &c.x,
                lim,
                c.version,
                size,
            );
            norm_map(
                &mut cols[1],
                "BatchNorm(X)",
                "↓ statistics over the batch: each column has mean 0, variance 1",
                &c.norm.bn,
                3.0,
                c.version,
                size,
            );
        });
        ui.add_space(8.0);
        ui.columns(2, |cols| {
            norm_map(
                &mut cols[0],
                "LayerNorm(X)",
                "→ statistics over the features: each row has mean 0, variance 1",
                &c.norm.ln,
                3.0,
                c.version,
                size,
            );
            norm_map(
                &mut cols[1],
                "RMSNorm(X)",
                "→ each row divided by its root mean square (no mean subtracted)",
                &c.norm.rms,
                3.0,
                c.version,
                size,
            );
        });
    }

    fn csv(&mut self, s: &NormSettings) -> String {
        let c = self.matrix.get(s);
        matrix_csv(c.norm.bn.view(), None, None)
    }
}
