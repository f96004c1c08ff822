//! The numbers behind a figure, computed only when their inputs change: [`Cached`] on the UI
//! thread (cheap work), [`Background`] on a short-lived thread for work too slow for one frame
//! (sampling thousands of random vectors at d = 1024, say) — the lesson keeps drawing the last
//! result, marked as being recomputed, until the new one arrives, so dragging a slider never
//! freezes the window. Not a lesson; the lessons use them.

use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use web_time::Instant;

/// A value together with the inputs (the key) it was computed from.
pub struct Cached<K, V>(Option<(K, V)>);

impl<K, V> Default for Cached<K, V> {
    fn default() -> Self {
        Self(None)
    }
}

impl<K: PartialEq, V> Cached<K, V> {
    /// The value for `key`, computing it only when the key changed since the last call.
    pub fn get(&mut self, key: K, compute: impl FnOnce(&K) -> V) -> &V {
        if self.0.as_ref().is_none_or(|(k, _)| *k != key) {
            let v = compute(&key);
            self.0 = Some((key, v));
        }
        match &self.0 {
            Some((_, v)) => v,
            None => unreachable!("filled just above"),
        }
    }
}

/// A computation taken a piece at a time: each call does a bounded piece of the work and
/// returns the value after the last piece.
pub type Steps<V> = Box<dyn FnMut() -> Option<V> + Send>;

/// A job of independent parts, a part per piece: `parts` is a lazy iterator (its `map` does the
/// work of one part, a few milliseconds at most), and `finish` makes the value of all of them.
pub fn steps_over<T, V, I>(parts: I, finish: impl FnOnce(Vec<T>) -> V + Send + 'static) -> Steps<V>
where
    T: Send + 'static,
    I: Iterator<Item = T> + Send + 'static,
{
    let (mut parts, mut done, mut finish) = (parts.fuse(), Vec::new(), Some(finish));
    Box::new(move || match parts.next() {
        Some(part) => {
            done.push(part);
            None
        }
        None => finish.take().map(|f| f(std::mem::take(&mut done))),
    })
}

/// How long a frame without threads (a browser) spends on a job's pieces before it draws: the
/// training slices' budget.
const FRAME_BUDGET: Duration = crate::train::worker::SLICE;

#[cfg(test)]
thread_local! {
    /// Tests of this thread take the browser's path: no thread starts.
    static NO_THREADS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn no_threads() -> bool {
    #[cfg(test)]
    return NO_THREADS.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}

/// A job taken in pieces on the UI thread (no thread could start): held by its [`Background`]
/// and, weakly, by [`PIECES`], so that the page can also take pieces between frames
/// ([`drive_pieces`]).
struct Piecewise<V> {
    job: Steps<V>,
    value: Option<V>,
    /// Asked to repaint when the value is ready.
    ctx: egui::Context,
    /// When its section last asked for the value (drew itself).
    asked: Instant,
}

/// A job whose section has not asked for it for this long is not on screen: the page's task
/// leaves it (and the main thread to the live training) until the section is shown again.
const UNSEEN: Duration = Duration::from_secs(1);

/// One piece of a [`Piecewise`] job; true once its value is ready.
trait Piece: Send {
    fn piece(&mut self) -> bool;
    /// Is its section on screen (it asked within [`UNSEEN`])?
    fn seen(&self) -> bool;
}

impl<V: Send> Piece for Piecewise<V> {
    fn seen(&self) -> bool {
        self.asked.elapsed() < UNSEEN
    }

    fn piece(&mut self) -> bool {
        if self.value.is_none()
            && let Some(v) = (self.job)()
        {
            self.value = Some(v);
            self.ctx.request_repaint();
        }
        self.value.is_some()
    }
}

/// Every job being taken in pieces; a job whose `Background` dropped it (a newer key, the section
/// gone) is gone from here too.
static PIECES: Mutex<Vec<Weak<Mutex<dyn Piece>>>> = Mutex::new(Vec::new());

fn lock<T: ?Sized>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Pieces of `job` until it is done (true) or `budget` is spent (at least one piece).
fn pieces_for(job: &Mutex<dyn Piece>, budget: Duration) -> bool {
    let begun = Instant::now();
    loop {
        if lock(job).piece() {
            return true;
        }
        if begun.elapsed() >= budget {
            return false;
        }
    }
}

/// Take pieces of the jobs waiting without a thread whose sections are on screen, for at most
/// `budget` (the browser's between-frames task calls it beside the training slices). True while
/// any of them is unfinished.
pub fn drive_pieces(budget: Duration) -> bool {
    let jobs: Vec<Arc<Mutex<dyn Piece>>> = {
        let mut all = lock(&PIECES);
        all.retain(|w| w.strong_count() > 0);
        all.iter().filter_map(Weak::upgrade).collect()
    };
    let begun = Instant::now();
    let mut unfinished = false;
    for job in jobs {
        if !lock(&job).seen() {
            continue;
        }
        let left = budget.saturating_sub(begun.elapsed());
        unfinished |= left.is_zero() || !pieces_for(&job, left);
    }
    unfinished
}

/// The latest result for a key, computed in the background.
///
/// With threads the job runs on its own short-lived thread. Without (a browser), a job given
/// to [`Background::get`] runs whole inside the frame, so it must be cheap (measured in
/// headless Chromium, 2026-12-02: every such job of the lessons takes 1–25 ms there at its
/// default settings, and 67 ms at the largest values of its sliders: decoding §3); one given
/// to [`Background::get_in_steps`] (norms §3, 49 ms whole at B = 256; or made of parts,
/// [`steps_over`]: experts §1, 149 ms whole at k = 64; softmax §2's entropy curve, 74 ms whole
/// at T = 256) runs a piece at a time — for at most `FRAME_BUDGET` in each frame and in the
/// page's task between frames ([`drive_pieces`]) while its section is on screen — and the lesson
/// shows the previous result (or its spinner) until the last piece is done.
pub struct Background<K, V> {
    current: Option<(K, V)>,
    pending: Option<(K, Receiver<V>)>,
    /// A job being taken in pieces on this thread (no thread could start).
    stepping: Option<(K, Arc<Mutex<Piecewise<V>>>)>,
}

impl<K, V> Default for Background<K, V> {
    fn default() -> Self {
        Self {
            current: None,
            pending: None,
            stepping: None,
        }
    }
}

impl<K: PartialEq + Clone + Send + 'static, V: Send + 'static> Background<K, V> {
    /// The value for `key` if it is ready, else the last value (stale) while `compute(key)` runs
    /// on a thread; the second field says whether the value is for `key`. `ctx` is asked to
    /// repaint when the thread is done.
    pub fn get(
        &mut self,
        key: &K,
        ctx: &egui::Context,
        compute: impl FnOnce(K) -> V + Send + 'static,
    ) -> (Option<&V>, bool) {
        self.get_in_steps(key, ctx, move |k| {
            let mut once = Some((compute, k));
            Box::new(move || once.take().map(|(f, k)| f(k)))
        })
    }

    /// [`Background::get`] for a job too long for one frame without threads: `start(key)` makes
    /// the job, and each call of the job does a piece of it (a millisecond or two of work),
    /// returning the value after the last piece. With a thread, the thread calls it until done.
    pub fn get_in_steps(
        &mut self,
        key: &K,
        ctx: &egui::Context,
        start: impl FnOnce(K) -> Steps<V> + Send + 'static,
    ) -> (Option<&V>, bool) {
        if let Some((k, rx)) = &self.pending {
            match rx.try_recv() {
                Ok(v) => {
                    self.current = Some((k.clone(), v));
                    self.pending = None;
                }
                Err(TryRecvError::Disconnected) => self.pending = None,
                Err(TryRecvError::Empty) => {}
            }
        }
        if self.stepping.as_ref().is_some_and(|(k, _)| k != key) {
            // A newer key: the job for the old one is not wanted any more.
            self.stepping = None;
        }
        let fresh = self.current.as_ref().is_some_and(|(k, _)| k == key);
        let running =
            self.pending.as_ref().is_some_and(|(k, _)| k == key) || self.stepping.is_some();
        if !fresh && !running {
            let (tx, rx) = channel();
            let (k, repaint) = (key.clone(), ctx.clone());
            // The job is handed over through a slot, so that if no thread can start (a browser)
            // it is still here to run on this thread.
            let slot = Arc::new(Mutex::new(Some(start)));
            let theirs = Arc::clone(&slot);
            let spawned = if no_threads() {
                Err(std::io::Error::other(
                    "no threads (a test of the browser's path)",
                ))
            } else {
                std::thread::Builder::new()
                    .name("lesson-sampling".into())
                    .spawn(move || {
                        let start = theirs.lock().map(|mut s| s.take()).ok().flatten();
                        let Some(start) = start else { return };
                        let mut job = start(k);
                        let value = loop {
                            if let Some(v) = job() {
                                break v;
                            }
                        };
                        if tx.send(value).is_err() {
                            // A newer key replaced the receiver: this result is not wanted any more.
                            return;
                        }
                        repaint.request_repaint();
                    })
            };
            if spawned.is_ok() {
                self.pending = Some((key.clone(), rx));
            } else if let Some(start) = slot.lock().ok().and_then(|mut s| s.take()) {
                let job = Arc::new(Mutex::new(Piecewise {
                    job: start(key.clone()),
                    value: None,
                    ctx: ctx.clone(),
                    asked: Instant::now(),
                }));
                let shared: Arc<Mutex<dyn Piece>> = job.clone();
                lock(&PIECES).push(Arc::downgrade(&shared));
                self.stepping = Some((key.clone(), job));
            }
        }
        if let Some((k, job)) = &self.stepping {
            // No thread: pieces of the job in this frame too (at least one), then its value once
            // the last piece is done, here or between frames.
            lock(job).asked = Instant::now();
            if !pieces_for(&**job, FRAME_BUDGET) {
                ctx.request_repaint();
            } else {
                let value = lock(job).value.take();
                if let Some(v) = value {
                    self.current = Some((k.clone(), v));
                    self.stepping = None;
                }
            }
        }
        let fresh = self.current.as_ref().is_some_and(|(k, _)| k == key);
        (self.current.as_ref().map(|(_, v)| v), fresh)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A job of `n` pieces, each sleeping `ms` and counted in `taken`; its value is the key × 10.
    fn job(key: u32, n: usize, ms: u64, taken: Arc<AtomicUsize>) -> Steps<u32> {
        let mut left = n;
        Box::new(move || {
            std::thread::sleep(Duration::from_millis(ms));
            taken.fetch_add(1, Ordering::Relaxed);
            left = left.saturating_sub(1);
            (left == 0).then_some(key * 10)
        })
    }

    fn live_pieces() -> usize {
        lock(&PIECES)
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count()
    }

    #[test]
    fn without_threads_a_job_goes_piece_by_piece_within_the_budget() {
        NO_THREADS.with(|t| t.set(true));
        let ctx = egui::Context::default();
        let mut bg = Background::<u32, u32>::default();
        let taken = Arc::new(AtomicUsize::new(0));
        let t = Arc::clone(&taken);
        // 40 pieces of at least 1 ms: the first frame stops after FRAME_BUDGET (8 ms), so after
        // 1 to 9 of them, and shows nothing yet.
        let (value, fresh) = bg.get_in_steps(&1, &ctx, move |k| job(k, 40, 1, t));
        assert!(value.is_none() && !fresh);
        let first = taken.load(Ordering::Relaxed);
        assert!(
            (1..=9).contains(&first),
            "{first} pieces in the first frame"
        );
        // Between frames, the page's task takes more pieces.
        while drive_pieces(Duration::from_millis(4)) {}
        assert_eq!(taken.load(Ordering::Relaxed), 40);
        let (value, fresh) = bg.get_in_steps(&1, &ctx, |k| job(k, 40, 1, Arc::default()));
        assert_eq!((value, fresh), (Some(&10), true));

        // A new key shows the old value, stale, while its job runs; a newer key drops that job.
        let taken = Arc::new(AtomicUsize::new(0));
        let t = Arc::clone(&taken);
        let (value, fresh) = bg.get_in_steps(&2, &ctx, move |k| job(k, 1000, 1, t));
        assert_eq!((value, fresh), (Some(&10), false));
        assert_eq!(live_pieces(), 1);
        // Off screen (its section has not asked for UNSEEN), the page's task leaves it.
        if let Some((_, j)) = &bg.stepping
            && let Some(long_ago) = Instant::now().checked_sub(2 * UNSEEN)
        {
            lock(j).asked = long_ago;
        }
        let before = taken.load(Ordering::Relaxed);
        assert!(!drive_pieces(Duration::from_millis(4)));
        assert_eq!(taken.load(Ordering::Relaxed), before);
        let (value, fresh) = bg.get_in_steps(&3, &ctx, |k| job(k, 2, 1, Arc::default()));
        assert_eq!((value, fresh), (Some(&30), true));
        assert_eq!(live_pieces(), 0, "key 2's job was dropped");
        // A cheap job through `get` is done in the frame that asks for it.
        let (value, fresh) = bg.get(&4, &ctx, |k| k + 1);
        assert_eq!((value, fresh), (Some(&5), true));
        NO_THREADS.with(|t| t.set(false));
    }

    #[test]
    fn a_job_of_parts_takes_one_part_per_piece_and_finishes_with_all_of_them() {
        let computed = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&computed);
        let mut job = steps_over(
            (1..=3_u32).map(move |i| {
                c.fetch_add(1, Ordering::Relaxed);
                i * i
            }),
            |squares| squares.iter().sum::<u32>(),
        );
        for parts in 1..=3 {
            assert_eq!(job(), None);
            assert_eq!(
                computed.load(Ordering::Relaxed),
                parts,
                "one part per piece"
            );
        }
        assert_eq!(job(), Some(14));
        assert_eq!(job(), None, "the value is given once");
    }

    #[test]
    fn with_threads_the_job_runs_to_its_end_off_this_thread() {
        let ctx = egui::Context::default();
        let mut bg = Background::<u32, u32>::default();
        let (value, _) = bg.get_in_steps(&7, &ctx, |k| job(k, 5, 1, Arc::default()));
        assert!(value.is_none());
        let begun = Instant::now();
        loop {
            if let (Some(v), true) = bg.get_in_steps(&7, &ctx, |k| job(k, 5, 1, Arc::default())) {
                assert_eq!(*v, 70);
                break;
            }
            assert!(
                begun.elapsed() < Duration::from_secs(10),
                "the thread never answered"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
