//! The training worker: one thread that drives one run, or several in lock-step (compare
//! runs: one step of each in turn, so they are always compared at the same step). Commands go
//! in over a channel; updates come out at most every [`UPDATE_INTERVAL`] and wake the UI, which
//! merges them into a [`Snapshot`] per run. The UI never locks the model and never waits.
//!
//! Where no thread can start (a browser: wasm32 has none), the same loop runs in slices instead:
//! driven by [`drive_slices`] from a timer between the page's frames (the browser build starts
//! one), or, with no driver, by each [`Worker::poll`]. There, steps are taken in parts
//! (`Trainer::step_part`, one shard of the batch each), and a slice takes parts while they fit in
//! [`SLICE`] (at least one), so that it holds the page for a few milliseconds, not for a whole
//! step of a deep model. Updates
//! then wake the UI at most every [`set_repaint_interval`], so a page whose frames are slow to
//! draw still leaves the main thread to training between them. Callers do not know which it is.
//!
//! The steps themselves run on the process's thread pool (`engine::pool::install`), so however
//! many runs train at once, no more compute threads exist than cores. A panic inside a step
//! stops the run, not the app: the UI gets the message and keeps the last weights it received.
//!
//! Data flow (see `docs/ARCHITECTURE.md`):
//! ```text
//!  UI thread                                  worker thread
//!  Worker::send(Command) ──▶ channel ──▶      Runner::handle, then Runner::work in slices
//!  Worker::poll → Snapshot ◀── channel ◀──    Runner::take_update (what changed) + wake()
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::sync::{Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;
use web_time::Instant;

use super::runner::{Command, LossPoint, ProbeFrame, Progress, Runner, Update};
use super::trainer::{TrainConfig, Trainer};
use crate::data::Tokenizer;
use crate::engine::pool;
use crate::model::gpt::Gpt;

/// Longest interval between updates while training runs.
pub const UPDATE_INTERVAL: Duration = Duration::from_millis(30);
/// Without a thread: the training time of one slice, between two frames (the rest of a 60 fps
/// frame, 16.7 ms, draws it): parts of steps while they fit (at least one).
pub const SLICE: Duration = Duration::from_millis(8);
/// At most this many probe frames are kept (older ones are thinned out).
const PROBE_MAX: usize = 400;
/// At most this many loss points are kept (then every other one is dropped, so that what is
/// kept stays evenly spaced over the whole run): a plot is at most a few thousand pixels wide,
/// and memory stays flat however long a class trains.
const HISTORY_MAX: usize = 20_000;

/// What the UI sees of a training run.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Steps completed.
    pub step: usize,
    /// Is it training continuously (or working through `Step(n)`)?
    pub running: bool,
    /// The loss at every step so far (thinned to every other point past `HISTORY_MAX`).
    pub history: Arc<Vec<LossPoint>>,
    /// Throughput of the last steps.
    pub tokens_per_sec: f32,
    /// The run diverged: training paused, the weights went back to the last good ones; the
    /// message says why and what to do.
    pub diverged: Option<String>,
    /// A text file is being read for a Reset: how far, 0 … 1.
    pub loading: Option<f32>,
    /// The latest copy of the weights received.
    pub gpt: Arc<Gpt>,
    /// The tokenizer of the data.
    pub tokenizer: Arc<Tokenizer>,
    /// The run's configuration.
    pub config: Arc<TrainConfig>,
    /// The answer to the last command that can fail (load, save, reset), if any.
    pub message: Option<Result<String, String>>,
    /// The probe prompt (token ids) and its attention over training, oldest first.
    pub probe: Arc<(Vec<usize>, Vec<ProbeFrame>)>,
    /// The worker stopped (a panic inside a step); the message says why.
    pub failed: Option<String>,
    /// The gradient's norm over each block's weights, (step, norms), oldest first (thinned
    /// like the loss history).
    pub layer_norms: Arc<Vec<(usize, Vec<f32>)>>,
}

impl Snapshot {
    fn new(first: Update) -> Option<Self> {
        let (tokenizer, config) = first.data.clone()?;
        let gpt = first.model.clone()?;
        let mut s = Self {
            step: 0,
            running: false,
            history: Arc::default(),
            tokens_per_sec: 0.0,
            diverged: None,
            loading: None,
            gpt,
            tokenizer,
            config,
            message: None,
            probe: Arc::default(),
            failed: None,
            layer_norms: Arc::default(),
        };
        s.merge(first);
        Some(s)
    }

    /// Fold an update in.
    fn merge(&mut self, u: Update) {
        self.step = u.step;
        self.running = u.running;
        self.tokens_per_sec = u.tokens_per_sec;
        self.diverged = u.diverged;
        self.loading = u.loading;
        if u.restarted {
            self.history = Arc::default();
            self.layer_norms = Arc::default();
        }
        if !u.layer_norms.is_empty() {
            let norms = Arc::make_mut(&mut self.layer_norms);
            norms.extend(u.layer_norms);
            thin(norms, HISTORY_MAX);
        }
        if !u.points.is_empty() {
            let history = Arc::make_mut(&mut self.history);
            history.extend_from_slice(&u.points);
            thin(history, HISTORY_MAX);
        }
        if let Some(gpt) = u.model {
            self.gpt = gpt;
        }
        if let Some((tokenizer, config)) = u.data {
            self.tokenizer = tokenizer;
            self.config = config;
        }
        if u.message.is_some() {
            self.message = u.message;
        }
        if let Some(ids) = u.probe_restarted {
            self.probe = Arc::new((ids, Vec::new()));
        }
        if !u.frames.is_empty() {
            let probe = Arc::make_mut(&mut self.probe);
            probe.1.extend(u.frames);
            thin(&mut probe.1, PROBE_MAX);
        }
    }
}

/// Keep every other item while there are more than `max` (the oldest first), so that what is
/// kept stays evenly spaced over the whole run.
fn thin<T>(items: &mut Vec<T>, max: usize) {
    while items.len() > max {
        let mut i = 0;
        items.retain(|_| {
            i += 1;
            i % 2 == 1
        });
    }
}

/// What the worker thread sends: the index of a run and its update, or the thread's end.
enum Message {
    Update(usize, Update),
    Failed(String),
}

/// The UI's handle on a worker thread and its runs.
pub struct Worker {
    commands: Sender<Command>,
    updates: Receiver<Message>,
    latest: Vec<Snapshot>,
    want_model: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Without a thread: the loop's side, run a slice at a time (see the top of this file).
    local: Option<Arc<Mutex<Loop>>>,
}

/// The loops of the workers without a thread, for [`drive_slices`].
static SLICED: Mutex<Vec<Weak<Mutex<Loop>>>> = Mutex::new(Vec::new());
/// A driver calls [`drive_slices`]: `poll` leaves the training to it.
static DRIVEN: AtomicBool = AtomicBool::new(false);
/// Without a thread, wake the UI at most this often (ms; 0: after every update).
static REPAINT_EVERY_MS: AtomicU64 = AtomicU64::new(0);

/// Lock a mutex whose data stays whole across a panic (the loop's state is only replaced).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Run one slice (at most `budget`) of every worker without a thread, in turn; from now on
/// `poll` leaves the training to these calls. True while any of them has work (call again soon);
/// false when all are idle (a command may still come: call again within a frame or so).
///
/// The runs of the lesson on screen come first: while any run whose `Worker` was polled within
/// [`SHOWN`] has work, only those train (the others still take their commands); the rest train
/// when nothing on screen does. On one thread every worker driven takes its share of each slice,
/// and a group of compare runs at least one step of each run per slice, however short its share:
/// a hidden lesson's compare runs left playing would take most of the page's training time from
/// the lesson on screen.
pub fn drive_slices(budget: Duration) -> bool {
    DRIVEN.store(true, Ordering::Relaxed);
    let loops: Vec<Arc<Mutex<Loop>>> = {
        let mut all = lock(&SLICED);
        all.retain(|w| w.strong_count() > 0);
        all.iter().filter_map(Weak::upgrade).collect()
    };
    let shown_busy = loops.iter().any(|l| {
        let l = lock(l);
        l.shown() && l.busy()
    });
    let driven = |l: &Loop| !shown_busy || l.shown();
    let count = loops.iter().filter(|l| driven(&lock(l))).count();
    let share = budget / count.max(1) as u32;
    let mut busy = false;
    for l in loops {
        let mut l = lock(&l);
        let slice = if driven(&l) { share } else { Duration::ZERO };
        l.turn(slice, false);
        busy |= l.busy();
    }
    busy
}

/// Without a thread, a run counts as on screen while its `Worker` was polled this recently: a
/// lesson polls its worker in every frame it draws, and a training run wakes the page at least
/// every second (see [`set_repaint_interval`]).
pub const SHOWN: Duration = Duration::from_secs(3);

/// Without a thread, wake the UI at most every `interval` while training: the browser build sets
/// it from how long its frames take to draw, so that drawing and training share the main thread.
pub fn set_repaint_interval(interval: Duration) {
    REPAINT_EVERY_MS.store(interval.as_millis() as u64, Ordering::Relaxed);
}

/// The worker's side of the channels: the runs and what the loop needs to talk to the UI.
struct Loop {
    runners: Vec<Runner>,
    commands: Receiver<Command>,
    out: Sender<Message>,
    want_model: Arc<AtomicBool>,
    wake: Box<dyn Fn() + Send>,
    /// The loop has ended (Quit, a panic): nothing more runs.
    ended: bool,
    /// Without a thread: when the UI was last woken, and whether a wake is owed since.
    woken: Option<Instant>,
    owed: bool,
    /// Without a thread: when the UI last polled this loop's `Worker` (see [`drive_slices`]).
    polled: Option<Instant>,
    /// Without a thread: the run whose step comes next (see `lock_step`).
    cursor: usize,
}

impl Loop {
    /// Has the UI polled this loop's `Worker` within [`SHOWN`]?
    fn shown(&self) -> bool {
        self.polled.is_some_and(|t| t.elapsed() < SHOWN)
    }

    /// Is there training to do?
    fn busy(&self) -> bool {
        !self.ended && self.runners.iter().any(Runner::busy)
    }

    /// One turn of the loop, training for at most `budget`; `false` once it has ended.
    fn turn(&mut self, budget: Duration, block: bool) -> bool {
        if self.ended {
            return false;
        }
        if block {
            // On its own thread: wake the UI after every update.
            self.ended = !turn(
                &mut self.runners,
                &self.commands,
                &self.out,
                &self.want_model,
                &*self.wake,
                budget,
                None,
            );
            return !self.ended;
        }
        // In slices: wake at most every REPAINT_EVERY_MS.
        let woke = std::cell::Cell::new(false);
        self.ended = !turn(
            &mut self.runners,
            &self.commands,
            &self.out,
            &self.want_model,
            &|| woke.set(true),
            budget,
            Some(&mut self.cursor),
        );
        self.owed |= woke.get();
        let every = Duration::from_millis(REPAINT_EVERY_MS.load(Ordering::Relaxed));
        if self.owed && self.woken.is_none_or(|t| t.elapsed() >= every) {
            (self.wake)();
            self.woken = Some(Instant::now());
            self.owed = false;
        }
        !self.ended
    }
}

impl Worker {
    /// Start a worker for one run of `config` (paused), from `initial` weights if given (they
    /// must fit the data's vocabulary). `wake` is called after each update is sent (the GUI
    /// passes `ctx.request_repaint`).
    pub fn spawn(
        name: &str,
        config: TrainConfig,
        initial: Option<Gpt>,
        wake: impl Fn() + Send + 'static,
    ) -> Result<Self, String> {
        Self::spawn_group(name, vec![(config, initial)], wake)
    }

    /// [`Worker::spawn`] from a pretrained model and the loss curve of the run that trained it
    /// (see `Runner::resume`): the snapshot shows that curve and step from the start.
    pub fn spawn_resumed(
        name: &str,
        config: TrainConfig,
        gpt: Gpt,
        history: Vec<LossPoint>,
        wake: impl Fn() + Send + 'static,
    ) -> Result<Self, String> {
        Self::start(
            name,
            vec![(config, Some(gpt), history)],
            wake,
            !cfg!(target_arch = "wasm32"),
        )
    }

    /// Start a worker for several runs (paused) that step in lock-step: one step of each in
    /// turn. Commands apply to every run.
    pub fn spawn_group(
        name: &str,
        runs: Vec<(TrainConfig, Option<Gpt>)>,
        wake: impl Fn() + Send + 'static,
    ) -> Result<Self, String> {
        let runs = runs.into_iter().map(|(c, g)| (c, g, Vec::new())).collect();
        Self::start(name, runs, wake, !cfg!(target_arch = "wasm32"))
    }

    /// [`Worker::spawn_group`] without a thread, as in a browser: each [`Worker::poll`] (or
    /// [`drive_slices`], once a driver calls it) trains one slice: parts of steps
    /// (`Trainer::step_part`) while they fit in [`SLICE`]. (The browser gets this by itself;
    /// tests ask for it.)
    pub fn spawn_group_in_slices(
        name: &str,
        runs: Vec<(TrainConfig, Option<Gpt>)>,
        wake: impl Fn() + Send + 'static,
    ) -> Result<Self, String> {
        let runs = runs.into_iter().map(|(c, g)| (c, g, Vec::new())).collect();
        Self::start(name, runs, wake, false)
    }

    /// [`Worker::spawn_group`] with the runs' trainers already made (`Trainer::new`): a caller
    /// that cannot spend the time of all of them in one frame makes them one at a time
    /// (`compare_runs` does: in a browser the frame waits for every `Trainer::new`).
    pub fn spawn_group_of(
        name: &str,
        trainers: Vec<Trainer>,
        wake: impl Fn() + Send + 'static,
    ) -> Result<Self, String> {
        let runs = trainers.into_iter().map(|t| (t, Vec::new())).collect();
        Self::start_made(name, runs, wake, !cfg!(target_arch = "wasm32"))
    }

    /// Start the runs on a thread of their own if `threaded` and one can start, else in slices.
    fn start(
        name: &str,
        runs: Vec<(TrainConfig, Option<Gpt>, Vec<LossPoint>)>,
        wake: impl Fn() + Send + 'static,
        threaded: bool,
    ) -> Result<Self, String> {
        let mut made = Vec::with_capacity(runs.len());
        for (config, initial, history) in runs {
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
            made.push((trainer, history));
        }
        Self::start_made(name, made, wake, threaded)
    }

    /// [`Worker::start`] from the runs' trainers and their loss histories.
    fn start_made(
        name: &str,
        runs: Vec<(Trainer, Vec<LossPoint>)>,
        wake: impl Fn() + Send + 'static,
        threaded: bool,
    ) -> Result<Self, String> {
        let mut runners = Vec::with_capacity(runs.len());
        let mut latest = Vec::with_capacity(runs.len());
        for (trainer, history) in runs {
            let mut runner = Runner::new(trainer);
            runner.resume(history);
            let first = Snapshot::new(runner.take_update(true))
                .ok_or("internal error: a new run sent no model")?;
            latest.push(first);
            runners.push(runner);
        }
        let (cmd_tx, cmd_rx) = channel();
        let (upd_tx, upd_rx) = channel();
        let want_model = Arc::new(AtomicBool::new(false));
        let work = Box::new(Loop {
            runners,
            commands: cmd_rx,
            out: upd_tx,
            want_model: Arc::clone(&want_model),
            wake: Box::new(wake),
            ended: false,
            woken: None,
            owed: false,
            polled: None,
            cursor: 0,
        });
        // The loop is handed over through a slot, so that if no thread can start (a browser)
        // it is still here to run in slices.
        let slot = Arc::new(std::sync::Mutex::new(Some(work)));
        let theirs = Arc::clone(&slot);
        let thread = if !threaded {
            None
        } else {
            std::thread::Builder::new()
                .name(format!("trainer-{name}"))
                .spawn(move || {
                    let work = theirs.lock().map(|mut s| s.take()).ok().flatten();
                    if let Some(mut work) = work {
                        while work.turn(UPDATE_INTERVAL, true) {}
                    }
                })
                .ok()
        };
        let local = match thread {
            Some(_) => None,
            None => slot.lock().ok().and_then(|mut s| s.take()).map(|work| {
                let work = Arc::new(Mutex::new(*work));
                lock(&SLICED).push(Arc::downgrade(&work));
                work
            }),
        };
        if thread.is_none() && local.is_none() {
            return Err("internal error: the training loop was lost".into());
        }
        Ok(Self {
            commands: cmd_tx,
            updates: upd_rx,
            latest,
            want_model,
            thread,
            local,
        })
    }

    /// Send a command to every run. If the thread has stopped the command goes nowhere, and the
    /// next [`Worker::poll`] says so in the snapshot's `failed`.
    pub fn send(&self, command: Command) {
        if self.commands.send(command).is_err() {
            // Reported by `poll` (the channel is disconnected), where the UI looks.
        }
    }

    /// Ask for a fresh copy of the weights with the next update (the live lesson does, every
    /// frame it draws the model; copies are made at most every [`UPDATE_INTERVAL`]).
    pub fn request_model(&self) {
        self.want_model.store(true, Ordering::Relaxed);
    }

    /// Take every update that arrived; the newest snapshot of the first run. Never blocks.
    pub fn poll(&mut self) -> &Snapshot {
        self.receive();
        &self.latest[0]
    }

    /// [`Worker::poll`], every run.
    pub fn poll_all(&mut self) -> &[Snapshot] {
        self.receive();
        &self.latest
    }

    fn receive(&mut self) {
        if let Some(work) = &self.local {
            let mut work = lock(work);
            work.polled = Some(Instant::now());
            if !DRIVEN.load(Ordering::Relaxed) {
                work.turn(SLICE, false);
            }
        }
        loop {
            match self.updates.try_recv() {
                Ok(m) => self.apply(m),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => return self.stopped(),
            }
        }
    }

    fn apply(&mut self, message: Message) {
        match message {
            Message::Update(i, u) => {
                if let Some(s) = self.latest.get_mut(i) {
                    s.merge(u);
                }
            }
            Message::Failed(why) => {
                for s in &mut self.latest {
                    s.running = false;
                    s.failed = Some(why.clone());
                }
            }
        }
    }

    /// The thread is gone: say so in every snapshot (unless it already said why).
    fn stopped(&mut self) {
        for s in &mut self.latest {
            s.running = false;
            if s.failed.is_none() {
                s.failed = Some("the training thread has stopped".into());
            }
        }
    }

    /// Wait (up to `timeout`) for the next update. For tests and the CLI, not the UI.
    pub fn wait(&mut self, timeout: Duration) -> &Snapshot {
        if let Some(work) = &self.local {
            lock(work).turn(timeout.min(UPDATE_INTERVAL), false);
        }
        match self.updates.recv_timeout(timeout) {
            Ok(m) => self.apply(m),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => self.stopped(),
        }
        self.receive();
        &self.latest[0]
    }

    /// The newest snapshot of the first run received so far.
    pub fn latest(&self) -> &Snapshot {
        &self.latest[0]
    }

    /// The newest snapshots of every run.
    pub fn latest_all(&self) -> &[Snapshot] {
        &self.latest
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // A worker that has already stopped has nobody to tell.
        if self.commands.send(Command::Quit).is_err() {
            return;
        }
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            // The thread's panic was reported as `Failed` already; nothing is left to free.
        }
    }
}

/// One turn of the worker's loop: apply the commands that came in (on its own thread, while
/// every run is idle, wait up to 200 ms for one); while any run has work, step the runs in
/// lock-step on the pool for up to `budget`; then send what changed. `slices`: `None` on the
/// worker's own thread, else (no thread) where the round of lock-step runs stands between slices
/// (see `lock_step`). `false` when the loop must end (Quit, the UI has gone, a panic inside a
/// step).
fn turn(
    runners: &mut [Runner],
    commands: &Receiver<Command>,
    out: &Sender<Message>,
    want_model: &AtomicBool,
    wake: &dyn Fn(),
    budget: Duration,
    slices: Option<&mut usize>,
) -> bool {
    let block = slices.is_none();
    let mut first = true;
    loop {
        let busy = runners.iter().any(Runner::busy);
        // While idle (and allowed to), block for the next command; otherwise only peek, taking
        // every command that is waiting.
        let next = if block && first && !busy {
            match commands.recv_timeout(Duration::from_millis(200)) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        } else {
            match commands.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => return false,
            }
        };
        first = false;
        match next {
            Some(Command::Quit) => return false,
            Some(command) => {
                for r in runners.iter_mut() {
                    r.handle(command.clone());
                }
            }
            None => break,
        }
    }
    if runners.iter().any(Runner::busy) {
        let slice = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool::install(|| lock_step(runners, budget, slices))
        }));
        if let Err(panic) = slice {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "an unknown error".into());
            // The UI keeps the last weights it received; if it is gone, nothing is lost.
            if out
                .send(Message::Failed(format!(
                    "training stopped after an internal error: {why}"
                )))
                .is_ok()
            {
                wake();
            }
            return false;
        }
    }
    let want = want_model.swap(false, Ordering::Relaxed);
    let mut sent = false;
    for (i, r) in runners.iter_mut().enumerate() {
        if r.has_news() || (want && r.model_is_news()) {
            if out.send(Message::Update(i, r.take_update(want))).is_err() {
                return false;
            }
            sent = true;
        }
    }
    if sent {
        wake();
    } else if want {
        // Nobody had news (the weights are the ones sent last); keep the request for the next
        // step.
        want_model.store(true, Ordering::Relaxed);
    }
    true
}

/// One step of each busy run in turn until `budget` has passed. Without a thread (`cursor`),
/// steps are taken in parts (`Runner::step_part`) and a slice stops before a part that would
/// likely pass the budget (after one at least); the next slice goes on with the same run until its step is done, then with the
/// next run. A slice then holds the page for one part of one run's step, not for a step of every
/// run: a lesson's four compare runs of 8 blocks held it for 1.3–2.3 s in the browser when a
/// slice was one step of each (measured on a loaded machine: residuals §2–5), 0.3–0.7 s when it
/// was one whole step of one run, and 20–95 ms in parts (measured 2026-12-02, idle machine; the
/// slowest are the run without skips or norm, whose vanishing gradients are subnormal floats).
fn lock_step(runners: &mut [Runner], budget: Duration, cursor: Option<&mut usize>) {
    let start = Instant::now();
    if let Some(cursor) = cursor {
        // A zero budget takes no step (a worker `drive_slices` passes over); any other takes
        // at least one part.
        let n = runners.len();
        let mut idle = 0;
        while idle < n && !budget.is_zero() {
            let i = *cursor % n;
            let part = Instant::now();
            match runners[i].step_part() {
                Progress::Idle => {
                    *cursor = (i + 1) % n;
                    idle += 1;
                    continue;
                }
                // The next slice goes on with this run's step.
                Progress::Part => {}
                Progress::Step => *cursor = (i + 1) % n,
            }
            idle = 0;
            // Stop before a part that would likely pass the budget (the next one is about as
            // long as this one): a slice is then at most one budget long when parts are.
            if start.elapsed() + part.elapsed() >= budget {
                return;
            }
        }
        return;
    }
    while start.elapsed() < budget {
        let mut any = false;
        for r in runners.iter_mut() {
            any |= r.step();
        }
        if !any {
            return;
        }
    }
}
