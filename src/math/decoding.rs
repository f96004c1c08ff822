//! Decoding: turning next-token distributions into a sequence, and scoring the sequence.
//!
//! A language model gives p(y_t | prompt, y_<t). The most probable *sequence*
//! argmax_y Σ_t log p(y_t | …) — maximum-likelihood sequence estimation (MLSE) — is not what
//! picking the most probable token at every step gives (greedy decoding).
//!
//! - [`greedy`]: argmax at every step.
//! - [`beam_search`]: keep the `width` best hypotheses at every step; a finished one leaves the
//!   beam, which shrinks by one (Jurafsky & Martin); width 1 is greedy. Score log p / len^α, the
//!   length penalty of fairseq's `--lenpen` (α = 0: plain log-probability).
//! - [`exact_search`]: the exact MLSE over a horizon by branch and bound — every sequence is
//!   considered, and a prefix whose log-probability is already below the best complete sequence
//!   found is not extended, because extending can only lower it (log p ≤ 0).
//! - [`viterbi`]: exact MLSE for a first-order Markov model (a trellis) by dynamic programming
//!   (Viterbi 1967): one survivor per state. A transformer's state is its whole prefix, so for it
//!   the only exact search is the exhaustive one.
//! - [`sentence_bleu`]: BLEU (Papineni et al. 2002) of one candidate against references:
//!   clipped n-gram precisions p_1…p_4, their geometric mean, times the brevity penalty
//!   BP = min(1, exp(1 − r/c)) with r the reference length closest to c (ties: the shorter).
//!   Unsmoothed, a zero p_n gives BLEU = 0 (log 0 = −∞); [`Smoothing::Epsilon`] is Chen & Cherry
//!   (2014) method 1, as NLTK's `SmoothingFunction().method1`: a zero count becomes ε = 0.1.
//!
//! Pure functions on numbers; the lessons draw them and `attention-lab data decoding` prints them.

use std::collections::HashMap;

use crate::model::gpt::{Activations, Gpt, gpt_forward};

/// Something that gives next-token log-probabilities for prefixes.
pub trait NextToken {
    /// Vocabulary size.
    fn vocab(&self) -> usize;
    /// Natural-log next-token probabilities after each prefix (all prefixes have the same length):
    /// one vector of `vocab()` entries per prefix.
    fn log_probs(&mut self, prefixes: &[&[usize]]) -> Vec<Vec<f64>>;
    /// Does this token end a sequence?
    fn is_end(&self, token: usize) -> bool;
}

/// One hypothesis: the tokens after the prompt and their summed log-probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Tokens chosen so far.
    pub tokens: Vec<usize>,
    /// Σ log p of those tokens (natural log).
    pub log_prob: f64,
    /// Ended by an end token.
    pub done: bool,
}

impl Hypothesis {
    /// log p / len^α (α = 0: the log-probability itself).
    pub fn score(&self, alpha: f64) -> f64 {
        length_normalised(self.log_prob, self.tokens.len(), alpha)
    }
}

/// log p / len^α; an empty sequence scores its log-probability (0).
pub fn length_normalised(log_prob: f64, len: usize, alpha: f64) -> f64 {
    if len == 0 || alpha == 0.0 {
        log_prob
    } else {
        log_prob / (len as f64).powf(alpha)
    }
}

/// One hypothesis of a step of the search tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The hypothesis.
    pub hyp: Hypothesis,
    /// Its score (log p / len^α).
    pub score: f64,
    /// Index of its parent among the previous step's kept unfinished nodes, in order (`None` at
    /// the first step).
    pub parent: Option<usize>,
}

/// One step of a beam search: what was kept, and the best of what was pruned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BeamStep {
    /// The kept hypotheses, best first (finished ones included: they leave the beam after this
    /// step).
    pub kept: Vec<Node>,
    /// The best pruned candidates, best first (at most as many as kept).
    pub pruned: Vec<Node>,
    /// How many candidates were pruned in all.
    pub pruned_count: usize,
}

/// A beam search's whole record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BeamResult {
    /// Every step.
    pub steps: Vec<BeamStep>,
    /// The final hypotheses, best score first (the n-best list).
    pub best: Vec<Node>,
    /// Prefixes the model was asked about.
    pub calls: usize,
}

/// Greedy decoding: the most probable token at every step, until an end token or `max_len`.
pub fn greedy(model: &mut dyn NextToken, max_len: usize) -> Hypothesis {
    let mut hyp = Hypothesis {
        tokens: Vec::new(),
        log_prob: 0.0,
        done: false,
    };
    while hyp.tokens.len() < max_len && !hyp.done {
        let lp = model.log_probs(&[&hyp.tokens]);
        let Some(row) = lp.first() else { break };
        let Some(best) = argmax(row) else { break };
        hyp.tokens.push(best);
        hyp.log_prob += row[best];
        hyp.done = model.is_end(best);
    }
    hyp
}

/// The first index of the largest entry (NaN never wins).
fn argmax(v: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &x) in v.iter().enumerate() {
        if !x.is_nan() && best.is_none_or(|b| x > v[b]) {
            best = Some(i);
        }
    }
    best
}

/// Beam search of `width` (≥ 1) over at most `max_len` tokens, scoring log p / len^α, as
/// Jurafsky & Martin describe it (*Speech and Language Processing*, 3rd ed., "Beam search"):
/// each step extends every hypothesis on the beam by every token and keeps the best candidates
/// by score; a kept candidate that ends with the end token is complete — it leaves the beam,
/// which shrinks by one. The search stops when the beam is empty or `max_len` tokens were
/// chosen; the complete hypotheses and whatever is left on the beam, best score first, are the
/// n-best list. Ties keep the earlier candidate (parents in order, tokens in id order), so
/// width 1 is exactly [`greedy`].
pub fn beam_search(
    model: &mut dyn NextToken,
    width: usize,
    max_len: usize,
    alpha: f64,
) -> BeamResult {
    let width = width.max(1);
    let mut out = BeamResult::default();
    let mut finished: Vec<Node> = Vec::new();
    let mut beam: Vec<Node> = vec![Node {
        hyp: Hypothesis {
            tokens: Vec::new(),
            log_prob: 0.0,
            done: false,
        },
        score: 0.0,
        parent: None,
    }];
    for step in 0..max_len {
        let room = width.saturating_sub(finished.len());
        if beam.is_empty() || room == 0 {
            break;
        }
        let prefixes: Vec<&[usize]> = beam.iter().map(|n| &n.hyp.tokens[..]).collect();
        let rows = model.log_probs(&prefixes);
        out.calls += prefixes.len();
        let mut candidates: Vec<Node> = Vec::with_capacity(beam.len() * model.vocab());
        for (i, (node, row)) in beam.iter().zip(&rows).enumerate() {
            for (token, &lp) in row.iter().enumerate() {
                if lp.is_nan() || lp == f64::NEG_INFINITY {
                    continue;
                }
                let mut tokens = node.hyp.tokens.clone();
                tokens.push(token);
                let hyp = Hypothesis {
                    log_prob: node.hyp.log_prob + lp,
                    done: model.is_end(token),
                    tokens,
                };
                candidates.push(Node {
                    score: hyp.score(alpha),
                    hyp,
                    parent: (step > 0).then_some(i),
                });
            }
        }
        // Stable: equal scores keep their order (parents, then tokens, in order).
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        let rest = candidates.split_off(room.min(candidates.len()));
        out.steps.push(BeamStep {
            kept: candidates.clone(),
            pruned_count: rest.len(),
            pruned: rest.into_iter().take(width).collect(),
        });
        let (done, alive): (Vec<Node>, Vec<Node>) =
            candidates.into_iter().partition(|n| n.hyp.done);
        finished.extend(done);
        beam = alive;
    }
    finished.extend(beam);
    finished.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.best = finished;
    out
}

/// The exact search's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Exact {
    /// The most probable sequence over the horizon.
    pub best: Hypothesis,
    /// Prefixes the model was asked about.
    pub calls: usize,
    /// Sequences (complete, within the horizon) the model can produce: V^n counting every path,
    /// as f64 (it can be large).
    pub sequences: f64,
}

/// The exact most probable sequence of at most `horizon` tokens (ended by an end token, or
/// `horizon` tokens long), by branch and bound: depth first, likeliest child first, a prefix
/// not extended once its log-probability is ≤ the best complete sequence's. Asks the model about
/// at most `budget` prefixes; `None` if that is not enough.
pub fn exact_search(model: &mut dyn NextToken, horizon: usize, budget: usize) -> Option<Exact> {
    let mut search = ExactSearch::new(horizon, budget);
    loop {
        if let Some(done) = search.advance(model, usize::MAX) {
            return done;
        }
    }
}

/// [`exact_search`] a piece at a time (the browser has no thread for it):
/// [`ExactSearch::advance`] asks the model about at most so many more prefixes. The same
/// search, in the same order: the pieces end where the whole would have gone on.
#[derive(Debug, Clone)]
pub struct ExactSearch {
    horizon: usize,
    budget: usize,
    /// The best complete sequence so far; `None` before the first piece (greedy's sequence is
    /// the first bound).
    best: Option<Hypothesis>,
    calls: usize,
    /// Prefixes still to extend, the likeliest child on top.
    stack: Vec<Hypothesis>,
}

impl ExactSearch {
    /// The search over `horizon` tokens, giving up after `budget` prefixes.
    pub fn new(horizon: usize, budget: usize) -> Self {
        Self {
            horizon,
            budget,
            best: None,
            calls: 0,
            stack: vec![Hypothesis {
                tokens: Vec::new(),
                log_prob: 0.0,
                done: false,
            }],
        }
    }

    /// Go on for at most `calls` more prefixes through the model (the first piece also runs
    /// greedy, `horizon` calls at most); `Some` once the search has ended: `Some(None)` if it
    /// needed more than the budget (or the model gave no distribution).
    pub fn advance(&mut self, model: &mut dyn NextToken, calls: usize) -> Option<Option<Exact>> {
        let mut best = match self.best.take() {
            Some(b) => b,
            None => {
                // The greedy sequence is the first bound (one call per token it chose).
                let g = greedy(model, self.horizon);
                self.calls = g.tokens.len();
                g
            }
        };
        let mut made = 0;
        loop {
            if made >= calls {
                self.best = Some(best);
                return None;
            }
            let Some(h) = self.stack.pop() else {
                break;
            };
            if h.done || h.tokens.len() == self.horizon {
                if h.log_prob > best.log_prob {
                    best = h;
                }
                continue;
            }
            if h.log_prob <= best.log_prob && !h.tokens.is_empty() {
                continue;
            }
            self.calls += 1;
            made += 1;
            if self.calls > self.budget {
                self.stack.clear();
                return Some(None);
            }
            let Some(row) = model.log_probs(&[&h.tokens]).pop() else {
                self.stack.clear();
                return Some(None);
            };
            let mut order: Vec<usize> = (0..row.len()).filter(|&t| row[t].is_finite()).collect();
            // Pushed worst first so the likeliest child is expanded first.
            order.sort_by(|&a, &b| row[a].total_cmp(&row[b]));
            for t in order {
                let lp = h.log_prob + row[t];
                if lp <= best.log_prob {
                    continue;
                }
                let mut tokens = h.tokens.clone();
                tokens.push(t);
                self.stack.push(Hypothesis {
                    tokens,
                    log_prob: lp,
                    done: model.is_end(t),
                });
            }
        }
        Some(Some(Exact {
            best,
            calls: self.calls,
            sequences: (model.vocab() as f64).powi(self.horizon as i32),
        }))
    }
}

/// Every sequence of exactly `horizon` tokens and its log-probability, best first — the
/// exhaustive search, for small trellises (V^horizon sequences).
pub fn enumerate(model: &mut dyn NextToken, horizon: usize) -> Vec<Hypothesis> {
    let mut level = vec![Hypothesis {
        tokens: Vec::new(),
        log_prob: 0.0,
        done: false,
    }];
    for _ in 0..horizon {
        let mut next = Vec::new();
        for h in &level {
            if h.done {
                next.push(h.clone());
                continue;
            }
            let Some(row) = model.log_probs(&[&h.tokens]).pop() else {
                continue;
            };
            for (t, &lp) in row.iter().enumerate() {
                let mut tokens = h.tokens.clone();
                tokens.push(t);
                next.push(Hypothesis {
                    tokens,
                    log_prob: h.log_prob + lp,
                    done: model.is_end(t),
                });
            }
        }
        level = next;
    }
    level.sort_by(|a, b| b.log_prob.total_cmp(&a.log_prob));
    level
}

/// A first-order Markov model drawn as a trellis: a start distribution over V words and one
/// transition table p(next | current), both given as non-negative weights (each row is divided
/// by its sum). No word ends a sequence: every path is `depth` long.
#[derive(Debug, Clone, PartialEq)]
pub struct Trellis {
    /// The words (states).
    pub words: Vec<String>,
    /// Weights of the first word: (V).
    pub start: Vec<f64>,
    /// Weights of the next word given the current one: (V, V), row = current.
    pub next: Vec<Vec<f64>>,
}

impl Trellis {
    /// The lecture-style trellis where greedy loses: "a" is the likeliest first word (0.5) but
    /// every word after it is a toss-up, while "b" (0.4) is almost always followed by "a".
    pub fn lecture() -> Self {
        Self {
            words: vec!["a".into(), "b".into(), "c".into()],
            start: vec![0.5, 0.4, 0.1],
            next: vec![
                vec![0.4, 0.3, 0.3],
                vec![0.9, 0.05, 0.05],
                vec![0.2, 0.1, 0.7],
            ],
        }
    }

    /// Probabilities from a row of weights (uniform if they sum to 0).
    pub fn normalised(row: &[f64]) -> Vec<f64> {
        let sum: f64 = row.iter().map(|w| w.max(0.0)).sum();
        if sum > 0.0 {
            row.iter().map(|w| w.max(0.0) / sum).collect()
        } else {
            vec![1.0 / row.len().max(1) as f64; row.len()]
        }
    }

    /// p(first word): (V).
    pub fn start_probs(&self) -> Vec<f64> {
        Self::normalised(&self.start)
    }

    /// p(next | current): (V, V).
    pub fn next_probs(&self) -> Vec<Vec<f64>> {
        self.next.iter().map(|r| Self::normalised(r)).collect()
    }

    /// The words of a path, joined by spaces.
    pub fn spell(&self, tokens: &[usize]) -> String {
        tokens
            .iter()
            .map(|&t| self.words.get(t).map_or("?", String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl NextToken for Trellis {
    fn vocab(&self) -> usize {
        self.words.len()
    }

    fn log_probs(&mut self, prefixes: &[&[usize]]) -> Vec<Vec<f64>> {
        let start = self.start_probs();
        let next = self.next_probs();
        prefixes
            .iter()
            .map(|p| {
                let row = match p.last() {
                    None => &start,
                    Some(&s) => next.get(s).unwrap_or(&start),
                };
                row.iter().map(|q| q.ln()).collect()
            })
            .collect()
    }

    fn is_end(&self, _token: usize) -> bool {
        false
    }
}

/// Viterbi's survivors on a trellis: for each step and each word, the most probable path of
/// that many words ending in that word (δ_t(s) = max_r δ_{t−1}(r) + log p(s | r), the path kept
/// with it). (depth, V).
pub fn viterbi_survivors(trellis: &Trellis, depth: usize) -> Vec<Vec<Hypothesis>> {
    let start = trellis.start_probs();
    let next = trellis.next_probs();
    let mut out: Vec<Vec<Hypothesis>> = Vec::with_capacity(depth);
    for step in 0..depth {
        let column: Vec<Hypothesis> = (0..trellis.words.len())
            .map(|s| match out.last() {
                None => Hypothesis {
                    tokens: vec![s],
                    log_prob: start[s].ln(),
                    done: false,
                },
                Some(prev) => {
                    let mut best: Option<Hypothesis> = None;
                    for (r, h) in prev.iter().enumerate() {
                        let lp = h.log_prob + next[r][s].ln();
                        if best.as_ref().is_none_or(|b| lp > b.log_prob) {
                            let mut tokens = h.tokens.clone();
                            tokens.push(s);
                            best = Some(Hypothesis {
                                tokens,
                                log_prob: lp,
                                done: false,
                            });
                        }
                    }
                    best.unwrap_or(Hypothesis {
                        tokens: vec![s; step + 1],
                        log_prob: f64::NEG_INFINITY,
                        done: false,
                    })
                }
            })
            .collect();
        out.push(column);
    }
    out
}

/// Viterbi on a trellis: the most probable path of `depth` words, exactly, keeping one survivor
/// per word and step (V survivors, not V^depth paths).
pub fn viterbi(trellis: &Trellis, depth: usize) -> Hypothesis {
    let survivors = viterbi_survivors(trellis, depth);
    let last = survivors.last().map(Vec::as_slice).unwrap_or(&[]);
    let lps: Vec<f64> = last.iter().map(|h| h.log_prob).collect();
    match argmax(&lps) {
        Some(i) => last[i].clone(),
        None => Hypothesis {
            tokens: Vec::new(),
            log_prob: 0.0,
            done: false,
        },
    }
}

/// A language model continuing a fixed prompt (ids), with an optional end token. Each call is
/// one eval-mode forward pass of all prefixes together (`gpt_forward` with B = their number),
/// the context cut to the model's last `block_size` tokens.
pub struct ModelNext<'a> {
    gpt: &'a Gpt,
    prompt: Vec<usize>,
    end: Option<usize>,
    acts: Activations,
}

impl<'a> ModelNext<'a> {
    /// The model after `prompt`, ending sequences at `end`.
    pub fn new(gpt: &'a Gpt, prompt: Vec<usize>, end: Option<usize>) -> Self {
        Self {
            gpt,
            prompt,
            end,
            acts: Activations::default(),
        }
    }
}

impl NextToken for ModelNext<'_> {
    fn vocab(&self) -> usize {
        self.gpt.config.vocab_size
    }

    fn log_probs(&mut self, prefixes: &[&[usize]]) -> Vec<Vec<f64>> {
        let b = prefixes.len();
        let Some(first) = prefixes.first() else {
            return Vec::new();
        };
        let full = self.prompt.len() + first.len();
        let t = full.min(self.gpt.config.block_size);
        if t == 0 {
            return Vec::new();
        }
        let mut tokens = Vec::with_capacity(b * t);
        for p in prefixes {
            let seq: Vec<usize> = self.prompt.iter().chain(p.iter()).copied().collect();
            tokens.extend_from_slice(&seq[seq.len().saturating_sub(t)..]);
        }
        if tokens.len() != b * t {
            return Vec::new(); // prefixes of different lengths: not how the searches call it
        }
        gpt_forward(self.gpt, &mut self.acts, &tokens, None, b, t, false);
        let v = self.gpt.config.vocab_size;
        (0..b)
            .map(|i| {
                let row = self.acts.logits.row(i * t + t - 1);
                log_softmax(row.iter().copied().take(v))
            })
            .collect()
    }

    fn is_end(&self, token: usize) -> bool {
        self.end == Some(token)
    }
}

/// log softmax in f64 (log-sum-exp with the max subtracted).
pub fn log_softmax(logits: impl Iterator<Item = f32> + Clone) -> Vec<f64> {
    let m = logits
        .clone()
        .map(f64::from)
        .fold(f64::NEG_INFINITY, f64::max);
    let lse = m + logits
        .clone()
        .map(|l| (f64::from(l) - m).exp())
        .sum::<f64>()
        .ln();
    logits.map(|l| f64::from(l) - lse).collect()
}

/// BLEU's smoothing of zero n-gram counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Smoothing {
    /// None (Papineni et al.): a zero precision makes BLEU 0.
    None,
    /// Chen & Cherry (2014) method 1: a zero count becomes ε = 0.1 (NLTK's `method1`).
    Epsilon,
}

/// The ε of [`Smoothing::Epsilon`].
pub const BLEU_EPSILON: f64 = 0.1;

/// Sentence BLEU and its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Bleu {
    /// Clipped matches and candidate n-grams, n = 1…4: (matched, total).
    pub counts: [(usize, usize); 4],
    /// p_n as used (smoothed if asked; total 0 counts as 1 in the denominator, as NLTK).
    pub precisions: [f64; 4],
    /// Candidate length c.
    pub candidate_len: usize,
    /// Reference length r (closest to c; ties: the shorter).
    pub reference_len: usize,
    /// min(1, exp(1 − r/c)); 0 for an empty candidate.
    pub brevity_penalty: f64,
    /// BP · exp(¼ Σ log p_n).
    pub bleu: f64,
    /// For n = 1…4, for each candidate n-gram (by start position): counted as a match (clipped:
    /// the first occurrences, up to the most any one reference has).
    pub matched: [Vec<bool>; 4],
}

/// BLEU of one tokenised candidate against tokenised references, uniform weights ¼ over n = 1…4.
pub fn sentence_bleu(
    candidate: &[String],
    references: &[Vec<String>],
    smoothing: Smoothing,
) -> Bleu {
    let c = candidate.len();
    let mut counts = [(0, 0); 4];
    let mut precisions = [0.0; 4];
    let mut matched: [Vec<bool>; 4] = Default::default();
    for n in 1..=4 {
        let grams: Vec<&[String]> = if c >= n {
            candidate.windows(n).collect()
        } else {
            Vec::new()
        };
        // The most times each n-gram occurs in any one reference: its clip.
        let mut clip: HashMap<&[String], usize> = HashMap::new();
        for r in references {
            let mut here: HashMap<&[String], usize> = HashMap::new();
            if r.len() >= n {
                for g in r.windows(n) {
                    *here.entry(g).or_insert(0) += 1;
                }
            }
            for (g, k) in here {
                let e = clip.entry(g).or_insert(0);
                *e = (*e).max(k);
            }
        }
        let mut used: HashMap<&[String], usize> = HashMap::new();
        let flags: Vec<bool> = grams
            .iter()
            .map(|g| {
                let u = used.entry(g).or_insert(0);
                let ok = *u < clip.get(g).copied().unwrap_or(0);
                if ok {
                    *u += 1;
                }
                ok
            })
            .collect();
        let m = flags.iter().filter(|&&f| f).count();
        counts[n - 1] = (m, grams.len());
        let denominator = grams.len().max(1) as f64;
        precisions[n - 1] = match smoothing {
            Smoothing::Epsilon if m == 0 => BLEU_EPSILON / denominator,
            _ => m as f64 / denominator,
        };
        matched[n - 1] = flags;
    }
    let reference_len = references
        .iter()
        .map(Vec::len)
        .min_by_key(|&r| (r.abs_diff(c), r))
        .unwrap_or(0);
    let brevity_penalty = if c == 0 {
        0.0
    } else if c > reference_len {
        1.0
    } else {
        (1.0 - reference_len as f64 / c as f64).exp()
    };
    let bleu = if c == 0 || counts[0].0 == 0 || precisions.iter().any(|&p| p <= 0.0) {
        0.0
    } else {
        brevity_penalty * (precisions.iter().map(|p| p.ln()).sum::<f64>() / 4.0).exp()
    };
    Bleu {
        counts,
        precisions,
        candidate_len: c,
        reference_len,
        brevity_penalty,
        bleu,
        matched,
    }
}

/// Lower-case words split at white space (the tokenisation the BLEU section uses).
pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}
