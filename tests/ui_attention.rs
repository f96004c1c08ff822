//! UI tests of the lesson "From XXᵀ to Q, K, V" (egui_kittest, accessibility queries): every
//! section opens and every control changes what it should.

mod common;

use common::ui::{click, has_text};

const ID: &str = "attention";

fn open(sets: &[(&str, &str)]) -> Harness<'static, LabApp> {
    common::ui::open(ID, sets)
}

fn setting(h: &mut Harness<'static, LabApp>, key: &str) -> Value {
    common::ui::setting(h, ID, key)
}

fn nudge(h: &mut Harness<'static, LabApp>, name: &str, key: &str) {
    common::ui::nudge(h, ID, name, key)
}

use std::time::{Duration, Instant};

use attention_lab::app::LabApp;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::Value;

fn wait_for(
    h: &mut Harness<'static, LabApp>,
    what: &str,
    done: impl Fn(&Harness<'static, LabApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(h) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
        h.run_steps(1);
    }
}

#[test]
fn tokens_as_points_and_parameter_free_attention() {
    let mut h = open(&[]);
    // X of "i love bears" in the hand-made embedding, and "bears" as the same point everywhere.
    h.get_by_role_and_label(Role::Image, "X, the token vectors");
    assert!(has_text(&h, "\"bears\" is the point ("));
    click(&mut h, "\"she bears the pain\"");
    assert_eq!(setting(&mut h, "sentence"), Value::from("pain"));
    click(&mut h, "trained encoder");
    assert_eq!(setting(&mut h, "model"), Value::from("encoder"));
    click(&mut h, "trained decoder");
    assert_eq!(setting(&mut h, "model"), Value::from("causal"));
    click(&mut h, "hand-made (named axes)");
    // One's own sentence: an unknown word is named.
    click(&mut h, "your own:");
    h.get_by_role_and_label(Role::TextInput, "own sentence")
        .focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_role_and_label(Role::TextInput, "own sentence")
        .type_text("she loves salmon");
    h.run_steps(2);
    assert!(has_text(&h, "Not in the vocabulary: \"loves\", \"salmon\""));
    click(&mut h, "\"i love bears\"");
    click(&mut h, "2. Attention without parameters");
    h.get_by_role_and_label(Role::Image, "scores S = cXXᵀ");
    h.get_by_role_and_label(Role::Image, "weights A = softmax(S)");
    assert!(has_text(&h, "max |S_ij − S_ji| = 0"));
    // The hand-made "bears" keeps the most weight on itself: x·x tops its row.
    assert!(has_text(
        &h,
        "In 3 of 3 rows the largest score is the token's own"
    ));
    nudge(&mut h, "scale c", "scale");
}

#[test]
fn roles_presets_and_matrix_fields() {
    let mut h = open(&[("section", "2")]);
    assert!(has_text(&h, "its strongest helper is \"love\""));
    click(&mut h, "\"she bears the pain\"");
    // Looking for a verb, "bears" finds only itself in "she bears the pain".
    assert!(has_text(&h, "its strongest helper is \"bears\""));
    click(&mut h, "bears as a verb: looks for its object");
    assert!(has_text(&h, "its strongest helper is \"pain\""));
    h.get_by_role_and_label(Role::Image, "where bears lands");
    // A field of W_Q: the "verb" row of the "noun?" column (6 after the preset) set to 0.
    let count = h
        .query_all_by_role_and_label(Role::SpinButton, "verb")
        .count();
    assert_eq!(count, 4, "W_Q and W_K, two columns each");
    if let Some(f) = h
        .query_all_by_role_and_label(Role::SpinButton, "verb")
        .nth(1)
    {
        f.focus();
    }
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    if let Some(f) = h
        .query_all_by_role_and_label(Role::SpinButton, "verb")
        .nth(1)
    {
        f.type_text("0");
    }
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    let w_q = setting(&mut h, "w_q");
    assert_eq!(w_q[1][1], Value::from(0.0), "{w_q}");
    click(&mut h, "bears as object or subject: looks for a verb");
    assert_eq!(setting(&mut h, "w_q")[2][0], Value::from(6.0));
}

#[test]
fn learned_heads_of_the_encoder_and_the_decoder() {
    let mut h = open(&[("section", "3")]);
    assert!(has_text(
        &h,
        "Layer 1 head 2: the query of \"bears\" finds \"love\""
    ));
    click(&mut h, "\"she bears the pain\"");
    assert!(has_text(&h, "finds \"pain\""));
    h.get_by_role_and_label(Role::Image, "learned weights A");
    h.get_by_role_and_label(Role::Image, "scores of the query bears");
    nudge(&mut h, "layer", "layer");
    nudge(&mut h, "head", "head");
    click(&mut h, "decoder (causal mask)");
    assert_eq!(setting(&mut h, "model"), Value::from("causal"));
    assert!(has_text(&h, "cannot see the words after it"));
    click(&mut h, "encoder (no mask)");
    assert_eq!(setting(&mut h, "model"), Value::from("encoder"));
}

#[test]
fn training_moves_the_keys_live() {
    let mut h = open(&[("section", "4")]);
    // Training starts on its own; the step counter moves.
    wait_for(&mut h, "training to start", |h| {
        has_text(h, "step 3") || has_text(h, "step 4")
    });
    click(&mut h, "⏸ Pause");
    wait_for(&mut h, "the pause", |h| {
        h.query_by_label("▶ Play").is_some()
    });
    click(&mut h, "▶ Play");
    wait_for(&mut h, "training again", |h| {
        h.query_by_label("⏸ Pause").is_some()
    });
    click(&mut h, "Restart");
    wait_for(&mut h, "the restart", |h| {
        has_text(h, "step 0") || has_text(h, "step 1")
    });
    nudge(&mut h, "head", "head");
}
