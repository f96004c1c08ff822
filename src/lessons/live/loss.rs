//! The loss curves: training loss per step and validation loss, on a log or linear axis.

use egui::Ui;

use super::Live;
use crate::train::Snapshot;

impl Live {
    pub(super) fn loss_plot(&mut self, ui: &mut Ui, snap: &Snapshot) {
        ui.horizontal(|ui| {
            ui.strong("Loss (cross-entropy, nats)");
            ui.checkbox(&mut self.settings.log_loss, "log scale");
        });
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
            .map(|p| [p.step as f64, y(p.train)])
            .collect();
        let val: Vec<[f64; 2]> = snap
            .history
            .iter()
            .filter_map(|p| p.val.map(|v| [p.step as f64, y(v)]))
            .collect();
        let mut plot = egui_plot::Plot::new("live_loss")
            .height(170.0)
            .x_axis_label("step")
            .legend(egui_plot::Legend::default())
            .allow_scroll(false);
        if log {
            plot = plot.y_axis_formatter(|m, _| format!("{:.2}", 10f64.powf(m.value)));
        }
        if snap.history.is_empty() {
            ui.label("The pretrained model is loaded. Press Reset to retrain it from scratch and watch the loss fall.");
        }
        plot.show(ui, |p| {
            p.line(egui_plot::Line::new("train", train));
            p.line(egui_plot::Line::new("validation", val));
        });
    }
}
