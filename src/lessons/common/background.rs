//! The numbers behind a figure, computed only when their inputs change: [`Cached`] on the UI
//! thread (cheap work), [`Background`] on a short-lived thread for work too slow for one frame
//! (sampling thousands of random vectors at d = 1024, say) — the lesson keeps drawing the last
//! result, marked as being recomputed, until the new one arrives, so dragging a slider never
//! freezes the window. Not a lesson; the lessons use them.

use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::sync::{Arc, Mutex};

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

/// The latest result for a key, computed in the background.
pub struct Background<K, V> {
    current: Option<(K, V)>,
    pending: Option<(K, Receiver<V>)>,
}

impl<K, V> Default for Background<K, V> {
    fn default() -> Self {
        Self {
            current: None,
            pending: None,
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
        let fresh = self.current.as_ref().is_some_and(|(k, _)| k == key);
        let running = self.pending.as_ref().is_some_and(|(k, _)| k == key);
        if !fresh && !running {
            let (tx, rx) = channel();
            let (k, repaint) = (key.clone(), ctx.clone());
            // The job is handed over through a slot, so that if no thread can start (a browser)
            // it is still here to run on this thread.
            let slot = Arc::new(Mutex::new(Some(compute)));
            let theirs = Arc::clone(&slot);
            let spawned = std::thread::Builder::new()
                .name("lesson-sampling".into())
                .spawn(move || {
                    let job = theirs.lock().map(|mut s| s.take()).ok().flatten();
                    let Some(job) = job else { return };
                    if tx.send(job(k)).is_err() {
                        // A newer key replaced the receiver: this result is not wanted any more.
                        return;
                    }
                    repaint.request_repaint();
                });
            if spawned.is_ok() {
                self.pending = Some((key.clone(), rx));
            } else if let Some(job) = slot.lock().ok().and_then(|mut s| s.take()) {
                self.current = Some((key.clone(), job(key.clone())));
                return (self.current.as_ref().map(|(_, v)| v), true);
            }
        }
        (self.current.as_ref().map(|(_, v)| v), fresh)
    }
}
