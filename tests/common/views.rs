//! Every view of the app — each lesson, each of its sections (the live lesson: each tab) — and a
//! harness that opens one at a given window size, theme and mode. Shared by the layout test and
//! the snapshot test.

#![allow(dead_code)]

use attention_lab::app::{LabApp, StartOptions, ThemeChoice};
use attention_lab::lessons::all_lessons;
use attention_lab::lessons::live::LiveTab;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use serde_json::json;

/// One view: a lesson and the `--set key=value` that opens its section.
#[derive(Debug, Clone)]
pub struct View {
    pub lesson: &'static str,
    pub set: Option<(String, String)>,
}

impl View {
    /// A name for files and messages: `softmax-2`, `live-mixing`, `overview`.
    pub fn name(&self) -> String {
        match &self.set {
            Some((_, v)) => format!("{}-{v}", self.lesson),
            None => self.lesson.to_owned(),
        }
    }
}

/// Every view, in lecture order: a sectioned lesson's sections are found by asking its settings
/// which `section` values they take; the live lesson's tabs come from `LiveTab::ALL`.
pub fn all_views() -> Vec<View> {
    let mut views = Vec::new();
    for mut lesson in all_lessons() {
        let id = lesson.info().id;
        let settings = lesson.settings().to_json();
        if settings.get("section").is_some() {
            for n in 0..64 {
                if lesson.settings().set_json(json!({ "section": n })).is_err() {
                    break;
                }
                views.push(View {
                    lesson: id,
                    set: Some(("section".into(), n.to_string())),
                });
            }
        } else if settings.get("tab").is_some() {
            for (tab, _) in LiveTab::ALL {
                let value = serde_json::to_value(tab)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                views.push(View {
                    lesson: id,
                    set: Some(("tab".into(), value)),
                });
            }
        } else {
            views.push(View {
                lesson: id,
                set: None,
            });
        }
    }
    views
}

/// The two windows of the issue: a student's laptop (normal mode) and a 1080p projector
/// (presentation mode).
pub const WINDOWS: [(&str, [f32; 2], bool); 2] = [
    ("1024x640", [1024.0, 640.0], false),
    ("1920x1080", [1920.0, 1080.0], true),
];

/// A harness on `view` at `size`, settled: background computations finished, the first
/// frames drawn. `wgpu`: render (for snapshots).
pub fn open(
    view: &View,
    size: [f32; 2],
    present: bool,
    theme: ThemeChoice,
    wgpu: bool,
) -> Harness<'static, LabApp> {
    let options = StartOptions {
        lesson: Some(view.lesson.to_owned()),
        present,
        theme: Some(theme),
        play: false,
        sets: view.set.clone().into_iter().collect(),
        notes: Vec::new(),
    };
    let mut builder = Harness::builder().with_size(egui::vec2(size[0], size[1]));
    if wgpu {
        builder = builder.wgpu();
    }
    let mut h = builder.build_eframe(move |cc| LabApp::new(cc, options));
    settle(&mut h);
    h
}

/// Step until the sections that compute in the background have their figures (no spinner
/// text) — at most 60 s.
pub fn settle(h: &mut Harness<'static, LabApp>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    h.run_steps(4);
    let busy = |h: &Harness<'static, LabApp>| {
        h.query_by_label_contains("Sampling").is_some()
            || h.query_by_label_contains("Searching").is_some()
            || h.query_by_label_contains("Recomputing").is_some()
            || h.query_by_label_contains("Drawing batches").is_some()
            || h.query_by_label_contains("Computing EM step").is_some()
            // The live lesson's replay turns on when the worker's first recorded frame of the
            // prompt arrives (asynchronously).
            || h.query_all_by_label("replay training")
                .any(|n| n.accesskit_node().is_disabled())
    };
    while busy(h) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(30));
        h.run_steps(1);
    }
    h.run_steps(3);
}
