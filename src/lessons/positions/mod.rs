//! Lesson "Positional encodings: sinusoids as analog binary digits".
//!
//! Binary position digits flip fastest in the first column and an octave slower in each next one;
//! sinusoids whose frequency halves per column are their analog version — thresholded at 0 they
//! give the digits back. The vectors are added to the token embeddings, and without them the
//! transformer cannot tell order: shuffle the tokens and the outputs are the same rows shuffled.
//! Math: `math::positions` and `model::position`.

mod add;
mod order;
mod read;
pub mod settings;
mod similarity;
mod tables;

use egui::Ui;
use ndarray::Array2;
use serde_json::{Value, json};

use crate::lessons::common::background::Cached;
use crate::lessons::lesson::{Lesson, LessonInfo, LessonSettings, Sectioned};
use crate::math::positions::{Tables, permutation, tables};
use crate::model::PosEncoding;
use crate::pretrained::bears_shared;
use crate::widgets::plots::labelled;
use crate::widgets::{Colormap, Heatmap};
pub use settings::PositionSettings;

/// The tables of a section, by (T, d, base bits).
type TablesCache = Cached<(usize, usize, u64), Tables>;

/// The lesson, for the registry.
pub fn lesson() -> Box<dyn Lesson> {
    Box::new(Sectioned::new(
        LessonInfo {
            id: "positions",
            title: "Positional encodings: sinusoids as analog binary digits",
            summary: "Binary position digits flip an octave slower in each column; sinusoids are their analog version. They are added to the tokens — and without them attention cannot tell order.",
        },
        vec![
            Box::new(tables::TablesSection::default()),
            Box::new(read::Read::default()),
            Box::new(similarity::Similarity::default()),
            Box::new(add::Add::default()),
            Box::new(order::Order::default()),
        ],
        data,
    ))
}

/// ‖row‖₂.
fn norm(row: ndarray::ArrayView1<'_, f32>) -> f32 {
    row.dot(&row).sqrt()
}

/// The T and d sliders of sections 1–3.
fn size_controls(ui: &mut Ui, settings: &mut PositionSettings) {
    ui.horizontal_wrapped(|ui| {
        labelled(ui, "positions T", |ui| {
            ui.add(egui::Slider::new(&mut settings.ctx, 2..=256).logarithmic(true))
        });
        labelled(ui, "width d", |ui| {
            ui.add(egui::Slider::new(&mut settings.d, 2..=128).step_by(2.0))
        });
    });
    if !settings.d.is_multiple_of(2) {
        settings.d += 1;
    }
}

fn pos_name(p: PosEncoding) -> &'static str {
    match p {
        PosEncoding::Learned => "learned (random init)",
        PosEncoding::Sinusoidal => "sinusoidal",
        PosEncoding::Binary => "binary",
        PosEncoding::None => "no",
    }
}

/// One positions × dimensions table as drawn: its title, values, colour range and map, and what
/// its columns are.
struct TableMap<'a> {
    title: &'static str,
    values: &'a Array2<f32>,
    range: (f32, f32),
    colormap: Colormap,
    col_name: &'static str,
}

/// Tables (a)–(d) of section 1, in order.
fn maps(t: &Tables) -> [TableMap<'_>; 4] {
    let map = |title, values, range, colormap, col_name| TableMap {
        title,
        values,
        range,
        colormap,
        col_name,
    };
    [
        map(
            "(a) binary digits",
            &t.binary,
            (0.0, 1.0),
            Colormap::Viridis,
            "bit",
        ),
        map(
            "(b) sinusoidal (Vaswani)",
            &t.sinusoidal,
            (-1.0, 1.0),
            Colormap::Diverging,
            "dim",
        ),
        map(
            "(c) octave sinusoids",
            &t.octave,
            (-1.0, 1.0),
            Colormap::Diverging,
            "bit",
        ),
        map(
            "(d) (c) thresholded at 0",
            &t.thresholded,
            (0.0, 1.0),
            Colormap::Viridis,
            "bit",
        ),
    ]
}

/// The width a table map takes: about 12 points a column, plus its labels and colour bar.
fn table_width(map: &TableMap<'_>) -> f32 {
    (map.values.ncols() as f32 * 12.0 + 110.0).clamp(200.0, 380.0)
}

fn table_map(ui: &mut Ui, map: &TableMap<'_>, height: f32, version: u64, row: Option<usize>) {
    ui.vertical(|ui| {
        ui.strong(map.title);
        // At most its own width, less where the caller gives it less.
        let width = table_width(map).min(ui.max_rect().width());
        Heatmap::new(map.title, map.values.view())
            .axis_names("position", map.col_name)
            .colormap(map.colormap)
            .range(map.range.0, map.range.1)
            .max_size(egui::vec2(width, height))
            .stretch_columns()
            .highlight_row(row)
            .version(version)
            .show(ui);
    });
}

fn sim_map(ui: &mut Ui, title: &str, m: &Array2<f32>, lim: f32, version: u64, size: egui::Vec2) {
    ui.vertical(|ui| {
        ui.strong(title);
        Heatmap::new(title, m.view())
            .axis_names("position i", "position j")
            .colormap(Colormap::Diverging)
            .range(-lim, lim)
            .max_size(size)
            .version(version)
            .show(ui);
    });
}

fn data(s: &PositionSettings) -> Value {
    let t = tables(s.ctx, s.d, s.base);
    let rows = |a: &Array2<f32>| -> Vec<Vec<f32>> { a.outer_iter().map(|r| r.to_vec()).collect() };
    let pre = bears_shared();
    let perm = pre
        .clone()
        .and_then(|(_, tok)| permutation(tok, &s.prompt, s.seed, s.with));
    json!({
        "settings": s.to_json(),
        "bits": t.bits,
        "binary": rows(&t.binary),
        "sinusoidal": rows(&t.sinusoidal),
        "octave": rows(&t.octave),
        "octave_thresholded": rows(&t.thresholded),
        "octave_thresholded_equals_binary": t.thresholded == t.binary,
        "similarity_sinusoidal": rows(&t.sim_sinusoidal),
        "similarity_binary": rows(&t.sim_binary),
        "learned": pre.ok().and_then(|(m, _)| m.params.wpe.as_ref()).map(rows),
        "permutation": match perm {
            Ok(r) => json!({
                "tokens": r.tokens,
                "perm": r.perm,
                "max_diff_no_positions": r.max_diff_none,
                "max_diff_with_positions": r.max_diff_with,
                "with": s.with,
            }),
            Err(e) => json!({"error": e}),
        },
    })
}
