//! Training: deterministic from the seed, loss goes down, divergence rolls back.

use attention_lab::model::GptConfig;
use attention_lab::train::{TrainConfig, Trainer};

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
    t.step();
    let good = t.gpt.params.clone();
    // Poison the weights: the next forward is non-finite.
    t.gpt.params.wte.fill(f32::NAN);
    let s = t.step();
    assert!(s.diverged);
    // Back to the weights after the last good step, and training goes on from there.
    assert_eq!(t.gpt.params, good);
    let s = t.step();
    assert!(!s.diverged && s.loss.is_finite());
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
}
