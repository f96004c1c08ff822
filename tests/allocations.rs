//! "No allocation per step in the hot loop": after its first step (which sizes every buffer), a
//! training step on one thread allocates only the packing buffers that `matrixmultiply` takes
//! for each matrix product (it has no way to pass them in). Every allocation made while a step
//! runs is traced to its caller; this file holds one test so that nothing else allocates
//! meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use attention_lab::model::{GptConfig, NormKind, PosEncoding};
use attention_lab::train::{TrainConfig, Trainer};

struct Tracing;

static TRACING: AtomicBool = AtomicBool::new(false);
/// (allocations inside matrixmultiply, the others with their call stacks)
static SEEN: Mutex<(usize, Vec<String>)> = Mutex::new((0, Vec::new()));

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
        if trace.contains("matrixmultiply") {
            seen.0 += 1;
        } else {
            let frames: Vec<&str> = trace
                .lines()
                .filter(|l| l.contains("attention_lab::"))
                .take(3)
                .collect();
            seen.1.push(frames.join(" ← "));
        }
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
fn a_training_step_allocates_only_inside_matrix_products() {
    for (norm, pos) in [
        (NormKind::LayerNorm, PosEncoding::Learned),
        (NormKind::RmsNorm, PosEncoding::Sinusoidal),
        (NormKind::BatchNorm, PosEncoding::Binary),
        (NormKind::None, PosEncoding::None),
    ] {
        let mut trainer = Trainer::new(TrainConfig {
            model: GptConfig {
                n_layer: 1,
                n_head: 2,
                n_embd: 16,
                block_size: 8,
                norm,
                pos_encoding: pos,
                ..GptConfig::default()
            },
            batch: 4,
            eval_every: 0,
            ..TrainConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        trainer.set_threads(1);
        trainer.step();
        if let Ok(mut seen) = SEEN.lock() {
            *seen = (0, Vec::new());
        }
        TRACING.store(true, Ordering::SeqCst);
        trainer.step();
        TRACING.store(false, Ordering::SeqCst);
        let (products, others) = SEEN.lock().map(|s| s.clone()).unwrap_or_default();
        assert!(products > 0, "the tracer saw matrixmultiply's buffers");
        assert!(
            others.is_empty(),
            "{norm:?} {pos:?}: {} allocations outside matrix products:\n{}",
            others.len(),
            others.join("\n")
        );
    }
}
