//! Lesson "Residuals, the MLP and the stack": why a transformer block is more than attention.
//! One block of the bundled model, every tensor; the MLP acting on each token alone; gradient
//! flow through a deep stack with and without skip connections and norms (runs trained side by
//! side); a weight gradient proportional to its input, and the norm that cancels it; the head.
//!
//! Math: `math::block`; the runs: `common::compare_runs` (preset `Residuals`) and the trainer's
//! per-layer gradient norms. One file per section.

mod depth;
mod head;
mod input_scale;
mod per_token;
pub mod settings;
mod stream;

use serde_json::{Value, json};

use crate::data::Task;
use crate::lessons::lesson::{Lesson, LessonInfo, LessonSettings, Sectioned};
use crate::math::block::{STREAM, block_pieces, block_tensors};
use crate::pretrained::bears_shared;
use crate::train::{TrainConfig, Trainer};
pub use settings::ResidualSettings;

/// Steps of `data`'s short run (the gradient table).
pub const DATA_STEPS: usize = 20;

/// The lesson, for the registry.
pub fn lesson() -> Box<dyn Lesson> {
    Box::new(Sectioned::new(
        LessonInfo {
            id: "residuals",
            title: "Residuals, the MLP and the stack",
            summary: "Attention moves each token by a weighted average of the others; the MLP then reshapes each token on its own, and the skip connections x + f(x) give the gradient a path around every layer of the stack.",
        },
        vec![
            Box::new(stream::Stream),
            Box::new(per_token::PerToken),
            Box::new(depth::Depth::default()),
            Box::new(input_scale::InputScale),
            Box::new(head::Head),
        ],
        data,
    ))
}

/// The prompt's words and ids in the bundled model's vocabulary; an unknown word is an error
/// that names it.
pub fn prompt_ids(prompt: &str) -> Result<(Vec<String>, Vec<usize>), String> {
    let (gpt, tok) = bears_shared()?;
    let words: Vec<String> = prompt.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return Err("Type a prompt.".into());
    }
    let unknown: Vec<String> = words
        .iter()
        .filter(|w| tok.id(w).is_none())
        .map(|w| format!("\"{w}\""))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "Not in the bears vocabulary: {} (it has: {}).",
            unknown.join(", "),
            tok.vocab().join(" ")
        ));
    }
    let keep = gpt.config.block_size;
    let words = words[words.len().saturating_sub(keep)..].to_vec();
    let ids = words.iter().filter_map(|w| tok.id(w)).collect();
    Ok((words, ids))
}

/// A short deterministic run of the bears task at this depth, with or without skips and norm:
/// the gradient's norm over each block's weights at each step, (layers × steps).
pub fn gradient_table(s: &ResidualSettings, steps: usize) -> Result<Vec<Vec<f32>>, String> {
    let mut config = TrainConfig {
        task: Task::Bears,
        seed: 0,
        eval_every: 0,
        ..TrainConfig::default()
    };
    config.model.n_layer = s.layers;
    config.model.residual = s.residual;
    config.model.norm = s.norm;
    let mut trainer = Trainer::new(config)?;
    let mut table = vec![Vec::with_capacity(steps); s.layers];
    for _ in 0..steps {
        let stats = trainer.step();
        for (row, &g) in table.iter_mut().zip(trainer.layer_grad_norms()) {
            row.push(g);
        }
        if stats.diverged.is_some() {
            break;
        }
    }
    Ok(table)
}

fn rows(a: &ndarray::Array2<f32>) -> Vec<Vec<f32>> {
    a.outer_iter().map(|r| r.to_vec()).collect()
}

fn data(s: &ResidualSettings) -> Value {
    let (words, ids) = match prompt_ids(&s.prompt) {
        Ok(v) => v,
        Err(e) => return json!({ "error": e }),
    };
    let Ok((gpt, _)) = bears_shared() else {
        return json!({ "error": "the bundled model could not be loaded" });
    };
    let Some(t) = block_tensors(gpt, &ids, s.layer.min(gpt.config.n_layer - 1)) else {
        return json!({ "error": "no such block" });
    };
    let (attention, mlp, norms) = block_pieces(&gpt.config);
    let stream: Vec<Value> = STREAM
        .iter()
        .zip(&t.stream)
        .map(|(name, m)| json!({ "name": name, "values": rows(m) }))
        .collect();
    let per_layer = match gradient_table(s, DATA_STEPS) {
        Ok(t) => json!(t),
        Err(e) => json!({ "error": e }),
    };
    json!({
        "settings": s.to_json(),
        "tokens": words,
        "layer": s.layer,
        "stream": stream,
        "attn_out": rows(&t.stream[2]),
        "mlp_hidden": rows(&t.stream[6]),
        "mlp_out": rows(&t.stream[7]),
        "params": {
            "attention": attention,
            "mlp": mlp,
            "norms": norms,
            "block": attention + mlp + norms,
            "mlp_share": mlp as f64 / (attention + mlp + norms) as f64,
        },
        "grad_norms": {
            "layers": s.layers,
            "residual": s.residual,
            "norm": s.norm,
            "steps": DATA_STEPS,
            "per_layer": per_layer,
        },
    })
}
