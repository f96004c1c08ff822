//! Compare runs made one a frame before their worker starts: the runs' trainers
//! (`Trainer::new`), then the worker (`Worker::spawn_group_of`) with the commands sent meanwhile.

use super::{CompareRuns, Run};
use crate::train::{Command, TrainConfig, Trainer, Worker};

/// Runs being made (`Trainer::new`: their data and initial weights), one a frame. In a
/// browser the frame waits for them: residuals §3's four eight-layer runs took 214 ms in one
/// frame (headless Chromium, CPU profile, on a loaded machine); one a frame, a frame waits for
/// one run's share.
pub(super) struct Building {
    /// (label, configuration) of every run, in order.
    runs: Vec<(String, TrainConfig)>,
    /// The trainers made so far (of the first runs).
    made: Vec<Trainer>,
    /// Commands sent meanwhile, for the worker once it starts.
    commands: Vec<Command>,
}

impl Building {
    /// Nothing made yet of these (label, configuration) runs.
    pub(super) fn new(runs: Vec<(String, TrainConfig)>) -> Self {
        Self {
            runs,
            made: Vec::new(),
            commands: Vec::new(),
        }
    }

    /// Keep a command for the worker.
    pub(super) fn send(&mut self, command: Command) {
        self.commands.push(command);
    }
}

impl CompareRuns {
    /// Make the next run; after the last, start their worker and send it what was asked
    /// meanwhile. Asks for another frame while runs are left.
    pub(super) fn build_some(&mut self, ctx: &egui::Context) {
        let Some(b) = self.building.as_mut() else {
            return;
        };
        if let Some((_, config)) = b.runs.get(b.made.len()) {
            match Trainer::new(config.clone()) {
                Ok(t) => b.made.push(t),
                Err(e) => {
                    self.error = Some(e);
                    self.building = None;
                    return;
                }
            }
        }
        if b.made.len() < b.runs.len() {
            ctx.request_repaint();
            return;
        }
        let Some(b) = self.building.take() else {
            return;
        };
        match Worker::spawn_group_of("compare", b.made, crate::lessons::common::waker(ctx)) {
            Ok(worker) => {
                for c in b.commands {
                    worker.send(c);
                }
                self.worker = Some(worker);
                self.runs = b
                    .runs
                    .into_iter()
                    .map(|(label, _)| Run {
                        label,
                        map_key: None,
                        map: (Vec::new(), ndarray::Array2::zeros((0, 0))),
                        entropy: Vec::new(),
                    })
                    .collect();
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Runs made so far and runs in all, while they are being made.
    pub fn building(&self) -> Option<(usize, usize)> {
        self.building.as_ref().map(|b| (b.made.len(), b.runs.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Preset;
    use super::*;

    #[test]
    fn runs_are_made_one_a_frame_and_then_do_what_was_asked_meanwhile() {
        let ctx = egui::Context::default();
        let mut compare = CompareRuns {
            preset: Preset::Residuals,
            ..CompareRuns::default()
        };
        let mut base = TrainConfig::default();
        base.model.n_layer = 1;
        compare.start(&base, &ctx);
        assert_eq!(compare.building(), Some((0, 4)));
        compare.build_some(&ctx);
        assert_eq!(compare.building(), Some((1, 4)));
        assert!(compare.is_empty(), "no run shown before all are made");
        compare.send_all(&Command::Step(3));
        compare.build_some(&ctx);
        assert_eq!(compare.building(), Some((2, 4)));
        compare.build_some(&ctx);
        assert_eq!(compare.building(), Some((3, 4)));
        compare.build_some(&ctx);
        assert_eq!(compare.building(), None);
        assert_eq!(compare.len(), 4);
        // The Step(3) sent while they were being made reaches every run.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let steps: Vec<usize> = match compare.worker.as_mut() {
                Some(w) => w.poll_all().iter().map(|s| s.step).collect(),
                None => panic!("no worker: {:?}", compare.error),
            };
            if steps == [3, 3, 3, 3] {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the runs are at {steps:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let labels: Vec<String> = compare.latest().into_iter().map(|(l, _)| l).collect();
        let expected: Vec<String> = Preset::Residuals
            .runs(&base)
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        assert_eq!(labels, expected);
    }
}
