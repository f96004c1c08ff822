//! §4 "In a real model": the same transformer trained with and without the 1/√d scaling, from
//! one seed, with each head's attention entropy over training.

use egui::Ui;

use super::settings::SoftmaxSettings;
use crate::lessons::common::compare_runs::{CompareRuns, Preset};
use crate::lessons::lesson::{LessonContext, Section};
use crate::train::TrainConfig;
use crate::widgets::export::csv_field;

/// The section: the two runs.
#[derive(Default)]
pub struct RealModel {
    compare: CompareRuns,
}

impl Section<SoftmaxSettings> for RealModel {
    fn title(&self) -> &'static str {
        "4. In a real model"
    }

    fn ui(&mut self, ui: &mut Ui, _settings: &mut SoftmaxSettings, _ctx: &mut LessonContext) {
        ui.label("The same transformer trained twice from the same seed on the bears task, with head size 64: once with scores divided by √64 = 8, once without. Without scaling the heads saturate early (entropy near 0) and the loss falls more slowly.");
        self.compare.preset = Preset::Scaling;
        self.compare.lock_preset = true;
        self.compare.show_entropy = true;
        let base = TrainConfig::default();
        self.compare.ui(ui, &base, "i love bears");
    }

    fn csv(&mut self, _settings: &SoftmaxSettings) -> String {
        // Long format: one row per run, recorded step and head.
        let mut out = String::from("run,step,head,entropy_nats\n");
        for (label, hist) in self.compare.entropy_history() {
            for (step, heads) in hist {
                for (h, e) in heads.iter().enumerate() {
                    out.push_str(&format!("{},{step},{},{e}\n", csv_field(&label), h + 1));
                }
            }
        }
        out
    }
}
