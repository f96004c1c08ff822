//! Helpers of the lessons' UI tests (egui_kittest, accessibility queries): open a lesson with
//! `--set` values, read its settings, click, nudge a slider, type, wait for text.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use attention_lab::app::{LabApp, StartOptions};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use serde_json::Value;

/// The app on `lesson` with `sets` applied, in a tall window (every control on screen), after
/// its first frames.
pub fn open(lesson: &str, sets: &[(&str, &str)]) -> Harness<'static, LabApp> {
    let options = StartOptions {
        lesson: Some(lesson.into()),
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

/// One of `lesson`'s settings (Null if it has none by that name).
pub fn setting(h: &mut Harness<'static, LabApp>, lesson: &str, key: &str) -> Value {
    h.state_mut()
        .lesson_settings(lesson)
        .and_then(|s| s.get(key).cloned())
        .unwrap_or(Value::Null)
}

/// Click the control (not a label) called `label`, then draw two frames.
pub fn click(h: &mut Harness<'static, LabApp>, label: &str) {
    let node = h
        .query_all_by_label(label)
        .find(|n| n.accesskit_node().role() != Role::Label)
        .unwrap_or_else(|| panic!("no control \"{label}\""));
    node.click();
    h.run_steps(2);
}

/// Does any label or widget show `text`?
pub fn has_text(h: &Harness<'static, LabApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
        || h.query_all_by_role(Role::Label)
            .any(|n| n.accesskit_node().value().is_some_and(|v| v.contains(text)))
}

/// Draw frames until `text` shows (background work), at most 60 s.
pub fn wait_for(h: &mut Harness<'static, LabApp>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !has_text(h, text) {
        assert!(Instant::now() < deadline, "\"{text}\" never showed");
        std::thread::sleep(Duration::from_millis(20));
        h.run_steps(1);
    }
}

/// Move the slider called `name` one step (right, or left at its end) and check that `key` of
/// `lesson`'s settings changed.
pub fn nudge(h: &mut Harness<'static, LabApp>, lesson: &str, name: &str, key: &str) {
    let before = setting(h, lesson, key);
    for arrow in [egui::Key::ArrowRight, egui::Key::ArrowLeft] {
        h.get_by_role_and_label(Role::Slider, name).focus();
        h.run_steps(1);
        h.key_press(arrow);
        h.run_steps(2);
        if setting(h, lesson, key) != before {
            return;
        }
    }
    panic!("slider \"{name}\" did not change {key} (still {before})");
}

/// Replace the text of the text field called `name` with `text`.
pub fn type_into(h: &mut Harness<'static, LabApp>, name: &str, text: &str) {
    let role = if h.query_by_role_and_label(Role::TextInput, name).is_some() {
        Role::TextInput
    } else {
        Role::MultilineTextInput
    };
    h.get_by_role_and_label(role, name).focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Delete);
    h.run_steps(1);
    if !text.is_empty() {
        h.get_by_role_and_label(role, name).type_text(text);
    }
    h.run_steps(2);
}
