//! UI tests of the app shell through accessibility queries (egui_kittest).

use std::collections::HashMap;

use attention_lab::app::{LabApp, StartOptions};
use attention_lab::lessons::all_lessons;
use attention_lab::widgets::Heatmap;
use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use ndarray::array;

fn app_harness(options: StartOptions) -> Harness<'static, LabApp> {
    sized_harness(options, egui::vec2(1280.0, 800.0))
}

fn sized_harness(options: StartOptions, size: egui::Vec2) -> Harness<'static, LabApp> {
    Harness::builder()
        .with_size(size)
        .build_eframe(move |cc| LabApp::new(cc, options))
}

/// Run until the UI stops repainting. A lesson that samples in the background shows a spinner
/// (and keeps repainting) until its thread is done, so this waits for it, at most 60 s.
fn settle<S>(harness: &mut Harness<'_, S>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while let Err(e) = harness.try_run() {
        assert!(std::time::Instant::now() < deadline, "{e}");
        std::thread::sleep(std::time::Duration::from_millis(30));
    }
}

#[test]
fn every_lesson_opens_from_the_side_panel() {
    let mut harness = app_harness(StartOptions::default());
    settle(&mut harness);
    for (i, lesson) in all_lessons().iter().enumerate() {
        harness
            .get_by_label(&format!("{}. {}", i + 1, lesson.info().title))
            .click();
        settle(&mut harness);
        assert_eq!(harness.state().current_lesson_id(), lesson.info().id);
        // The title is shown above the lesson (the side panel entry carries a number).
        harness.get_by_label(lesson.info().title);
    }
}

#[test]
fn presentation_mode_steps_through_lessons_with_the_keyboard() {
    let mut harness = app_harness(StartOptions::default());
    settle(&mut harness);
    let n = all_lessons().len();
    harness.key_press(Key::F5);
    settle(&mut harness);
    assert!(harness.state().presenting());
    // The side panel is hidden in presentation mode.
    assert!(harness.query_by_label("Lessons").is_none());
    for step in 1..n {
        harness.key_press(Key::PageDown);
        settle(&mut harness);
        assert_eq!(
            harness.state().current_lesson_id(),
            all_lessons()[step].info().id
        );
    }
    // At the end PageDown stays on the last lesson; PageUp and ← go back.
    harness.key_press(Key::PageDown);
    settle(&mut harness);
    assert_eq!(
        harness.state().current_lesson_id(),
        all_lessons()[n - 1].info().id
    );
    for _ in 1..n {
        harness.key_press(Key::ArrowLeft);
        settle(&mut harness);
    }
    assert_eq!(
        harness.state().current_lesson_id(),
        all_lessons()[0].info().id
    );
    harness.key_press(Key::F5);
    settle(&mut harness);
    assert!(!harness.state().presenting());
    harness.get_by_label("Lessons");
}

#[test]
fn presentation_mode_zooms_in_and_back() {
    let mut harness = app_harness(StartOptions {
        lesson: None,
        present: true,
        theme: None,
        play: false,
        sets: Vec::new(),
        notes: Vec::new(),
    });
    settle(&mut harness);
    // The window is made `PRESENT_WIDTH` points wide (at least 1.25×).
    let zoom = harness.ctx.zoom_factor();
    let width = harness.ctx.content_rect().width() * zoom;
    let want = (width / attention_lab::widgets::layout::PRESENT_WIDTH).clamp(1.25, 3.0);
    assert!((zoom - want).abs() < 1e-3, "zoom {zoom}, want {want}");
    assert!(zoom >= 1.25);
    harness.key_press(Key::F5);
    settle(&mut harness);
    assert!((harness.ctx.zoom_factor() - 1.0).abs() < 1e-3);
}

#[test]
fn theme_buttons_switch_the_theme() {
    let mut harness = app_harness(StartOptions::default());
    settle(&mut harness);
    harness.get_by_label("☀ Light").click();
    settle(&mut harness);
    assert_eq!(harness.ctx.theme(), egui::Theme::Light);
    harness.get_by_label("🌙 Dark").click();
    settle(&mut harness);
    assert_eq!(harness.ctx.theme(), egui::Theme::Dark);
}

#[test]
fn copy_data_puts_csv_on_the_clipboard() {
    let mut harness = app_harness(StartOptions::default());
    settle(&mut harness);
    harness.get_by_label("Copy data").click();
    settle(&mut harness);
    assert!(
        harness.state().status().starts_with("Copied"),
        "{}",
        harness.state().status()
    );
}

#[test]
fn save_png_writes_the_lesson_area_where_the_status_says() {
    let dir = std::env::temp_dir().join(format!("attention-lab-save-png-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut harness = app_harness(StartOptions::default());
    harness.state_mut().set_save_dir(dir.clone());
    settle(&mut harness);
    harness.get_by_label("Save PNG").click();
    settle(&mut harness);
    // The harness renders with wgpu, so the screenshot arrives and the file is written; the
    // status names it whole, with its size in pixels.
    let status = harness.state().status().to_owned();
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let image = files.first().map(|f| image::open(f).map(|i| i.to_rgba8()));
    std::fs::remove_dir_all(&dir).expect("temporary directory removed");
    assert_eq!(files.len(), 1, "{files:?}; status: {status}");
    let name = files[0].file_name().and_then(|n| n.to_str()).unwrap_or("");
    assert!(
        name.starts_with("overview-") && name.ends_with(".png"),
        "{name}"
    );
    let image = image.expect("one file").expect("a readable PNG");
    let (w, h) = image.dimensions();
    assert_eq!(
        status,
        format!("Saved {} ({w} × {h} px)", files[0].display()),
        "the status names the file and its size"
    );
    // The lesson area: less than the 1280 × 800 window (the side and status panels are not in
    // it), and not a sliver.
    assert!(
        (600..1280).contains(&w) && (400..800).contains(&h),
        "{w} × {h}"
    );
}

#[test]
fn a_long_status_wraps_inside_the_window() {
    // A figure saved from a deep folder on a 1024 × 640 laptop in presentation mode: the status
    // bar's message is longer than the window is wide, and wraps instead of running past it.
    let dir = std::env::temp_dir()
        .join(format!("attention-lab-long-status-{}", std::process::id()))
        .join("a folder with a rather long name, as course folders often have")
        .join("and another one inside it");
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let options = StartOptions {
        present: true,
        ..StartOptions::default()
    };
    let mut harness = sized_harness(options, egui::vec2(1024.0, 640.0));
    harness.state_mut().set_save_dir(dir.clone());
    settle(&mut harness);
    harness.get_by_label("Save PNG").click();
    settle(&mut harness);
    let status = harness.state().status().to_owned();
    let rect = harness.get_by_label(&status).rect();
    let window = harness.ctx.content_rect();
    if let Some(top) = dir.ancestors().nth(2) {
        std::fs::remove_dir_all(top).expect("temporary directory removed");
    }
    assert!(status.starts_with("Saved "), "{status}");
    assert!(
        window.contains_rect(rect),
        "the status {rect:?} runs outside the window {window:?}"
    );
    // Body text is 14 points, a line about 17: more than 28 points is at least two lines.
    assert!(rect.height() > 2.0 * 14.0, "one line only: {rect:?}");
}

/// In-memory storage for the persistence round trip.
#[derive(Default)]
struct MemoryStorage(HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

#[test]
fn selected_lesson_theme_and_settings_persist() {
    let last = all_lessons()
        .last()
        .map(|l| l.info().id)
        .unwrap_or("overview");
    let mut harness = app_harness(StartOptions {
        lesson: Some(last.to_owned()),
        present: false,
        theme: None,
        play: false,
        sets: Vec::new(),
        notes: Vec::new(),
    });
    settle(&mut harness);
    harness.get_by_label("☀ Light").click();
    settle(&mut harness);
    let mut storage = MemoryStorage::default();
    harness.state_mut().save_to(&mut storage);
    let restored = LabApp::from_storage(Some(&storage), StartOptions::default());
    assert_eq!(restored.current_lesson_id(), last);
    assert_eq!(
        restored.state().theme,
        attention_lab::app::ThemeChoice::Light
    );
    // A lesson's own settings come back too.
    let key = "attention-lab/lesson/overview";
    let mut settings: serde_json::Value =
        serde_json::from_str(&storage.get_string(key).unwrap_or_default()).unwrap_or_default();
    settings["d"] = 128.into();
    storage.set_string(key, settings.to_string());
    let mut restored = LabApp::from_storage(Some(&storage), StartOptions::default());
    let mut probe = MemoryStorage::default();
    restored.save_to(&mut probe);
    let back: serde_json::Value =
        serde_json::from_str(&probe.get_string(key).unwrap_or_default()).unwrap_or_default();
    assert_eq!(back["d"], 128);
}

use eframe::Storage as _;

#[test]
fn overview_blocks_open_their_lessons_or_say_coming() {
    let mut harness = app_harness(StartOptions::default());
    settle(&mut harness);
    harness.get_by_label("Block: MLP").click();
    settle(&mut harness);
    let has_residuals = all_lessons().iter().any(|l| l.info().id == "residuals");
    if has_residuals {
        assert_eq!(harness.state().current_lesson_id(), "residuals");
    } else {
        assert!(
            harness.state().status().contains("coming"),
            "{}",
            harness.state().status()
        );
    }
    let mut harness = app_harness(StartOptions::default());
    settle(&mut harness);
    harness.get_by_label("Block: Next token").click();
    settle(&mut harness);
    assert_eq!(harness.state().current_lesson_id(), "decoding");
    let mut harness = app_harness(StartOptions::default());
    settle(&mut harness);
    harness
        .get_by_label("Block: Multi-head masked self-attention")
        .hover();
    settle(&mut harness);
    harness.get_by_label_contains("Q, K, V: 3 × 64");
}

fn tokens() -> Vec<String> {
    ["i", "love", "bears"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// A heatmap alone, with fixed cells so we know where to point.
fn heatmap_harness(values: ndarray::Array2<f32>) -> Harness<'static> {
    let labels = tokens();
    Harness::builder()
        .with_size(egui::vec2(400.0, 300.0))
        .with_context_setup(attention_lab::widgets::fonts::install)
        .build_ui(move |ui| {
            Heatmap::new("Test attention map", values.view())
                .labels(Some(&labels), Some(&labels))
                .axis_names("query", "key")
                .max_cell(40.0)
                .show(ui);
        })
}

/// Centre of cell (r, c) of the heatmap named `label` in a 3 × 3 grid.
fn cell_center(harness: &Harness<'_>, r: usize, c: usize) -> egui::Pos2 {
    let rect = harness.get_by_label("Test attention map").rect();
    // Layout: the grid is the right part of the widget minus the colorbar (70 pt); 3 columns.
    let grid_right = rect.right() - 70.0;
    let grid_bottom = rect.bottom();
    let cell = 40.0;
    egui::pos2(
        grid_right - (3 - c) as f32 * cell + cell / 2.0,
        grid_bottom - (3 - r) as f32 * cell + cell / 2.0,
    )
}

#[test]
fn heatmap_hover_names_the_cell() {
    let values = array![[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.1, 0.734, 0.166]];
    let mut harness = heatmap_harness(values);
    settle(&mut harness);
    harness.hover_at(cell_center(&harness, 2, 1));
    settle(&mut harness);
    harness.get_by_label("query \"bears\" → key \"love\": 0.734");
}

#[test]
fn heatmap_masked_and_nan_cells_say_so() {
    let values = array![
        [1.0, f32::NEG_INFINITY, f32::NEG_INFINITY],
        [0.5, 0.5, f32::NEG_INFINITY],
        [f32::NAN, 0.7, 0.3]
    ];
    let mut harness = heatmap_harness(values);
    settle(&mut harness);
    harness.hover_at(cell_center(&harness, 0, 2));
    settle(&mut harness);
    harness.get_by_label_contains("query \"i\" → key \"bears\": masked");
    harness.hover_at(cell_center(&harness, 2, 0));
    settle(&mut harness);
    harness.get_by_label_contains("query \"bears\" → key \"i\": NaN");
}

#[test]
fn f12_toggles_the_frame_time_overlay() {
    let mut harness = app_harness(StartOptions::default());
    settle(&mut harness);
    assert!(
        harness
            .query_by_label_contains("CPU ms per frame")
            .is_none()
    );
    harness.key_press(Key::F12);
    harness.run_steps(3);
    harness.get_by_label_contains("CPU ms per frame");
    harness.key_press(Key::F12);
    harness.run_steps(3);
    assert!(
        harness
            .query_by_label_contains("CPU ms per frame")
            .is_none()
    );
}

/// A link (the browser's URL fragment) opens a lesson with exactly the settings it names, the
/// defaults elsewhere; the app's own link reads back to the same figure; a bad link changes
/// nothing but the status bar.
#[test]
fn links_open_one_exact_figure_and_read_back() {
    let mut app = LabApp::from_storage(None, StartOptions::default());
    assert_eq!(app.link(), "lesson=overview");
    app.follow_link("lesson=softmax&section=2&scale=50&n=12&present&theme=light");
    assert_eq!(app.current_lesson_id(), "softmax");
    assert!(app.presenting());
    assert_eq!(app.state().theme, attention_lab::app::ThemeChoice::Light);
    let settings = app.lesson_settings("softmax").unwrap_or_default();
    assert_eq!(
        (
            settings["section"].as_u64(),
            settings["scale"].as_f64(),
            settings["n"].as_u64()
        ),
        (Some(2), Some(50.0), Some(12))
    );
    let link = app.link();
    assert!(
        link.starts_with("lesson=softmax&")
            && link.contains("section=2")
            && link.contains("scale=50")
            && link.contains("n=12"),
        "{link}"
    );
    // Following a link restores the defaults it does not name.
    app.follow_link("lesson=softmax&n=9");
    let settings = app.lesson_settings("softmax").unwrap_or_default();
    assert_eq!(
        (
            settings["section"].as_u64(),
            settings["scale"].as_f64(),
            settings["n"].as_u64()
        ),
        (Some(0), Some(100.0), Some(9))
    );
    // The app's link, followed in a fresh app, gives the same settings.
    let link = app.link();
    let mut fresh = LabApp::from_storage(None, StartOptions::default());
    fresh.follow_link(&link);
    assert_eq!(
        fresh.lesson_settings("softmax"),
        app.lesson_settings("softmax")
    );
    // Bad links: nothing changes, the status says why.
    let before = app.lesson_settings("softmax");
    for (bad, why) in [
        ("lesson=nope", "no lesson \"nope\""),
        ("lesson=softmax&n=-3", "\"n\""),
        ("lesson=softmax&bogus=1", "no setting \"bogus\""),
        ("scale=100", "names no lesson"),
        ("lesson=softmax&theme=pink", "light or dark"),
    ] {
        app.follow_link(bad);
        assert!(app.status().contains(why), "{bad}: {}", app.status());
        assert_eq!(app.lesson_settings("softmax"), before, "{bad}");
        assert_eq!(app.current_lesson_id(), "softmax");
    }
}
