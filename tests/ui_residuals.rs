//! UI tests of the lesson "Residuals, the MLP and the stack" (egui_kittest, accessibility
//! queries): every section opens and every control changes what it should.

use std::time::{Duration, Instant};

use attention_lab::app::{LabApp, StartOptions};
use attention_lab::math::block::STREAM;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use serde_json::Value;

fn open(sets: &[(&str, &str)]) -> Harness<'static, LabApp> {
    let options = StartOptions {
        lesson: Some("residuals".into()),
        present: false,
        theme: None,
        play: false,
        sets: sets
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        notes: Vec::new(),
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, 1800.0))
        .build_eframe(move |cc| LabApp::new(cc, options));
    h.run_steps(3);
    h
}

fn setting(h: &mut Harness<'static, LabApp>, key: &str) -> Value {
    h.state_mut()
        .lesson_settings("residuals")
        .and_then(|s| s.get(key).cloned())
        .unwrap_or(Value::Null)
}

fn click(h: &mut Harness<'static, LabApp>, label: &str) {
    let node = h
        .query_all_by_label(label)
        .find(|n| n.accesskit_node().role() != Role::Label)
        .unwrap_or_else(|| panic!("no control \"{label}\""));
    node.click();
    h.run_steps(2);
}

fn has_text(h: &Harness<'static, LabApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
        || h.query_all_by_role(Role::Label)
            .any(|n| n.accesskit_node().value().is_some_and(|v| v.contains(text)))
}

fn nudge(h: &mut Harness<'static, LabApp>, name: &str, key: &str) {
    let before = setting(h, key);
    for arrow in [egui::Key::ArrowRight, egui::Key::ArrowLeft] {
        h.get_by_role_and_label(Role::Slider, name).focus();
        h.run_steps(1);
        h.key_press(arrow);
        h.run_steps(2);
        if setting(h, key) != before {
            return;
        }
    }
    panic!("slider \"{name}\" did not change {key} (still {before})");
}

fn type_into(h: &mut Harness<'static, LabApp>, name: &str, text: &str) {
    h.get_by_role_and_label(Role::TextInput, name).focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_role_and_label(Role::TextInput, name)
        .type_text(text);
    h.run_steps(2);
}

#[test]
fn every_tensor_of_a_block() {
    let mut h = open(&[]);
    for (k, name) in STREAM.iter().enumerate() {
        click(&mut h, name);
        assert_eq!(setting(&mut h, "tensor"), Value::from(k));
        h.get_by_role_and_label(Role::Image, &format!("block tensor: {name}"));
    }
    assert!(has_text(&h, "MLP 33088 (66.2 %"));
    nudge(&mut h, "block", "layer");
    type_into(&mut h, "Prompt", "i love salmon");
    assert!(has_text(&h, "Not in the bears vocabulary: \"salmon\""));
}

#[test]
fn the_mlp_changes_only_the_replaced_token() {
    let mut h = open(&[("section", "1")]);
    assert!(has_text(
        &h,
        "the MLP's largest change for any other token is 0 (exactly 0)"
    ));
    nudge(&mut h, "replace word", "position");
    h.get_by_role(Role::ComboBox).click();
    h.run_steps(2);
    // The list scrolls: pick the word by its accessibility action, wherever it is.
    h.query_all_by_label("forest")
        .find(|n| n.accesskit_node().role() != Role::Label)
        .unwrap_or_else(|| panic!("no \"forest\" in the list"))
        .click_accesskit();
    h.run_steps(2);
    assert_eq!(setting(&mut h, "replacement"), Value::from("forest"));
    assert!(has_text(&h, "→ \"forest\": attention's output changes for"));
    nudge(&mut h, "block", "layer");
}

#[test]
fn deep_runs_and_the_input_scale_and_the_head() {
    let mut h = open(&[("section", "2"), ("layers", "3")]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !has_text(&h, "block 1's weights get a gradient") {
        assert!(Instant::now() < deadline, "no gradient numbers");
        std::thread::sleep(Duration::from_millis(30));
        h.run_steps(1);
    }
    h.get_by_label("4 runs");
    click(&mut h, "Pause runs");
    click(&mut h, "Resume runs");
    nudge(&mut h, "blocks L", "layers");
    click(&mut h, "Start runs");
    click(&mut h, "4. ∂ŷ/∂W ∝ input");
    assert!(has_text(&h, "At scale 1: ‖∂ŷ/∂W‖"));
    nudge(&mut h, "input scale", "scale");
    click(&mut h, "5. The head");
    assert!(has_text(&h, "the model's next word is"));
    h.get_by_role_and_label(Role::Image, "next-token probabilities");
}
