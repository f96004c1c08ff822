//! Lesson "From XXᵀ to Q, K, V: how *bears* finds its meaning" — the lecture's central argument
//! in three moves: parameter-free self-attention X̂ = softmax(XXᵀ)X moves each token toward its
//! helpers; it cannot be trained and its similarity is symmetric; queries, keys and values make
//! it learnable. One token, "bears", is an object, a verb and a subject in the lecture's three
//! sentences, and attention moves it to three places.
//!
//! Math: `math::attention` (the three moves, the hand-made embedding, a trained head read off a
//! forward pass) and `math::pca` (the 2-D view). Models: the bundled encoder
//! (`pretrained::encoder_shared`) and the live lesson's decoder (`pretrained::bears_shared`).
//! One file per section.

mod keys;
mod learned;
mod points;
mod roles;
pub mod settings;
mod simple;
mod view;

use std::sync::OnceLock;

use ndarray::Array2;
use serde_json::{Value, json};

use crate::data::Tokenizer;
use crate::lessons::lesson::{Lesson, LessonInfo, LessonSettings, Sectioned};
use crate::math::attention::{Handmade, Head, learned_head, qkv_attention, simple_attention};
use crate::math::pca::Pca2;
use crate::model::Gpt;
use crate::pretrained::{bears_shared, encoder_shared};
pub use settings::{AttentionSettings, ModelChoice, Sentence};

/// The lesson, for the registry.
pub fn lesson() -> Box<dyn Lesson> {
    Box::new(Sectioned::new(
        LessonInfo {
            id: "attention",
            title: "From XXᵀ to Q, K, V: how bears finds its meaning",
            summary: "\"I love bears\", \"she bears the pain\", \"the bears won the game\": one token, three roles. Self-attention moves each token toward the tokens that help it; queries and keys decide who helps whom.",
        },
        vec![
            Box::new(points::Points),
            Box::new(simple::SimpleSection),
            Box::new(roles::Roles),
            Box::new(learned::Learned),
            Box::new(keys::Keys::default()),
        ],
        data,
    ))
}

/// A model's vocabulary as points: its words, the embedding table (one row per word) with its
/// columns' names, and the 2-D view fitted to the whole table once.
pub struct Vocabulary {
    /// The words (a trained model's sense tags left out: they are outputs, never inputs).
    pub words: Vec<String>,
    /// One row per word: (V, d).
    pub table: Array2<f32>,
    /// What each column is: a named axis, or "dim j" for a trained model.
    pub columns: Vec<String>,
    /// The top two principal axes of the table.
    pub pca: Pca2,
}

/// The vocabulary of a model (built once per process).
pub fn vocabulary(model: ModelChoice) -> Result<&'static Vocabulary, String> {
    static CELLS: [OnceLock<Result<Vocabulary, String>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let i = model as usize;
    CELLS[i]
        .get_or_init(|| build_vocabulary(model))
        .as_ref()
        .map_err(Clone::clone)
}

fn build_vocabulary(model: ModelChoice) -> Result<Vocabulary, String> {
    let (words, table, columns) = match model {
        ModelChoice::Handmade => {
            let h = Handmade::new();
            (
                h.words.iter().map(|w| (*w).to_owned()).collect(),
                h.table.clone(),
                h.axes.iter().map(|a| (*a).to_owned()).collect(),
            )
        }
        ModelChoice::Encoder | ModelChoice::Causal => {
            let (gpt, tok) = trained(model)?;
            let words: Vec<String> = tok
                .vocab()
                .iter()
                .filter(|w| !w.contains(':'))
                .cloned()
                .collect();
            let c = gpt.params.wte.ncols();
            let mut table = Array2::zeros((words.len(), c));
            for (r, w) in words.iter().enumerate() {
                if let Some(id) = tok.id(w) {
                    table.row_mut(r).assign(&gpt.params.wte.row(id));
                }
            }
            (words, table, (0..c).map(|j| format!("dim {j}")).collect())
        }
    };
    let pca = Pca2::fit(&table);
    Ok(Vocabulary {
        words,
        table,
        columns,
        pca,
    })
}

/// The trained model behind a choice (the hand-made one has none).
pub fn trained(model: ModelChoice) -> Result<&'static (Gpt, Tokenizer), String> {
    match model {
        ModelChoice::Causal => bears_shared(),
        _ => encoder_shared(),
    }
}

/// The words of a sentence and their rows of X in a vocabulary; an unknown word is an error
/// that lists what the vocabulary has.
pub fn embed(vocab: &Vocabulary, text: &str) -> Result<(Vec<String>, Array2<f32>), String> {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return Err("Type a sentence.".into());
    }
    let unknown: Vec<&String> = words.iter().filter(|w| !vocab.words.contains(w)).collect();
    if !unknown.is_empty() {
        return Err(format!(
            "Not in the vocabulary: {}. It has: {}.",
            unknown
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(", "),
            vocab.words.join(" ")
        ));
    }
    let mut x = Array2::zeros((words.len(), vocab.table.ncols()));
    for (i, w) in words.iter().enumerate() {
        if let Some(r) = vocab.words.iter().position(|v| v == w) {
            x.row_mut(i).assign(&vocab.table.row(r));
        }
    }
    Ok((words, x))
}

/// The head the learned sections read: the hand-made Q, K (V = X), or a trained model's layer
/// and head. Returns (words, what the head reads, the head).
pub fn head_for(
    s: &AttentionSettings,
    model: ModelChoice,
    text: &str,
) -> Result<(Vec<String>, Array2<f32>, Head), String> {
    match model {
        ModelChoice::Handmade => {
            let vocab = vocabulary(ModelChoice::Handmade)?;
            let (words, x) = embed(vocab, text)?;
            let w_q = settings::to_array(&s.w_q);
            let w_k = settings::to_array(&s.w_k);
            let head = qkv_attention(&x, &w_q, &w_k, &Array2::eye(x.ncols()), false);
            Ok((words, x, head))
        }
        ModelChoice::Encoder | ModelChoice::Causal => {
            let (gpt, tok) = trained(model)?;
            let vocab = vocabulary(model)?;
            let (words, _) = embed(vocab, text)?;
            let ids: Vec<usize> = words.iter().filter_map(|w| tok.id(w)).collect();
            let (layers, heads) = (gpt.config.n_layer, gpt.config.n_head);
            let (x, head) = learned_head(gpt, &ids, s.layer, s.head).ok_or_else(|| {
                format!(
                    "layer {} head {} does not exist: the model has {layers} layers of {heads} heads",
                    s.layer + 1,
                    s.head + 1
                )
            })?;
            Ok((words, x, head))
        }
    }
}

/// The index of "bears" in a sentence, if it is there.
pub fn bears_at(words: &[String]) -> Option<usize> {
    words.iter().position(|w| w == "bears")
}

fn rows(a: &Array2<f32>) -> Vec<Vec<f32>> {
    a.outer_iter().map(|r| r.to_vec()).collect()
}

fn data(s: &AttentionSettings) -> Value {
    let text = s.sentence.text(&s.prompt);
    let embedding_model = if s.model == ModelChoice::Handmade {
        ModelChoice::Handmade
    } else {
        s.model
    };
    let vocab = match vocabulary(embedding_model) {
        Ok(v) => v,
        Err(e) => return json!({ "error": e }),
    };
    let (words, x) = match embed(vocab, &text) {
        Ok(v) => v,
        Err(e) => return json!({ "error": e }),
    };
    let simple = simple_attention(&x, s.scale);
    let project = |a: &Array2<f32>| -> Vec<[f64; 2]> { vocab.pca.project_rows(a) };
    let mut out = json!({
        "settings": s.to_json(),
        "sentence": text,
        "tokens": words,
        "x_columns": vocab.columns,
        "x": rows(&x),
        "scores_simple": rows(&simple.scores),
        "weights_simple": rows(&simple.weights),
        "x_hat": rows(&simple.x_hat),
        "projection": {
            "axes": "the top two principal axes of the model's whole embedding table",
            "explained_variance": vocab.pca.explained,
            "x": project(&x),
            "x_hat": project(&simple.x_hat),
        },
    });
    match head_for(s, s.model, &text) {
        Ok((_, head_input, h)) => {
            if let Some(map) = out.as_object_mut() {
                for (k, v) in [
                    ("head_input", rows(&head_input)),
                    ("q", rows(&h.q)),
                    ("k", rows(&h.k)),
                    ("v", rows(&h.v)),
                    ("scores", rows(&h.scores)),
                    ("weights", rows(&h.weights)),
                    ("v_hat", rows(&h.v_hat)),
                ] {
                    map.insert(k.into(), json!(v));
                }
            }
        }
        Err(e) => {
            if let Some(map) = out.as_object_mut() {
                map.insert("head_error".into(), json!(e));
            }
        }
    }
    out
}
