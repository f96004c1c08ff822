//! Training: deterministic from the seed, loss goes down, divergence rolls back.

use attention_lab::model::GptConfig;
use attention_lab::train::{Divergence, TrainConfig, Trainer};

fn small() -> TrainConfig {
    TrainConfig {
        model: GptConfig {
            n_layer: 1,
            n_head: 2,
            n_embd: 16,
            block_size: 8,
            ..GptConfig::default()
        },
        batch: 4,
        eval_every: 10,
        ..TrainConfig::default()
    }
}

#[test]
fn same_seed_gives_bit_identical_losses() {
    let run = || {
        let mut t = Trainer::new(small()).unwrap_or_else(|e| panic!("{e}"));
        (0..15).map(|_| t.step().loss.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn loss_goes_down_on_bears() {
    let mut t = Trainer::new(small()).unwrap_or_else(|e| panic!("{e}"));
    let first = t.val_loss();
    for _ in 0..60 {
        t.step();
    }
    let after = t.val_loss();
    assert!(after < first - 0.5, "validation loss {first} → {after}");
}

#[test]
fn divergence_rolls_back_to_the_last_good_weights() {
    let mut t = Trainer::new(small()).unwrap_or_else(|e| panic!("{e}"));
    // Step 10 runs a validation whose loss is sane: its weights become the rollback point.
    for _ in 0..10 {
        t.step();
    }
    assert_eq!(t.last_good_step(), 10);
    let good = t.gpt.params.clone();
    t.step();
    // Poison the weights: the next forward is non-finite.
    t.gpt.params.wte.fill(f32::NAN);
    let s = t.step();
    assert_eq!(s.diverged, Some(Divergence::LossNotFinite));
    // Back to the weights of the last good validation, and training goes on from there.
    assert_eq!(t.gpt.params, good);
    let s = t.step();
    assert!(s.diverged.is_none() && s.loss.is_finite());
}

#[test]
fn a_huge_learning_rate_is_caught_before_it_spreads_and_the_good_model_stays() {
    // `train --lr 1e9` printed "diverged … rolled back" 599 times and saved weights near 1e9
    // whose logits were NaN: the rollback point was the last finite state, not the last good.
    let mut c = small();
    c.lr = 1.0;
    let mut t = Trainer::new(c).unwrap_or_else(|e| panic!("{e}"));
    let start = t.gpt.params.clone();
    // lr 1.0 is within the limits; force it far past them as a broken optimiser would.
    t.set_lr(1.0).unwrap_or_else(|e| panic!("{e}"));
    let mut diverged_at = None;
    for _ in 0..50 {
        let s = t.step();
        if s.diverged.is_some() {
            diverged_at = Some(s.step);
            break;
        }
    }
    let step = diverged_at.unwrap_or_else(|| panic!("lr 1.0 on this model should diverge"));
    assert!(step <= 10, "caught at step {step}");
    // Before any validation, the rollback point is the start: finite, sane weights.
    assert_eq!(t.last_good_step(), 0);
    assert_eq!(t.gpt.params, start);
    assert!(
        t.gpt.params.max_abs() <= 1.0,
        "the norms' gains start at 1, the rest near 0"
    );
    let val = t.val_loss();
    assert!(
        val.is_finite() && val < 5.0,
        "validation loss after the rollback {val}"
    );
    assert!(t.set_lr(1e9).is_err(), "1e9 is refused, with the range");
}

#[test]
fn bad_configs_are_refused() {
    let mut c = small();
    c.model.n_head = 3;
    assert!(
        Trainer::new(c)
            .err()
            .unwrap_or_default()
            .contains("multiple of n_head")
    );
    let mut c = small();
    c.lr = -1.0;
    assert!(Trainer::new(c).is_err());
}

/// The bears model of the live lesson: big enough that a step taken in parts (the browser)
/// has several.
fn live_sized() -> TrainConfig {
    TrainConfig {
        eval_every: 3,
        eval_batches: 2,
        ..TrainConfig::default()
    }
}

/// A step in parts (`step_part`, the browser's slices) is the step in one piece on a machine
/// that cuts the batch into as many shards: the same weights and training losses bit for bit,
/// the validation loss up to the order of its sums; one part per shard, plus one per shard of
/// each validation batch.
#[test]
fn a_step_in_parts_is_the_same_step() {
    use attention_lab::train::data_parallel::part_count;
    let mut parts = Trainer::new(live_sized()).unwrap_or_else(|e| panic!("{e}"));
    let (b, t) = (parts.config.batch, parts.config.model.block_size);
    let k = part_count(&parts.gpt, b, t);
    assert!(k >= 2, "the live lesson's model takes {k} part(s)");
    let mut whole = Trainer::new(live_sized()).unwrap_or_else(|e| panic!("{e}"));
    whole.set_threads(k);
    for step in 1..=7 {
        let one = whole.step();
        let mut calls = 1;
        let cut = loop {
            match parts.step_part() {
                Some(s) => break s,
                None => calls += 1,
            }
        };
        let validates = step % 3 == 0;
        assert_eq!(
            calls,
            k + if validates { 2 * k } else { 0 },
            "parts of step {step}"
        );
        assert_eq!(cut.step, step);
        assert_eq!(cut.loss.to_bits(), one.loss.to_bits(), "step {step}'s loss");
        assert_eq!(cut.grad_norm.to_bits(), one.grad_norm.to_bits());
        assert_eq!(
            parts.gpt.params, whole.gpt.params,
            "weights after step {step}"
        );
        match (cut.val_loss, one.val_loss) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-5 * b.abs(), "{a} vs {b}"),
            (None, None) => assert!(!validates),
            other => panic!("step {step}: validation {other:?}"),
        }
    }
}

/// A model small enough for one part: `step_part` is exactly `step`, validation included (10
/// steps apart, so step 10 validates).
#[test]
fn a_step_in_one_part_is_bit_identical() {
    let mut a = Trainer::new(small()).unwrap_or_else(|e| panic!("{e}"));
    let mut b = Trainer::new(small()).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..12 {
        let one = a.step();
        let mut calls = 0;
        let cut = loop {
            calls += 1;
            if let Some(s) = b.step_part() {
                break s;
            }
        };
        // One part, plus one per validation batch.
        let batches = b.config.eval_batches;
        assert_eq!(calls, 1 + if one.val_loss.is_some() { batches } else { 0 });
        assert_eq!(cut.loss.to_bits(), one.loss.to_bits());
        assert_eq!(
            cut.val_loss.map(f32::to_bits),
            one.val_loss.map(f32::to_bits)
        );
        assert_eq!(a.gpt.params, b.gpt.params);
    }
}

mod worker {
    use std::time::{Duration, Instant};

    use attention_lab::train::{Command, Worker};

    fn wait_for(w: &mut Worker, what: impl Fn(&attention_lab::train::Snapshot) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !what(w.wait(Duration::from_millis(50))) {
            assert!(
                Instant::now() < deadline,
                "the worker did not get there in time"
            );
        }
    }

    #[test]
    fn step_play_pause_save_load() {
        let mut w =
            Worker::spawn("test", super::small(), None, || {}).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.latest().step, 0);
        w.send(Command::Step(5));
        wait_for(&mut w, |s| s.step == 5 && !s.running);
        assert_eq!(w.latest().history.len(), 5);
        w.send(Command::Play);
        wait_for(&mut w, |s| s.step >= 12 && s.running);
        w.send(Command::Pause);
        wait_for(&mut w, |s| !s.running);
        let paused_at = w.latest().step;
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(w.poll().step, paused_at, "no steps while paused");

        let path =
            std::env::temp_dir().join(format!("al-worker-{}.safetensors", std::process::id()));
        w.send(Command::Save(path.clone()));
        wait_for(
            &mut w,
            |s| matches!(&s.message, Some(Ok(m)) if m.starts_with("saved")),
        );
        let saved = w.latest().gpt.clone();
        w.send(Command::Step(3));
        wait_for(&mut w, |s| s.step == paused_at + 3);
        w.send(Command::Load(path.clone()));
        wait_for(
            &mut w,
            |s| matches!(&s.message, Some(Ok(m)) if m.starts_with("loaded")),
        );
        assert_eq!(w.latest().gpt.params, saved.params);
        w.send(Command::Load(std::path::PathBuf::from(
            "/nonexistent.safetensors",
        )));
        wait_for(
            &mut w,
            |s| matches!(&s.message, Some(Err(e)) if e.contains("cannot read")),
        );
        let _ = std::fs::remove_file(&path);
    }

    /// The browser's worker: no thread, each `poll` trains a slice. Two runs in lock-step reach
    /// the same weights as the threaded worker, step for step.
    #[test]
    fn a_worker_without_a_thread_trains_in_slices_to_the_same_weights() {
        let mut other = super::small();
        other.seed += 1;
        let runs = || vec![(super::small(), None), (other.clone(), None)];
        let mut sliced = Worker::spawn_group_in_slices("sliced", runs(), || {})
            .unwrap_or_else(|e| panic!("{e}"));
        let mut threaded =
            Worker::spawn_group("threaded", runs(), || {}).unwrap_or_else(|e| panic!("{e}"));
        for w in [&mut sliced, &mut threaded] {
            w.send(Command::Step(12));
            w.request_model();
        }
        let mut polls = 0;
        while sliced.poll_all().iter().any(|s| s.step < 12 || s.running) {
            polls += 1;
            assert!(polls < 100_000, "the sliced worker did not get there");
        }
        wait_for(&mut threaded, |s| s.step == 12 && !s.running);
        let deadline = Instant::now() + Duration::from_secs(20);
        while threaded.poll_all().iter().any(|s| s.step < 12) {
            assert!(
                Instant::now() < deadline,
                "the threaded worker's second run lags"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        for (a, b) in sliced.latest_all().iter().zip(threaded.latest_all()) {
            assert_eq!(a.step, 12);
            assert_eq!(a.gpt.params, b.gpt.params, "same weights after 12 steps");
            assert_eq!(a.history.len(), 12);
            assert_eq!(
                a.history
                    .iter()
                    .map(|p| p.train.to_bits())
                    .collect::<Vec<_>>(),
                b.history
                    .iter()
                    .map(|p| p.train.to_bits())
                    .collect::<Vec<_>>()
            );
        }
        assert_ne!(
            sliced.latest_all()[0].gpt.params,
            sliced.latest_all()[1].gpt.params,
            "two seeds, two models"
        );
        // Play, then Pause: a slice at a time, and nothing after the pause.
        sliced.send(Command::Play);
        while sliced.poll().step < 20 {}
        sliced.send(Command::Pause);
        let paused = sliced.poll().step;
        assert!(!sliced.latest().running);
        for _ in 0..5 {
            assert_eq!(sliced.poll().step, paused, "no steps while paused");
        }
        // Driven from outside (the browser's timer): `poll` only receives, the driver trains.
        use attention_lab::train::worker::{SLICE, drive_slices};
        assert!(!drive_slices(SLICE), "nothing is training");
        sliced.send(Command::Play);
        let mut turns = 0;
        while sliced.poll().step < paused + 10 {
            assert!(drive_slices(SLICE) || sliced.latest().step >= paused + 10);
            turns += 1;
            assert!(turns < 100_000);
        }
        sliced.send(Command::Pause);
        drive_slices(SLICE);
        let stopped = sliced.poll().step;
        sliced.send(Command::Play);
        for _ in 0..3 {
            assert_eq!(
                sliced.poll().step,
                stopped,
                "once driven, poll does not train"
            );
        }
        assert!(drive_slices(SLICE), "the driver takes the Play");
        sliced.send(Command::Pause);
        drive_slices(SLICE);
        assert!(!drive_slices(SLICE));
    }
}

/// A deep stack without skips or norm (residuals §3's "no skips, no norm" at 8 blocks) makes
/// gradients full of subnormal floats, which training flushes to zero (`engine::subnormal`).
/// Flushing must not change what the lesson draws: each block's gradient norm is within 1e-3
/// (relative; 4e-4 of a decade on the figure's log axis) of the one IEEE arithmetic gives (the layers called directly on this thread, which does not flush) for
/// the same weights and batch — block 1's falls to 1e-33 here — and the caller's float mode is
/// left as it was.
#[test]
fn flushing_subnormals_leaves_the_per_block_gradient_norms_as_they_are() {
    use attention_lab::engine::subnormal::Flush;
    use attention_lab::model::{Activations, Grads, NormKind, gpt_backward, gpt_forward};
    let mut config = TrainConfig {
        batch: 8,
        ..TrainConfig::default()
    };
    config.model.n_layer = 8;
    config.model.residual = false;
    config.model.norm = NormKind::None;
    let mut trainer = Trainer::new(config).expect("a valid config");
    trainer.set_threads(1);
    let mut tiny_seen = false;
    let mut worst = 0f32;
    for step in 0..24 {
        let before = trainer.gpt.clone();
        trainer.step();
        assert!(!Flush::is_on(), "step {step} left the thread flushing");
        let (x, y) = trainer.last_batch();
        let (x, y) = (x.to_vec(), y.to_vec());
        let (b, t) = (trainer.config.batch, trainer.config.model.block_size);
        let mut acts = Activations::default();
        gpt_forward(&before, &mut acts, &x, Some(&y), b, t, true);
        let mut grads = Grads::zeros(&before.config);
        gpt_backward(&before, &mut acts, &y, &mut grads);
        let mut ieee = Vec::new();
        grads.block_norms_into(&mut ieee);
        let flushed = trainer.layer_grad_norms();
        assert_eq!(flushed.len(), 8);
        for (l, (f, i)) in flushed.iter().zip(&ieee).enumerate() {
            assert!(*i > 0.0, "step {step} block {}: IEEE norm {i}", l + 1);
            let rel = (f - i).abs() / i;
            worst = worst.max(rel);
            assert!(
                rel < 1e-3,
                "step {step} block {}: {f:e} flushed, {i:e} IEEE",
                l + 1
            );
        }
        tiny_seen |= ieee[0] < 1e-15;
    }
    assert!(
        tiny_seen,
        "the run should reach block-1 gradients below 1e-15"
    );
    println!("largest relative difference of a block's gradient norm: {worst:e}");
    trainer.val_loss();
    assert!(!Flush::is_on());
}
