//! UI tests of the softmax, positions, norms and RNN lessons (egui_kittest, accessibility
//! queries): every section opens and every control changes what it should.

mod common;

use common::ui::{click, has_text, nudge, open, setting};

use std::time::{Duration, Instant};

use attention_lab::app::LabApp;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::Value;

fn step_until(
    h: &mut Harness<'static, LabApp>,
    what: &str,
    done: impl Fn(&Harness<'static, LabApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(h) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
        h.run_steps(1);
    }
}

#[test]
fn softmax_demo_controls() {
    let mut h = open("softmax", &[]);
    assert!(
        has_text(&h, "max weight 1.0000"),
        "×100 is the default: one score takes all"
    );
    click(&mut h, "×1");
    assert_eq!(setting(&mut h, "softmax", "scale"), Value::from(1.0));
    assert!(!has_text(&h, "max weight 1.0000"));
    click(&mut h, "×100");
    assert_eq!(setting(&mut h, "softmax", "scale"), Value::from(100.0));
    nudge(&mut h, "softmax", "scale", "scale");
    nudge(&mut h, "softmax", "scores n", "n");
    click(&mut h, "Reseed");
    assert_eq!(setting(&mut h, "softmax", "seed"), Value::from(1));
}

#[test]
fn softmax_sqrt_d_and_gradient_sections() {
    let mut h = open("softmax", &[]);
    click(&mut h, "2. Why √d");
    // Sampled on a background thread: a spinner first, then the figures.
    step_until(&mut h, "the samples", |h| has_text(h, "empirical Var(q·k)"));
    nudge(&mut h, "softmax", "head size d", "d");
    nudge(&mut h, "softmax", "keys T", "keys");
    click(&mut h, "New samples");
    assert_eq!(setting(&mut h, "softmax", "seed"), Value::from(1));
    click(&mut h, "3. Gradient starvation");
    h.get_by_role_and_label(Role::Image, "softmax Jacobian");
    assert!(has_text(&h, "‖J‖_F at scale 100:"));
    click(&mut h, "×1");
    assert!(has_text(&h, "‖J‖_F at scale 1:"));
    nudge(&mut h, "softmax", "scale", "scale");
    nudge(&mut h, "softmax", "scores n", "n");
    click(&mut h, "×100");
}

#[test]
fn softmax_real_model_trains_scaled_and_unscaled_runs() {
    let mut h = open("softmax", &[("section", "3")]);
    click(&mut h, "Start runs");
    step_until(&mut h, "two runs with maps", |h| {
        h.query_all_by_label_contains("run: ").count() == 2
    });
    step_until(&mut h, "entropy recorded", |h| {
        h.query_all_by_label_contains("Mean attention entropy of each head")
            .count()
            == 1
    });
    click(&mut h, "Pause runs");
    click(&mut h, "Resume runs");
    click(&mut h, "Pause runs");
}

#[test]
fn rnn_every_section_and_control() {
    let mut h = open("rnn", &[]);
    // It opens on its first section, the scalar filter.
    assert_eq!(setting(&mut h, "rnn", "section"), Value::from(0));
    assert!(has_text(&h, "infinite-impulse-response"));
    click(&mut h, "2. The matrix RNN");
    assert!(has_text(&h, "vanishing"));
    click(&mut h, "ρ = 1");
    assert!(has_text(&h, "the norm is kept"));
    click(&mut h, "ρ = 0.9");
    click(&mut h, "ρ = 1.1");
    assert!(has_text(&h, "exploding"));
    nudge(&mut h, "rnn", "spectral radius ρ(W)", "radius");
    nudge(&mut h, "rnn", "hidden size n", "hidden");
    nudge(&mut h, "rnn", "steps T", "steps");
    click(&mut h, "Gaussian, rescaled");
    assert_eq!(setting(&mut h, "rnn", "init"), Value::from("gaussian"));
    click(&mut h, "radius × orthogonal");
    click(&mut h, "Gaussian, rescaled");
    click(&mut h, "identity");
    click(&mut h, "tanh");
    assert_eq!(setting(&mut h, "rnn", "activation"), Value::from("tanh"));
    click(&mut h, "New seed");
    click(&mut h, "Clip gradients");
    assert_eq!(setting(&mut h, "rnn", "clip"), Value::Bool(true));
    nudge(&mut h, "rnn", "threshold", "clip_threshold");
    // Global-norm clipping by default: the direction is kept exactly.
    assert_eq!(setting(&mut h, "rnn", "clip_mode"), Value::from("global"));
    assert!(has_text(
        &h,
        "Global-norm clipping (Pascanu, Mikolov & Bengio 2013)"
    ));
    assert!(has_text(
        &h,
        "cosine between the clipped and the true ∂L/∂W = 1.000000"
    ));
    click(&mut h, "∂L/∂h at every step");
    assert_eq!(setting(&mut h, "rnn", "clip_mode"), Value::from("per_step"));
    assert!(has_text(&h, "Clipping ∂L/∂h at every step"));
    click(&mut h, "global norm of ∂L/∂W");

    click(&mut h, "1. The scalar filter");
    for preset in ["w = 0.5", "w = 0.9", "w = 1"] {
        click(&mut h, preset);
    }
    assert!(has_text(&h, "on the edge"));
    click(&mut h, "w = 1.05");
    assert!(has_text(&h, "unstable"));
    click(&mut h, "w = -0.9");
    assert!(has_text(&h, "stable — the response dies out"));
    nudge(&mut h, "rnn", "w", "w_scalar");

    click(&mut h, "3. tanh saturation");
    nudge(&mut h, "rnn", "input scale s", "input_scale");
    assert!(has_text(&h, "Mean tanh′"));

    click(&mut h, "4. LSTM");
    nudge(&mut h, "rnn", "forget-gate bias b_f", "forget_bias");
    nudge(&mut h, "rnn", "RNN radius ρ(W)", "radius");
    assert!(has_text(&h, "σ(b_f) ="));

    click(&mut h, "5. The LSTM cell, step by step");
    assert!(has_text(&h, "LSTM, unit 0, step t = 1"));
    click(&mut h, "Step ▶");
    assert_eq!(setting(&mut h, "rnn", "cell_step"), Value::from(2));
    assert!(has_text(&h, "LSTM, unit 0, step t = 2"));
    click(&mut h, "◀ Step back");
    assert_eq!(setting(&mut h, "rnn", "cell_step"), Value::from(1));
    nudge(&mut h, "rnn", "step t", "cell_step");
    nudge(&mut h, "rnn", "unit", "cell_unit");
    nudge(&mut h, "rnn", "forget-gate bias b_f", "forget_bias");
    let drawn = attention_lab::widgets::figure::logged(&h.ctx);
    assert!(drawn.0.iter().any(|(f, _)| f == "rnn_cell_gates"));

    click(&mut h, "6. Memory, trained live");
    // Stepped by the button (deterministic), then played in the background.
    assert!(has_text(&h, "Step 0, delay k = 20"));
    click(&mut h, "Step 25");
    assert!(has_text(&h, "Step 25, delay k = 20"));
    nudge(&mut h, "rnn", "delay k", "recall_k");
    assert!(
        has_text(&h, "Step 0, delay k ="),
        "a new delay starts a new run"
    );
    click(&mut h, "Step 25");
    click(&mut h, "Reset");
    assert!(has_text(&h, "Step 0, delay k ="));
    click(&mut h, "Play");
    step_until(&mut h, "training in the background", |h| {
        has_text(h, "Step 25, delay k =")
    });
    click(&mut h, "Pause");
    click(&mut h, "New seed");
    click(&mut h, "Sweep k");
    assert!(has_text(&h, "Sweeping: "));
    let drawn = attention_lab::widgets::figure::logged(&h.ctx);
    for id in ["rnn_recall_loss", "rnn_recall_h0", "rnn_recall_sweep"] {
        assert!(drawn.0.iter().any(|(f, _)| f == id), "{id} not drawn");
    }

    click(&mut h, "7. Teacher forcing vs free running");
    assert!(has_text(&h, "Step 0: press Play or Step 25 to train."));
    click(&mut h, "Step 25");
    assert!(has_text(
        &h,
        "Step 25: running free on 256 held-out sequences"
    ));
    assert!(has_text(&h, "A held-out sequence:"));
    click(&mut h, "Reset");
    assert!(has_text(&h, "Step 0: press Play"));
    click(&mut h, "Play");
    step_until(&mut h, "teacher forcing in the background", |h| {
        has_text(h, "Step 25: running free")
    });
    click(&mut h, "Pause");
    click(&mut h, "New seed");
    let drawn = attention_lab::widgets::figure::logged(&h.ctx);
    for id in ["rnn_forcing_loss", "rnn_forcing_accuracy"] {
        assert!(drawn.0.iter().any(|(f, _)| f == id), "{id} not drawn");
    }
}

#[test]
fn positions_tables_and_reading_a_position() {
    let mut h = open("positions", &[]);
    for name in [
        "(a) binary digits",
        "(b) sinusoidal (Vaswani)",
        "(c) octave sinusoids",
        "(d) (c) thresholded at 0",
        "(e) learned (bears model)",
    ] {
        h.get_by_role_and_label(Role::Image, name);
    }
    assert!(has_text(&h, "(d) = (a) at all 64 positions"));
    nudge(&mut h, "positions", "positions T", "ctx");
    nudge(&mut h, "positions", "width d", "d");
    nudge(&mut h, "positions", "base", "base");
    click(&mut h, "10000 (paper)");
    assert_eq!(setting(&mut h, "positions", "base"), Value::from(10000.0));

    click(&mut h, "2. Read a position");
    nudge(&mut h, "positions", "position p", "position");
    assert!(has_text(&h, "‖r_p‖ of the sinusoidal row"));

    click(&mut h, "3. Similarity");
    h.get_by_role_and_label(Role::Image, "similarity: sinusoidal");
    h.get_by_role_and_label(Role::Image, "similarity: binary ±1");
    nudge(&mut h, "positions", "position p", "position");
}

#[test]
fn positions_add_and_order_sections() {
    let mut h = open("positions", &[("section", "4")]);
    assert!(has_text(&h, "no positions: max |f(shuffled)"));
    click(&mut h, "Shuffle");
    assert_eq!(setting(&mut h, "positions", "seed"), Value::from(1));
    for name in ["learned", "binary", "sinusoidal"] {
        click(&mut h, name);
        assert!(has_text(&h, "the outputs change"), "{name}");
    }
    assert_eq!(
        h.query_all_by_label_contains("attention: ").count(),
        4,
        "original and shuffled, with and without positions"
    );
    h.get_by_role_and_label(Role::TextInput, "Prompt").focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_role_and_label(Role::TextInput, "Prompt")
        .type_text("i love salmon");
    h.run_steps(2);
    assert!(has_text(&h, "\"salmon\""));

    click(&mut h, "4. Add or concatenate");
    assert!(has_text(&h, "parameters per block"));
    assert!(
        has_text(&h, "\"salmon\""),
        "the same prompt, the same message"
    );
}

#[test]
fn norms_matrix_statistics_and_batch_size() {
    let mut h = open("norms", &[]);
    for name in ["X (input)", "BatchNorm(X)", "LayerNorm(X)", "RMSNorm(X)"] {
        h.get_by_role_and_label(Role::Image, name);
    }
    nudge(&mut h, "norms", "batch B", "batch");
    nudge(&mut h, "norms", "features C", "features");
    nudge(&mut h, "norms", "spread of feature means", "mean_spread");
    nudge(
        &mut h,
        "norms",
        "spread of feature scales (log)",
        "scale_spread",
    );
    click(&mut h, "New sample");
    click(&mut h, "bears model's residual stream");
    assert_eq!(setting(&mut h, "norms", "source"), Value::from("model"));
    nudge(&mut h, "norms", "residual stream after layer", "layer");
    click(&mut h, "synthetic");

    click(&mut h, "2. The statistics");
    nudge(&mut h, "norms", "feature for the histogram", "feature");
    assert!(has_text(&h, "Per-feature mean (over the batch)"));

    click(&mut h, "3. Batch size");
    nudge(&mut h, "norms", "batch B", "batch");
    nudge(&mut h, "norms", "feature", "feature");
    step_until(&mut h, "the batches", |h| {
        has_text(h, "the batch size does not enter")
    });
}

#[test]
fn norms_batch_of_one_says_why_batchnorm_is_zero() {
    let mut h = open("norms", &[("batch", "1")]);
    assert!(has_text(&h, "BatchNorm outputs all zeros"));
    click(&mut h, "3. Batch size");
    step_until(&mut h, "the batches", |h| {
        has_text(h, "BatchNorm's output is all zeros")
    });
}

#[test]
fn norms_relu_and_real_model() {
    let mut h = open("norms", &[("section", "3")]);
    assert!(has_text(&h, "theory Φ(−β/γ)"));
    nudge(&mut h, "norms", "γ (scale)", "gamma");
    nudge(&mut h, "norms", "β (shift)", "beta");
    click(&mut h, "ReLU → BN");
    assert!(has_text(&h, "theory 50 %"));
    click(&mut h, "BN → ReLU");

    click(&mut h, "5. In a real model");
    click(&mut h, "Start runs");
    step_until(&mut h, "four runs", |h| {
        h.query_all_by_label_contains("run: ").count() == 4
    });
    step_until(&mut h, "the BatchNorm evaluation", |h| {
        has_text(h, "one token alone")
    });
    click(&mut h, "Pause runs");
}
