//! A training run as a state machine, with no thread of its own: commands in ([`Command`]),
//! steps taken within a time budget ([`Runner::work`]), and what changed since the last look
//! out ([`Update`]). The worker thread (`worker.rs`) drives one or several runners in a loop;
//! a browser, which has no threads, can drive the same runner a few milliseconds per frame.
//!
//! What goes out is what changed — new loss points, new probe frames, a copy of the weights
//! only when the UI asked for one (or when the run reached a point worth showing: a reset, a
//! load, the end of `Step(n)`, a pause) — not the whole history every time.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

use super::trainer::{TrainConfig, Trainer};
use crate::data::{Task, TextLoader, Tokenizer};
use crate::model::gpt::{Gpt, prompt_attention};

/// The probe prompt's attention is recorded every this many steps.
pub const PROBE_EVERY: usize = 5;

/// What the UI asks of a run.
#[derive(Debug, Clone)]
pub enum Command {
    /// Train continuously.
    Play,
    /// Stop training (the model stays).
    Pause,
    /// Train exactly n steps, then pause.
    Step(usize),
    /// Start over with this configuration (its seed included).
    Reset(Box<TrainConfig>),
    /// Change the learning rate.
    SetLr(f32),
    /// Replace the model with a checkpoint (the data must share its vocabulary).
    Load(PathBuf),
    /// Save the current model.
    Save(PathBuf),
    /// Record the attention of this prompt (token ids) every [`PROBE_EVERY`] steps.
    SetProbe(Vec<usize>),
    /// End the run's thread.
    Quit,
}

/// One point of the loss curves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossPoint {
    /// Step after which it was measured.
    pub step: usize,
    /// Training loss of that step's batch.
    pub train: f32,
    /// Validation loss, when measured at that step.
    pub val: Option<f32>,
}

/// The probe prompt's attention at one step of training.
#[derive(Debug, Clone)]
pub struct ProbeFrame {
    /// The step after which it was recorded.
    pub step: usize,
    /// Attention weights per layer and head, (T, T) each.
    pub attention: Vec<Vec<ndarray::Array2<f32>>>,
}

/// What changed in a run since the last update.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// Steps completed.
    pub step: usize,
    /// Training continuously (or working through `Step(n)`)?
    pub running: bool,
    /// Throughput over the last ≥ 0.5 s of training (wall clock).
    pub tokens_per_sec: f32,
    /// The run diverged and paused: why, and the step whose weights it went back to.
    pub diverged: Option<String>,
    /// A text file is being read for a Reset: how far, 0 … 1.
    pub loading: Option<f32>,
    /// The history was cleared (a reset or a load): drop what you kept before `points`.
    pub restarted: bool,
    /// New loss points, oldest first.
    pub points: Vec<LossPoint>,
    /// The gradient's norm over each block's weights at each new step: (step, norms).
    pub layer_norms: Vec<(usize, Vec<f32>)>,
    /// A copy of the weights, when asked for or at a boundary (reset, load, pause, end of Step).
    pub model: Option<Arc<Gpt>>,
    /// The tokenizer and configuration, when they changed (reset, load).
    pub data: Option<(Arc<Tokenizer>, Arc<TrainConfig>)>,
    /// The answer to a command that can fail (load, save, reset).
    pub message: Option<Result<String, String>>,
    /// The probe changed (new prompt, reset): drop the frames kept before `frames`.
    pub probe_restarted: Option<Vec<usize>>,
    /// New probe frames, oldest first.
    pub frames: Vec<ProbeFrame>,
}

/// What [`Runner::step_part`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing: the run is not training.
    Idle,
    /// A part of a step; the step is not finished.
    Part,
    /// The last part of a step: the step is done and recorded.
    Step,
}

/// A training run: its trainer, whether it is playing, and what has not been sent yet.
pub struct Runner {
    trainer: Trainer,
    /// A text dataset being built for a Reset (the current trainer stays until it is done).
    loading: Option<(TextLoader, TrainConfig)>,
    running: bool,
    remaining: Option<usize>,
    diverged: Option<String>,
    tokens_per_sec: f32,
    window: Option<(Instant, usize)>,
    probe: Vec<usize>,
    /// The update being gathered.
    pending: Update,
    /// Send the weights with the next update even if nobody asked.
    boundary: bool,
    /// The step of the weights last copied into an update (`None`: not yet): a request for the
    /// weights while they are unchanged sends nothing, so that a lesson that asks every frame
    /// is not woken to draw the same model again and again.
    model_sent: Option<usize>,
}

impl Runner {
    /// A paused run of `trainer`.
    pub fn new(trainer: Trainer) -> Self {
        let data = Some(data_of(&trainer));
        Self {
            trainer,
            loading: None,
            running: false,
            remaining: None,
            diverged: None,
            tokens_per_sec: 0.0,
            window: None,
            probe: Vec::new(),
            pending: Update {
                restarted: true,
                data,
                ..Update::default()
            },
            boundary: true,
            model_sent: None,
        }
    }

    /// Take over the loss curve of the run that trained the current model (a pretrained
    /// model): the step count goes on from its last step, and the curve is drawn as this run's
    /// start.
    pub fn resume(&mut self, history: Vec<LossPoint>) {
        if let Some(last) = history.last() {
            self.trainer.resume_at(last.step);
        }
        self.pending.points = history;
    }

    /// The trainer (for tests and the CLI).
    pub fn trainer(&self) -> &Trainer {
        &self.trainer
    }

    /// Is there work to do (playing, steps left of `Step(n)`, a text file being read)?
    pub fn busy(&self) -> bool {
        self.training() || self.loading.is_some()
    }

    /// Playing, or steps left of `Step(n)`?
    fn training(&self) -> bool {
        self.running || self.remaining.is_some()
    }

    /// Apply a command. `Quit` is the driver's business and does nothing here.
    pub fn handle(&mut self, command: Command) {
        if self.loading.is_some() && matches!(command, Command::Play | Command::Step(_)) {
            self.pending.message = Some(Err(
                "still reading the text file: press Play when it is done (Pause cancels it)".into(),
            ));
            return;
        }
        match command {
            Command::Play => {
                self.running = true;
                self.diverged = None;
            }
            Command::Pause => {
                self.running = false;
                self.remaining = None;
                self.boundary = true;
                if let Some((loader, _)) = self.loading.take() {
                    self.pending.loading = None;
                    self.pending.message = Some(Ok(format!(
                        "stopped reading {}; the current model stays",
                        loader.name()
                    )));
                }
            }
            Command::Step(n) => {
                self.running = false;
                self.diverged = None;
                self.remaining = (n > 0).then_some(n);
            }
            Command::Reset(config) => self.reset(*config),
            Command::SetLr(lr) => {
                if let Err(e) = self.trainer.set_lr(lr) {
                    self.pending.message = Some(Err(e));
                }
            }
            Command::Load(path) => {
                let result = load_into(&mut self.trainer, &path);
                if result.is_ok() {
                    self.restart();
                }
                self.pending.message = Some(result);
            }
            Command::Save(path) => self.pending.message = Some(self.save(&path)),
            Command::SetProbe(ids) => {
                if ids != self.probe {
                    self.probe = ids;
                    self.pending.probe_restarted = Some(self.probe.clone());
                    self.pending.frames.clear();
                    self.record_probe();
                }
            }
            Command::Quit => {}
        }
    }

    /// Start over with `config`: at once for the built-in tasks; a text file is read a slice at
    /// a time by [`Runner::work`], the current model staying until it is done.
    fn reset(&mut self, config: TrainConfig) {
        self.loading = None;
        self.pending.loading = None;
        if let Err(e) = config.validate() {
            self.pending.message = Some(Err(e));
            return;
        }
        if let (Task::Text, Some(path)) = (&config.task, &config.text_file) {
            match TextLoader::open(path, config.model.block_size) {
                Ok(loader) => {
                    self.running = false;
                    self.remaining = None;
                    self.pending.loading = Some(0.0);
                    self.loading = Some((loader, config));
                }
                Err(e) => self.pending.message = Some(Err(e)),
            }
            return;
        }
        match Trainer::new(config) {
            Ok(t) => {
                self.trainer = t;
                self.restart();
                self.pending.message = Some(Ok("reset".into()));
            }
            Err(e) => self.pending.message = Some(Err(e)),
        }
    }

    /// Go on reading the text file for up to `budget`; when it is read, the new run starts.
    fn load_some(&mut self, budget: Duration) {
        let Some((loader, config)) = &mut self.loading else {
            return;
        };
        match loader.work(budget) {
            Ok(None) => self.pending.loading = Some(loader.progress()),
            Ok(Some(data)) => {
                let name = loader.name().to_owned();
                let (tokens, vocab) = (data.train.len() + data.val.len(), data.tokenizer.len());
                let result = Trainer::from_dataset(config.clone(), data);
                self.loading = None;
                self.pending.loading = None;
                match result {
                    Ok(t) => {
                        self.trainer = t;
                        self.restart();
                        self.pending.message = Some(Ok(format!(
                            "read {name}: {tokens} characters, {vocab} different"
                        )));
                    }
                    Err(e) => self.pending.message = Some(Err(e)),
                }
            }
            Err(e) => {
                self.loading = None;
                self.pending.loading = None;
                self.pending.message = Some(Err(e));
            }
        }
    }

    /// A new model or data: the history and probe start over, and the run pauses.
    fn restart(&mut self) {
        self.running = false;
        self.remaining = None;
        self.diverged = None;
        self.window = None;
        self.pending.restarted = true;
        self.pending.points.clear();
        self.pending.data = Some(data_of(&self.trainer));
        self.pending.probe_restarted = Some(self.probe.clone());
        self.pending.frames.clear();
        self.boundary = true;
        self.record_probe();
    }

    fn save(&self, path: &std::path::Path) -> Result<String, String> {
        super::saved::save(path, &self.trainer.gpt, &self.trainer.data.tokenizer)
            .map(|()| format!("saved {}", path.display()))
    }

    /// Take one step if there is training to do; false if there was none.
    pub fn step(&mut self) -> bool {
        self.advance(false) != Progress::Idle
    }

    /// [`Runner::step`] one part at a time (`Trainer::step_part`): for the loop without a
    /// thread, whose slices must stay short. A pause between parts keeps the step where it
    /// stands; Play goes on with it.
    pub fn step_part(&mut self) -> Progress {
        self.advance(true)
    }

    fn advance(&mut self, in_parts: bool) -> Progress {
        if !self.training() || self.loading.is_some() {
            self.window = None; // a pause starts a new throughput window
            return Progress::Idle;
        }
        let (start, tokens) = *self.window.get_or_insert((Instant::now(), 0));
        let s = if in_parts {
            match self.trainer.step_part() {
                Some(s) => s,
                None => return Progress::Part,
            }
        } else {
            self.trainer.step()
        };
        let tokens = tokens + self.trainer.config.batch * self.trainer.config.model.block_size;
        // Wall-clock throughput over windows of ≥ 0.5 s: what the class sees, including the
        // updates and whatever the UI takes from the cores.
        let elapsed = start.elapsed().as_secs_f32();
        if elapsed >= 0.5 {
            self.tokens_per_sec = tokens as f32 / elapsed;
            self.window = Some((Instant::now(), 0));
        } else {
            if self.tokens_per_sec == 0.0 {
                self.tokens_per_sec = s.tokens_per_sec;
            }
            self.window = Some((start, tokens));
        }
        self.pending.points.push(LossPoint {
            step: s.step,
            train: s.loss,
            val: s.val_loss,
        });
        let norms = self.trainer.layer_grad_norms();
        if !norms.is_empty() {
            self.pending.layer_norms.push((s.step, norms.to_vec()));
        }
        if s.step.is_multiple_of(PROBE_EVERY) {
            self.record_probe();
        }
        if let Some(why) = s.diverged {
            self.diverged = Some(format!(
                "training diverged at step {}: {why}. It paused and went back to the weights of step {}; lower the learning rate and press Play",
                s.step,
                self.trainer.last_good_step()
            ));
            self.running = false;
            self.remaining = None;
            self.boundary = true;
        }
        if let Some(n) = self.remaining.as_mut() {
            *n -= 1;
            if *n == 0 {
                self.remaining = None;
                self.boundary = true;
            }
        }
        Progress::Step
    }

    /// Take steps until `budget` has passed or there is no more work (reading a text file
    /// first, if one is being read); true if any was taken.
    pub fn work(&mut self, budget: Duration) -> bool {
        if self.loading.is_some() {
            self.load_some(budget);
            return true;
        }
        let start = Instant::now();
        let mut any = false;
        while start.elapsed() < budget && self.step() {
            any = true;
        }
        any
    }

    /// Is there anything to report (new points, a message, a boundary)?
    pub fn has_news(&self) -> bool {
        let p = &self.pending;
        self.boundary
            || p.restarted
            || !p.points.is_empty()
            || p.message.is_some()
            || p.probe_restarted.is_some()
            || !p.frames.is_empty()
            || p.loading.is_some()
    }

    /// Have the weights changed since they were last copied into an update (a step was taken)?
    pub fn model_is_news(&self) -> bool {
        self.model_sent != Some(self.trainer.steps())
    }

    /// What changed since the last call; the weights are copied at a boundary, or if
    /// `want_model` and they changed since the last copy ([`Runner::model_is_news`]).
    pub fn take_update(&mut self, want_model: bool) -> Update {
        let mut u = std::mem::take(&mut self.pending);
        u.step = self.trainer.steps();
        u.running = self.training();
        u.tokens_per_sec = self.tokens_per_sec;
        u.diverged = self.diverged.clone();
        if self.boundary || (want_model && self.model_is_news()) {
            u.model = Some(Arc::new(self.trainer.gpt.clone()));
            self.model_sent = Some(self.trainer.steps());
        }
        self.boundary = false;
        u
    }

    fn record_probe(&mut self) {
        let gpt = &self.trainer.gpt;
        let ids = &self.probe;
        if ids.is_empty() || ids.iter().any(|&i| i >= gpt.config.vocab_size) {
            return;
        }
        let attention = prompt_attention(gpt, &ids[..ids.len().min(gpt.config.block_size)]);
        self.pending.frames.push(ProbeFrame {
            step: self.trainer.steps(),
            attention,
        });
    }
}

fn data_of(trainer: &Trainer) -> (Arc<Tokenizer>, Arc<TrainConfig>) {
    (
        Arc::new(trainer.data.tokenizer.clone()),
        Arc::new(trainer.config.clone()),
    )
}

/// Load a checkpoint into the trainer: the vocabulary must match the data's.
fn load_into(trainer: &mut Trainer, path: &std::path::Path) -> Result<String, String> {
    let (gpt, tokenizer) = super::saved::load(path)?;
    if tokenizer != trainer.data.tokenizer {
        return Err(format!(
            "{} was trained on a different vocabulary ({} tokens) than the current task ({} tokens)",
            path.display(),
            tokenizer.len(),
            trainer.data.tokenizer.len()
        ));
    }
    trainer.set_model(gpt);
    Ok(format!("loaded {}", path.display()))
}

/// Tests drive a runner without a thread.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GptConfig;

    fn small() -> TrainConfig {
        TrainConfig {
            model: GptConfig {
                n_layer: 1,
                n_embd: 16,
                n_head: 2,
                block_size: 8,
                ..GptConfig::default()
            },
            batch: 4,
            eval_every: 0,
            ..TrainConfig::default()
        }
    }

    #[test]
    fn updates_carry_only_what_changed() {
        let trainer = Trainer::new(small()).unwrap_or_else(|e| panic!("{e}"));
        let mut r = Runner::new(trainer);
        let first = r.take_update(false);
        assert!(first.restarted && first.model.is_some() && first.data.is_some());
        r.handle(Command::Step(3));
        assert!(r.work(Duration::from_secs(5)));
        let u = r.take_update(false);
        assert_eq!(u.points.len(), 3);
        assert_eq!(u.step, 3);
        assert!(!u.running && !u.restarted && u.data.is_none());
        assert!(u.model.is_some(), "the end of Step(n) is a boundary");
        // Nothing new: no points, no weights unless asked.
        let quiet = r.take_update(false);
        assert!(quiet.points.is_empty() && quiet.model.is_none());
        assert!(!r.has_news());
        // Asked for, the weights come only when they changed since the last copy (step 3's).
        assert!(!r.model_is_news());
        assert!(r.take_update(true).model.is_none());
        r.handle(Command::Step(1));
        assert!(r.work(Duration::from_secs(5)));
        r.boundary = false;
        assert!(r.model_is_news());
        let asked = r.take_update(true);
        assert_eq!(asked.model.map(|m| Arc::strong_count(&m)), Some(1));
        assert!(!r.model_is_news());
    }
}
