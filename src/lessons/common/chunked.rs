//! A small model trained live off the UI thread, a chunk of steps at a time: the run is cloned
//! into a [`Background`] job that takes `chunk` steps and evaluates, and the result replaces the
//! run when it arrives. The same chunk runs on the UI thread for the step button, so a stepped
//! run is deterministic (the batches are seeded by the step number). Without threads
//! (a browser) `Background` runs the chunk a step per piece, in the frames and between them.

use std::sync::Arc;

use super::background::{Background, Steps};

/// What a chunked run trains.
pub trait Steppable: Clone + Send + Sync + 'static {
    /// One point of the history (losses of a step).
    type Point: Clone + Send + Sync + 'static;
    /// What is measured after a chunk (accuracies).
    type Eval: Clone + Send + Sync + 'static;
    /// Steps taken.
    fn steps(&self) -> usize;
    /// One training step.
    fn train_step(&mut self) -> Self::Point;
    /// The measurement after a chunk.
    fn evaluate(&self) -> Self::Eval;
}

/// A chunk's result: the run after it, its points, its evaluation.
type Done<R> = (Arc<R>, Vec<<R as Steppable>::Point>, <R as Steppable>::Eval);

/// A run keyed by the settings it was built from, its history and evaluations.
pub struct Chunked<K, R: Steppable> {
    run: Option<(K, Arc<R>)>,
    /// Every step's point, in order.
    pub history: Vec<R::Point>,
    /// (step, evaluation) after each chunk.
    pub evals: Vec<(usize, R::Eval)>,
    /// Training continues in the background while this is set.
    pub playing: bool,
    job: Background<(K, usize), Done<R>>,
}

impl<K, R: Steppable> Default for Chunked<K, R> {
    fn default() -> Self {
        Self {
            run: None,
            history: Vec::new(),
            evals: Vec::new(),
            playing: false,
            job: Background::default(),
        }
    }
}

/// A chunk of `steps` steps from `run` (cloned), a step per piece and the evaluation as the
/// last piece: a step of the RNN lessons' models at delay k = 100 takes about 18 ms in the
/// browser, so a whole chunk (25 steps, 0.36–0.6 s measured) cannot be one piece of a frame.
fn chunk_in_steps<R: Steppable>(run: Arc<R>, steps: usize) -> Steps<Done<R>> {
    let mut state: Option<R> = None;
    let mut points = Vec::with_capacity(steps);
    Box::new(move || {
        let r = state.get_or_insert_with(|| (*run).clone());
        if points.len() < steps {
            points.push(r.train_step());
            return None;
        }
        let eval = r.evaluate();
        let r = state.take()?;
        Some((Arc::new(r), std::mem::take(&mut points), eval))
    })
}

/// The same chunk, all at once (the step button).
fn chunk<R: Steppable>(run: Arc<R>, steps: usize) -> Done<R> {
    let mut job = chunk_in_steps(run, steps);
    loop {
        if let Some(done) = job() {
            return done;
        }
    }
}

impl<K: PartialEq + Clone + Send + 'static, R: Steppable> Chunked<K, R> {
    /// The run for `key`, built by `make` (history cleared) when the key changed or after a
    /// reset.
    pub fn current(&mut self, key: &K, make: impl FnOnce() -> R) -> Arc<R> {
        if self.run.as_ref().is_none_or(|(k, _)| k != key) {
            self.history.clear();
            self.evals.clear();
            self.run = Some((key.clone(), Arc::new(make())));
        }
        match &self.run {
            Some((_, r)) => Arc::clone(r),
            None => unreachable!("set just above"),
        }
    }

    /// Start again from a fresh run at the next [`Chunked::current`].
    pub fn reset(&mut self) {
        self.run = None;
    }

    fn apply(&mut self, (run, points, eval): Done<R>) {
        self.evals.push((run.steps(), eval));
        self.history.extend(points);
        if let Some((_, r)) = &mut self.run {
            *r = run;
        }
    }

    /// `steps` steps now, on this thread (the step button).
    pub fn step_now(&mut self, key: &K, make: impl FnOnce() -> R, steps: usize) {
        let run = self.current(key, make);
        let done = chunk(run, steps);
        self.apply(done);
    }

    /// While playing and below `max_steps`: keep a chunk of `steps` running in the background
    /// and take its result when it arrives (asks for repaints meanwhile).
    pub fn poll(
        &mut self,
        key: &K,
        make: impl FnOnce() -> R,
        steps: usize,
        max_steps: usize,
        ctx: &egui::Context,
    ) {
        let run = self.current(key, make);
        if !self.playing {
            return;
        }
        if run.steps() >= max_steps {
            self.playing = false;
            return;
        }
        let r = Arc::clone(&run);
        let (done, fresh) = self
            .job
            .get_in_steps(&(key.clone(), run.steps()), ctx, move |_| {
                chunk_in_steps(r, steps)
            });
        if fresh
            && let Some(d) = done
            && d.0.steps() > run.steps()
        {
            let d = (Arc::clone(&d.0), d.1.clone(), d.2.clone());
            self.apply(d);
        }
        ctx.request_repaint();
    }
}
