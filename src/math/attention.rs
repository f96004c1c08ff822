//! The lecture's argument for attention in three moves, as numbers.
//!
//! 1. **Simple self-attention** (no parameters): with the context-free token vectors as the rows
//!    of X (T × d), S = c · XXᵀ, A = softmax(S) row by row, X̂ = AX: token i moves to
//!    x̂_i = Σ_j a_ij x_j, helped by the others and by itself. S is symmetric (x_i·x_j = x_j·x_i)
//!    for every c, and nothing in it can be trained.
//! 2. **Why that is not enough**: where x̂_i lands is fixed by the embeddings; x_i·x_i = ‖x_i‖²
//!    often tops its row, so a token mostly stays where it is.
//! 3. **Query, key, value**: Q = XW_Q, K = XW_K, V = XW_V; S = QKᵀ/√d_k = X W_Q W_Kᵀ Xᵀ/√d_k, a
//!    learned and non-symmetric similarity; V̂ = softmax(S) V.
//!
//! Sources: the lecture; Vaswani et al. 2017, "Attention is all you need", eq. (1). The
//! hand-made embedding of the lesson's third section is below ([`Handmade`]); the learned heads
//! are read off a model's forward pass ([`learned_head`]).

use ndarray::{Array2, s};

use crate::model::gpt::{Activations, Gpt, gpt_forward};
use crate::model::softmax::softmax;

/// Parameter-free self-attention of the rows of X.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Simple {
    /// S = c · XXᵀ: (T, T), symmetric.
    pub scores: Array2<f32>,
    /// A = softmax(S) row by row: (T, T), rows sum to 1.
    pub weights: Array2<f32>,
    /// X̂ = AX: (T, d).
    pub x_hat: Array2<f32>,
}

/// Softmax of each row (a row of −∞ but for some entries gives those entries the weight).
fn softmax_rows(s: &Array2<f32>) -> Array2<f32> {
    let mut a = Array2::zeros(s.dim());
    for (i, row) in s.outer_iter().enumerate() {
        let p = softmax(&row.to_vec());
        for (j, v) in p.into_iter().enumerate() {
            a[[i, j]] = v;
        }
    }
    a
}

/// S = c · XXᵀ, A = softmax(S), X̂ = AX. x: (T, d)
pub fn simple_attention(x: &Array2<f32>, c: f32) -> Simple {
    let scores = x.dot(&x.t()) * c;
    let weights = softmax_rows(&scores);
    let x_hat = weights.dot(x);
    Simple {
        scores,
        weights,
        x_hat,
    }
}

/// One head's queries, keys, values, scores, weights and output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Head {
    /// Q = XW_Q: (T, d_k)
    pub q: Array2<f32>,
    /// K = XW_K: (T, d_k)
    pub k: Array2<f32>,
    /// V = XW_V: (T, d_v)
    pub v: Array2<f32>,
    /// S = QKᵀ/√d_k, −∞ above the diagonal under a causal mask: (T, T)
    pub scores: Array2<f32>,
    /// A = softmax(S) row by row: (T, T)
    pub weights: Array2<f32>,
    /// V̂ = AV: (T, d_v)
    pub v_hat: Array2<f32>,
}

/// Q = XW_Q, K = XW_K, V = XW_V, S = QKᵀ/√d_k (masked if `causal`), A = softmax(S), V̂ = AV.
/// x: (T, d), w_q, w_k: (d, d_k), w_v: (d, d_v)
pub fn qkv_attention(
    x: &Array2<f32>,
    w_q: &Array2<f32>,
    w_k: &Array2<f32>,
    w_v: &Array2<f32>,
    causal: bool,
) -> Head {
    let q = x.dot(w_q);
    let k = x.dot(w_k);
    let v = x.dot(w_v);
    let dk = q.ncols().max(1) as f32;
    let mut scores = q.dot(&k.t()) / dk.sqrt();
    if causal {
        for ((i, j), s) in scores.indexed_iter_mut() {
            if j > i {
                *s = f32::NEG_INFINITY;
            }
        }
    }
    let weights = softmax_rows(&scores);
    let v_hat = weights.dot(&v);
    Head {
        q,
        k,
        v,
        scores,
        weights,
        v_hat,
    }
}

/// A trained model's head `head` of layer `layer` on the prompt `ids`, read off its forward pass
/// (eval mode): X is what the head reads (the block's normalised input), q, k, v its slices of
/// the fused projection, the scores and weights as the model computed them, and v̂ its output
/// before W_O. Returns (X, head); `None` if the layer or head does not exist or `ids` is empty.
pub fn learned_head(
    gpt: &Gpt,
    ids: &[usize],
    layer: usize,
    head: usize,
) -> Option<(Array2<f32>, Head)> {
    let cfg = &gpt.config;
    if ids.is_empty() || layer >= cfg.n_layer || head >= cfg.n_head {
        return None;
    }
    let ids = &ids[ids.len().saturating_sub(cfg.block_size)..];
    let mut acts = Activations::default();
    gpt_forward(gpt, &mut acts, ids, None, 1, ids.len(), false);
    let blk = acts.blocks.get(layer)?;
    let (c, hs) = (cfg.n_embd, cfg.head_size());
    let cols = |offset: usize| {
        blk.qkv
            .slice(s![.., offset + head * hs..offset + (head + 1) * hs])
            .to_owned()
    };
    Some((
        blk.ln1.clone(),
        Head {
            q: cols(0),
            k: cols(c),
            v: cols(2 * c),
            scores: blk.attn.preatt.slice(s![0, head, .., ..]).to_owned(),
            weights: blk.attn.att.slice(s![0, head, .., ..]).to_owned(),
            v_hat: blk
                .atty
                .slice(s![.., head * hs..(head + 1) * hs])
                .to_owned(),
        },
    ))
}

/// The largest |S_ij − S_ji|: 0 exactly for XXᵀ (the same products in the same order).
pub fn asymmetry(s: &Array2<f32>) -> f32 {
    let mut m = 0.0_f32;
    for ((i, j), &v) in s.indexed_iter() {
        if let Some(&w) = s.get((j, i))
            && v.is_finite()
            && w.is_finite()
        {
            m = m.max((v - w).abs());
        }
    }
    m
}

/// How many rows of S have their largest entry on the diagonal (the token is its own best
/// match).
pub fn diagonal_wins(s: &Array2<f32>) -> usize {
    s.outer_iter()
        .enumerate()
        .filter(|(i, row)| {
            let best = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            row[*i] >= best
        })
        .count()
}

/// The lesson's hand-made embedding: a few words of the three sentences on axes that *are*
/// named (a real model never names its axes), and query and key matrices a student can edit.
#[derive(Debug, Clone, PartialEq)]
pub struct Handmade {
    /// The words, in table order.
    pub words: Vec<&'static str>,
    /// The names of the axes (the columns of the table).
    pub axes: Vec<&'static str>,
    /// The embedding: one row per word, (V, d).
    pub table: Array2<f32>,
    /// The names of the query/key dimensions.
    pub key_dims: Vec<&'static str>,
}

/// Names of the hand-made embedding's axes.
pub const HANDMADE_AXES: [&str; 6] = ["function", "verb", "noun", "animal", "hardship", "sport"];
/// Names of the hand-made query/key dimensions.
pub const HANDMADE_KEY_DIMS: [&str; 2] = ["verb?", "noun?"];

impl Handmade {
    /// The embedding. "bears" is a little of everything (0.5 on every content axis): on its own
    /// it is ambiguous. "love" leans to "animal" (what one loves), "pain" is a hardship noun,
    /// "won" a sport verb, "game" a sport noun; "i", "she", "the" and "." are function words.
    pub fn new() -> Self {
        let rows: [(&str, [f32; 6]); 9] = [
            ("i", [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            ("she", [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            ("the", [0.8, 0.0, 0.0, 0.0, 0.0, 0.0]),
            (".", [0.6, 0.0, 0.0, 0.0, 0.0, 0.0]),
            ("love", [0.0, 1.0, 0.0, 0.7, 0.0, 0.0]),
            ("bears", [0.0, 0.5, 0.5, 0.5, 0.5, 0.5]),
            ("pain", [0.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
            ("won", [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
            ("game", [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]),
        ];
        let mut table = Array2::zeros((rows.len(), 6));
        for (i, (_, r)) in rows.iter().enumerate() {
            for (j, &v) in r.iter().enumerate() {
                table[[i, j]] = v;
            }
        }
        Self {
            words: rows.iter().map(|(w, _)| *w).collect(),
            axes: HANDMADE_AXES.to_vec(),
            table,
            key_dims: HANDMADE_KEY_DIMS.to_vec(),
        }
    }

    /// X for a sentence (T × d): the rows of its words; `None` names the first unknown word.
    pub fn x(&self, words: &[&str]) -> Result<Array2<f32>, String> {
        let mut x = Array2::zeros((words.len(), self.table.ncols()));
        for (i, w) in words.iter().enumerate() {
            let r = self.words.iter().position(|v| v == w).ok_or_else(|| {
                format!(
                    "\"{w}\" is not in the hand-made embedding ({})",
                    self.words.join(", ")
                )
            })?;
            x.row_mut(i).assign(&self.table.row(r));
        }
        Ok(x)
    }

    /// W_K: a key says what a token is — its "verb" axis on the first key dimension, its "noun"
    /// axis on the second. (d, 2)
    pub fn w_k(&self) -> Array2<f32> {
        let mut w = Array2::zeros((self.table.ncols(), 2));
        w[[1, 0]] = 1.0;
        w[[2, 1]] = 1.0;
        w
    }

    /// W_Q for a role: the query says what a token looks for. As an object ("i love bears") a
    /// noun looks for the verb acting on it: its "noun" axis feeds the "verb?" query; as a verb
    /// ("she bears the pain") it looks for its object: its "verb" axis feeds the "noun?" query.
    /// `strength` scales the query (how sure the token is). (d, 2)
    pub fn w_q(&self, role: Role, strength: f32) -> Array2<f32> {
        let mut w = Array2::zeros((self.table.ncols(), 2));
        match role {
            Role::LooksForVerb => w[[2, 0]] = strength,
            Role::LooksForObject => w[[1, 1]] = strength,
        }
        w
    }
}

impl Default for Handmade {
    fn default() -> Self {
        Self::new()
    }
}

/// What the query of "bears" looks for in the hand-made presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An object or subject looking for the verb that goes with it ("i love bears", "the bears
    /// won the game").
    LooksForVerb,
    /// A verb looking for its object ("she bears the pain").
    LooksForObject,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn simple_attention_is_symmetric_and_rows_sum_to_one() {
        let x = array![[1.0f32, 0.5], [-0.3, 2.0], [0.7, -1.1]];
        for c in [0.1f32, 1.0, 7.0] {
            let a = simple_attention(&x, c);
            assert_eq!(asymmetry(&a.scores), 0.0);
            for row in a.weights.outer_iter() {
                assert!((row.sum() - 1.0).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn the_hand_made_presets_find_the_lectures_helpers() {
        let h = Handmade::new();
        let w_v = Array2::eye(6);
        let best = |sentence: &[&str], role: Role| -> &'static str {
            let x = h.x(sentence).unwrap_or_else(|e| panic!("{e}"));
            let head = qkv_attention(&x, &h.w_q(role, 6.0), &h.w_k(), &w_v, false);
            let b = sentence.iter().position(|w| *w == "bears").unwrap_or(0);
            let row = head.weights.row(b);
            let j = (0..row.len())
                .max_by(|&p, &q| row[p].total_cmp(&row[q]))
                .unwrap_or(0);
            [
                "i", "love", "bears", "she", "pain", "the", "won", "game", ".",
            ]
            .into_iter()
            .find(|w| *w == sentence[j])
            .unwrap_or("?")
        };
        assert_eq!(best(&["i", "love", "bears"], Role::LooksForVerb), "love");
        assert_eq!(
            best(&["she", "bears", "the", "pain"], Role::LooksForObject),
            "pain"
        );
        assert_eq!(
            best(&["the", "bears", "won", "the", "game"], Role::LooksForVerb),
            "won"
        );
        // One fixed query cannot serve every sentence: looking for a verb in "she bears the
        // pain" finds only "bears" itself.
        assert_eq!(
            best(&["she", "bears", "the", "pain"], Role::LooksForVerb),
            "bears"
        );
    }
}
