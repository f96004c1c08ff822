//! Lesson "Decoding: greedy vs beam search (MLSE), and BLEU". A language model gives a
//! distribution over the next token; the most probable token at every step (greedy) is not the
//! most probable sequence. A hand-set trellis where greedy loses; beam search on the bundled
//! model (or a loaded checkpoint) drawn step by step; exact search against beam width; BLEU.
//!
//! Math: `math::decoding` (greedy, beam, exact branch and bound, Viterbi, BLEU). One file per
//! section.

mod beam;
mod bleu;
mod exact;
pub mod settings;
mod trellis;

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

use crate::data::Tokenizer;
use crate::lessons::lesson::{Lesson, LessonInfo, Sectioned};
use crate::math::decoding::{
    BeamResult, ExactSearch, Hypothesis, ModelNext, Node, beam_search, enumerate, exact_search,
    greedy, sentence_bleu, viterbi, words,
};
use crate::math::readout::prompt_view;
use crate::model::Gpt;
pub use settings::{DecodingSettings, Source};

/// Prefixes the exact search may ask the model about before it gives up.
pub const EXACT_BUDGET: usize = 20_000;

/// The lesson, for the registry.
pub fn lesson() -> Box<dyn Lesson> {
    Box::new(Sectioned::new(
        LessonInfo {
            id: "decoding",
            title: "Decoding: greedy, beam search, BLEU",
            summary: "The model gives a distribution over the next token; the most probable token at every step is not the most probable sequence. Beam search keeps several hypotheses and approximates the maximum-likelihood sequence; BLEU scores what comes out against references.",
        },
        vec![
            Box::new(trellis::GreedyLoses),
            Box::new(beam::Beam::default()),
            Box::new(exact::ExactVsBeam::default()),
            Box::new(bleu::BleuSection::default()),
        ],
        data,
    ))
}

/// The BLEU section's examples: (name, candidate, references one per line).
pub fn bleu_presets() -> &'static [(&'static str, &'static str, &'static str)] {
    &bleu::PRESETS
}

/// A language model and its tokenizer, shared with the search threads.
pub type Lm = Arc<(Gpt, Tokenizer)>;

/// The model the settings name: the bundled bears model, or the checkpoint file. The last file
/// read is kept with its result (a failure too) until the file's size or modification time
/// changes, so a frame never reads it again.
pub fn language_model(checkpoint: Option<&str>) -> Result<Lm, String> {
    type Stamp = (String, Option<(u64, Option<std::time::SystemTime>)>);
    static BUNDLED: OnceLock<Result<Lm, String>> = OnceLock::new();
    static LOADED: Mutex<Option<(Stamp, Result<Lm, String>)>> = Mutex::new(None);
    let Some(path) = checkpoint else {
        return BUNDLED
            .get_or_init(|| crate::pretrained::bears().map(Arc::new))
            .clone();
    };
    let stamp: Stamp = (
        path.to_owned(),
        std::fs::metadata(path)
            .ok()
            .map(|m| (m.len(), m.modified().ok())),
    );
    let mut cache = LOADED
        .lock()
        .map_err(|_| "the checkpoint cache is unusable after a crash".to_owned())?;
    if let Some((s, result)) = cache.as_ref()
        && *s == stamp
    {
        return result.clone();
    }
    let result = crate::train::saved::load(std::path::Path::new(path)).map(Arc::new);
    *cache = Some((stamp, result.clone()));
    result
}

/// The prompt's ids in the model's vocabulary (cut to its context); an unknown word or an empty
/// prompt is an error that says so.
pub fn prompt_ids(lm: &Lm, prompt: &str) -> Result<(Vec<String>, Vec<usize>), String> {
    let (gpt, tok) = (&lm.0, &lm.1);
    let view = prompt_view(tok, prompt, gpt.config.block_size);
    let unknown: Vec<String> = view
        .pieces
        .iter()
        .zip(&view.unknown)
        .filter(|(_, u)| **u)
        .map(|(p, _)| format!("\"{p}\""))
        .collect();
    if !unknown.is_empty() {
        let mut vocab = tok.vocab().to_vec();
        vocab.truncate(60);
        return Err(format!(
            "Not in the model's vocabulary: {} (it has: {}{}).",
            unknown.join(", "),
            vocab.join(" "),
            if tok.len() > 60 { " …" } else { "" }
        ));
    }
    if view.ids.is_empty() {
        return Err("Type a prompt: the model continues it.".into());
    }
    Ok((view.labels, view.ids))
}

/// The end token: "." when the vocabulary has it.
pub fn end_token(tok: &Tokenizer) -> Option<usize> {
    tok.id(".")
}

/// What sections 2 and 4 draw: greedy and beam search on the model after the prompt.
#[derive(Debug, Clone)]
pub struct ModelSearch {
    /// The prompt as the model sees it.
    pub prompt: Vec<String>,
    /// The model's vocabulary.
    pub vocab: Vec<String>,
    /// Greedy decoding.
    pub greedy: Hypothesis,
    /// Beam search.
    pub beam: BeamResult,
}

/// The inputs of a [`ModelSearch`] (the cache key).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchKey {
    /// Checkpoint (None: bundled).
    pub checkpoint: Option<String>,
    /// Prompt.
    pub prompt: String,
    /// Beam width.
    pub beam: usize,
    /// Most tokens.
    pub max_len: usize,
    /// Length exponent.
    pub alpha: f64,
}

impl SearchKey {
    /// The key of these settings.
    pub fn of(s: &DecodingSettings) -> Self {
        Self {
            checkpoint: s.checkpoint.clone(),
            prompt: s.prompt.clone(),
            beam: s.beam,
            max_len: s.max_len,
            alpha: s.length_alpha,
        }
    }
}

/// Greedy and beam search for these inputs.
pub fn model_search(key: &SearchKey) -> Result<ModelSearch, String> {
    let lm = language_model(key.checkpoint.as_deref())?;
    let (prompt, ids) = prompt_ids(&lm, &key.prompt)?;
    let mut next = ModelNext::new(&lm.0, ids, end_token(&lm.1));
    let greedy = greedy(&mut next, key.max_len);
    let beam = beam_search(&mut next, key.beam, key.max_len, key.alpha);
    Ok(ModelSearch {
        prompt,
        vocab: lm.1.vocab().to_vec(),
        greedy,
        beam,
    })
}

/// The words of token ids in a vocabulary.
pub fn spell(vocab: &[String], tokens: &[usize]) -> String {
    tokens
        .iter()
        .map(|&t| vocab.get(t).map_or("?", String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The best log-probability beam search finds (α = 0) for each width 1…`widths`, and the exact
/// optimum, on the model over `horizon` tokens.
#[derive(Debug, Clone)]
pub struct ExactCurve {
    /// Beam widths.
    pub widths: Vec<usize>,
    /// Best log p found by each width (its top hypothesis).
    pub found: Vec<f64>,
    /// The best sequence found by each width.
    pub found_tokens: Vec<Vec<usize>>,
    /// The exact optimum (None: more than [`EXACT_BUDGET`] prefixes were needed).
    pub exact: Option<crate::math::decoding::Exact>,
}

/// The beam-width curve on the model (section 3), in one go (`data`, the export, tests).
pub fn model_curve(
    checkpoint: Option<&str>,
    prompt: &str,
    horizon: usize,
    widths: usize,
) -> Result<(ExactCurve, Vec<String>), String> {
    let mut job = CurveJob::new(checkpoint, prompt, horizon, widths)?;
    loop {
        if let Some(done) = job.advance() {
            return Ok(done);
        }
    }
}

/// Prefixes through the model per piece of the exact search in a [`CurveJob`].
const EXACT_PIECE: usize = 16;

/// [`model_curve`] a piece at a time, for section 3 without a thread (the browser): the exact
/// search `EXACT_PIECE` prefixes a piece, then one beam width a piece. At the sliders'
/// extremes the whole took 67 ms of one browser frame (headless Chromium, before it was cut).
pub struct CurveJob {
    lm: Lm,
    ids: Vec<usize>,
    horizon: usize,
    exact: ExactSearch,
    curve: ExactCurve,
    /// The exact search has ended (its answer is in `curve.exact`).
    exact_done: bool,
}

impl CurveJob {
    /// The job for these settings; an error if the model cannot be read or the prompt has
    /// words the model does not know.
    pub fn new(
        checkpoint: Option<&str>,
        prompt: &str,
        horizon: usize,
        widths: usize,
    ) -> Result<Self, String> {
        let lm = language_model(checkpoint)?;
        let (_, ids) = prompt_ids(&lm, prompt)?;
        Ok(Self {
            lm,
            ids,
            horizon,
            exact: ExactSearch::new(horizon, EXACT_BUDGET),
            curve: ExactCurve {
                widths: (1..=widths).collect(),
                found: Vec::new(),
                found_tokens: Vec::new(),
                exact: None,
            },
            exact_done: false,
        })
    }

    /// One piece; the curve and the vocabulary after the last.
    pub fn advance(&mut self) -> Option<(ExactCurve, Vec<String>)> {
        let (gpt, tok) = (&self.lm.0, &self.lm.1);
        let mut next = ModelNext::new(gpt, self.ids.clone(), end_token(tok));
        if !self.exact_done {
            if let Some(exact) = self.exact.advance(&mut next, EXACT_PIECE) {
                self.curve.exact = exact;
                self.exact_done = true;
            }
            return None;
        }
        let w = self.curve.found.len() + 1;
        if w <= self.curve.widths.len() {
            let r = beam_search(&mut next, w, self.horizon, 0.0);
            let top = r.best.first();
            self.curve
                .found
                .push(top.map_or(f64::NEG_INFINITY, |n| n.hyp.log_prob));
            self.curve
                .found_tokens
                .push(top.map(|n| n.hyp.tokens.clone()).unwrap_or_default());
            return None;
        }
        Some((self.curve.clone(), tok.vocab().to_vec()))
    }
}

/// The beam-width curve on the trellis: widths 1…V^(depth−1) (the last never prunes before the
/// last step, so it finds the optimum).
pub fn trellis_curve(s: &DecodingSettings) -> ExactCurve {
    let mut t = s.trellis();
    let v = t.words.len();
    let widths = v.pow(s.depth.saturating_sub(1) as u32).max(1);
    let best = viterbi(&t, s.depth);
    let mut curve = ExactCurve {
        widths: (1..=widths).collect(),
        found: Vec::new(),
        found_tokens: Vec::new(),
        exact: Some(crate::math::decoding::Exact {
            best,
            calls: 0,
            sequences: (v as f64).powi(s.depth as i32),
        }),
    };
    for w in 1..=widths {
        let r = beam_search(&mut t, w, s.depth, 0.0);
        let top = r.best.first();
        curve
            .found
            .push(top.map_or(f64::NEG_INFINITY, |n| n.hyp.log_prob));
        curve
            .found_tokens
            .push(top.map(|n| n.hyp.tokens.clone()).unwrap_or_default());
    }
    curve
}

fn hyp_json(vocab: &[String], h: &Hypothesis, alpha: f64) -> Value {
    json!({
        "tokens": h.tokens.iter().map(|&t| vocab.get(t).cloned().unwrap_or_default()).collect::<Vec<_>>(),
        "text": spell(vocab, &h.tokens),
        "log_prob": h.log_prob,
        "probability": h.log_prob.exp(),
        "score": h.score(alpha),
        "finished": h.done,
    })
}

fn node_json(vocab: &[String], n: &Node, alpha: f64) -> Value {
    let mut v = hyp_json(vocab, &n.hyp, alpha);
    if let Some(m) = v.as_object_mut() {
        m.insert("parent".into(), json!(n.parent));
    }
    v
}

fn beam_json(vocab: &[String], r: &BeamResult, alpha: f64) -> Value {
    json!({
        "n_best": r.best.iter().map(|n| node_json(vocab, n, alpha)).collect::<Vec<_>>(),
        "steps": r.steps.iter().map(|st| json!({
            "kept": st.kept.iter().map(|n| node_json(vocab, n, alpha)).collect::<Vec<_>>(),
            "pruned_best": st.pruned.iter().map(|n| node_json(vocab, n, alpha)).collect::<Vec<_>>(),
            "pruned_count": st.pruned_count,
        })).collect::<Vec<_>>(),
        "model_calls": r.calls,
    })
}

fn bleu_json(candidate: &str, references: &[String], s: &DecodingSettings) -> Value {
    let refs: Vec<Vec<String>> = references.iter().map(|r| words(r)).collect();
    let b = sentence_bleu(&words(candidate), &refs, s.smoothing);
    json!({
        "candidate": candidate,
        "references": references,
        "definition": "sentence BLEU (Papineni et al. 2002), n = 1..4, weights 1/4, closest reference length",
        "smoothing": s.smoothing,
        "matches": b.counts.iter().map(|c| c.0).collect::<Vec<_>>(),
        "ngrams": b.counts.iter().map(|c| c.1).collect::<Vec<_>>(),
        "precisions": b.precisions,
        "candidate_len": b.candidate_len,
        "reference_len": b.reference_len,
        "brevity_penalty": b.brevity_penalty,
        "bleu": b.bleu,
    })
}

fn data(s: &DecodingSettings) -> Value {
    let bleu = bleu_json(&s.candidate, &s.reference_list(), s);
    let search = match s.source {
        Source::Trellis => {
            let mut t = s.trellis();
            let g = greedy(&mut t, s.depth);
            let r = beam_search(&mut t, s.beam, s.depth, s.length_alpha);
            let all = enumerate(&mut t, s.depth);
            let v = viterbi(&t, s.depth);
            json!({
                "words": t.words,
                "start_probs": t.start_probs(),
                "next_probs": t.next_probs(),
                "greedy": hyp_json(&t.words, &g, s.length_alpha),
                "beam": beam_json(&t.words, &r, s.length_alpha),
                "exact": {
                    "method": "Viterbi (exact for a Markov model), checked by enumerating every path",
                    "viterbi": hyp_json(&t.words, &v, 0.0),
                    "enumerated_best": all.first().map(|h| hyp_json(&t.words, h, 0.0)),
                    "paths": all.len(),
                },
            })
        }
        Source::Model => match model_search(&SearchKey::of(s)) {
            Err(e) => json!({ "error": e }),
            Ok(m) => {
                let exact = language_model(s.checkpoint.as_deref()).and_then(|lm| {
                    let (_, ids) = prompt_ids(&lm, &s.prompt)?;
                    let mut next = ModelNext::new(&lm.0, ids, end_token(&lm.1));
                    Ok(exact_search(&mut next, s.max_len, EXACT_BUDGET))
                });
                let exact = match exact {
                    Ok(Some(e)) => {
                        let mut v = hyp_json(&m.vocab, &e.best, 0.0);
                        if let Some(o) = v.as_object_mut() {
                            o.insert("method".into(), json!("branch and bound over every sequence of at most max_len tokens (exact)"));
                            o.insert("model_calls".into(), json!(e.calls));
                        }
                        v
                    }
                    Ok(None) => {
                        json!({ "error": format!("not enumerable: more than {EXACT_BUDGET} prefixes") })
                    }
                    Err(e) => json!({ "error": e }),
                };
                let best_text = m
                    .beam
                    .best
                    .first()
                    .map(|n| spell(&m.vocab, &n.hyp.tokens))
                    .unwrap_or_default();
                let refs = vec![s.model_reference.clone()];
                let prompt = m.prompt.join(" ");
                let with_prompt = |t: String| format!("{prompt} {t}");
                json!({
                    "prompt_tokens": m.prompt,
                    "greedy": hyp_json(&m.vocab, &m.greedy, s.length_alpha),
                    "beam": beam_json(&m.vocab, &m.beam, s.length_alpha),
                    "exact": exact,
                    "bleu_against_model_reference": {
                        "greedy": bleu_json(&with_prompt(spell(&m.vocab, &m.greedy.tokens)), &refs, s),
                        "beam": bleu_json(&with_prompt(best_text), &refs, s),
                    },
                })
            }
        },
    };
    json!({ "source": s.source, "search": search, "bleu": bleu })
}
