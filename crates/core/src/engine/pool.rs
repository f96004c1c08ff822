//! One pool of threads for the whole process, sized to the cores and shared by everything that
//! computes in parallel: the data-parallel training step of every trainer (the live run and up
//! to four compare runs) and the split forward pass of `inference`. However many runs
//! train at once, no more compute threads exist than cores; a worker thread that hands a step
//! to the pool waits (asleep) until the pool has run it.
//!
//! It is a rayon pool (work stealing: [`join`] offers its second half to an idle thread and runs
//! it itself when nobody took it, so a fork never waits on a sleeping thread). The hand-written
//! pool it replaced spun 0.1 ms before sleeping and forked in ≈ 0.1 µs. Measured with
//! `attention-lab bench --only small` (2 cores, 5 alternating rounds of 2 s, 2026-12-01), the
//! forward of one sequence — 9 forks in 0.13 ms, the case most sensitive to fork cost — took
//! 0.113–0.136 ms with rayon against 0.113–0.126 ms with the old pool (+1 % to +8 % per round),
//! inside the 10 % budget. A spinning partner thread rebuilt on a rayon thread (the old design,
//! with a lifetime-erasing `unsafe`) measured 0.130–0.134 ms in the same rounds: no gain, so the
//! pool stays rayon and safe.
//!
//! A thread of the pool that finds no work spins a little (about 32 `sched_yield`s), then
//! sleeps; the next fork has to wake it (a `futex` call, then the kernel's switch). [`awake`]
//! keeps the other threads spinning, and taking the pool's work, for as long as a caller's
//! closure runs, much as OpenMP runtimes (which PyTorch uses) let their threads spin-wait for a
//! while after a parallel region instead of sleeping at once. One sequence's forward pass on two
//! threads (`inference::forward`, about 20 forks) and a training step cut in shards
//! (`Trainer::step`, `attention-lab bench`) run under it. Measured 2026-12-03 (one process
//! alternating with and without it pass by pass, median of the neighbouring pairs' ratios old /
//! new, quartiles in brackets): the large forward pass 1.19× (2354 pairs, 1.14–1.24) and 1.19×
//! again, the medium 1.10× (6697 pairs), the small 1.02×; the large training step 1.01× (119
//! pairs, 0.99–1.03), the medium 1.03× and 1.04× (375 and 430 pairs, 1.02–1.05). Without it,
//! 35 context switches per large forward pass (4.4 ms) and 17 % of the two cores idle.
//!
//! The pool's threads run at a lower priority (nice 10 on Linux): on a 2-core laptop training
//! uses both cores, and the UI thread must still get one whenever it has a frame to draw.
//!
//! Without threads (wasm32, or a machine where no thread can start) everything runs on the
//! calling thread: [`join`] is `(a(), b())`, [`install`] is `f()`. Callers never need to know.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

/// The process's pool: `None` when threads are not available (the calling thread computes).
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        if cfg!(target_arch = "wasm32") {
            return None;
        }
        let cores = available_cores();
        if cores < 2 {
            return None;
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|i| format!("attention-lab compute {i}"))
            .start_handler(|_| {
                lower_priority();
                // The pool's threads run only model code: subnormals flushed (`subnormal`).
                super::subnormal::Flush::forever();
            })
            .build()
            // No thread could start: compute on the caller, which always works.
            .ok()
    })
    .as_ref()
}

/// Start every thread of the pool now and return once each has run: rayon starts its threads in
/// the background, and a thread that starts late allocates (its name, its queues) in the middle
/// of whatever runs then. `tests/allocations.rs` calls it before it counts a step's allocations.
pub fn start_all() {
    if let Some(p) = pool() {
        p.broadcast(|_| ());
    }
}

/// The number of cores (at least 1).
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// How many threads compute in parallel (1 without a pool).
pub fn threads() -> usize {
    pool().map_or(1, rayon::ThreadPool::current_num_threads)
}

/// Run `f` on the pool (the caller waits) and return its result. Inside `f`, [`join`] and
/// [`for_each_mut`] fork cheaply (the caller is then a pool thread).
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Run `a` and `b`, side by side when a thread is free; returns both results.
pub fn join<RA: Send, RB: Send>(
    a: impl FnOnce() -> RA + Send,
    b: impl FnOnce() -> RB + Send,
) -> (RA, RB) {
    match pool() {
        Some(p) => p.join(a, b),
        None => (a(), b()),
    }
}

/// An elementwise pass shorter than this many entries runs on one thread: cutting it would
/// cost a fork for a few microseconds of work.
pub const MIN_HALF: usize = 1 << 15;

/// Where an elementwise pass over `len` entries is cut in two for [`join`]: the middle, rounded
/// up to a multiple of 16 entries (64 bytes: the two threads share at most the one cache line
/// the cut falls in), or `len` (no cut) when the pass is short ([`MIN_HALF`]) or there is one
/// thread. The cut changes no result of an
/// elementwise pass, only who computes which entries.
pub fn half(len: usize) -> usize {
    if len < 2 * MIN_HALF || threads() < 2 {
        len
    } else {
        (len / 2).next_multiple_of(16).min(len)
    }
}

/// `f` on `muts` and `shared` (slices whose entries i belong together), or on their first
/// halves and their second halves side by side ([`half`]). For an elementwise pass (AdamW's
/// update, the shards' weighted sum) the result is the same either way, bit for bit. Called
/// from outside the pool, each cut forks through [`install`]: put a loop of such calls inside
/// one `install`.
pub fn halves<const M: usize, const S: usize>(
    muts: [&mut [f32]; M],
    shared: [&[f32]; S],
    f: impl Fn([&mut [f32]; M], [&[f32]; S]) + Sync,
) {
    let lens = muts
        .iter()
        .map(|s| s.len())
        .chain(shared.iter().map(|s| s.len()));
    let len = lens.min().unwrap_or(0); // no slices at all: nothing to cut
    let mid = half(len);
    if mid == len {
        return f(muts, shared);
    }
    let mut cut = muts.map(|s| s.split_at_mut(mid));
    let lo = std::array::from_fn(|i| std::mem::take(&mut cut[i].0));
    let hi = std::array::from_fn(|i| std::mem::take(&mut cut[i].1));
    let (shared_lo, shared_hi) = (shared.map(|s| &s[..mid]), shared.map(|s| &s[mid..]));
    let f = &f;
    join(|| f(lo, shared_lo), || f(hi, shared_hi));
}

/// Σ f(i) over i < n, added in the order of i, as `(0..n).map(f).sum()` adds them (the same
/// bits), with the terms computed on two threads ([`fill_in_parts`]) when there are at most 256.
pub fn sum_in_order(
    n: usize,
    weight: impl Fn(usize) -> usize,
    f: impl Fn(usize) -> f64 + Sync,
) -> f64 {
    let mut terms = [0.0_f64; 256];
    if n > terms.len() {
        return (0..n).map(f).sum();
    }
    fill_in_parts(&mut terms[..n], weight, f);
    terms[..n].iter().sum()
}

/// out\[i\] = f(i) for every i, on two threads: the first entries, up to half of the total
/// `weight`, on one and the rest on the other, when the total weight is worth a fork ([`half`]).
pub fn fill_in_parts(
    out: &mut [f64],
    weight: impl Fn(usize) -> usize,
    f: impl Fn(usize) -> f64 + Sync,
) {
    let n = out.len();
    let fill = |out: &mut [f64], first: usize| {
        for (i, t) in out.iter_mut().enumerate() {
            *t = f(first + i);
        }
    };
    let total: usize = (0..n).map(&weight).sum();
    if half(total) == total {
        return fill(out, 0);
    }
    let (mut cut, mut before) = (0, 0);
    while cut < n && 2 * before < total {
        before += weight(cut);
        cut += 1;
    }
    let (lo, hi) = out.split_at_mut(cut);
    let fill = &fill;
    join(|| fill(lo, 0), || fill(hi, cut));
}

/// `f(i, &mut items[i])` for every item, the items spread over the pool's threads.
pub fn for_each_mut<T: Send>(items: &mut [T], f: impl Fn(usize, &mut T) + Sync + Send) {
    match pool() {
        Some(p) if items.len() > 1 => p.install(|| {
            items
                .par_iter_mut()
                .with_max_len(1)
                .enumerate()
                .for_each(|(i, x)| f(i, x));
        }),
        _ => {
            for (i, x) in items.iter_mut().enumerate() {
                f(i, x);
            }
        }
    }
}

/// Lower the calling thread's priority (nice 10), so that the UI thread wins a core whenever it
/// wants one.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority on the calling thread's own id have no memory effects.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        // Its status is not needed: a failure leaves the thread at normal priority, which is
        // only less polite to the UI.
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// Is some [`awake`] keeping the pool's threads awake now?
static AWAKE: AtomicBool = AtomicBool::new(false);

/// `f` on the pool (as [`install`]) with the pool's other threads kept awake until it returns:
/// each runs a task that takes whatever work the pool has (the halves that `f` forks) and spins
/// between (see the top of this file). Only one call at a time does this; another, or one
/// inside it, runs `f` as [`install`] does. For work that forks often; a caller that would
/// leave the other cores idle anyway (one shard) should not call it, since the spinning
/// threads take those cores.
pub fn awake<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let Some(p) = pool() else { return f() };
    let n = p.current_num_threads();
    if n < 2 || AWAKE.swap(true, Ordering::AcqRel) {
        return p.install(f);
    }
    let _clear = Reset(&AWAKE, false);
    let done = AtomicBool::new(false);
    p.install(|| with_spinners(n - 1, &done, f))
}

/// [`awake`] when `keep` (a step cut in shards), else `f()` on the calling thread (a step of one
/// shard, which leaves the other cores to the rest of the app).
pub fn awake_if<R: Send>(keep: bool, f: impl FnOnce() -> R + Send) -> R {
    if keep { awake(f) } else { f() }
}

/// `f` here, and `spinners` tasks offered to the pool's other threads that spin until `done`.
/// Forks with `join` (no allocation: the tasks live on this stack).
fn with_spinners<R: Send>(spinners: usize, done: &AtomicBool, f: impl FnOnce() -> R + Send) -> R {
    if spinners == 0 {
        // `done` is set however `f` ends, a panic included, so that the spinners stop.
        let _done = Reset(done, true);
        return f();
    }
    let spin = || {
        while !done.load(Ordering::Acquire) {
            if rayon::yield_now() != Some(rayon::Yield::Executed) {
                std::hint::spin_loop();
            }
        }
    };
    rayon::join(|| with_spinners(spinners - 1, done, f), spin).0
}

/// Stores its value into its flag when dropped (also while a panic unwinds).
struct Reset<'a>(&'a AtomicBool, bool);

impl Drop for Reset<'_> {
    fn drop(&mut self) {
        self.0.store(self.1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_item_runs_once_and_joins_return_both_results() {
        let mut items: Vec<usize> = (0..7).collect();
        let calls = AtomicUsize::new(0);
        for_each_mut(&mut items, |i, x| {
            assert_eq!(i, *x);
            *x += 100;
            calls.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(calls.load(Ordering::SeqCst), 7);
        assert!(items.iter().enumerate().all(|(i, &x)| x == i + 100));
        let (a, b) = join(|| 2 + 2, || "four");
        assert_eq!((a, b), (4, "four"));
        assert_eq!(install(|| join(|| 1, || 2)), (1, 2));
        assert!(threads() >= 1 && threads() <= available_cores().max(1));
    }

    #[test]
    fn a_panic_in_a_part_reaches_the_caller_and_the_pool_survives() {
        let r = std::panic::catch_unwind(|| {
            join(|| 1, || -> i32 { panic!("part 2 fails") });
        });
        assert!(r.is_err());
        let mut items = [0_u8; 4];
        for_each_mut(&mut items, |_, x| *x = 1);
        assert_eq!(items, [1; 4]);
    }

    /// An elementwise pass through `halves` (cut on two threads when the machine has two)
    /// gives the bits of one pass; `sum_in_order` the bits of a sum in order, with terms of
    /// very different sizes (so that the order matters).
    #[test]
    fn halves_and_sums_in_order_give_the_one_thread_bits() {
        let n = 3 * MIN_HALF + 5;
        let x: Vec<f32> = (0..n)
            .map(|i| ((i * 37) % 101) as f32 * 0.013 - 0.6)
            .collect();
        let (mut a, mut b) = (vec![0.25_f32; n], vec![0.5_f32; n]);
        let step = |[y, z]: [&mut [f32]; 2], [x]: [&[f32]; 1]| {
            for ((y, z), x) in y.iter_mut().zip(z.iter_mut()).zip(x) {
                *y = *y * 0.9 + x * x;
                *z -= *y / (x.abs() + 1e-3);
            }
        };
        let (mut a1, mut b1) = (a.clone(), b.clone());
        step([&mut a1, &mut b1], [&x]);
        install(|| halves([&mut a, &mut b], [&x], step));
        assert_eq!(a, a1);
        assert_eq!(b, b1);
        let term = |i: usize| (i as f64 * 0.37).sin() * 10f64.powi((i % 13) as i32 - 6);
        let weight = |i: usize| 1000 * (i % 7 + 1);
        let serial: f64 = (0..200).map(term).sum();
        assert_eq!(sum_in_order(200, weight, term).to_bits(), serial.to_bits());
        assert_eq!(
            sum_in_order(300, weight, term).to_bits(),
            (0..300).map(term).sum::<f64>().to_bits()
        );
    }

    #[test]
    fn awake_returns_the_result_nests_and_stops_its_spinners_after_a_panic() {
        // The forks inside run, and the result comes back.
        let mut items: Vec<usize> = (0..64).collect();
        let sum = awake(|| {
            for_each_mut(&mut items, |i, x| *x += i);
            let (a, b) = join(|| awake(|| 20), || install(|| 22));
            a + b
        });
        assert_eq!(sum, 42);
        assert!(items.iter().enumerate().all(|(i, &x)| x == 2 * i));
        // A panic inside reaches the caller, and the next call neither hangs nor nests.
        let r = std::panic::catch_unwind(|| awake(|| -> usize { panic!("the step fails") }));
        assert!(r.is_err());
        assert_eq!(awake(|| join(|| 1, || 2)), (1, 2));
        // Two callers at once: one keeps the threads awake, the other runs plainly; both finish.
        let both = std::thread::scope(|s| {
            let h = s.spawn(|| awake(|| (0..1000_u64).map(|i| join(|| i, || 1).0).sum::<u64>()));
            let here = awake(|| (0..1000_u64).map(|i| join(|| i, || 1).1).sum::<u64>());
            (h.join().map_err(|_| "the other caller panicked"), here)
        });
        assert_eq!(both, (Ok(499_500), 1000));
    }
}
