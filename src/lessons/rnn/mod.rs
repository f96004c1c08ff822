//! Lesson "Why RNN gradients vanish or explode": BPTT multiplies by Wᵀ at every step, so the
//! gradient reaching step T−k scales like ρ(W)^k. All the math is `math::rnn` (f64); the
//! sections draw it, recomputing only when a slider changed.

mod cell;
mod forcing;
mod lstm;
mod matrix;
mod memory;
mod saturation;
mod scalar;
pub mod settings;

use serde_json::{Value, json};

use crate::lessons::lesson::{Lesson, LessonInfo, LessonSettings, Sectioned};
use crate::math::rnn::{
    Activation, Lstm, RnnExperiment, RnnSpec, iir_impulse_response, lstm_backward, lstm_forward,
    rnn_experiment, rnn_inputs, row_norms,
};
use crate::math::stats::mean;
pub use settings::RnnSettings;

/// The lesson, for the registry.
pub fn lesson() -> Box<dyn Lesson> {
    Box::new(Sectioned::new(
        LessonInfo {
            id: "rnn",
            title: "Why RNN gradients vanish or explode",
            summary: "Back-propagation through time multiplies by Wᵀ at every step: the gradient k steps back scales like ρ(W)^k. The LSTM's cell state gives it a path that survives.",
        },
        vec![
            Box::new(scalar::Scalar),
            Box::new(matrix::Matrix::default()),
            Box::new(saturation::Saturation::default()),
            Box::new(lstm::LstmSection::default()),
            Box::new(cell::CellSection::default()),
            Box::new(memory::Memory::default()),
            Box::new(forcing::Forcing::default()),
        ],
        data,
    ))
}

/// A figure of gradient norms ‖∂L/∂h_{T−k}‖ against k on a log axis, as every section draws it,
/// `rows` of them to a screen, with its legend above it.
fn grad_norm_plot(
    ui: &egui::Ui,
    id: &str,
    rows: f32,
    legend: Vec<crate::widgets::LegendEntry>,
) -> crate::widgets::Figure {
    use crate::widgets::plots::Scale;
    crate::widgets::Figure::new(id)
        .x("k (steps back from the end)", Scale::Index)
        .y("gradient norm", Scale::Log10)
        .rows(ui, rows)
        // At least a decade either side of 1: a flat norm (ρ = 1) stays a flat line at 1.
        .include_y(-1.0)
        .include_y(1.0)
        .legend(legend)
}

/// Every part at once (for `data` and `csv`; the GUI computes only the open section's part, each
/// cached with its own inputs, so a slider of one section never pays for the others).
struct Computed<'a> {
    main: &'a RnnExperiment,
    saturated: &'a RnnExperiment,
    unit_linear: &'a RnnExperiment,
    lstm: &'a LstmResult,
}

/// Section 4's numbers.
pub struct LstmResult {
    /// ‖∂L/∂c_{T−k}‖.
    pub cell: Vec<f64>,
    /// ‖∂L/∂h_{T−k}‖ of the LSTM.
    pub hidden: Vec<f64>,
    /// ‖∂L/∂h_{T−k}‖ of a tanh RNN at the same radius.
    pub rnn: Vec<f64>,
    /// Mean forget gate along the trajectory.
    pub mean_f: f64,
}

pub fn lstm_result(s: &RnnSettings) -> LstmResult {
    let lstm = Lstm::new(s.hidden, s.forget_bias, 1.0, s.seed);
    let (xs, g) = rnn_inputs(s.hidden, s.steps, s.seed);
    let zero = ndarray::Array1::zeros(s.hidden);
    let cache = lstm_forward(&lstm, xs.view(), zero.view(), zero.view());
    let (dh, dc) = lstm_backward(&lstm, &cache, g.view());
    let rnn = rnn_experiment(&RnnSpec {
        activation: Activation::Tanh,
        clip: None,
        input_scale: 1.0,
        ..s.spec()
    });
    let f: Vec<f64> = cache
        .f
        .slice(ndarray::s![1.., ..])
        .iter()
        .copied()
        .collect();
    LstmResult {
        cell: row_norms(dc.view()),
        hidden: row_norms(dh.view()),
        rnn: rnn.grad_norms,
        mean_f: mean(&f),
    }
}

/// The LSTM section's inputs.
pub type LstmKey = (usize, usize, u64, u64, u64);

fn data(s: &RnnSettings) -> Value {
    let (tanh, linear) = s.saturation_specs();
    let main = rnn_experiment(&s.spec());
    let c = Computed {
        main: &main,
        saturated: &rnn_experiment(&tanh),
        unit_linear: &rnn_experiment(&linear),
        lstm: &lstm_result(s),
    };
    let m = c.main;
    let rows = |a: &ndarray::Array2<f64>| -> Vec<Vec<f64>> {
        a.outer_iter().map(|r| r.to_vec()).collect()
    };
    let mut out = json!({
        "settings": s.to_json(),
        "w": rows(&m.w),
        "eigenvalues": m.eigenvalues,
        "spectral_radius": m.spectral_radius,
        "g_final": m.g_final.to_vec(),
        "grad_norms": m.grad_norms,
        "iir": iir_impulse_response(s.w_scalar, s.steps),
        "saturation": {
            "input_scale": s.input_scale,
            "mean_tanh_derivative": mean(&c.saturated.tanh_derivs),
            "grad_norms_tanh": &c.saturated.grad_norms,
            "grad_norms_linear": &c.unit_linear.grad_norms,
        },
        "lstm": {
            "forget_bias": s.forget_bias,
            "mean_forget_gate": c.lstm.mean_f,
            "cell_grad_norms": &c.lstm.cell,
            "hidden_grad_norms": &c.lstm.hidden,
            "rnn_tanh_grad_norms": &c.lstm.rnn,
        },
    });
    out["clip_mode"] = json!(s.clip_mode);
    out["weight_grad_norm"] = json!(m.weight_grad_norm);
    if let Some(clipped) = &m.clipped_norms {
        out["clipped_norms"] = json!(clipped);
        out["clipped_weight_grad_norm"] = json!(m.clipped_weight_grad_norm);
        out["cosine_clipped_true"] = json!(m.cosine_clipped_true);
    }
    let (acc, history) =
        crate::math::recall::train_recall(s.recall_k, memory::HIDDEN, s.recall_steps, s.seed);
    out["recall"] = json!({
        "k": s.recall_k,
        "hidden": memory::HIDDEN,
        "steps": s.recall_steps,
        "accuracy": { "rnn": acc[0], "lstm": acc[1] },
        "chance": 1.0 / crate::math::recall::SYMBOLS as f64,
        "final_loss": history.last().map(|p| json!({ "rnn": p.loss[0], "lstm": p.loss[1] })),
        "h0_grad": history.last().map(|p| json!({ "rnn": p.h0_grad[0], "lstm": p.h0_grad[1] })),
    });
    let mut copy = crate::math::recall::CopyRun::new(forcing::HIDDEN, s.seed);
    let points: Vec<_> = (0..s.forcing_steps).map(|_| copy.train_step()).collect();
    let free = copy.free_accuracy();
    let fed = copy.teacher_accuracy();
    out["teacher_forcing"] = json!({
        "steps": s.forcing_steps,
        "hidden": forcing::HIDDEN,
        "final_loss": points.last().map(|p| json!({ "teacher_forcing": p.loss[0], "free_running": p.loss[1] })),
        "running_free": {
            "teacher_forced_model": { "symbols": free[0].0, "sequences": free[0].1 },
            "free_running_model": { "symbols": free[1].0, "sequences": free[1].1 },
        },
        "teacher_forced_model_fed_truth": { "symbols": fed.0, "sequences": fed.1 },
    });
    if s.activation == Activation::Tanh {
        out["h"] = json!(rows(&m.h));
    }
    out
}
