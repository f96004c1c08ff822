//! "No allocation per step in the hot loop": after its first step (which sizes every buffer,
//! starts the helper threads and their packing buffers), a training step allocates nothing, on one
//! thread or on two. Every allocation made while a step runs, on any thread, is traced to its
//! caller; this file holds one test so that nothing else allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use attention_lab::model::{GptConfig, NormKind, PosEncoding};
use attention_lab::train::{TrainConfig, Trainer};

struct Tracing;

static TRACING: AtomicBool = AtomicBool::new(false);
/// Every allocation seen, with its call stack.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

fn record() {
    if !TRACING.load(Ordering::Relaxed) || INSIDE.with(Cell::get) {
        return;
    }
    INSIDE.with(|i| i.set(true));
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    if let Ok(mut seen) = SEEN.lock() {
        let frames: Vec<&str> = trace
            .lines()
            .filter(|l| l.contains("attention_lab::"))
            .take(3)
            .collect();
        seen.push(if frames.is_empty() {
            // Not our code (a thread starting, say): name the thread at least.
            format!(
                "outside attention_lab, on thread {:?}",
                std::thread::current().name()
            )
        } else {
            frames.join(" ← ")
        });
    }
    INSIDE.with(|i| i.set(false));
}

// SAFETY: forwards every call to the system allocator unchanged; it only records who asked.
unsafe impl GlobalAlloc for Tracing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Tracing = Tracing;

#[test]
fn a_training_step_allocates_nothing() {
    // The tracer sees an allocation on another thread (a control for the empty lists below).
    TRACING.store(true, Ordering::SeqCst);
    let seen_by_thread = std::thread::scope(|s| {
        s.spawn(|| std::hint::black_box(vec![1_u8; 100]).len())
            .join()
            .unwrap_or(0)
    });
    TRACING.store(false, Ordering::SeqCst);
    assert_eq!(seen_by_thread, 100);
    assert!(SEEN.lock().is_ok_and(|s| !s.is_empty()), "the tracer works");
    // Every thread of the pool started (a late start allocates, on a loaded machine, during the
    // steps counted below: seen in CI while another build ran).
    attention_lab::engine::pool::start_all();
    for (norm, pos, threads, d) in [
        (NormKind::LayerNorm, PosEncoding::Learned, 1, 16),
        (NormKind::RmsNorm, PosEncoding::Sinusoidal, 1, 16),
        (NormKind::BatchNorm, PosEncoding::Binary, 1, 16),
        (NormKind::None, PosEncoding::None, 1, 16),
        // Big enough to be cut into two shards, one on a helper thread.
        (NormKind::LayerNorm, PosEncoding::Learned, 2, 64),
    ] {
        let mut trainer = Trainer::new(TrainConfig {
            model: GptConfig {
                n_layer: if threads > 1 { 2 } else { 1 },
                n_head: 2,
                n_embd: d,
                block_size: if threads > 1 { 32 } else { 8 },
                norm,
                pos_encoding: pos,
                ..GptConfig::default()
            },
            batch: if threads > 1 { 16 } else { 4 },
            eval_every: 0,
            ..TrainConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        trainer.set_threads(threads);
        trainer.step();
        if let Ok(mut seen) = SEEN.lock() {
            seen.clear();
        }
        TRACING.store(true, Ordering::SeqCst);
        for _ in 0..3 {
            trainer.step();
        }
        TRACING.store(false, Ordering::SeqCst);
        let seen = SEEN.lock().map(|s| s.clone()).unwrap_or_default();
        assert!(
            seen.is_empty(),
            "{norm:?} {pos:?} on {threads} thread(s): {} allocations:\n{}",
            seen.len(),
            seen.join("\n")
        );
    }
}
