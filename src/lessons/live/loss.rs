//! The loss curves: training loss per step and validation loss, on a log or linear axis.

use egui::Ui;
use egui_plot::Line;

use super::Live;
use crate::train::Snapshot;
use crate::widgets::palette::{BLUE, ORANGE};
use crate::widgets::plots::Scale;
use crate::widgets::{Figure, Mark, entry, layout};

impl Live {
    pub(super) fn loss_plot(&mut self, ui: &mut Ui, snap: &Snapshot) {
        ui.horizontal(|ui| {
            ui.strong("Loss");
            ui.checkbox(&mut self.settings.log_loss, "log scale");
        });
        // About half of what is left of the screen; the prompt and next token go below it.
        let height = (layout::remaining_height(ui) * 0.45).clamp(140.0, 420.0);
        if snap.history.is_empty() {
            // No empty axes on the projector: say what will be drawn here.
            let (rect, _) = ui.allocate_exact_size(
                egui::vec2(ui.available_width(), height),
                egui::Sense::hover(),
            );
            ui.painter().rect_stroke(
                rect,
                6.0,
                egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
                egui::StrokeKind::Inside,
            );
            ui.put(
                rect.shrink(16.0),
                egui::Label::new(format!(
                    "The pretrained bears model is loaded (step {}). Press Reset to retrain it from scratch, then Play: the loss curve is drawn here as it falls.",
                    snap.step
                ))
                .wrap(),
            );
            ui.add_space(6.0);
            return;
        }
        let log = self.settings.log_loss;
        let y = |v: f32| {
            if log {
                f64::from(v.max(1e-6)).log10()
            } else {
                f64::from(v)
            }
        };
        let train: Vec<[f64; 2]> = snap
            .history
            .iter()
            .filter(|p| p.train.is_finite())
            .map(|p| [p.step as f64, y(p.train)])
            .collect();
        let val: Vec<[f64; 2]> = snap
            .history
            .iter()
            .filter_map(|p| {
                p.val
                    .filter(|v| v.is_finite())
                    .map(|v| [p.step as f64, y(v)])
            })
            .collect();
        let scale = if log { Scale::Log10 } else { Scale::Linear };
        let mut fig = Figure::new("live_loss")
            .x("step", Scale::Index)
            .y("cross-entropy (nats)", scale)
            .height(height)
            .include_x(0.0)
            // A few steps in, the axis still has numbers to read.
            .include_x(10.0)
            .legend(vec![
                entry("train (this step's batch)", BLUE, Mark::Line),
                entry("validation", ORANGE, Mark::Line),
            ]);
        if !log {
            fig = fig.include_y(0.0);
        }
        fig.show(ui, |p| {
            p.line(Line::new("train", train).color(BLUE));
            p.line(Line::new("validation", val).color(ORANGE).width(2.0));
        });
    }
}
