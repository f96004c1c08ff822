//! UI tests of the lesson "Residuals, the MLP and the stack" (egui_kittest, accessibility
//! queries): every section opens and every control changes what it should.

mod common;

use common::ui::{click, has_text, type_into};

const ID: &str = "residuals";

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
use attention_lab::math::block::STREAM;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use serde_json::Value;

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
