//! UI tests of "The transformer, live" (egui_kittest). Training runs on the worker thread; the
//! tests step the harness and wait for snapshots, never calling `run()` while training is live.

use std::time::{Duration, Instant};

use attention_lab::app::{LabApp, StartOptions};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

fn live() -> Harness<'static, LabApp> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 3000.0))
        .build_eframe(|cc| {
            LabApp::new(
                cc,
                StartOptions {
                    lesson: Some("live".into()),
                    present: false,
                    theme: None,
                    play: false,
                    sets: Vec::new(),
                    notes: Vec::new(),
                },
            )
        });
    h.run_steps(3);
    h
}

/// Step the UI (with real time passing for the worker) until `done` holds.
fn step_until(
    h: &mut Harness<'static, LabApp>,
    what: &str,
    done: impl Fn(&Harness<'static, LabApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(h) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
        h.run_steps(1);
    }
}

/// Replace the file dialog's file name with `text`.
fn type_file_name(h: &mut Harness<'static, LabApp>, text: &str) {
    h.get_by_role_and_label(Role::TextInput, "file name")
        .focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_role_and_label(Role::TextInput, "file name")
        .type_text(text);
    h.run_steps(1);
}

fn step_count(h: &Harness<'static, LabApp>) -> usize {
    h.query_all_by_label_contains("step ")
        .filter_map(|n| {
            n.accesskit_node()
                .value()
                .and_then(|l| l.strip_prefix("step ").and_then(|s| s.trim().parse().ok()))
        })
        .next()
        .unwrap_or(usize::MAX)
}

#[test]
fn opens_on_the_pretrained_model_with_every_head_drawn() {
    let h = live();
    // 2 layers × 4 heads of the pretrained model, no map enlarged yet.
    assert_eq!(h.query_all_by_label_contains("attention layer").count(), 8);
    assert!(h.query_by_label("attention enlarged").is_none());
    // The bundled model's training run (600 steps) is drawn and counted.
    h.get_by_label("step 600");
    let figures = attention_lab::widgets::figure::logged(&h.ctx);
    assert!(
        figures.0.iter().any(|(id, _)| id == "live_loss"),
        "{figures:?}"
    );
}

#[test]
fn play_advances_the_step_counter_and_pause_stops_it() {
    let mut h = live();
    // Paused, no rate is claimed: not "0 tokens/s".
    h.get_by_label("— tokens/s");
    h.get_by_label("Reset").click();
    step_until(&mut h, "the reset", |h| step_count(h) == 0);
    h.get_by_label("Step").click();
    step_until(&mut h, "one step", |h| step_count(h) == 1);
    h.get_by_label("▶ Play").click();
    step_until(&mut h, "training to advance", |h| {
        step_count(h) != usize::MAX && step_count(h) >= 5
    });
    // Training for half a second or more, the rate is measured: a positive number.
    step_until(&mut h, "a measured rate", |h| {
        h.query_all_by_label_contains("tokens/s").any(|n| {
            n.accesskit_node()
                .value()
                .and_then(|l| {
                    l.strip_suffix(" tokens/s")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .is_some_and(|v| v > 0.0)
        })
    });
    h.get_by_label("⏸ Pause").click();
    step_until(&mut h, "the pause", |h| {
        h.query_by_label("▶ Play").is_some()
    });
    h.get_by_label("— tokens/s");
    let paused = step_count(&h);
    std::thread::sleep(Duration::from_millis(150));
    h.run_steps(3);
    assert_eq!(step_count(&h), paused);
}

#[test]
fn editing_the_prompt_changes_the_axis_labels_and_flags_unknown_words() {
    let mut h = live();
    let prompt = h.get_by_role_and_label(Role::TextInput, "Prompt");
    prompt.focus();
    h.run_steps(1);
    h.get_by_role_and_label(Role::TextInput, "Prompt")
        .type_text(" won");
    h.run_steps(3);
    // The chip for the new token is shown and the maps now have 4 rows and columns.
    assert!(h.query_all_by_label("won").count() >= 1);
    h.get_by_role_and_label(Role::TextInput, "Prompt")
        .type_text(" salmon");
    h.run_steps(3);
    h.get_by_label_contains("Not in the vocabulary: \"salmon\"");
}

#[test]
fn head_average_shows_one_map_per_layer() {
    let mut h = live();
    h.get_by_label("average over heads").click();
    h.run_steps(3);
    assert_eq!(h.query_all_by_label_contains("attention layer").count(), 2);
    h.get_by_label("pre-softmax scores").click();
    h.run_steps(3);
    assert_eq!(h.query_all_by_label_contains("attention layer").count(), 2);
}

#[test]
fn the_three_bears_preset_shows_three_sentences() {
    let mut h = live();
    assert_eq!(h.query_all_by_label_contains("bears in:").count(), 0);
    h.get_by_label("The three bears").click();
    h.run_steps(3);
    for sentence in [
        "i love bears",
        "she bears the pain",
        "the bears won the game",
    ] {
        h.get_by_label(&format!("bears in: {sentence}"));
    }
}

#[test]
fn replay_shows_attention_recorded_during_training() {
    let mut h = live();
    h.get_by_label("Reset").click();
    h.get_by_label("Step").click();
    step_until(&mut h, "one step", |h| step_count(h) == 1);
    // A probe frame is recorded at the reset (step 0); the replay control turns on.
    h.get_by_label("replay training").click();
    step_until(&mut h, "the replay slider", |h| {
        h.query_by_label("recorded frame").is_some()
    });
    h.get_by_label("step 0 (recorded)");
}

#[test]
fn generate_appends_a_token_and_mixing_shows_every_head() {
    let mut h = live();
    let before = h
        .query_all_by_label_contains("attention layer 1 head")
        .count();
    assert_eq!(before, 4);
    let default = "she bears the pain . the bears won the game";
    h.get_by_label("Generate").click();
    h.run_steps(3);
    // Greedy decoding appends the most likely token: the prompt box holds one more token.
    let prompt = h
        .get_by_role_and_label(Role::TextInput, "Prompt")
        .value()
        .unwrap_or_default();
    assert!(prompt.starts_with(default), "{prompt}");
    assert_eq!(prompt.split_whitespace().count(), 11, "{prompt}");
    h.get_by_label("Multi-head mixing").click();
    h.run_steps(3);
    assert_eq!(h.query_all_by_label_contains("head output").count(), 4);
    h.get_by_label("mixing matrix W_O");
    h.get_by_label("mixed output");
}

#[test]
fn save_and_load_through_the_file_dialog() {
    let mut h = live();
    let path = std::env::temp_dir().join(format!("al-ui-{}.safetensors", std::process::id()));
    h.get_by_label("Save…").click();
    h.run_steps(2);
    type_file_name(&mut h, &path.display().to_string());
    h.get_by_label("Save").click();
    step_until(&mut h, "the save", |h| {
        h.query_by_label_contains("saved ").is_some()
    });
    assert!(path.is_file());

    // Loading a file that is not there is refused by the dialog itself.
    h.get_by_label("Load…").click();
    h.run_steps(2);
    type_file_name(&mut h, "/nonexistent/model.safetensors");
    h.get_by_label("Load").click();
    h.run_steps(2);
    h.get_by_label_contains("does not exist");
    h.get_by_label("Cancel").click();
    h.run_steps(2);

    // A file that is not a checkpoint: the engine's error is shown.
    let junk = std::env::temp_dir().join(format!("al-ui-junk-{}.safetensors", std::process::id()));
    std::fs::write(&junk, b"not a checkpoint").unwrap_or(());
    h.get_by_label("Load…").click();
    h.run_steps(2);
    type_file_name(&mut h, &junk.display().to_string());
    h.get_by_label("Load").click();
    step_until(&mut h, "the load error", |h| {
        h.query_by_label_contains("not a safetensors").is_some()
    });
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&junk);
}

#[test]
fn changing_heads_asks_first_then_retrains_with_that_many_maps() {
    let mut h = live();
    h.get_by_label("Model and task").click();
    h.run_steps(2);
    let heads = h.get_by_role_and_label(Role::SpinButton, "heads");
    heads.focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_role_and_label(Role::SpinButton, "heads")
        .type_text("2");
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    h.get_by_label("Apply").click();
    h.run_steps(2);
    // Asked before the trained model is discarded; Cancel keeps it.
    h.get_by_label("Discard the trained model?");
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    h.get_by_label("Training").click();
    h.run_steps(2);
    assert_eq!(h.query_all_by_label_contains("attention layer").count(), 8);
    h.get_by_label("Model and task").click();
    h.run_steps(2);
    h.get_by_label("Apply").click();
    h.run_steps(2);
    h.get_by_label("Discard and retrain").click();
    step_until(&mut h, "2 layers × 2 heads", |h| {
        h.query_all_by_label_contains("attention layer").count() == 4
    });
}

#[test]
fn compare_mode_trains_one_run_per_configuration() {
    let mut h = live();
    h.get_by_label("Compare runs").click();
    h.run_steps(2);
    // The runs start when the tab first opens. The default preset compares scaled and
    // unscaled attention: two runs, two maps.
    step_until(&mut h, "two runs", |h| {
        h.query_all_by_label_contains("run: ").count() == 2
    });
    h.get_by_label("2 runs");
    h.get_by_label("Pause runs").click();
    h.run_steps(2);
}

#[test]
fn a_bad_text_file_is_refused_with_the_reason_and_the_model_is_kept() {
    let mut h = live();
    let bad = std::env::temp_dir().join(format!("al-ui-latin1-{}.txt", std::process::id()));
    std::fs::write(&bad, [b'c', b'a', b'f', 0xe9, b'\n']).unwrap_or(());
    h.get_by_label("Model and task").click();
    h.run_steps(2);
    h.get_by_label("task").click();
    h.run_steps(2);
    h.get_by_label("Text").click();
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.get_by_label("Choose text file…").click();
    h.run_steps(2);
    h.get_by_label("Choose a text file");
    type_file_name(&mut h, &bad.display().to_string());
    h.get_by_label("Load").click();
    h.run_steps(2);
    h.get_by_label("Apply").click();
    h.run_steps(2);
    h.get_by_label("Discard and retrain").click();
    step_until(&mut h, "the error", |h| {
        h.query_by_label_contains("is not UTF-8").is_some()
    });
    // The pretrained model is still there: 2 layers × 4 heads.
    assert_eq!(h.query_all_by_label_contains("attention layer").count(), 8);
    let _ = std::fs::remove_file(&bad);
}

#[test]
fn every_remaining_control_responds() {
    let mut h = live();
    // Clicking a thumbnail enlarges it; "All heads" goes back to the grid.
    h.get_by_label("attention layer 2 head 3").click();
    h.run_steps(2);
    h.get_by_label("attention enlarged");
    h.get_by_label("layer 2 head 3");
    assert_eq!(h.query_all_by_label_contains("attention layer").count(), 0);
    h.get_by_label("◀ All heads").click();
    h.run_steps(2);
    assert_eq!(h.query_all_by_label_contains("attention layer").count(), 8);
    // Log scale off and on again.
    h.get_by_label("log scale").click();
    h.run_steps(2);
    h.get_by_label("log scale").click();
    h.run_steps(2);
    // Sampled generation with its seed.
    h.get_by_label("sampled").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::SpinButton, "seed");
    h.get_by_label("Generate").click();
    h.run_steps(2);
    let prompt = h
        .get_by_role_and_label(Role::TextInput, "Prompt")
        .value()
        .unwrap_or_default();
    assert_eq!(prompt.split_whitespace().count(), 11, "{prompt}");
    h.get_by_label("greedy").click();
    h.run_steps(2);
    // Temperature and learning rate sliders take keyboard input.
    for name in ["temperature", "learning rate"] {
        let slider = h.get_by_role_and_label(Role::Slider, name);
        let before = slider.accesskit_node().numeric_value();
        assert!(before.is_some(), "{name}");
        slider.focus();
        h.run_steps(1);
        h.key_press(egui::Key::ArrowRight);
        h.run_steps(2);
        let after = h
            .get_by_role_and_label(Role::Slider, name)
            .accesskit_node()
            .numeric_value();
        assert_ne!(after, before, "{name}");
    }
    // The model switches: positions, norm, scaling, mask.
    h.get_by_label("Model and task").click();
    h.run_steps(2);
    h.get_by_label("positions").click();
    h.run_steps(2);
    h.get_by_label("Sinusoidal").click();
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.get_by_label("norm").click();
    h.run_steps(2);
    h.get_by_label("RmsNorm").click();
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.get_by_label("scale by 1/√d").click();
    h.get_by_label("causal mask").click();
    h.run_steps(2);
    h.get_by_label("Apply").click();
    h.run_steps(2);
    h.get_by_label("Discard and retrain").click();
    // An encoder (no mask) with sinusoidal positions: the model line says so, and no cell of the
    // maps is masked any more.
    step_until(&mut h, "the new model", |h| {
        h.query_by_label_contains("Sinusoidal positions · RmsNorm")
            .is_some()
    });
    // Reset with a new seed keeps the new switches.
    h.get_by_label("Reset (new seed)").click();
    h.run_steps(3);
    h.get_by_label_contains("Sinusoidal positions · RmsNorm");
    // The mixing layer slider and the replay slider.
    h.get_by_label("Multi-head mixing").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Slider, "layer");
    // Compare: another preset, start, pause, resume.
    h.get_by_label("Compare runs").click();
    h.run_steps(2);
    h.get_by_label("compare").click();
    h.run_steps(2);
    h.get_by_label("LayerNorm vs BatchNorm vs RMSNorm vs none")
        .click();
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.get_by_label("Start runs").click();
    step_until(&mut h, "four runs", |h| {
        h.query_all_by_label_contains("run: ").count() == 4
    });
    h.get_by_label("Pause runs").click();
    h.run_steps(2);
    h.get_by_label("Resume runs").click();
    h.run_steps(2);
}
