//! §5 "The LSTM cell, step by step": the cell drawn with its four gates and its two states —
//! the long-term c_t on the highway along the top, the short-term h_t below — each gate's value
//! for one unit at one step of a sequence (step buttons), beside the plain RNN's single state.
//! Same weights and inputs as section 4.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Ui, pos2, vec2};
use egui_plot::{Line, VLine};

use super::settings::RnnSettings;
use crate::lessons::common::background::Cached;
use crate::lessons::lesson::{LessonContext, Section};
use crate::math::rnn::{
    Activation, ClipMode, Lstm, LstmCache, RnnSpec, WInit, lstm_forward, rnn_experiment, rnn_inputs,
};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREEN, ORANGE, PINK, VERMILLION};
use crate::widgets::plots::{Scale, labelled};
use crate::widgets::{Figure, Mark, entry, layout};

type Key = (usize, usize, u64, u64, u64);

/// The section: the LSTM's and the RNN's trajectories, cached by their inputs.
#[derive(Default)]
pub struct CellSection {
    traces: Cached<Key, (LstmCache, ndarray::Array2<f64>)>,
}

fn traces(s: &RnnSettings) -> (LstmCache, ndarray::Array2<f64>) {
    let lstm = Lstm::new(s.hidden, s.forget_bias, 1.0, s.seed);
    let (xs, _) = rnn_inputs(s.hidden, s.steps, s.seed);
    let zero = ndarray::Array1::zeros(s.hidden);
    let cache = lstm_forward(&lstm, xs.view(), zero.view(), zero.view());
    let rnn = rnn_experiment(&RnnSpec {
        hidden: s.hidden,
        steps: s.steps,
        radius: s.radius,
        init: WInit::Orthogonal,
        activation: Activation::Tanh,
        input_scale: 1.0,
        clip: None,
        clip_mode: ClipMode::Global,
        seed: s.seed,
    });
    (cache, rnn.h)
}

/// A box with a name and a value, filled in proportion to |value| (0 … 1).
fn gate_box(
    p: &egui::Painter,
    r: Rect,
    name: &str,
    value: f64,
    color: Color32,
    ink: Color32,
    font: &FontId,
) {
    p.rect_filled(
        r,
        6.0,
        color.gamma_multiply(0.15 + 0.6 * value.abs().min(1.0) as f32),
    );
    p.rect_stroke(r, 6.0, Stroke::new(2.0, color), egui::StrokeKind::Inside);
    p.text(r.center(), Align2::CENTER_BOTTOM, name, font.clone(), ink);
    p.text(
        r.center(),
        Align2::CENTER_TOP,
        format!("{value:.3}"),
        font.clone(),
        ink,
    );
}

fn arrow(p: &egui::Painter, from: Pos2, to: Pos2, ink: Color32) {
    p.arrow(from, to - from, Stroke::new(2.0, ink));
}

impl Section<RnnSettings> for CellSection {
    fn title(&self) -> &'static str {
        "5. The LSTM cell, step by step"
    }

    fn ui(&mut self, ui: &mut Ui, s: &mut RnnSettings, _ctx: &mut LessonContext) {
        ui.label("Gates: f, i, o = σ(…) between 0 and 1, the new content g = tanh(…) between −1 and 1, each computed from [h_{t−1}; x_t] with its own weights. The LSTM keeps two states: the long-term c_t runs along the top, changed only by × f (forget) and + i ⊙ g (write); the short-term h_t = o ⊙ tanh(c_t) is what the next step and the output see. The plain RNN has one state, rewritten through W and tanh at every step. One unit at one step of the sequence of section 4 (same weights, forget bias and inputs):");
        let n = s.hidden;
        let t_max = s.steps;
        s.cell_step = s.cell_step.clamp(1, t_max);
        s.cell_unit = s.cell_unit.min(n - 1);
        ui.horizontal_wrapped(|ui| {
            if ui.button("◀ Step back").clicked() && s.cell_step > 1 {
                s.cell_step -= 1;
            }
            if ui.button("Step ▶").clicked() && s.cell_step < t_max {
                s.cell_step += 1;
            }
            labelled(ui, "step t", |ui| {
                ui.add(egui::Slider::new(&mut s.cell_step, 1..=t_max))
            });
            labelled(ui, "unit", |ui| {
                ui.add(egui::Slider::new(&mut s.cell_unit, 0..=n - 1))
            });
            labelled(ui, "forget-gate bias b_f", |ui| {
                ui.add(egui::Slider::new(&mut s.forget_bias, -4.0..=8.0).step_by(0.1))
            });
        });
        let key = (
            n,
            t_max,
            s.seed,
            s.forget_bias.to_bits(),
            s.radius.to_bits(),
        );
        let (cache, rnn_h) = self.traces.get(key, |_| traces(s));
        let (t, u) = (s.cell_step, s.cell_unit);
        let v = |a: &ndarray::Array2<f64>, t: usize| a[(t, u)];
        let (f, i, g, o) = (
            v(&cache.f, t),
            v(&cache.i, t),
            v(&cache.g, t),
            v(&cache.o, t),
        );
        let (c_prev, c, h) = (v(&cache.c, t - 1), v(&cache.c, t), v(&cache.h, t));
        let (rh_prev, rh) = (rnn_h[(t - 1, u)], rnn_h[(t, u)]);
        let ink = ui.visuals().strong_text_color();
        let font = egui::TextStyle::Body.resolve(ui.style());
        layout::grid(ui, 2, 420.0, |ui, col| {
            if col == 0 {
                ui.strong(format!("LSTM, unit {u}, step t = {t}"));
                let w = ui.available_width().min(720.0);
                let (resp, p) = ui.allocate_painter(vec2(w, w * 0.42), Sense::hover());
                let r = resp.rect;
                let at = |x: f32, y: f32| pos2(r.left() + x * r.width(), r.top() + y * r.height());
                let bw = vec2(r.width() * 0.15, r.height() * 0.2);
                let node = |x: f32, y: f32| {
                    Rect::from_center_size(at(x, y), vec2(r.width() * 0.08, r.height() * 0.13))
                };
                // The highway: c_{t−1} → × f → + i⊙g → c_t.
                let y_top = 0.12;
                p.text(
                    at(0.0, y_top),
                    Align2::LEFT_CENTER,
                    format!("c_{{t−1}} = {c_prev:.3}"),
                    font.clone(),
                    ink,
                );
                arrow(&p, at(0.2, y_top), at(0.31, y_top), ink);
                let times_f = node(0.35, y_top);
                p.circle_stroke(
                    times_f.center(),
                    times_f.height() / 2.0,
                    Stroke::new(2.0, ink),
                );
                p.text(
                    times_f.center(),
                    Align2::CENTER_CENTER,
                    "×",
                    font.clone(),
                    ink,
                );
                arrow(&p, at(0.39, y_top), at(0.53, y_top), ink);
                let plus = node(0.57, y_top);
                p.circle_stroke(plus.center(), plus.height() / 2.0, Stroke::new(2.0, ink));
                p.text(plus.center(), Align2::CENTER_CENTER, "+", font.clone(), ink);
                arrow(&p, at(0.61, y_top), at(0.78, y_top), ink);
                p.text(
                    at(0.79, y_top),
                    Align2::LEFT_CENTER,
                    format!("c_t = {c:.3}"),
                    font.clone(),
                    ink,
                );
                // The gates, from [h_{t−1}; x_t].
                let y_gate = 0.55;
                let boxes = [
                    ("forget f", f, 0.35, PINK),
                    ("input i", i, 0.52, GREEN),
                    ("new g", g, 0.69, ORANGE),
                    ("output o", o, 0.86, BLUE),
                ];
                for (name, value, x, color) in boxes {
                    gate_box(
                        &p,
                        Rect::from_center_size(at(x, y_gate), bw),
                        name,
                        value,
                        color,
                        ink,
                        &font,
                    );
                }
                arrow(&p, at(0.35, y_gate - 0.1), times_f.center_bottom(), ink);
                let ig = node(0.6, 0.32);
                p.circle_stroke(ig.center(), ig.height() / 2.0, Stroke::new(2.0, ink));
                p.text(ig.center(), Align2::CENTER_CENTER, "×", font.clone(), ink);
                arrow(&p, at(0.52, y_gate - 0.1), ig.left_bottom(), ink);
                arrow(&p, at(0.69, y_gate - 0.1), ig.right_bottom(), ink);
                arrow(&p, ig.center_top(), plus.center_bottom(), ink);
                p.text(
                    at(0.66, 0.3),
                    Align2::LEFT_CENTER,
                    format!("i·g = {:.3}", i * g),
                    font.clone(),
                    ink,
                );
                // The output: h_t = o ⊙ tanh(c_t).
                arrow(&p, at(0.86, y_gate + 0.1), at(0.86, 0.8), ink);
                p.text(
                    at(0.88, 0.36),
                    Align2::LEFT_CENTER,
                    format!("tanh c_t\n= {:.3}", c.tanh()),
                    font.clone(),
                    ink,
                );
                p.text(
                    at(0.64, 0.9),
                    Align2::LEFT_CENTER,
                    format!("h_t = o·tanh c_t = {h:.3}"),
                    font.clone(),
                    ink,
                );
                p.text(
                    at(0.0, 0.9),
                    Align2::LEFT_CENTER,
                    "[h_{t−1}; x_t] → every gate",
                    font.clone(),
                    ink,
                );
                arrow(&p, at(0.2, 0.82), at(0.3, y_gate + 0.08), ink);
                resp.on_hover_text(format!(
                    "c_t = f·c_{{t−1}} + i·g = {f:.3}·{c_prev:.3} + {i:.3}·{g:.3} = {c:.3}\nh_t = o·tanh(c_t) = {o:.3}·{:.3} = {h:.3}",
                    c.tanh()
                ));
            } else {
                ui.strong(format!(
                    "Plain tanh RNN, unit {u}, step t = {t} (ρ(W) = {:.2})",
                    s.radius
                ));
                let w = ui.available_width().min(520.0);
                let (resp, p) = ui.allocate_painter(vec2(w, w * 0.32), Sense::hover());
                let r = resp.rect;
                let at = |x: f32, y: f32| pos2(r.left() + x * r.width(), r.top() + y * r.height());
                p.text(
                    at(0.0, 0.3),
                    Align2::LEFT_CENTER,
                    format!("h_{{t−1}} = {rh_prev:.3}"),
                    font.clone(),
                    ink,
                );
                arrow(&p, at(0.3, 0.3), at(0.38, 0.45), ink);
                let b = Rect::from_center_size(
                    at(0.55, 0.5),
                    vec2(r.width() * 0.32, r.height() * 0.35),
                );
                gate_box(&p, b, "tanh(W h + x)", rh, VERMILLION, ink, &font);
                p.text(at(0.0, 0.75), Align2::LEFT_CENTER, "x_t", font.clone(), ink);
                arrow(&p, at(0.1, 0.75), at(0.38, 0.6), ink);
                arrow(&p, at(0.72, 0.5), at(0.82, 0.5), ink);
                p.text(
                    at(0.83, 0.5),
                    Align2::LEFT_CENTER,
                    format!("h_t\n= {rh:.3}"),
                    font.clone(),
                    ink,
                );
                resp.on_hover_text("One state, rewritten through W and tanh at every step: the gradient back through it is multiplied by Wᵀ diag(1 − h_t²) each step.");
            }
        });
        Figure::new("rnn_cell_gates")
            .x("step t", Scale::Index)
            .y("value", Scale::Linear)
            .rows(ui, 0.9)
            .include_y(-1.0)
            .include_y(1.0)
            .legend(vec![
                entry("forget f", PINK, Mark::Line),
                entry("input i", GREEN, Mark::Line),
                entry("output o", BLUE, Mark::Line),
                entry("cell c", ORANGE, Mark::Line),
                entry("LSTM h", VERMILLION, Mark::Line),
            ])
            .show(ui, |p| {
                let series = |a: &ndarray::Array2<f64>| -> Vec<[f64; 2]> {
                    (1..=t_max).map(|tt| [tt as f64, a[(tt, u)]]).collect()
                };
                p.line(
                    Line::new("forget f", series(&cache.f))
                        .color(PINK)
                        .width(2.0),
                );
                p.line(
                    Line::new("input i", series(&cache.i))
                        .color(GREEN)
                        .width(2.0),
                );
                p.line(
                    Line::new("output o", series(&cache.o))
                        .color(BLUE)
                        .width(2.0),
                );
                p.line(
                    Line::new("cell c", series(&cache.c))
                        .color(ORANGE)
                        .width(2.5),
                );
                p.line(
                    Line::new("LSTM h", series(&cache.h))
                        .color(VERMILLION)
                        .width(1.5),
                );
                p.vline(VLine::new("step t", t as f64).color(GREY_LINE));
            });
    }

    fn csv(&mut self, s: &RnnSettings) -> String {
        let key = (
            s.hidden,
            s.steps,
            s.seed,
            s.forget_bias.to_bits(),
            s.radius.to_bits(),
        );
        let (cache, rnn_h) = self.traces.get(key, |_| traces(s));
        let u = s.cell_unit.min(s.hidden - 1);
        let col = |a: &ndarray::Array2<f64>| (1..=s.steps).map(|t| a[(t, u)]).collect::<Vec<f64>>();
        columns_csv(&[
            ("t", (1..=s.steps).map(|t| t as f64).collect()),
            ("forget", col(&cache.f)),
            ("input", col(&cache.i)),
            ("candidate", col(&cache.g)),
            ("output", col(&cache.o)),
            ("cell", col(&cache.c)),
            ("lstm_h", col(&cache.h)),
            ("rnn_h", col(rnn_h)),
        ])
    }
}

/// The marker of the current step.
const GREY_LINE: Color32 = Color32::from_rgb(128, 128, 128);
