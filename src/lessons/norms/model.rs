//! §5 "In a real model": LN, BN, RMSNorm and no norm trained from one seed, and the BN model served
//! with a batch, one sequence or one token.

use egui::Ui;

use super::settings::NormSettings;
use crate::lessons::common::compare_runs::{CompareRuns, Preset};
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::norms::{BnEval, evaluate_bn, normalise};
use crate::model::NormKind;
use crate::train::TrainConfig;
use crate::widgets::export::{csv_field, matrix_csv};

/// The section: the four runs and the BN model's evaluation.
#[derive(Default)]
pub struct Model {
    compare: CompareRuns,
    bn_eval: Option<Result<BnEval, String>>,
}

impl Section<NormSettings> for Model {
    fn title(&self) -> &'static str {
        "5. In a real model"
    }

    fn ui(&mut self, ui: &mut Ui, _settings: &mut NormSettings, _ctx: &mut LessonContext) {
        ui.label("The same transformer trained four times from the same seed on the bears task, with LayerNorm, BatchNorm (over batch × time), RMSNorm or no normalisation. Then the trained BatchNorm model is evaluated the way it would be served: a full batch, one sequence at a time, one token alone, and eval mode (running averages).");
        self.compare.preset = Preset::Norms;
        self.compare.lock_preset = true;
        let base = TrainConfig::default();
        self.compare.ui(ui, &base, "the bears won the game");
        let bn_run = self
            .compare
            .latest()
            .into_iter()
            .find(|(_, s)| s.gpt.config.norm == NormKind::BatchNorm);
        let Some((_, snap)) = bn_run else { return };
        let stale = match &self.bn_eval {
            Some(Ok(e)) => snap.step >= e.step + 25 || (snap.step != e.step && !snap.running),
            Some(Err(_)) => false,
            None => true,
        };
        if stale {
            self.bn_eval = Some(
                evaluate_bn(
                    &snap.gpt,
                    &snap.config.task,
                    snap.config.batch,
                    snap.config.seed,
                )
                .map(|e| BnEval {
                    step: snap.step,
                    ..e
                }),
            );
        }
        match &self.bn_eval {
            Some(Ok(e)) => {
                ui.strong(format!("The BatchNorm run at step {}: validation loss (cross-entropy, nats) when served", e.step));
                egui::Grid::new("bn_eval").striped(true).show(ui, |ui| {
                    for (name, v) in [
                        (
                            "a full batch of 16 sequences (train-mode statistics)",
                            e.full,
                        ),
                        ("eval mode: running averages (how BN is served)", e.eval),
                        (
                            "one sequence at a time (statistics over its 16 tokens)",
                            e.one,
                        ),
                        (
                            "one token alone (statistics of a single row: output = β)",
                            e.token_alone,
                        ),
                    ] {
                        ui.label(name);
                        ui.monospace(format!("{v:.3}"));
                        ui.end_row();
                    }
                });
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            None => {}
        }
    }

    fn csv(&mut self, s: &NormSettings) -> String {
        if self.compare.is_empty() {
            // No runs yet: the matrix the other sections normalise, through BatchNorm.
            let (x, _) = super::compute_matrix(s);
            return matrix_csv(normalise(&x).bn.view(), None, None);
        }
        let mut out = String::from("run,step,train_loss\n");
        for (label, snap) in self.compare.latest() {
            for p in snap.history.iter() {
                out.push_str(&format!("{},{},{}\n", csv_field(&label), p.step, p.train));
            }
        }
        out
    }
}
