//! A small model trained live off the UI thread, a chunk of steps at a time: the run is cloned
//! into a [`Background`] job that takes `chunk` steps and evaluates, and the result replaces the
//! run when it arrives. The same chunk runs on the UI thread for the step button, so a stepped
//! run is deterministic (the batches are seeded by the step number). Without threads
//! (a browser) `Background` runs the chunk in the frame instead.

use std::sync::Arc;

use super::background::Background;

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

fn chunk<R: Steppable>(run: &R, steps: usize) -> Done<R> {
    let mut r = run.clone();
    let points = (0..steps).map(|_| r.train_step()).collect();
    let eval = r.evaluate();
    (Arc::new(r), points, eval)
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
        let done = chunk(&*run, steps);
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
            .get(&(key.clone(), run.steps()), ctx, move |_| chunk(&*r, steps));
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
