//! §4 "LSTM": through the cell state ∂c_t/∂c_{t−1} = diag(f), so with the forget gate near 1 the
//! gradient survives many steps.

use egui::{RichText, Ui};
use egui_plot::{Line, LineStyle};

use super::grad_norm_plot;
use super::settings::RnnSettings;
use super::{LstmKey, LstmResult, lstm_result};
use crate::lessons::common::background::Cached;
use crate::lessons::lesson::{LessonContext, Section};
use crate::widgets::export::columns_csv;
use crate::widgets::palette::{BLUE, GREEN, GREY, PINK};
use crate::widgets::plots::{labelled, log10_points};
use crate::widgets::{Mark, entry};

/// The section: its result, cached by its inputs.
#[derive(Default)]
pub struct LstmSection {
    lstm: Cached<LstmKey, LstmResult>,
}

impl LstmSection {
    /// The LSTM's gradients, cached by the inputs they depend on.
    fn part(&mut self, s: &RnnSettings) -> &LstmResult {
        let key = (
            s.hidden,
            s.steps,
            s.seed,
            s.forget_bias.to_bits(),
            s.radius.to_bits(),
        );
        self.lstm.get(key, |_| lstm_result(s))
    }
}

impl Section<RnnSettings> for LstmSection {
    fn title(&self) -> &'static str {
        "4. LSTM"
    }

    fn ui(&mut self, ui: &mut Ui, settings: &mut RnnSettings, _ctx: &mut LessonContext) {
        ui.label("The LSTM's cell state is updated additively, c_t = f ⊙ c_{t−1} + i ⊙ g, so through the cell ∂c_t/∂c_{t−1} = diag(f): no W, no tanh′. Back through k steps the gradient is multiplied by f_t ⋯ f_{t−k+1}: when the forget gate stays near 1 — a large bias b_f, f ≈ σ(b_f) — it decays slowly and reaches far back. Only at f = 1 exactly is it the \"constant error carousel\" of Hochreiter & Schmidhuber (1997), whose LSTM had no forget gate (Gers et al. added it in 2000); with f < 1 it still decays, like f^k.");
        ui.horizontal_wrapped(|ui| {
            labelled(ui, "forget-gate bias b_f", |ui| {
                ui.add(egui::Slider::new(&mut settings.forget_bias, -4.0..=8.0).step_by(0.1))
            });
            labelled(ui, "steps T", |ui| {
                ui.add(egui::Slider::new(&mut settings.steps, 1..=200))
            });
            labelled(ui, "RNN radius ρ(W)", |ui| {
                ui.add(egui::Slider::new(&mut settings.radius, 0.5..=1.5).step_by(0.01))
            });
        });
        let settings = settings.clone();
        let l = self.part(&settings);
        let sig = 1.0 / (1.0 + (-settings.forget_bias).exp());
        ui.label(
            RichText::new(format!(
                "σ(b_f) = {sig:.3}; the mean forget gate along the trajectory is {:.3}. After T = {} steps: LSTM cell {:.3e}, LSTM hidden {:.3e}, tanh RNN {:.3e}.",
                l.mean_f,
                settings.steps,
                l.cell.last().copied().unwrap_or(0.0),
                l.hidden.last().copied().unwrap_or(0.0),
                l.rnn.last().copied().unwrap_or(0.0),
            )),
        );
        let steps = settings.steps;
        let (cell, hidden, rnn) = (l.cell.clone(), l.hidden.clone(), l.rnn.clone());
        let radius = settings.radius;
        let legend = vec![
            entry("LSTM ‖∂L/∂c_{T−k}‖ (cell state)", GREEN, Mark::Line),
            entry("LSTM ‖∂L/∂h_{T−k}‖", BLUE, Mark::Line),
            entry(format!("tanh RNN, ρ(W) = {radius:.2}"), PINK, Mark::Line),
            entry("σ(b_f)^k", GREY, Mark::Dashed),
        ];
        grad_norm_plot(ui, "rnn_lstm", 1.0, legend).show(ui, |p| {
            let ks = || (0..=steps).map(|k| k as f64);
            let reference: Vec<f64> = (0..=steps)
                .map(|k| cell.first().copied().unwrap_or(1.0) * sig.powi(k as i32))
                .collect();
            p.line(
                Line::new("σ(b_f)^k", log10_points(ks(), &reference))
                    .color(GREY)
                    .style(LineStyle::dashed_loose()),
            );
            p.line(
                Line::new("LSTM ‖∂L/∂c_{T−k}‖ (cell state)", log10_points(ks(), &cell))
                    .color(GREEN)
                    .width(2.5),
            );
            p.line(
                Line::new("LSTM ‖∂L/∂h_{T−k}‖", log10_points(ks(), &hidden))
                    .color(BLUE)
                    .width(1.5),
            );
            p.line(
                Line::new(
                    format!("tanh RNN, ρ(W) = {radius:.2}"),
                    log10_points(ks(), &rnn),
                )
                .color(PINK)
                .width(2.0),
            );
        });
    }

    fn csv(&mut self, s: &RnnSettings) -> String {
        let l = self.part(s);
        let k: Vec<f64> = (0..=s.steps).map(|k| k as f64).collect();
        columns_csv(&[
            ("k", k),
            ("lstm_cell_grad_norm", l.cell.clone()),
            ("lstm_hidden_grad_norm", l.hidden.clone()),
            ("rnn_tanh_grad_norm", l.rnn.clone()),
        ])
    }
}
