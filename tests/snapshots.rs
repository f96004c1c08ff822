//! Snapshot images of every view at a student's 1024 × 640 laptop and a 1920 × 1080 projector
//! in presentation mode, in both themes, rendered with wgpu (on a machine without a GPU: Mesa's
//! software Vulkan driver, lavapipe, which `.ci/run` installs) and compared with the images
//! committed under `tests/snapshots/` (egui_kittest's snapshot feature; a failing comparison
//! writes `*.diff.png` and `*.new.png` beside them). After a deliberate change to what a view
//! shows, look at the new images, then accept them with `UPDATE_SNAPSHOTS=1 cargo test --test
//! snapshots`.
//!
//! Left out: the views whose picture is a live training run (compare runs), which differ from
//! run to run in the step reached when the image is taken; their layout is still checked by
//! `ui_layout.rs`.

mod common;

use attention_lab::app::ThemeChoice;
use common::views::{WINDOWS, all_views, open};

/// Views that show runs training while the image is taken.
const LIVE_RUNS: [&str; 5] = [
    "live-compare",
    "softmax-3",
    "norms-4",
    "attention-4",
    "residuals-2",
];

#[test]
fn every_view_matches_its_snapshot() {
    let mut failures = Vec::new();
    let mut taken = 0;
    // A pixel fails when its weighted squared YIQ distance exceeds 3 (egui_kittest's default is
    // 0.6). Lavapipe compiles its rasterizer for the CPU it runs on, and on another x86 CPU the
    // same build drew some antialiased edges 1 or 2 units (of 255) apart: on 2026-12-03 rnn §1
    // at 1920 × 1080 differed in 1944 pixels, 3 of them above 0.6 and none above 3. A change a
    // student could see (a moved line, a changed number, another colour) is far above 3.
    let tolerance = egui_kittest::SnapshotOptions::new().threshold(3.0);
    // SNAPSHOT_ONLY=softmax: only the views whose name contains it (while working on them).
    let only = std::env::var("SNAPSHOT_ONLY").ok();
    for view in all_views() {
        if LIVE_RUNS.contains(&view.name().as_str()) {
            continue;
        }
        if only
            .as_ref()
            .is_some_and(|o| !view.name().contains(o.as_str()))
        {
            continue;
        }
        for (size_name, size, present) in WINDOWS {
            for (theme, theme_name) in [(ThemeChoice::Light, "light"), (ThemeChoice::Dark, "dark")]
            {
                let mut h = open(&view, size, present, theme, true);
                let name = format!("{}-{size_name}-{theme_name}", view.name());
                if let Err(e) = h.try_snapshot_options(&name, &tolerance) {
                    failures.push(format!("{name}: {e}"));
                }
                taken += 1;
            }
        }
    }
    assert!(only.is_some() || taken >= 25 * 4, "only {taken} snapshots");
    assert!(
        failures.is_empty(),
        "{} snapshots differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
