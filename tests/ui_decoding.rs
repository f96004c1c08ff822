//! UI tests of the lesson "Decoding: greedy, beam search, BLEU" (egui_kittest, accessibility
//! queries): every section opens and every control changes what it should.

mod common;

use common::ui::{click, has_text, type_into, wait_for};

const ID: &str = "decoding";

fn open(sets: &[(&str, &str)]) -> Harness<'static, LabApp> {
    common::ui::open(ID, sets)
}

fn setting(h: &mut Harness<'static, LabApp>, key: &str) -> Value {
    common::ui::setting(h, ID, key)
}

fn nudge(h: &mut Harness<'static, LabApp>, name: &str, key: &str) {
    common::ui::nudge(h, ID, name, key)
}

use attention_lab::app::LabApp;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use serde_json::Value;

#[test]
fn greedy_loses_on_the_trellis_and_the_weights_are_editable() {
    let mut h = open(&[]);
    assert!(has_text(
        &h,
        "Greedy loses: the best sequence is 1.80 times as probable"
    ));
    assert!(has_text(&h, "a a a   p = 0.50 × 0.40 × 0.40 = 0.0800"));
    assert!(has_text(&h, "b a a   p = 0.40 × 0.90 × 0.40 = 0.1440"));
    h.get_by_role_and_label(Role::Image, "decoding trellis");
    // Make "a" a sure start and "a" after "a" sure: greedy's path becomes the best.
    let first = h
        .query_all_by_label("first word")
        .find(|n| n.accesskit_node().role() == Role::SpinButton)
        .unwrap_or_else(|| panic!("no weight of the first word"));
    first.focus();
    h.run_steps(1);
    for _ in 0..3 {
        h.key_press(egui::Key::ArrowUp);
        h.run_steps(1);
    }
    h.run_steps(2);
    let start = setting(&mut h, "trellis_start");
    assert_ne!(start[0], Value::from(0.5), "the weight did not change");
    nudge(&mut h, "words per sequence", "depth");
    click(&mut h, "Lecture example");
    assert_eq!(setting(&mut h, "depth"), Value::from(3));
    assert_eq!(setting(&mut h, "trellis_start")[0], Value::from(0.5));
}

#[test]
fn the_beam_tree_steps_and_every_search_control_works() {
    let mut h = open(&[("section", "1")]);
    wait_for(&mut h, "Beam's best:");
    assert!(has_text(&h, "Greedy:  the ▸ bears play .   log p = -2.842"));
    assert!(has_text(&h, "Beam's best:  the ▸ game .   log p = -2.104"));
    h.get_by_role_and_label(Role::Image, "beam search tree");
    assert!(has_text(&h, "showing step 3 of 3"));
    click(&mut h, "⏮ First step");
    assert!(has_text(&h, "showing step 1 of 3"));
    click(&mut h, "Step ▶");
    assert!(has_text(&h, "showing step 2 of 3"));
    click(&mut h, "◀ Step back");
    assert_eq!(setting(&mut h, "shown_steps"), Value::from(1));
    click(&mut h, "All steps ⏭");
    assert!(has_text(&h, "showing step 3 of 3"));
    nudge(&mut h, "beam width W", "beam");
    nudge(&mut h, "max length", "max_len");
    click(&mut h, "length normalisation: score = log p / length^α");
    assert_eq!(setting(&mut h, "length_alpha"), Value::from(1.0));
    nudge(&mut h, "α", "length_alpha");
    type_into(&mut h, "Prompt", "she");
    wait_for(&mut h, "Greedy:  she ▸");
    type_into(&mut h, "Prompt", "zebras");
    wait_for(&mut h, "Not in the model's vocabulary: \"zebras\"");
    click(&mut h, "Load checkpoint…");
    assert!(has_text(&h, "Load checkpoint"));
    click(&mut h, "Cancel");
    assert_eq!(setting(&mut h, "checkpoint"), Value::Null);
}

#[test]
fn a_loaded_checkpoint_is_decoded() {
    let dir = std::env::temp_dir().join(format!("al-dec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("copy.safetensors");
    std::fs::write(&path, attention_lab::pretrained::BEARS).unwrap_or_else(|e| panic!("{e}"));
    let p = path.display().to_string();
    let mut h = open(&[("section", "1"), ("checkpoint", &p)]);
    wait_for(&mut h, "Beam's best:  the ▸ game .");
    assert!(has_text(&h, "copy.safetensors"));
    click(&mut h, "Bundled model");
    assert_eq!(setting(&mut h, "checkpoint"), Value::Null);
    let missing = dir.join("missing.safetensors").display().to_string();
    let mut h = open(&[("section", "1"), ("checkpoint", &missing)]);
    wait_for(&mut h, "missing.safetensors");
    assert!(has_text(&h, "Model: "));
    std::fs::remove_dir_all(&dir).unwrap_or(());
}

#[test]
fn exact_against_beam_width() {
    let mut h = open(&[("section", "2")]);
    assert!(has_text(
        &h,
        "Beam search finds it from W = 2; narrower beams miss it."
    ));
    wait_for(&mut h, "exact by branch and bound");
    assert!(has_text(&h, "Optimum \"game .\""));
    let drawn = attention_lab::widgets::figure::logged(&h.ctx);
    for id in ["decoding_exact_trellis", "decoding_exact_model"] {
        assert!(drawn.0.iter().any(|(f, _)| f == id), "{id} not drawn");
    }
    nudge(&mut h, "model horizon (tokens)", "horizon");
    nudge(&mut h, "trellis words", "depth");
    type_into(&mut h, "Prompt", "fans");
    wait_for(&mut h, "Optimum \"cheer");
}

#[test]
fn bleu_parts_presets_and_the_searches_outputs() {
    let mut h = open(&[("section", "3")]);
    assert!(has_text(&h, "BLEU = 0.5373"));
    click(&mut h, "the the the …");
    assert!(has_text(&h, "p1 = 2/7 = 0.286"));
    assert!(has_text(&h, "BLEU = 0.0000"));
    click(&mut h, "ε = 0.1 for a zero count (Chen & Cherry method 1)");
    assert!(has_text(&h, "BLEU = 0.0393"));
    click(&mut h, "none (Papineni)");
    click(&mut h, "Papineni et al. 2002");
    assert!(has_text(&h, "BLEU = 0.5046"));
    for (name, _, _) in attention_lab::lessons::decoding::bleu_presets() {
        click(&mut h, name);
    }
    // The last preset: no 4-gram in common, as long as the reference.
    assert!(has_text(&h, "p4 = 0/3 = 0.000"));
    assert!(has_text(&h, "exp(1 − 6/6) = 1.0000"));
    assert!(has_text(&h, "BLEU = 0.0000"));
    type_into(&mut h, "Candidate", "the bears won");
    assert!(has_text(&h, "exp(1 − 6/3) = 0.3679"));
    type_into(&mut h, "References (one per line)", "");
    assert!(has_text(&h, "Type at least one reference."));
    type_into(
        &mut h,
        "References (one per line)",
        "the bears won the game .",
    );
    wait_for(&mut h, "Greedy: \"the bears play .\"");
    type_into(&mut h, "Reference", "the bears play .");
    assert!(has_text(&h, "Greedy: \"the bears play .\"   BLEU = 1.0000"));
}
