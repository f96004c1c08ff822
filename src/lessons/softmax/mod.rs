//! Lesson "Softmax sharpness and the 1/√d scaling": the lecture's demo (a Gaussian vector through
//! softmax, then the same × 100), why dot products grow like √d, why a saturated softmax starves
//! W_Q and W_K of gradient, and the same effect in a real model trained both ways.
//! Math: `math::sharpness`; the sections draw it and cache what is expensive.

mod demo;
mod real_model;
pub mod settings;
mod sqrt_d;
mod starvation;

use serde_json::{Value, json};

use crate::lessons::lesson::{Lesson, LessonInfo, LessonSettings, Sectioned};
use crate::math::sharpness::{
    TABLE_DIMS, gaussian_scores, jacobian_norm, mean_attention_entropy, softmax_stats,
    variance_table,
};
pub use settings::SoftmaxSettings;

/// Dot-product samples per histogram (at the chosen d).
const HIST_PAIRS: usize = 4000;
/// Samples per d in the variance table.
const TABLE_PAIRS: usize = 2000;
/// Queries averaged per point of the entropy-vs-d curve.
const ENTROPY_QUERIES: usize = 200;

/// The lesson, for the registry.
pub fn lesson() -> Box<dyn Lesson> {
    Box::new(Sectioned::new(
        LessonInfo {
            id: "softmax",
            title: "Softmax sharpness and the 1/√d scaling",
            summary: "The same scores ×100 put all the attention on one token. Dot products of d-dimensional vectors have variance d; dividing by √d keeps the softmax — and its gradient — alive.",
        },
        vec![
            Box::new(demo::Demo),
            Box::new(sqrt_d::SqrtD::default()),
            Box::new(starvation::Starvation::default()),
            Box::new(real_model::RealModel::default()),
        ],
        data,
    ))
}

/// (d, mean entropy unscaled, mean entropy scaled).
type EntropyPoint = (usize, f64, f64);

fn entropy_curve(keys: usize, seed: u64) -> Vec<EntropyPoint> {
    entropy_points(keys, seed).collect()
}

/// [`entropy_curve`]'s points, each computed when it is taken (a part of §2's job: at T = 256
/// keys the whole curve took 74 ms in the browser).
fn entropy_points(keys: usize, seed: u64) -> impl Iterator<Item = EntropyPoint> + Send {
    TABLE_DIMS.iter().map(move |&d| {
        (
            d,
            mean_attention_entropy(d, keys, ENTROPY_QUERIES, false, seed),
            mean_attention_entropy(d, keys, ENTROPY_QUERIES, true, seed),
        )
    })
}

/// Scale factors of the Jacobian curve: 0.01 … 1000, log-spaced.
fn jacobian_scales() -> Vec<f64> {
    (0..=100)
        .map(|i| 10f64.powf(-2.0 + 5.0 * i as f64 / 100.0))
        .collect()
}

/// "100", "3.162": a scale factor without trailing zeros.
fn fmt_scale(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

fn data(s: &SoftmaxSettings) -> Value {
    let x = gaussian_scores(s.n, s.seed);
    let plain = softmax_stats(&x, 1.0);
    let sharp = softmax_stats(&x, s.scale as f32);
    let table = variance_table(&TABLE_DIMS, TABLE_PAIRS, s.seed);
    let curve = entropy_curve(s.keys, s.seed);
    json!({
        "settings": s.to_json(),
        "x": x,
        "softmax": plain.p,
        "softmax_scaled": sharp.p,
        "entropy": plain.entropy,
        "entropy_scaled": sharp.entropy,
        "entropy_fraction": plain.entropy_fraction,
        "entropy_fraction_scaled": sharp.entropy_fraction,
        "max_weight": plain.max_weight,
        "max_weight_scaled": sharp.max_weight,
        "effective_tokens": plain.effective_tokens,
        "effective_tokens_scaled": sharp.effective_tokens,
        "jacobian_norm": jacobian_norm(&x, 1.0),
        "jacobian_norm_scaled": jacobian_norm(&x, s.scale),
        "variance": {
            "d": table.iter().map(|r| r.0).collect::<Vec<_>>(),
            "var_unscaled": table.iter().map(|r| r.1).collect::<Vec<_>>(),
            "var_scaled": table.iter().map(|r| r.2).collect::<Vec<_>>(),
        },
        "attention_entropy": {
            "keys": s.keys,
            "d": curve.iter().map(|r| r.0).collect::<Vec<_>>(),
            "unscaled": curve.iter().map(|r| r.1).collect::<Vec<_>>(),
            "scaled": curve.iter().map(|r| r.2).collect::<Vec<_>>(),
        },
    })
}
