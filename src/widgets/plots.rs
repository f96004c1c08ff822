//! Small helpers the lessons share: log-scale plot data, section tabs, labelled sliders.

use egui::{Response, Ui};
use egui_plot::PlotPoints;

/// Points (x_i, log10 |y_i|) for a log-scale y axis. NaN, ±∞ and 0 (which underflowed: it has
/// no logarithm) are left out — a gap, not a made-up floor.
pub fn log10_points(xs: impl IntoIterator<Item = f64>, ys: &[f64]) -> PlotPoints<'static> {
    xs.into_iter()
        .zip(ys)
        .filter(|(_, y)| y.is_finite() && **y != 0.0)
        .map(|(x, y)| [x, y.abs().log10()])
        .collect()
}

/// Tick labels for an axis that holds log10 values: 10^m written out (1e-6, 0.01, 1, 100, 1e6).
pub fn log_tick(value: f64) -> String {
    let v = 10f64.powf(value);
    if (1e-3..1e4).contains(&v) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{v:.0e}")
    }
}

/// A row of tabs, one per section of a lesson; returns true when the choice changed.
pub fn section_tabs(ui: &mut Ui, current: &mut usize, names: &[&str]) -> bool {
    let before = *current;
    ui.horizontal_wrapped(|ui| {
        for (i, name) in names.iter().enumerate() {
            ui.selectable_value(current, i, egui::RichText::new(*name).size(15.0));
        }
    });
    ui.separator();
    before != *current
}

/// A label followed by a widget that is named by it (for screen readers and the UI tests). In a
/// wrapping row the two stay together: a new row starts first when they would not both fit (a
/// nested horizontal group would not wrap and could run past the window's edge).
pub fn labelled(ui: &mut Ui, label: &str, add: impl FnOnce(&mut Ui) -> Response) -> Response {
    if !ui.layout().main_wrap() {
        return ui
            .horizontal(|ui| {
                let l = ui.label(label);
                add(ui).labelled_by(l.id)
            })
            .inner;
    }
    let font = egui::TextStyle::Body.resolve(ui.style());
    let text = ui
        .painter()
        .layout_no_wrap(label.to_owned(), font, egui::Color32::WHITE)
        .size()
        .x;
    // A slider with its value box, or a text field: about this wide.
    let need = text + ui.spacing().slider_width + 90.0;
    let at_start = ui.cursor().left() <= ui.max_rect().left() + 1.0;
    if !at_start && ui.available_size_before_wrap().x < need {
        ui.end_row();
    }
    let l = ui.label(label);
    add(ui).labelled_by(l.id)
}

/// How an axis of a plot holds its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The value itself.
    Linear,
    /// log10 of the value (a log axis; ticks from [`log_tick`]).
    Log10,
    /// Whole numbers: an index (score i, position p, step t). Ticks are whole and hover
    /// shows the nearest index, never "i = −0.6132".
    Index,
}

/// A number for hover text: up to 4 decimals without trailing zeros, or scientific notation
/// when it is very small or large.
fn hover_number(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e5).contains(&v.abs()) {
        format!("{v:.4e}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Hover text for any plot: the series name (near a point), then each axis's name and its real
/// value (log axes are turned back into values).
pub fn hover_on(
    x: (impl Into<String>, Scale),
    y: (impl Into<String>, Scale),
) -> impl Fn(&egui_plot::HoverPosition<'_>) -> Option<String> {
    let x = (x.0.into(), x.1);
    let y = (y.0.into(), y.1);
    let value = |v: f64, scale: Scale| match scale {
        Scale::Linear => hover_number(v),
        Scale::Index => format!("{}", v.round()),
        Scale::Log10 => hover_number(10f64.powf(v)),
    };
    move |pos| {
        let (name, p) = match pos {
            egui_plot::HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => (format!("{plot_name}\n"), *position),
            egui_plot::HoverPosition::Elsewhere { position } => (String::new(), *position),
        };
        Some(format!(
            "{name}{} = {}\n{} = {}",
            x.0,
            value(p.x, x.1),
            y.0,
            value(p.y, y.1)
        ))
    }
}

/// Bands that stack to 1 along x: series i is a bar chart of `values[i][j]` at `xs[j]`, bars
/// `width` wide, stacked on the series before it (responsibilities, a gate's weights). Hover
/// names each bar "{prefix}{i + 1} = value".
pub fn stacked_bands(
    plot: &mut egui_plot::PlotUi<'_>,
    xs: &[f64],
    width: f64,
    values: &[Vec<f64>],
    series: &[(String, egui::Color32)],
    prefix: &str,
) {
    let mut charts: Vec<egui_plot::BarChart> = Vec::new();
    for (i, (vals, (name, color))) in values.iter().zip(series).enumerate() {
        let bars = xs
            .iter()
            .zip(vals)
            .map(|(&x, &v)| {
                egui_plot::Bar::new(x, v)
                    .width(width)
                    .name(format!("{prefix}{} = {v:.3}", i + 1))
            })
            .collect();
        let below: Vec<&egui_plot::BarChart> = charts.iter().collect();
        let chart = egui_plot::BarChart::new(name.clone(), bars)
            .color(*color)
            .stack_on(&below);
        charts.push(chart);
    }
    for chart in charts {
        plot.bar_chart(chart);
    }
}
