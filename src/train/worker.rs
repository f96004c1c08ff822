//! The training worker: a [`Trainer`] on a named thread. Commands go in over a channel,
//! snapshots come out at most every 30 ms and wake the UI with `request_repaint_after`
//! (ARCHITECTURE.md, "Data flow while training"). The UI never locks the model and never waits.
//!
//! Several workers can run side by side (compare runs): each owns its own trainer and thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::trainer::{TrainConfig, Trainer};
use crate::data::Tokenizer;
use crate::model::checkpoint;
use crate::model::gpt::{Gpt, prompt_attention};

/// Longest interval between snapshots while training runs.
pub const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(30);
/// The probe prompt's attention is recorded every this many steps.
pub const PROBE_EVERY: usize = 5;
/// At most this many probe frames are kept (older ones are thinned out).
const PROBE_MAX: usize = 400;

/// The probe prompt's attention at one step of training.
#[derive(Debug, Clone)]
pub struct ProbeFrame {
    /// The step after which it was recorded.
    pub step: usize,
    /// Attention weights per layer and head, (T, T) each.
    pub attention: Vec<Vec<ndarray::Array2<f32>>>,
}

/// What the UI asks of the worker.
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
    /// End the thread.
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

/// What the UI sees of a training run.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Steps completed.
    pub step: usize,
    /// Is it training continuously (or working through `Step(n)`)?
    pub running: bool,
    /// Every step's loss so far.
    pub history: Arc<Vec<LossPoint>>,
    /// Throughput of the last steps.
    pub tokens_per_sec: f32,
    /// The last step diverged: training paused, weights rolled back.
    pub diverged: bool,
    /// A copy of the weights (cheap to share).
    pub gpt: Arc<Gpt>,
    /// The tokenizer of the data.
    pub tokenizer: Arc<Tokenizer>,
    /// The run's configuration.
    pub config: Arc<TrainConfig>,
    /// The answer to the last command that can fail (load, save, reset), if any.
    pub message: Option<Result<String, String>>,
    /// The probe prompt (token ids) and its attention over training, oldest first.
    pub probe: Arc<(Vec<usize>, Vec<ProbeFrame>)>,
}

/// The UI's handle on a worker thread.
pub struct Worker {
    commands: Sender<Command>,
    snapshots: Receiver<Snapshot>,
    latest: Snapshot,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start a worker for `config` (paused), from `initial` weights if given (they must fit the
    /// data's vocabulary). `wake` is called after each snapshot is sent (the GUI passes
    /// `ctx.request_repaint_after`).
    pub fn spawn(
        name: &str,
        config: TrainConfig,
        initial: Option<Gpt>,
        wake: impl Fn() + Send + 'static,
    ) -> Result<Self, String> {
        let mut trainer = Trainer::new(config)?;
        if let Some(gpt) = initial {
            if gpt.config.vocab_size != trainer.data.tokenizer.len() {
                return Err(format!(
                    "the initial model has a vocabulary of {} tokens, the data {}",
                    gpt.config.vocab_size,
                    trainer.data.tokenizer.len()
                ));
            }
            trainer.set_model(gpt);
        }
        let first = snapshot(
            &trainer,
            &Arc::new(Vec::new()),
            false,
            0.0,
            false,
            None,
            &Arc::default(),
        );
        let (cmd_tx, cmd_rx) = channel();
        let (snap_tx, snap_rx) = channel();
        let thread = std::thread::Builder::new()
            .name(format!("trainer-{name}"))
            .spawn(move || run(trainer, cmd_rx, snap_tx, wake))
            .map_err(|e| format!("cannot start the training thread: {e}"))?;
        Ok(Self {
            commands: cmd_tx,
            snapshots: snap_rx,
            latest: first,
            thread: Some(thread),
        })
    }

    /// Send a command (ignored if the thread has ended).
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// Take every snapshot that arrived and keep the newest. Never blocks.
    pub fn poll(&mut self) -> &Snapshot {
        while let Ok(s) = self.snapshots.try_recv() {
            self.latest = s;
        }
        &self.latest
    }

    /// Wait (up to `timeout`) for the next snapshot. For tests and the CLI, not the UI.
    pub fn wait(&mut self, timeout: Duration) -> &Snapshot {
        if let Ok(s) = self.snapshots.recv_timeout(timeout) {
            self.latest = s;
        }
        self.poll()
    }

    /// The newest snapshot received so far.
    pub fn latest(&self) -> &Snapshot {
        &self.latest
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Quit);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn snapshot(
    trainer: &Trainer,
    history: &Arc<Vec<LossPoint>>,
    running: bool,
    tokens_per_sec: f32,
    diverged: bool,
    message: Option<Result<String, String>>,
    probe: &Arc<(Vec<usize>, Vec<ProbeFrame>)>,
) -> Snapshot {
    Snapshot {
        step: trainer.steps(),
        running,
        history: Arc::clone(history),
        tokens_per_sec,
        diverged,
        gpt: Arc::new(trainer.gpt.clone()),
        tokenizer: Arc::new(trainer.data.tokenizer.clone()),
        config: Arc::new(trainer.config.clone()),
        message,
        probe: Arc::clone(probe),
    }
}

/// Make the calling thread (and the shard threads it starts, which inherit it) yield to the UI
/// thread: nice 10. On a 2-core laptop training uses both cores; the UI must still get one
/// whenever it has a frame to draw.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority on the calling thread's own id have no memory effects.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// The thread's loop.
fn run(mut trainer: Trainer, commands: Receiver<Command>, out: Sender<Snapshot>, wake: impl Fn()) {
    lower_priority();
    let mut history: Vec<LossPoint> = Vec::new();
    let mut running = false;
    let mut remaining: Option<usize> = None;
    let mut tokens_per_sec = 0.0;
    let mut window_start = Instant::now();
    let mut window_tokens = 0usize;
    let mut diverged = false;
    let mut message: Option<Result<String, String>> = None;
    let mut last_sent = Instant::now();
    let mut dirty = true;
    let mut probe_ids: Vec<usize> = Vec::new();
    let mut probe_frames: Vec<ProbeFrame> = Vec::new();
    // Shared with the snapshots; rebuilt only when a frame was recorded.
    let mut probe: Arc<(Vec<usize>, Vec<ProbeFrame>)> = Arc::default();
    let mut probe_changed = false;
    let record = |trainer: &Trainer, ids: &[usize], frames: &mut Vec<ProbeFrame>| {
        if ids.is_empty() || ids.iter().any(|&i| i >= trainer.gpt.config.vocab_size) {
            return;
        }
        if frames.len() >= PROBE_MAX {
            // Keep every other frame: the replay stays evenly spaced over the whole run.
            let mut i = 0;
            frames.retain(|_| {
                i += 1;
                i % 2 == 1
            });
        }
        let attention = prompt_attention(
            &trainer.gpt,
            &ids[..ids.len().min(trainer.gpt.config.block_size)],
        );
        frames.push(ProbeFrame {
            step: trainer.steps(),
            attention,
        });
    };
    loop {
        // While idle, block for the next command; while training, only peek.
        let next = if running || remaining.is_some() {
            match commands.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => return,
            }
        } else {
            match commands.recv_timeout(Duration::from_millis(200)) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        if let Some(command) = next {
            dirty = true;
            match command {
                Command::Play => {
                    running = true;
                    diverged = false;
                }
                Command::Pause => {
                    running = false;
                    remaining = None;
                }
                Command::Step(n) => {
                    running = false;
                    diverged = false;
                    remaining = (n > 0).then_some(n);
                }
                Command::Reset(config) => match Trainer::new(*config) {
                    Ok(t) => {
                        trainer = t;
                        history.clear();
                        probe_frames.clear();
                        record(&trainer, &probe_ids, &mut probe_frames);
                        probe_changed = true;
                        running = false;
                        remaining = None;
                        diverged = false;
                        message = Some(Ok("reset".into()));
                    }
                    Err(e) => message = Some(Err(e)),
                },
                Command::SetLr(lr) => trainer.set_lr(lr),
                Command::Load(path) => message = Some(load_into(&mut trainer, &path)),
                Command::Save(path) => {
                    let tokenizer =
                        serde_json::to_string(&trainer.data.tokenizer).unwrap_or_default();
                    message = Some(
                        checkpoint::save(&path, &trainer.gpt, &tokenizer)
                            .map(|()| format!("saved {}", path.display())),
                    );
                }
                Command::SetProbe(ids) => {
                    if ids != probe_ids {
                        probe_ids = ids;
                        probe_frames.clear();
                        record(&trainer, &probe_ids, &mut probe_frames);
                        probe_changed = true;
                    }
                }
                Command::Quit => return,
            }
        }
        if !(running || remaining.is_some()) {
            window_tokens = 0; // a pause starts a new throughput window
        }
        if running || remaining.is_some() {
            if window_tokens == 0 {
                window_start = Instant::now();
            }
            let s = trainer.step();
            window_tokens += trainer.config.batch * trainer.config.model.block_size;
            // Wall-clock throughput over windows of ≥ 0.5 s: what the class sees, including
            // the snapshots and whatever the UI takes from the cores.
            let elapsed = window_start.elapsed().as_secs_f32();
            if elapsed >= 0.5 {
                tokens_per_sec = window_tokens as f32 / elapsed;
                window_tokens = 0;
            } else if tokens_per_sec == 0.0 {
                tokens_per_sec = s.tokens_per_sec;
            }
            history.push(LossPoint {
                step: s.step,
                train: s.loss,
                val: s.val_loss,
            });
            if s.step.is_multiple_of(PROBE_EVERY) {
                record(&trainer, &probe_ids, &mut probe_frames);
                probe_changed = true;
            }
            dirty = true;
            if s.diverged {
                diverged = true;
                running = false;
                remaining = None;
            }
            if let Some(n) = remaining.as_mut() {
                *n -= 1;
                if *n == 0 {
                    remaining = None;
                }
            }
        }
        let busy = running || remaining.is_some();
        if dirty && (!busy || last_sent.elapsed() >= SNAPSHOT_INTERVAL) {
            if probe_changed {
                probe = Arc::new((probe_ids.clone(), probe_frames.clone()));
                probe_changed = false;
            }
            let snap = snapshot(
                &trainer,
                &Arc::new(history.clone()),
                busy,
                tokens_per_sec,
                diverged,
                message.take(),
                &probe,
            );
            if out.send(snap).is_err() {
                return;
            }
            wake();
            last_sent = Instant::now();
            dirty = false;
        }
    }
}

/// Load a checkpoint into the trainer: the vocabulary must match the data's.
fn load_into(trainer: &mut Trainer, path: &std::path::Path) -> Result<String, String> {
    let (gpt, tokenizer_json) = checkpoint::load(path)?;
    let tokenizer: Tokenizer = serde_json::from_str(&tokenizer_json)
        .map_err(|e| format!("the checkpoint's tokenizer is invalid: {e}"))?;
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
