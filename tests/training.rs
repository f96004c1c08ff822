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
