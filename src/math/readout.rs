//! What the lessons read off a language model for a prompt: which pieces it knows, the attention
//! and scores of every layer × head, the head outputs before and after mixing, the next-token
//! distribution, one generated token, and the attention row of the query "bears" in the
//! lecture's three sentences. One eval-mode forward pass each (`model::gpt::gpt_forward`).

use ndarray::{Array2, s};

use crate::data::Tokenizer;
use crate::model::gpt::{Activations, Gpt, gpt_forward};
use crate::model::softmax::softmax;

/// What the prompt looks like to the model: its pieces, ids, and what went wrong.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptView {
    /// Every piece of the prompt, known or not.
    pub pieces: Vec<String>,
    /// Which pieces are not in the vocabulary.
    pub unknown: Vec<bool>,
    /// The ids fed to the model (known pieces, cut to the context).
    pub ids: Vec<usize>,
    /// The labels of the ids.
    pub labels: Vec<String>,
    /// How many tokens were cut because the prompt is longer than the context.
    pub cut: usize,
}

/// Tokenize a prompt for display: unknown pieces are listed (not silently dropped) and the
/// model sees only the known ones, cut to the context.
pub fn prompt_view(tokenizer: &Tokenizer, prompt: &str, context: usize) -> PromptView {
    let pieces = tokenizer.pieces(prompt);
    let unknown: Vec<bool> = pieces.iter().map(|p| tokenizer.id(p).is_none()).collect();
    let known: Vec<(usize, String)> = pieces
        .iter()
        .filter_map(|p| tokenizer.id(p).map(|id| (id, p.clone())))
        .collect();
    let cut = known.len().saturating_sub(context);
    let kept = &known[cut..];
    PromptView {
        pieces,
        unknown,
        ids: kept.iter().map(|(i, _)| *i).collect(),
        labels: kept.iter().map(|(_, s)| s.clone()).collect(),
        cut,
    }
}

/// The model's view of a prompt: attention, scores, next-token probabilities.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Attention weights per layer and head: (T, T) each.
    pub attention: Vec<Vec<Array2<f32>>>,
    /// Pre-softmax scores per layer and head (−∞ where masked).
    pub scores: Vec<Vec<Array2<f32>>>,
    /// Logits of the last position (V).
    pub last_logits: Vec<f32>,
    /// Per layer: the concatenated head outputs [V̂_1 … V̂_H] before mixing, (T, C).
    pub heads_concat: Vec<Array2<f32>>,
    /// Per layer: the mixed result V̂ W_Oᵀ + b, (T, C).
    pub mixed: Vec<Array2<f32>>,
}

/// One eval-mode forward pass of the prompt ids.
pub fn analyze(gpt: &Gpt, ids: &[usize]) -> Analysis {
    if ids.is_empty() {
        return Analysis::default();
    }
    let t = ids.len();
    let mut acts = Activations::default();
    gpt_forward(gpt, &mut acts, ids, None, 1, t, false);
    let per_head = |f: &dyn Fn(usize) -> Array2<f32>, h: usize| (0..h).map(f).collect::<Vec<_>>();
    let mut attention = Vec::new();
    let mut scores = Vec::new();
    for blk in &acts.blocks {
        let h = blk.attn.att.dim().1;
        attention.push(per_head(
            &|hh| blk.attn.att.slice(s![0, hh, .., ..]).to_owned(),
            h,
        ));
        scores.push(per_head(
            &|hh| blk.attn.preatt.slice(s![0, hh, .., ..]).to_owned(),
            h,
        ));
    }
    let last_logits = acts.logits.row(t - 1).to_vec();
    let heads_concat: Vec<Array2<f32>> = acts.blocks.iter().map(|b| b.atty.clone()).collect();
    let mixed = heads_concat
        .iter()
        .zip(&gpt.params.blocks)
        .map(|(y, bp)| y.dot(&bp.attn_proj_w.t()) + &bp.attn_proj_b)
        .collect();
    Analysis {
        attention,
        scores,
        last_logits,
        heads_concat,
        mixed,
    }
}

/// The top `k` next tokens after the prompt at a temperature: (token, probability).
pub fn top_next(
    tokenizer: &Tokenizer,
    logits: &[f32],
    temperature: f32,
    k: usize,
) -> Vec<(String, f32)> {
    let t = temperature.max(1e-3);
    let p = softmax(&logits.iter().map(|l| l / t).collect::<Vec<_>>());
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    order
        .into_iter()
        .take(k)
        .map(|i| (tokenizer.word(i), p[i]))
        .collect()
}

/// The next token: the argmax, or a sample at the temperature from a seeded generator.
pub fn generate_next(
    tokenizer: &Tokenizer,
    logits: &[f32],
    temperature: f32,
    greedy: bool,
    seed: u64,
) -> Option<String> {
    if logits.is_empty() {
        return None;
    }
    let t = temperature.max(1e-3);
    let p = softmax(&logits.iter().map(|l| l / t).collect::<Vec<_>>());
    let index = if greedy {
        (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]))?
    } else {
        use rand::{RngExt, SeedableRng};
        let u: f32 = rand::rngs::StdRng::seed_from_u64(seed).random();
        let mut acc = 0.0;
        p.iter()
            .position(|&pi| {
                acc += pi;
                acc > u
            })
            .unwrap_or(p.len() - 1)
    };
    tokenizer.vocab().get(index).cloned()
}

/// The lecture's three sentences: one token, three meanings.
pub const THREE_BEARS: [&str; 3] = [
    "i love bears",
    "she bears the pain",
    "the bears won the game",
];

/// One sentence of the three-bears panel.
#[derive(Debug, Clone)]
pub struct BearsRows {
    /// The sentence.
    pub sentence: String,
    /// Its tokens (the columns).
    pub tokens: Vec<String>,
    /// "L1 H1" … and "mean" (the rows).
    pub heads: Vec<String>,
    /// The attention of the query "bears" to each key; −∞ where the causal mask hides a key.
    pub rows: Array2<f32>,
}

/// For each sentence: its tokens, and the attention row of the query "bears" for every
/// layer × head (rows "L1 H1" …) and their mean (last row): a (L·H + 1) × T matrix.
pub fn bears_rows(gpt: &Gpt, tokenizer: &Tokenizer) -> Vec<BearsRows> {
    THREE_BEARS
        .iter()
        .filter_map(|sentence| {
            let view = prompt_view(tokenizer, sentence, gpt.config.block_size);
            // Only sentences whose "bears" the model sees (a cut or unknown one is skipped).
            let q = view.labels.iter().position(|t| t == "bears")?;
            let a = analyze(gpt, &view.ids);
            let t = view.labels.len();
            let mut names = Vec::new();
            let mut rows: Vec<f32> = Vec::new();
            for (l, layer) in a.attention.iter().enumerate() {
                for (h, m) in layer.iter().enumerate() {
                    names.push(format!("L{} H{}", l + 1, h + 1));
                    rows.extend(m.row(q).iter());
                }
            }
            let n = names.len().max(1);
            let mean: Vec<f32> = (0..t)
                .map(|k| (0..names.len()).map(|r| rows[r * t + k]).sum::<f32>() / n as f32)
                .collect();
            rows.extend(mean);
            names.push("mean".into());
            if gpt.config.causal {
                // Keys after the query are masked (weight 0 because −∞ before the softmax).
                for (i, v) in rows.iter_mut().enumerate() {
                    if i % t.max(1) > q {
                        *v = f32::NEG_INFINITY;
                    }
                }
            }
            // names.len() rows of t entries each, by construction.
            let m = Array2::from_shape_vec((names.len(), t), rows).ok()?;
            Some(BearsRows {
                sentence: sentence.to_string(),
                tokens: view.labels,
                heads: names,
                rows: m,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpt::{Activations, gpt_forward};

    #[test]
    fn three_bears_skips_sentences_the_model_cannot_read() {
        let (gpt, tok) = crate::pretrained::bears().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bears_rows(&gpt, &tok).len(), 3);
        let others = tok
            .vocab()
            .iter()
            .filter(|v| *v != "bears")
            .cloned()
            .collect();
        let no_bears = Tokenizer::new(tok.kind, others).unwrap_or_else(|e| panic!("{e}"));
        assert!(bears_rows(&gpt, &no_bears).is_empty());
    }

    #[test]
    fn pretrained_model_loads_and_attends() {
        let (gpt, tok) = crate::pretrained::bears().unwrap_or_else(|e| panic!("{e}"));
        let view = prompt_view(&tok, "i love bears", gpt.config.block_size);
        assert_eq!(view.labels, vec!["i", "love", "bears"]);
        let a = analyze(&gpt, &view.ids);
        assert_eq!(a.attention.len(), gpt.config.n_layer);
        assert_eq!(a.attention[0].len(), gpt.config.n_head);
        for row in a.attention[0][0].outer_iter() {
            assert!((row.sum() - 1.0).abs() < 1e-5);
        }
        // Causal: the first query sees only itself.
        assert_eq!(a.attention[0][0][[0, 1]], 0.0);
        let top = top_next(&tok, &a.last_logits, 1.0, 3);
        assert_eq!(
            top[0].0, ".",
            "after \"i love bears\" the sentence ends: {top:?}"
        );
    }

    #[test]
    fn mixing_reproduces_the_attention_branch_of_the_residual_stream() {
        let (gpt, tok) = crate::pretrained::bears().unwrap_or_else(|e| panic!("{e}"));
        let ids = tok
            .encode("the bears won the game")
            .unwrap_or_else(|e| panic!("{e}"));
        let a = analyze(&gpt, &ids);
        let mut acts = Activations::default();
        gpt_forward(&gpt, &mut acts, &ids, None, 1, ids.len(), false);
        for l in 0..gpt.config.n_layer {
            // resid2 = x + mixed: the mixed heads are exactly what attention adds to the stream.
            let added = &acts.blocks[l].resid2 - &acts.resid[l];
            let diff = (&a.mixed[l] - &added)
                .mapv(f32::abs)
                .fold(0.0_f32, |m, v| m.max(*v));
            assert!(diff < 1e-5, "layer {l}: {diff}");
        }
    }

    #[test]
    fn generation_is_greedy_or_seeded() {
        let (gpt, tok) = crate::pretrained::bears().unwrap_or_else(|e| panic!("{e}"));
        let ids = tok
            .encode("she bears the")
            .unwrap_or_else(|e| panic!("{e}"));
        let a = analyze(&gpt, &ids);
        let greedy =
            generate_next(&tok, &a.last_logits, 1.0, true, 0).unwrap_or_else(|| panic!("no token"));
        assert!(
            ["pain", "weight", "burden", "cost"].contains(&greedy.as_str()),
            "{greedy}"
        );
        let s1 = generate_next(&tok, &a.last_logits, 1.0, false, 7);
        assert_eq!(s1, generate_next(&tok, &a.last_logits, 1.0, false, 7));
    }

    #[test]
    fn unknown_words_are_listed_and_long_prompts_cut() {
        let (gpt, tok) = crate::pretrained::bears().unwrap_or_else(|e| panic!("{e}"));
        let v = prompt_view(&tok, "i love salmon bears", gpt.config.block_size);
        assert_eq!(v.unknown, vec![false, false, true, false]);
        assert_eq!(v.labels, vec!["i", "love", "bears"]);
        let long = "the bears won the game . ".repeat(6);
        let v = prompt_view(&tok, &long, gpt.config.block_size);
        assert_eq!(v.ids.len(), gpt.config.block_size);
        assert_eq!(v.cut, 36 - gpt.config.block_size);
    }
}
