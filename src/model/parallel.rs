//! Data parallelism for a training step: the batch is cut into shards (one per core), each shard
//! runs `gpt_forward` + `gpt_backward` on its own thread into its own gradients, and the
//! gradients are averaged with weights n_i / n — the same gradient as one pass over the whole
//! batch (the loss is a mean over rows), up to the order of floating-point sums.
//!
//! The threads live as long as the [`Shards`] that started them: starting threads every step
//! would cost their start-up and fresh packing buffers for every matrix product (`gemm.rs` keeps
//! them per thread).
//!
//! One sequence (batch 1) cannot be cut that way: there a [`Team`] cuts each layer's work instead
//! (products by output columns, attention by heads, norms by rows), with a fork and join per
//! piece. Those pieces take microseconds, so the threads spin briefly before they sleep.
//!
//! BatchNorm couples the rows of a batch (its statistics are over all of them), so a BatchNorm
//! model is never sharded. Deterministic: the split and the order of the sums are fixed.

use std::cell::UnsafeCell;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::config::NormKind;
use super::gpt::{Activations, Gpt, Params, gpt_backward, gpt_forward};
use super::simd::multiversion;

/// Below this many multiply-adds per step, one thread is faster than two.
const MIN_WORK_TO_SPLIT: usize = 4_000_000;

/// Per-shard buffers and helper threads, kept between steps.
#[derive(Debug, Default)]
pub struct Shards {
    states: Vec<Mutex<ShardState>>,
    helpers: Vec<Helper>,
}

/// One shard's activations, gradients and loss. Each shard's state is locked by the one thread
/// that computes it, so the locks are never contended.
#[derive(Debug)]
struct ShardState {
    acts: Activations,
    grads: Params,
    loss: f32,
}

/// How many shards to use for this model and batch on `cores` cores.
pub fn shard_count(model: &Gpt, b: usize, t: usize, cores: usize) -> usize {
    let c = model.config.n_embd;
    let work = b * t * c * c * 12 * model.config.n_layer;
    if model.config.norm == NormKind::BatchNorm || b < 2 || work < MIN_WORK_TO_SPLIT {
        1
    } else {
        cores.clamp(1, b)
    }
}

/// Below this many multiply-adds, one sequence's forward pass is faster on one thread.
const MIN_WORK_TO_SPLIT_FORWARD: usize = 1_000_000;

/// How many threads a [`Team`] should have for one forward pass over `t` tokens.
pub fn forward_parts(model: &Gpt, t: usize, cores: usize) -> usize {
    let c = model.config.n_embd;
    let work = t * c * c * 12 * model.config.n_layer;
    if work < MIN_WORK_TO_SPLIT_FORWARD {
        1
    } else {
        cores.clamp(1, Team::MAX_PARTS)
    }
}

/// The number of cores to use (at least 1).
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Lock, also after a panic elsewhere (the data is only ever overwritten whole).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Forward and backward over `b` sequences of `t` tokens in `k` shards; `grads` receives the
/// batch's gradient (overwritten); returns the batch's mean loss. `acts` is used when k = 1.
#[allow(clippy::too_many_arguments)]
pub fn forward_backward(
    model: &Gpt,
    shards: &mut Shards,
    acts: &mut Activations,
    tokens: &[usize],
    targets: &[usize],
    b: usize,
    t: usize,
    k: usize,
    train: bool,
    grads: &mut Params,
) -> f32 {
    if k <= 1 {
        grads.zero();
        let loss = gpt_forward(model, acts, tokens, Some(targets), b, t, train).unwrap_or(f32::NAN);
        if loss.is_finite() {
            gpt_backward(model, acts, targets, grads);
        }
        return loss;
    }
    let fresh = |model: &Gpt| {
        Mutex::new(ShardState {
            acts: Activations::default(),
            grads: Params::zeros(&model.config),
            loss: f32::NAN,
        })
    };
    if shards
        .states
        .first()
        .is_some_and(|s| lock(s).grads.count() != grads.count())
    {
        shards.states.clear();
    }
    while shards.states.len() < k {
        shards.states.push(fresh(model));
    }
    // Sequences per shard: as even as possible.
    let bounds = |i: usize| (i * b / k, (i + 1) * b / k);
    let states = &shards.states;
    let job = |i: usize| {
        let (lo, hi) = bounds(i);
        let mut guard = lock(&states[i]);
        let st = &mut *guard;
        let (tok, tgt) = (&tokens[lo * t..hi * t], &targets[lo * t..hi * t]);
        st.loss =
            gpt_forward(model, &mut st.acts, tok, Some(tgt), hi - lo, t, train).unwrap_or(f32::NAN);
        st.grads.zero();
        if st.loss.is_finite() {
            gpt_backward(model, &mut st.acts, tgt, &mut st.grads);
        }
    };
    run_all(&mut shards.helpers, k, &job);
    let mut loss = 0.0;
    for (i, state) in shards.states.iter().take(k).enumerate() {
        let st = lock(state);
        let (lo, hi) = bounds(i);
        let w = (hi - lo) as f32 / b as f32;
        loss += w * st.loss;
        // The first shard overwrites (so `grads` needs no zeroing), the others add.
        for ((dst, _), (src, _)) in grads.iter_mut().zip(st.grads.iter()) {
            weighted_add(dst, src, w, i == 0);
        }
    }
    loss
}

multiversion! {
    /// dst = w·src (first) or dst += w·src.
    fn weighted_add(dst: &mut [f32], src: &[f32], w: f32, first: bool) {
        if first {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = w * s;
            }
        } else {
            for (d, s) in dst.iter_mut().zip(src) {
                *d += w * s;
            }
        }
    }
}

/// A job borrowed from the submitting thread: run shard `index` of `f`.
struct Job {
    f: *const (dyn Fn(usize) + Sync + 'static),
    index: usize,
}

// SAFETY: the closure is `Sync`, so calling it from the helper thread is fine; the submitting
// thread keeps it alive until the helper reports it done (see `run_all`).
unsafe impl Send for Job {}

/// Keeps what one thread writes off the cache line that the other thread spins on.
#[repr(align(128))]
#[derive(Default)]
struct Padded<T>(T);

/// One helper's mailbox. The submitter writes `job`, then bumps `posted`; the helper, seeing
/// `posted` change, takes the job, runs it, sets `panicked` and then `finished` = `posted`.
/// Each side spins on the other's counter for [`SPIN`] and then sleeps on the condvar, after
/// saying so in its `*_sleeping` flag; whoever changes a counter checks the flag (all SeqCst,
/// so that one of the two always sees the other) and wakes the sleeper under the mutex.
/// A fork and join then costs two cache-line transfers when both sides are awake: a forward
/// pass of one sequence forks a dozen times in 0.1 ms, and waking a sleeping thread of a
/// virtual machine costs tens of microseconds.
#[derive(Default)]
struct Shared {
    /// Written by the submitter.
    posted: Padded<(AtomicU64, UnsafeCell<Option<Job>>)>,
    /// Written by the helper.
    finished: Padded<(AtomicU64, AtomicBool)>,
    quit: AtomicBool,
    helper_sleeping: AtomicBool,
    submitter_sleeping: AtomicBool,
    sleep: Mutex<()>,
    wake: Condvar,
}

// SAFETY: the job cell is written only by the submitter while the helper is not reading it
// (before `posted` is bumped, and only after the previous job's `finished`), and read only by
// the helper between seeing `posted` bumped and setting `finished`; the counters order the two
// (Release/Acquire or SeqCst). Everything else is atomic or locked.
unsafe impl Sync for Shared {}

/// How long a thread spins for the other side before it sleeps.
const SPIN: Duration = Duration::from_micros(100);

/// Spin until `ready()` or [`SPIN`] has passed; true if ready.
fn spin_until(ready: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            if ready() {
                return true;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() > SPIN {
            return ready();
        }
    }
}

/// Sleep on `shared.wake` until `ready()`, having said so in `flag`.
fn sleep_until(shared: &Shared, flag: &AtomicBool, ready: impl Fn() -> bool) {
    flag.store(true, Ordering::SeqCst);
    let mut guard = lock(&shared.sleep);
    while !ready() {
        guard = shared.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
    }
    drop(guard);
    flag.store(false, Ordering::SeqCst);
}

/// Wake whoever sleeps on `shared.wake` if `flag` says someone does.
fn wake_if(shared: &Shared, flag: &AtomicBool) {
    if flag.load(Ordering::SeqCst) {
        let _guard = lock(&shared.sleep);
        shared.wake.notify_all();
    }
}

/// A long-lived thread that runs one borrowed job at a time.
struct Helper {
    shared: Arc<Shared>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Helper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Helper")
    }
}

impl Helper {
    fn spawn() -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let inner = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("attention-lab shard".into())
            .spawn(move || helper_loop(&inner))?;
        Ok(Self {
            shared,
            handle: Some(handle),
        })
    }

    /// Hand shard `index` of `f` to the helper, which must be idle (its last job waited for).
    /// [`Helper::wait`] must return before `f` goes out of scope; [`run_all`] makes sure of it,
    /// also when it unwinds.
    fn start(&self, f: &(dyn Fn(usize) + Sync + '_), index: usize) {
        let f: *const (dyn Fn(usize) + Sync + '_) = f;
        // SAFETY: only the lifetime is erased; see above.
        let f: *const (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(f) };
        let (posted, cell) = &self.shared.posted.0;
        // SAFETY: the helper is idle (see `Shared`), so nobody reads the cell now.
        unsafe { *cell.get() = Some(Job { f, index }) };
        posted.fetch_add(1, Ordering::SeqCst);
        wake_if(&self.shared, &self.shared.helper_sleeping);
    }

    /// Block until the job handed over by `start` has finished; false if it panicked.
    fn wait(&self) -> bool {
        let shared = &*self.shared;
        let posted = shared.posted.0.0.load(Ordering::Relaxed);
        let (finished, panicked) = &shared.finished.0;
        let done = || finished.load(Ordering::SeqCst) == posted;
        if !spin_until(done) {
            sleep_until(shared, &shared.submitter_sleeping, done);
        }
        !panicked.load(Ordering::Acquire)
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.shared.quit.store(true, Ordering::SeqCst);
        self.shared.posted.0.0.fetch_add(1, Ordering::SeqCst);
        {
            let _guard = lock(&self.shared.sleep);
            self.shared.wake.notify_all();
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn helper_loop(shared: &Shared) {
    let (posted, cell) = &shared.posted.0;
    let (finished, panicked) = &shared.finished.0;
    let mut seen = 0;
    loop {
        let new = || posted.load(Ordering::SeqCst) != seen;
        if !spin_until(new) {
            sleep_until(shared, &shared.helper_sleeping, new);
        }
        if shared.quit.load(Ordering::SeqCst) {
            return;
        }
        seen = posted.load(Ordering::SeqCst);
        // SAFETY: `posted` moved on, so the submitter wrote the job and waits for `finished`.
        let Some(job) = (unsafe { (*cell.get()).take() }) else {
            continue;
        };
        // SAFETY: the submitting thread does not return from `run_all` before `finished` is
        // set below, so the closure is alive.
        let run = || unsafe { (*job.f)(job.index) };
        let ok = std::panic::catch_unwind(AssertUnwindSafe(run)).is_ok();
        panicked.store(!ok, Ordering::Release);
        finished.store(seen, Ordering::SeqCst);
        wake_if(shared, &shared.submitter_sleeping);
    }
}

/// Waits for the started helpers when dropped, so that no helper can outlive the borrowed
/// job, even while the submitting thread unwinds.
struct WaitAll<'a> {
    helpers: &'a [Helper],
    ok: bool,
}

impl Drop for WaitAll<'_> {
    fn drop(&mut self) {
        for h in self.helpers {
            self.ok &= h.wait();
        }
    }
}

/// Run `job(0)` on this thread and `job(1)` … `job(k − 1)` on helper threads (started on first
/// use; a shard whose thread cannot start runs here). Panics if a shard panicked.
fn run_all(helpers: &mut Vec<Helper>, k: usize, job: &(dyn Fn(usize) + Sync + '_)) {
    while helpers.len() + 1 < k {
        match Helper::spawn() {
            Ok(h) => helpers.push(h),
            Err(_) => break,
        }
    }
    let threaded = helpers.len().min(k.saturating_sub(1));
    let mut guard = WaitAll {
        helpers: &helpers[..threaded],
        ok: true,
    };
    for (i, h) in guard.helpers.iter().enumerate() {
        h.start(job, i + 1);
    }
    job(0);
    for i in threaded + 1..k {
        job(i);
    }
    let helpers = std::mem::take(&mut guard.helpers);
    for h in helpers {
        guard.ok &= h.wait();
    }
    assert!(guard.ok, "a training shard panicked");
}

/// The threads that share the work of one forward pass: each layer's products are cut by
/// output columns (attention by heads) into [`Team::parts`] parts, run side by side. A team of
/// one runs everything on the calling thread. Used for the latency of one sequence (batch 1),
/// where the batch cannot be split as in [`forward_backward`].
#[derive(Debug, Default)]
pub struct Team {
    helpers: Vec<Helper>,
    parts: usize,
}

impl Team {
    /// At most this many parts (the forward cuts each product in two).
    pub const MAX_PARTS: usize = 2;

    /// A team of one: everything on the calling thread.
    pub fn serial() -> Self {
        Self {
            helpers: Vec::new(),
            parts: 1,
        }
    }

    /// A team of min(cores, [`Team::MAX_PARTS`]) threads (the calling one and helpers).
    pub fn new(cores: usize) -> Self {
        Self {
            helpers: Vec::new(),
            parts: cores.clamp(1, Self::MAX_PARTS),
        }
    }

    /// How many parts each piece of work is cut into (1 or 2).
    pub fn parts(&self) -> usize {
        self.parts.clamp(1, Self::MAX_PARTS)
    }

    /// Run `job(0)` … `job(parts − 1)`, side by side; returns when all are done.
    pub fn run(&mut self, job: &(dyn Fn(usize) + Sync + '_)) {
        match self.parts() {
            1 => job(0),
            k => run_all(&mut self.helpers, k, job),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_shard_runs_once_per_call_on_kept_threads() {
        let mut helpers = Vec::new();
        for round in 1..=3 {
            let counts: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
            run_all(&mut helpers, 4, &|i| {
                counts[i].fetch_add(round, Ordering::SeqCst);
            });
            assert!(counts.iter().all(|c| c.load(Ordering::SeqCst) == round));
            assert_eq!(helpers.len(), 3, "threads are kept, not restarted");
        }
    }

    #[test]
    fn shards_give_the_whole_batch_gradient_and_repeat_bit_for_bit() {
        use crate::model::GptConfig;
        use rand::SeedableRng;
        use rand::rngs::StdRng;
        let cfg = GptConfig {
            vocab_size: 11,
            n_layer: 2,
            n_head: 2,
            n_embd: 16,
            block_size: 6,
            ..GptConfig::default()
        };
        let model = Gpt::new(cfg.clone(), &mut StdRng::seed_from_u64(3));
        let (b, t) = (5, 6);
        let tokens: Vec<usize> = (0..b * t).map(|i| (i * 7) % 11).collect();
        let targets: Vec<usize> = (0..b * t).map(|i| (i * 5 + 1) % 11).collect();
        let run = |k: usize, shards: &mut Shards| {
            let mut grads = Params::zeros(&cfg);
            let mut acts = Activations::default();
            let loss = forward_backward(
                &model, shards, &mut acts, &tokens, &targets, b, t, k, true, &mut grads,
            );
            (loss, grads)
        };
        let mut shards = Shards::default();
        let (loss1, g1) = run(1, &mut shards);
        for k in [2, 3, 5] {
            let (loss_k, gk) = run(k, &mut shards);
            assert!(
                (loss_k - loss1).abs() < 1e-6,
                "k = {k}: loss {loss_k} vs {loss1}"
            );
            for ((a, _), (bb, _)) in g1.iter().zip(gk.iter()) {
                let scale = a.iter().fold(1e-3_f32, |m, v| m.max(v.abs()));
                for (x, y) in a.iter().zip(bb) {
                    assert!((x - y).abs() <= 1e-5 * scale, "k = {k}: {x} vs {y}");
                }
            }
            let (again, g_again) = run(k, &mut shards);
            assert_eq!(again.to_bits(), loss_k.to_bits());
            assert_eq!(g_again, gk, "k = {k} repeats bit for bit");
        }
    }

    #[test]
    fn a_team_and_packed_weights_give_the_serial_forward_bit_for_bit() {
        use crate::model::GptConfig;
        use crate::model::gpt::{Prepared, gpt_forward_prepared, gpt_forward_team};
        use rand::SeedableRng;
        use rand::rngs::StdRng;
        // Head sizes and widths that do and do not fall on the 16-column panels (24 / 3 heads:
        // the packed weights' k and v columns start off a panel and are read unpacked), odd
        // head counts (the heads cut 2 + 1), one token, and every norm.
        let cases = [
            (NormKind::LayerNorm, true, 64, 4, 9),
            (NormKind::RmsNorm, false, 24, 3, 7),
            (NormKind::BatchNorm, true, 32, 2, 5),
            (NormKind::None, true, 48, 3, 1),
        ];
        let mut team = Team::new(2);
        assert_eq!(team.parts(), 2);
        for (norm, causal, n_embd, n_head, t) in cases {
            let cfg = GptConfig {
                vocab_size: 37,
                n_layer: 2,
                n_head,
                n_embd,
                block_size: t,
                causal,
                norm,
                ..GptConfig::default()
            };
            let model = Gpt::new(cfg, &mut StdRng::seed_from_u64(5));
            let b = 3;
            let tokens: Vec<usize> = (0..b * t).map(|i| (i * 7 + 2) % 37).collect();
            let targets: Vec<usize> = (0..b * t).map(|i| (i * 5 + 1) % 37).collect();
            for train in [false, true] {
                let mut serial = Activations::default();
                let want = gpt_forward(&model, &mut serial, &tokens, Some(&targets), b, t, train);
                let mut split = Activations::default();
                let got = gpt_forward_team(
                    &mut team,
                    &model,
                    &mut split,
                    &tokens,
                    Some(&targets),
                    b,
                    t,
                    train,
                );
                let case = format!("{norm:?} causal {causal} C {n_embd} H {n_head} train {train}");
                assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits), "{case}");
                assert_eq!(split.logits, serial.logits, "{case}");
                assert_eq!(split.resid, serial.resid, "{case}");
                for (x, y) in split.blocks.iter().zip(&serial.blocks) {
                    assert_eq!(x.attn.att, y.attn.att, "{case}");
                    assert_eq!(x.attn.preatt, y.attn.preatt, "{case}");
                    assert_eq!(x.ln1_cache.rstd, y.ln1_cache.rstd, "{case}");
                    assert_eq!(x.ln2_cache.mean, y.ln2_cache.mean, "{case}");
                }
            }
            let mut serial = Activations::default();
            gpt_forward(&model, &mut serial, &tokens, None, b, t, false);
            let prepared = Prepared::new(&model);
            for team in [&mut Team::serial(), &mut team] {
                let mut packed = Activations::default();
                gpt_forward_prepared(team, &prepared, &mut packed, &tokens, b, t);
                assert_eq!(packed.logits, serial.logits, "prepared, {norm:?}");
                for (x, y) in packed.blocks.iter().zip(&serial.blocks) {
                    assert_eq!(x.attn.att, y.attn.att);
                }
            }
        }
    }

    #[test]
    fn forks_hand_over_while_spinning_and_after_sleeping_on_either_side() {
        let mut helpers = Vec::new();
        let total = AtomicUsize::new(0);
        for round in 0..400 {
            // Every 50th round, the helpers' jobs outlast the spin (the submitter sleeps) or the
            // gap before the round does (the helpers sleep); the rest hand over while spinning.
            let slow_job = round % 50 == 7;
            if round % 50 == 21 {
                std::thread::sleep(SPIN * 3);
            }
            run_all(&mut helpers, 3, &|i| {
                if slow_job && i > 0 {
                    std::thread::sleep(SPIN * 3);
                }
                total.fetch_add(i + 1, Ordering::SeqCst);
            });
            assert_eq!(
                total.load(Ordering::SeqCst),
                (round + 1) * 6,
                "round {round}"
            );
        }
        let mut team = Team::new(2);
        let hits = AtomicUsize::new(0);
        for _ in 0..1000 {
            team.run(&|_| {
                hits.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert_eq!(hits.load(Ordering::SeqCst), 2000);
        assert_eq!(Team::serial().parts(), 1);
    }

    #[test]
    fn a_panicking_shard_is_reported_and_the_helpers_survive() {
        let mut helpers = Vec::new();
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
            run_all(&mut helpers, 2, &|i| assert!(i != 1, "shard 1 fails"));
        }));
        assert!(r.is_err());
        let ran = AtomicUsize::new(0);
        run_all(&mut helpers, 2, &|_| {
            ran.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(ran.load(Ordering::SeqCst), 2);
    }
}
