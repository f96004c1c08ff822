//! A figure as every lesson draws one: a plot with readable axes, its legend outside the data,
//! sized to the space it is given.
//!
//! - **Ticks**: each axis gets at least three labelled tick numbers (every decade on a log
//!   axis, or every 2nd, 5th … when decades are too dense), chosen by [`nice_marks`] from the
//!   plot's own size, with unlabelled minor lines between them. Every label is drawn at full
//!   contrast (egui_plot fades labels that are close together; ours are never close).
//! - **Labels**: each axis carries its name with its unit, e.g. "gradient norm" or
//!   "entropy (nats)".
//! - **Legend**: a row of swatches above the plot — a dashed line is drawn dashed, points as
//!   points — so it never covers the data.
//! - **Size**: its height follows the window (`layout::plot_height`) unless set.
//! - **Hover**: the name of the series and both values, log axes turned back into values.
//!
//! Each figure drawn is logged in the context's memory for the frame ([`FigureLog`]), so the
//! layout tests can find its frame and check the tick labels painted beside it.

use egui::{Color32, Id, Rect, Stroke, Ui, vec2};
use egui_plot::{AxisHints, GridInput, GridMark, Plot, PlotUi};

use super::layout;
use super::plots::{Scale, hover_on, log_tick};

/// How a series is drawn, for its legend swatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A solid line.
    Line,
    /// A dashed line (theory, reference).
    Dashed,
    /// Points.
    Points,
    /// Bars or a filled area.
    Bar,
}

/// One entry of a figure's legend.
#[derive(Debug, Clone)]
pub struct LegendEntry {
    /// The series' name.
    pub name: String,
    /// Its colour.
    pub color: Color32,
    /// How it is drawn.
    pub mark: Mark,
}

/// A legend entry.
pub fn entry(name: impl Into<String>, color: Color32, mark: Mark) -> LegendEntry {
    LegendEntry {
        name: name.into(),
        color,
        mark,
    }
}

/// One axis: its name (with its unit) and scale.
#[derive(Debug, Clone)]
struct AxisSpec {
    label: String,
    scale: Scale,
}

/// A figure under construction. See the top of this file.
pub struct Figure {
    id: String,
    x: AxisSpec,
    y: AxisSpec,
    height: Option<f32>,
    width: Option<f32>,
    include_x: Vec<f64>,
    include_y: Vec<f64>,
    legend: Vec<LegendEntry>,
    data_aspect: Option<f32>,
    hover: bool,
}

/// The smallest distance (points) between two labelled ticks: x labels are wide, y labels
/// short.
const X_LABEL_GAP: f32 = 56.0;
const Y_LABEL_GAP: f32 = 26.0;
/// egui_plot's `grid_spacing.min`: the unit `GridInput::base_step_size` is given in.
const GRID_MIN: f32 = 8.0;

impl Figure {
    /// A figure; `id` is unique within the lesson (it keys the plot's zoom and hover state).
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            x: AxisSpec {
                label: String::new(),
                scale: Scale::Linear,
            },
            y: AxisSpec {
                label: String::new(),
                scale: Scale::Linear,
            },
            height: None,
            width: None,
            include_x: Vec::new(),
            include_y: Vec::new(),
            legend: Vec::new(),
            data_aspect: None,
            hover: true,
        }
    }

    /// The x axis: its name with its unit, and whether its values are log10 of the quantity.
    pub fn x(mut self, label: impl Into<String>, scale: Scale) -> Self {
        self.x = AxisSpec {
            label: label.into(),
            scale,
        };
        self
    }

    /// The y axis (see [`Figure::x`]).
    pub fn y(mut self, label: impl Into<String>, scale: Scale) -> Self {
        self.y = AxisSpec {
            label: label.into(),
            scale,
        };
        self
    }

    /// A fixed height in points (default: from the window, [`layout::plot_height`]).
    pub fn height(mut self, height: f32) -> Self {
        self.height = Some(height);
        self
    }

    /// A height for `rows` rows of figures on one screen.
    pub fn rows(self, ui: &Ui, rows: f32) -> Self {
        let h = layout::plot_height(ui, rows);
        self.height(h)
    }

    /// A fixed width in points (default: the width available).
    pub fn width(mut self, width: f32) -> Self {
        self.width = Some(width);
        self
    }

    /// Keep this x value in view.
    pub fn include_x(mut self, x: f64) -> Self {
        self.include_x.push(x);
        self
    }

    /// Keep this y value in view.
    pub fn include_y(mut self, y: f64) -> Self {
        self.include_y.push(y);
        self
    }

    /// The legend, drawn above the plot.
    pub fn legend(mut self, entries: Vec<LegendEntry>) -> Self {
        self.legend = entries;
        self
    }

    /// Equal scales on both axes (a projection, a plane of eigenvalues).
    pub fn data_aspect(mut self, aspect: f32) -> Self {
        self.data_aspect = Some(aspect);
        self
    }

    /// Draw it; `build` adds the series.
    pub fn show<R>(self, ui: &mut Ui, build: impl FnOnce(&mut PlotUi<'_>) -> R) -> R {
        if !self.legend.is_empty() {
            legend_row(ui, &self.legend);
        }
        let height = self.height.unwrap_or_else(|| layout::plot_height(ui, 2.0));
        let (xs, ys) = (self.x.scale, self.y.scale);
        let x_axis = axis_hints(AxisHints::new_x(), &self.x, x_label_spacing(ui));
        let y_axis = axis_hints(AxisHints::new_y(), &self.y, Y_LABEL_GAP / 4.0);
        let x_name = if self.x.label.is_empty() {
            "x".to_owned()
        } else {
            self.x.label.clone()
        };
        let y_name = if self.y.label.is_empty() {
            "y".to_owned()
        } else {
            self.y.label.clone()
        };
        let mut plot = Plot::new(&self.id)
            .height(height)
            .custom_x_axes(vec![x_axis])
            .custom_y_axes(vec![y_axis])
            .grid_spacing(GRID_MIN..=300.0)
            .x_grid_spacer(move |input| nice_marks(input, X_LABEL_GAP, xs))
            .y_grid_spacer(move |input| nice_marks(input, Y_LABEL_GAP, ys))
            .allow_scroll(false)
            .allow_zoom(false)
            .allow_drag(false)
            .allow_boxed_zoom(false);
        if self.hover {
            plot = plot.label_formatter(hover_on((x_name, xs), (y_name, ys)));
        }
        if let Some(w) = self.width {
            plot = plot.width(w);
        }
        if let Some(a) = self.data_aspect {
            plot = plot.data_aspect(a);
        }
        for x in self.include_x {
            plot = plot.include_x(x);
        }
        for y in self.include_y {
            plot = plot.include_y(y);
        }
        let response = plot.show(ui, build);
        log_figure(ui.ctx(), &self.id, response.response.rect);
        response.inner
    }
}

/// The closest two x labels may be (points): five digits of the tick font, so that labels of
/// up to 4 digits ("900", "1000") keep at least a digit's space between them. The spacer places
/// labelled marks at least `X_LABEL_GAP` apart where three still fit, and the minor marks
/// between them get labels too when they are this far apart; closer, egui_plot leaves them
/// unlabelled. (Allowed 14 points apart, a quarter of `X_LABEL_GAP`, a long run's loss curve
/// in presentation mode drew "900" and "1000" 2–5 points apart: `tests/ui_layout.rs`.)
fn x_label_spacing(ui: &Ui) -> f32 {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let digit = ui.ctx().fonts_mut(|f| f.glyph_width(&font, '0'));
    (X_LABEL_DIGITS * digit).max(X_LABEL_GAP / 4.0)
}

/// [`x_label_spacing`] in digits.
const X_LABEL_DIGITS: f32 = 5.0;

fn axis_hints<'a>(hints: AxisHints<'a>, spec: &AxisSpec, spacing: f32) -> AxisHints<'a> {
    let hints = hints
        .label(spec.label.clone())
        // Labels closer than `spacing` are hidden, the others drawn at full contrast: egui_plot
        // fades the labels whose spacing is inside this range, so it is 0.01 points wide (at
        // 1 point, alternate numbers that happened to fall inside it were drawn grey: rnn §3's
        // odd tens, experts §4's odd tenths at 1920 × 1080).
        .label_spacing(spacing..=(spacing + 0.01));
    match spec.scale {
        Scale::Linear | Scale::Index => hints.formatter(|mark, _| linear_tick(mark)),
        Scale::Log10 => hints.formatter(|mark, _| {
            if mark.step_size >= 0.99 || is_nice_log(mark.value) {
                log_tick(mark.value)
            } else {
                String::new()
            }
        }),
    }
}

/// A tick label with as many decimals as its step needs ("0.25", "100", "1e-6").
fn linear_tick(mark: GridMark) -> String {
    let v = if mark.value.abs() < mark.step_size * 1e-6 {
        0.0
    } else {
        mark.value
    };
    let a = v.abs();
    if v != 0.0 && !(1e-4..1e6).contains(&a) {
        return format!("{v:.0e}");
    }
    // As many decimals as the step has (0.25 → 2, 50 → 0).
    let decimals = (0..6)
        .find(|&d| {
            let scaled = mark.step_size * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(6) as usize;
    format!("{v:.decimals$}")
}

/// Is this log10 value the logarithm of 1·10^k, 2·10^k or 5·10^k?
fn is_nice_log(v: f64) -> bool {
    let frac = v - v.floor();
    [0.0, 2f64.log10(), 5f64.log10(), 1.0]
        .iter()
        .any(|n| (frac - n).abs() < 1e-9)
}

/// Tick marks for one axis: labelled marks at a nice step (1, 2, 2.5 or 5 × 10^k; on a log
/// axis whole decades, or 2 and 5 within them when there is room), at least `gap` points apart
/// when that still leaves three of them in view, and unlabelled minor marks between them.
pub fn nice_marks(input: GridInput, gap: f32, scale: Scale) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    if !(lo.is_finite() && hi.is_finite() && hi > lo && input.base_step_size > 0.0) {
        return Vec::new();
    }
    let points_per_unit = f64::from(GRID_MIN) / input.base_step_size;
    // The step that puts labels `gap` apart; smaller ones until three marks are in view.
    let in_view = |step: f64| ((hi / step).floor() - (lo / step).ceil()) as i64 + 1;
    let (major, minor) = match scale {
        Scale::Linear => {
            let mut step = nice_step(f64::from(gap) / points_per_unit);
            while in_view(step) < 3 && step > (hi - lo) * 1e-6 {
                step = smaller_nice_step(step);
            }
            let minor = if nice_mantissa(step) == 2.5 {
                step / 5.0
            } else {
                step / 2.0
            };
            (step, minor)
        }
        Scale::Index => {
            // Whole steps of 1, 2, 5, 10, …: no label between two indices.
            let mut step = nice_step(f64::from(gap) / points_per_unit).max(1.0);
            if nice_mantissa(step) == 2.5 {
                step *= 0.8;
            }
            while in_view(step) < 3 && step > 1.0 {
                step = smaller_nice_step(step).max(1.0);
                if nice_mantissa(step) == 2.5 {
                    step *= 0.8;
                }
            }
            // Minor marks on whole numbers too: 1 under steps of 2 and 5, half a step above.
            let minor = if step <= 5.0 {
                1.0
            } else if nice_mantissa(step) == 5.0 {
                step / 5.0
            } else {
                step / 2.0
            };
            (step, minor)
        }
        Scale::Log10 => {
            let mut step = nice_step(f64::from(gap) / points_per_unit).max(1.0).round();
            while in_view(step) < 3 && step > 1.0 {
                step = smaller_nice_step(step).max(1.0).round();
            }
            if (step == 1.0 && points_per_unit * 0.301 >= f64::from(gap) * 0.8) || in_view(1.0) < 3
            {
                // Room inside each decade (or too few decades in view): label 1, 2 and 5.
                let mut marks = Vec::new();
                let first = lo.floor() as i64 - 1;
                for k in first..=hi.ceil() as i64 {
                    for (m, big) in [(1.0, true), (2.0, false), (5.0, false)] {
                        let v = k as f64 + f64::log10(m);
                        if v >= lo && v <= hi {
                            marks.push(GridMark {
                                value: v,
                                step_size: if big { 1.0 } else { 0.301 },
                            });
                        }
                    }
                }
                return marks;
            }
            (step, if step > 1.0 { 1.0 } else { 0.25 })
        }
    };
    // egui_plot labels a mark whose step is wider than the axis's `label_spacing` minimum
    // (gap / 4). Minor marks at least gap / 2 apart keep their labels; closer ones (an index
    // axis's fifths: a minor step of 10 under labels every 50 was 17 px wide on a 200-step axis
    // of 350 px, and "0 10 20 … 100" ran into each other) say their step is under gap / 4, so
    // they are not labelled. Along x (gap / 4 = 14 px) their lines still show; along y (6.5 px,
    // under the grid's 8 px minimum) such marks lose their faint lines too, rather than have
    // labels 8–13 px apart overlap.
    let minor_step = if minor * points_per_unit >= f64::from(gap) / 2.0 {
        minor
    } else {
        minor.min(0.99 * f64::from(gap) / 4.0 / points_per_unit)
    };
    let mut marks = Vec::new();
    let first = (lo / minor).ceil() as i64;
    let last = (hi / minor).floor() as i64;
    if last - first > 10_000 {
        return marks;
    }
    for i in first..=last {
        let v = i as f64 * minor;
        if scale == Scale::Index && v < -1e-9 {
            // An index is never negative (the margin egui_plot adds before 0 stays blank).
            continue;
        }
        let on_major = ((v / major).round() * major - v).abs() < minor * 1e-6;
        marks.push(GridMark {
            value: if on_major {
                (v / major).round() * major
            } else {
                v
            },
            step_size: if on_major { major } else { minor_step },
        });
    }
    marks
}

/// The mantissa of a nice step: 1, 2, 2.5 or 5.
fn nice_mantissa(step: f64) -> f64 {
    let m = step / 10f64.powf(step.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .min_by(|a, b| (a - m).abs().total_cmp(&(b - m).abs()))
        .unwrap_or(1.0)
}

/// The next nice step below `step`.
fn smaller_nice_step(step: f64) -> f64 {
    match nice_mantissa(step) {
        5.0 => step / 2.0,
        2.5 => step * 0.8,
        2.0 => step / 2.0,
        _ => step / 2.0,
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10^k that is at least `x`.
fn nice_step(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= x * (1.0 - 1e-9) {
            return m * p;
        }
    }
    10.0 * p
}

/// The legend as a row of swatches and names (wrapping when it does not fit).
pub fn legend_row(ui: &mut Ui, entries: &[LegendEntry]) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 6.0;
        for e in entries {
            let h = ui.text_style_height(&egui::TextStyle::Body);
            // Swatch and name stay on one row: a new row starts first if they would not fit.
            let font = egui::TextStyle::Body.resolve(ui.style());
            let text = ui
                .painter()
                .layout_no_wrap(e.name.clone(), font, Color32::WHITE)
                .size()
                .x;
            let at_start = ui.cursor().left() <= ui.max_rect().left() + 1.0;
            if !at_start && ui.available_size_before_wrap().x < 26.0 + 6.0 + text + 4.0 {
                ui.end_row();
            }
            let (rect, _) = ui.allocate_exact_size(vec2(26.0, h), egui::Sense::hover());
            let painter = ui.painter_at(rect);
            let y = rect.center().y;
            let stroke = Stroke::new(2.5, e.color);
            match e.mark {
                Mark::Line => {
                    painter.line_segment(
                        [egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)],
                        stroke,
                    );
                }
                Mark::Dashed => {
                    for k in 0..3 {
                        let x0 = rect.left() + k as f32 * 9.0;
                        painter.line_segment([egui::pos2(x0, y), egui::pos2(x0 + 5.0, y)], stroke);
                    }
                }
                Mark::Points => {
                    painter.circle_filled(rect.center(), 4.0, e.color);
                }
                Mark::Bar => {
                    painter.rect_filled(
                        Rect::from_center_size(rect.center(), vec2(14.0, h * 0.6)),
                        2.0,
                        e.color,
                    );
                }
            }
            ui.add(egui::Label::new(&e.name).extend());
            ui.add_space(8.0);
        }
    });
}

/// The figures drawn this frame, for the layout tests: id and the rect of the plot's frame.
#[derive(Debug, Clone, Default)]
pub struct FigureLog(pub Vec<(String, Rect)>);

fn log_id() -> Id {
    Id::unique("attention-lab figure log")
}

fn log_figure(ctx: &egui::Context, id: &str, rect: Rect) {
    ctx.data_mut(|d| {
        d.get_temp_mut_or_default::<FigureLog>(log_id())
            .0
            .push((id.to_owned(), rect));
    });
}

/// Start a new frame's log (the app calls this before drawing a lesson).
pub fn clear_log(ctx: &egui::Context) {
    ctx.data_mut(|d| d.insert_temp(log_id(), FigureLog::default()));
}

/// The figures drawn in the last frame.
pub fn logged(ctx: &egui::Context) -> FigureLog {
    ctx.data(|d| d.get_temp::<FigureLog>(log_id()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled(marks: &[GridMark], gap: f32, points_per_unit: f64) -> usize {
        marks
            .iter()
            .filter(|m| m.step_size * points_per_unit > f64::from(gap) / 4.0)
            .count()
    }

    #[test]
    fn every_axis_gets_at_least_three_labels() {
        for (lo, hi) in [
            (0.0, 1.0),
            (-2.3, -1.9),
            (0.0, 1000.0),
            (-0.5, 0.4),
            (3.0, 3.001),
        ] {
            for pixels in [120.0_f64, 150.0, 400.0, 1500.0] {
                let ppu = pixels / (hi - lo);
                for gap in [X_LABEL_GAP, Y_LABEL_GAP] {
                    let input = GridInput {
                        bounds: (lo, hi),
                        base_step_size: f64::from(GRID_MIN) / ppu,
                    };
                    let marks = nice_marks(input, gap, Scale::Linear);
                    let n = labelled(&marks, gap, ppu);
                    assert!(
                        n >= 3,
                        "[{lo}, {hi}] over {pixels} px, gap {gap}: {n} labels"
                    );
                }
            }
        }
    }

    #[test]
    fn labels_are_at_least_half_a_gap_apart() {
        // The loss curve's step axis at step 193 over 350 px drew "0 10 20 … 100 150 200".
        for scale in [Scale::Index, Scale::Linear] {
            for (lo, hi) in [
                (-8.0, 202.0),
                (0.0, 600.0),
                (-0.5, 63.5),
                (0.0, 1.0),
                (0.0, 7.0),
            ] {
                for pixels in [150.0_f64, 350.0, 700.0, 1500.0] {
                    for gap in [X_LABEL_GAP, Y_LABEL_GAP] {
                        let ppu = pixels / (hi - lo);
                        let input = GridInput {
                            bounds: (lo, hi),
                            base_step_size: f64::from(GRID_MIN) / ppu,
                        };
                        let marks = nice_marks(input, gap, scale);
                        let shown: Vec<f64> = marks
                            .iter()
                            .filter(|m| m.step_size * ppu > f64::from(gap) / 4.0)
                            .map(|m| m.value)
                            .collect();
                        for w in shown.windows(2) {
                            assert!(
                                (w[1] - w[0]) * ppu >= f64::from(gap) / 2.0,
                                "{scale:?} [{lo}, {hi}] over {pixels} px, gap {gap}: labels {shown:?}"
                            );
                        }
                        // Along x, the minor marks' lines are still drawn when they are at
                        // least the grid's minimum apart.
                        let apart = marks
                            .windows(2)
                            .map(|w| (w[1].value - w[0].value) * ppu)
                            .fold(f64::INFINITY, f64::min);
                        if gap == X_LABEL_GAP && apart >= f64::from(GRID_MIN) {
                            assert!(
                                marks
                                    .iter()
                                    .all(|m| m.step_size * ppu >= f64::from(GRID_MIN) - 1e-9),
                                "{scale:?} [{lo}, {hi}] over {pixels} px"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn index_axes_are_labelled_with_whole_numbers() {
        for (lo, hi) in [(-0.5, 7.5), (-0.5, 63.5), (0.0, 1000.0), (-0.5, 2.5)] {
            for pixels in [150.0_f64, 400.0, 1500.0] {
                let ppu = pixels / (hi - lo);
                let input = GridInput {
                    bounds: (lo, hi),
                    base_step_size: f64::from(GRID_MIN) / ppu,
                };
                let marks = nice_marks(input, X_LABEL_GAP, Scale::Index);
                for m in &marks {
                    assert_eq!(m.value, m.value.round(), "[{lo}, {hi}] {pixels} px: {m:?}");
                    assert!(m.value >= 0.0, "[{lo}, {hi}] {pixels} px: {m:?}");
                }
                assert!(
                    labelled(&marks, X_LABEL_GAP, ppu) >= 3,
                    "[{lo}, {hi}] over {pixels} px"
                );
            }
        }
    }

    #[test]
    fn log_axes_label_decades() {
        let ppu = 300.0 / 6.0;
        let input = GridInput {
            bounds: (-3.0, 3.0),
            base_step_size: f64::from(GRID_MIN) / ppu,
        };
        let marks = nice_marks(input, Y_LABEL_GAP, Scale::Log10);
        let decades: Vec<f64> = marks
            .iter()
            .filter(|m| m.step_size >= 1.0)
            .map(|m| m.value)
            .collect();
        assert_eq!(decades, vec![-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn tick_labels_read_well() {
        let m = |value, step_size| GridMark { value, step_size };
        assert_eq!(linear_tick(m(0.25, 0.25)), "0.25");
        assert_eq!(linear_tick(m(100.0, 50.0)), "100");
        assert_eq!(linear_tick(m(-2.1, 0.1)), "-2.1");
        assert_eq!(linear_tick(m(1e-17, 0.5)), "0.0");
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(2.2), 2.5);
    }
}
