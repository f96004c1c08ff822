//! UI tests of the lesson "Ensembles and mixtures of experts" (egui_kittest, accessibility
//! queries): every section opens and every control changes what it should; training is stepped
//! by the step button (deterministic), never by the clock.

mod common;

use common::ui::{click, has_text, nudge, open, setting, wait_for};
use egui_kittest::kittest::Queryable;
use serde_json::Value;

const ID: &str = "experts";

#[test]
fn ensemble_error_theory_and_simulation() {
    let mut h = open(ID, &[]);
    wait_for(&mut h, "Simulated at ρ = 0.3");
    // c + (v − c)/k at k = 8, v = 1, ρ = 0.3: 0.3 + 0.7/8 = 0.3875.
    assert!(has_text(
        &h,
        "theory c + (v − c)/k = 0.30 + 0.70/8 = 0.3875"
    ));
    let drawn = attention_lab::widgets::figure::logged(&h.ctx);
    for id in ["experts_mse_k", "experts_mse_rho"] {
        assert!(drawn.0.iter().any(|(f, _)| f == id), "{id} not drawn");
    }
    nudge(&mut h, ID, "members k", "k");
    nudge(&mut h, ID, "error variance v", "v");
    nudge(&mut h, ID, "correlation ρ", "rho");
    let seed = setting(&mut h, ID, "seed");
    click(&mut h, "New samples");
    assert_ne!(setting(&mut h, ID, "seed"), seed);
    wait_for(&mut h, "Simulated at ρ =");
}

#[test]
fn em_steps_play_restart_and_the_true_mixture_sliders() {
    let mut h = open(ID, &[("section", "1"), ("em_steps", "0")]);
    assert!(has_text(&h, "After 0 EM steps"));
    click(&mut h, "EM step");
    assert_eq!(setting(&mut h, ID, "em_steps"), Value::from(1));
    assert!(has_text(&h, "After 1 EM steps"));
    assert!(has_text(&h, "It has not fallen at any step"));
    click(&mut h, "Play");
    assert!(has_text(&h, "Pause"));
    click(&mut h, "Pause");
    click(&mut h, "Restart fit");
    assert_eq!(setting(&mut h, ID, "em_steps"), Value::from(0));
    nudge(&mut h, ID, "components drawn from", "true_components");
    nudge(&mut h, ID, "samples", "samples");
    nudge(&mut h, ID, "components fitted", "fit_components");
    let means = setting(&mut h, ID, "true_means");
    // The first "mean μ" slider: the first true component.
    h.query_all_by_role_and_label(egui::accesskit::Role::Slider, "mean μ")
        .next()
        .unwrap_or_else(|| panic!("no mean slider"))
        .focus();
    h.run_steps(1);
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    assert_ne!(setting(&mut h, ID, "true_means"), means);
    let seed = setting(&mut h, ID, "seed");
    click(&mut h, "New samples");
    assert_ne!(setting(&mut h, ID, "seed"), seed);
}

#[test]
fn experts_train_by_steps_and_every_control_restarts_them() {
    let mut h = open(ID, &[("section", "2")]);
    // Playing from the start: pause it so that only the step button moves training.
    click(&mut h, "Pause");
    click(&mut h, "Reset");
    assert!(has_text(&h, "step 0"));
    click(&mut h, "Step 100");
    assert!(has_text(&h, "step 100"));
    assert!(has_text(
        &h,
        "Step 99, mean squared error on the 128 training points"
    ));
    assert!(has_text(
        &h,
        "mixture 81 held (the gate adds 2k = 6), 81 used per input"
    ));
    click(&mut h, "top-1 (one expert runs)");
    assert_eq!(setting(&mut h, ID, "routing"), Value::from("top1"));
    assert!(has_text(&h, "step 0"), "a new routing starts a new run");
    assert!(has_text(
        &h,
        "81 held (the gate adds 2k = 6), 31 used per input"
    ));
    click(&mut h, "soft, squared error of ŷ");
    assert_eq!(setting(&mut h, ID, "routing"), Value::from("soft"));
    click(&mut h, "soft, competing experts");
    assert_eq!(setting(&mut h, ID, "routing"), Value::from("competitive"));
    for (label, value) in [
        ("a step", "step"),
        ("a sine with a kink", "sine_kink"),
        ("three pieces", "pieces"),
    ] {
        click(&mut h, label);
        assert_eq!(setting(&mut h, ID, "target"), Value::from(value));
    }
    nudge(&mut h, ID, "experts k", "experts");
    nudge(&mut h, ID, "hidden units h", "hidden");
    let seed = setting(&mut h, ID, "seed");
    click(&mut h, "New seed");
    assert_ne!(setting(&mut h, ID, "seed"), seed);
    click(&mut h, "Step 100");
    assert!(has_text(
        &h,
        "its members' errors on the training points are correlated ρ ="
    ));
    let drawn = attention_lab::widgets::figure::logged(&h.ctx);
    for id in ["experts_fits", "experts_gate", "experts_loss"] {
        assert!(drawn.0.iter().any(|(f, _)| f == id), "{id} not drawn");
    }
    click(&mut h, "Play");
    h.run_steps(3);
    assert!(has_text(&h, "Pause"));
}

#[test]
fn the_cross_entropy_question_is_answered_from_the_table() {
    let mut h = open(ID, &[("section", "3")]);
    wait_for(&mut h, "Worst case, ρ = 1");
    assert!(has_text(&h, "exceeded the average member's loss 0 times"));
    // ln(1 + 9 e^−2) = 0.7966 (NumPy: np.log(1 + 9*np.exp(-2.0)) = 0.7966138010382245).
    assert!(has_text(&h, "ln(1 + (V − 1)e^(−m)) = 0.7966"));
    nudge(&mut h, ID, "members k", "k");
    nudge(&mut h, ID, "noise variance v", "v");
    nudge(&mut h, ID, "classes V", "classes");
    nudge(&mut h, ID, "margin m", "margin");
    click(&mut h, "New samples");
    wait_for(&mut h, "Worst case, ρ = 1");
    let drawn = attention_lab::widgets::figure::logged(&h.ctx);
    for id in ["experts_ce", "experts_ce_fraction"] {
        assert!(drawn.0.iter().any(|(f, _)| f == id), "{id} not drawn");
    }
}
