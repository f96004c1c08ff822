//! The whole GPT, as a student reads it: one forward pass that keeps what the backward needs,
//! and the backward pass that fills gradients of the same shape as the parameters.
//!
//! Pre-norm blocks as nanoGPT (`model.py`) and llm.c (`gpt2_forward`, `gpt2_backward`):
//!     x₀ = wte\[tokens\] + P                                  (embedding.rs)
//!     for each block l:
//!         resid2 = x + attn(norm₁(x))                         (norm.rs, linear.rs, attention.rs)
//!         x     ← resid2 + mlp(norm₂(resid2))                 (mlp.rs: linear → GELU → linear)
//!     logits = norm_f(x) · wteᵀ                               (the LM head, tied to wte)
//!     loss   = mean cross-entropy(logits, targets)            (loss.rs)
//!
//! Everything here runs on one thread, in this order, so it reads top to bottom. What makes it
//! fast lives elsewhere: the matrix products and vector loops the layers call (`engine/`), the
//! batch cut over the cores for training (`train/data_parallel.rs`) and one sequence cut over
//! the cores with packed weights for inference (`inference/`), each checked against this file.
//!
//! Legend: B = batch, T = time, C = channels (`n_embd`), V = vocabulary, L = layers, N = B·T.

use ndarray::{Array2, ArrayView2, s};
use rand::Rng;

use super::attention::{AttentionCache, AttentionDims, attention_backward, attention_forward};
use super::config::{GptConfig, NormKind, PosEncoding};
use super::embedding::{embedding_backward, embedding_forward};
use super::linear::{
    linear_backward, linear_backward_through, linear_forward, linear_forward_then,
};
use super::loss::{crossentropy_backward, crossentropy_forward};
use super::mlp::{gelu_backward, gelu_forward, gelu_slope_rows};
use super::norm::{BnRunning, NormCache, norm_backward, norm_forward};
pub use super::params::{Grads, Params};
use super::position;
use super::residual::{residual_backward, residual_forward};

/// A GPT: its config, parameters, fixed position table and BatchNorm running statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Gpt {
    /// Sizes and switches.
    pub config: GptConfig,
    /// Trainable parameters.
    pub params: Params,
    /// BatchNorm running statistics: per block [norm₁, norm₂], then norm_f (empty unless batchnorm).
    pub bn: Vec<BnRunning>,
    /// The fixed position table (sinusoidal or binary), (T, C).
    pub pos_table: Option<Array2<f32>>,
}

impl Gpt {
    /// A freshly initialised model.
    pub fn new(config: GptConfig, rng: &mut impl Rng) -> Self {
        let params = Params::init(&config, rng);
        Self::from_params(config, params)
    }

    /// A model around given parameters (fresh BatchNorm statistics).
    pub fn from_params(config: GptConfig, params: Params) -> Self {
        let c = config.n_embd;
        let bn = if config.norm == NormKind::BatchNorm {
            (0..2 * config.n_layer + 1)
                .map(|_| BnRunning::new(c))
                .collect()
        } else {
            Vec::new()
        };
        let pos_table = match config.pos_encoding {
            PosEncoding::Sinusoidal => Some(position::sinusoidal(config.block_size, c, 10_000.0)),
            PosEncoding::Binary => Some(position::binary(config.block_size, c)),
            PosEncoding::Learned | PosEncoding::None => None,
        };
        Self {
            config,
            params,
            bn,
            pos_table,
        }
    }

    /// The position table added to the embeddings, if any.
    pub fn positions(&self) -> Option<ArrayView2<'_, f32>> {
        match self.config.pos_encoding {
            PosEncoding::Learned => self.params.wpe.as_ref().map(|w| w.view()),
            PosEncoding::Sinusoidal | PosEncoding::Binary => {
                self.pos_table.as_ref().map(|w| w.view())
            }
            PosEncoding::None => None,
        }
    }
}

/// Per-block activations kept for the backward pass (and for the lessons to draw).
#[derive(Debug, Clone, Default)]
pub struct BlockActs {
    /// norm₁(x): (N, C)
    pub ln1: Array2<f32>,
    /// Statistics of norm₁.
    pub ln1_cache: NormCache,
    /// [q | k | v]: (N, 3C)
    pub qkv: Array2<f32>,
    /// Attention scores and weights: (B, H, T, T).
    pub attn: AttentionCache,
    /// Concatenated head outputs V̂ before mixing: (N, C)
    pub atty: Array2<f32>,
    /// The attention sub-layer's output, atty · W_Oᵀ + b: (N, C)
    pub attn_out: Array2<f32>,
    /// x + attn_out: (N, C)
    pub resid2: Array2<f32>,
    /// norm₂(resid2): (N, C)
    pub ln2: Array2<f32>,
    /// Statistics of norm₂.
    pub ln2_cache: NormCache,
    /// MLP hidden layer before GELU: (N, 4C); after a training pass's forward, GELU's slope
    /// there instead (`fch_is_slope`).
    pub fch: Array2<f32>,
    /// `fch` holds gelu'(fch), not fch (`Activations::training_pass`).
    pub fch_is_slope: bool,
    /// After GELU: (N, 4C)
    pub fch_gelu: Array2<f32>,
    /// The MLP sub-layer's output, fch_gelu · W_projᵀ + b: (N, C)
    pub mlp_out: Array2<f32>,
}

/// Everything one forward pass computed.
#[derive(Debug, Clone, Default)]
pub struct Activations {
    /// Batch size B.
    pub b: usize,
    /// Sequence length T.
    pub t: usize,
    /// The input tokens (N).
    pub tokens: Vec<usize>,
    /// Residual stream: resid\[0\] = embeddings, resid\[l + 1\] = output of block l:
    /// L + 1 of (N, C).
    pub resid: Vec<Array2<f32>>,
    /// Per-block activations.
    pub blocks: Vec<BlockActs>,
    /// norm_f(resid\[L\]): (N, C)
    pub lnf: Array2<f32>,
    /// Statistics of norm_f.
    pub lnf_cache: NormCache,
    /// Logits: (N, V)
    pub logits: Array2<f32>,
    /// softmax(logits): (N, V), filled when targets are given.
    pub probs: Array2<f32>,
    /// Train mode (BatchNorm uses the batch's statistics).
    pub train: bool,
    /// A training step's pass (set by `train::data_parallel`): keep only what the backward
    /// reads, in the form it reads it. No attention scores (`AttentionCache::skip_scores`; the
    /// backward needs only the weights), and GELU's slope in place of `fch`
    /// (`mlp::gelu_slope_rows`). Off for the lessons, which draw both.
    pub training_pass: bool,
    /// BatchNorm running statistics after this batch (train mode), applied by the trainer: per
    /// block [norm₁, norm₂], then norm_f (empty statistics for the other norms).
    pub bn_updated: Vec<BnRunning>,
    /// Gradients of the activations, kept so that a training step allocates nothing.
    scratch: BackwardScratch,
}

/// Gradients of activations, reused from step to step.
#[derive(Debug, Clone, Default)]
struct BackwardScratch {
    dlogits: Array2<f32>,
    dlnf: Array2<f32>,
    /// The residual stream's gradient: d(output of the current block), then d(resid2), then
    /// d(its input) (`residual_backward` leaves it in place).
    dres: Array2<f32>,
    /// d(a sub-layer's output) when the skip is cut (out = sub-layer output): a copy of dres,
    /// which is then zeroed. With the skip the sub-layer reads dres itself.
    dsub_copy: Array2<f32>,
    dfch_gelu: Array2<f32>,
    dfch: Array2<f32>,
    /// d(a norm's output): norm₂'s, then norm₁'s.
    dln: Array2<f32>,
    datty: Array2<f32>,
    dqkv: Array2<f32>,
    datt: Array2<f32>,
}

/// Make `a` (rows, cols), reallocating only when the shape changed.
pub(crate) fn ensure(a: &mut Array2<f32>, rows: usize, cols: usize) {
    if a.dim() != (rows, cols) {
        *a = Array2::zeros((rows, cols));
    }
}

impl Activations {
    /// Size every buffer for `b` sequences of `t` tokens of `model` (reallocating only what
    /// changed), record the inputs, and start BatchNorm's statistics from the model's.
    pub(crate) fn fit(&mut self, model: &Gpt, tokens: &[usize], b: usize, t: usize, train: bool) {
        let cfg = &model.config;
        let (c, v, n) = (cfg.n_embd, cfg.vocab_size, b * t);
        self.b = b;
        self.t = t;
        self.train = train;
        self.tokens.clear();
        self.tokens.extend_from_slice(tokens);
        self.resid.resize_with(cfg.n_layer + 1, Default::default);
        for r in &mut self.resid {
            ensure(r, n, c);
        }
        self.blocks.resize_with(cfg.n_layer, Default::default);
        for a in &mut self.blocks {
            a.attn.skip_scores = self.training_pass;
            for (m, cols) in [
                (&mut a.ln1, c),
                (&mut a.qkv, 3 * c),
                (&mut a.atty, c),
                (&mut a.attn_out, c),
                (&mut a.resid2, c),
                (&mut a.ln2, c),
                (&mut a.fch, 4 * c),
                (&mut a.fch_gelu, 4 * c),
                (&mut a.mlp_out, c),
            ] {
                ensure(m, n, cols);
            }
        }
        ensure(&mut self.lnf, n, c);
        ensure(&mut self.logits, n, v);
        if cfg.norm == NormKind::BatchNorm {
            self.bn_updated.clone_from(&model.bn);
        } else {
            self.bn_updated
                .resize_with(2 * cfg.n_layer + 1, || BnRunning::new(0));
        }
    }
}

/// The forward pass. tokens: (B·T) ids < V; targets: (B·T) next-token ids, or none.
/// Returns the mean cross-entropy when targets are given. `train` selects BatchNorm's batch
/// statistics (and records updated running statistics in `acts.bn_updated`).
#[rustfmt::skip] // one layer per line, as llm.c's gpt2_forward
pub fn gpt_forward(
    model: &Gpt,
    acts: &mut Activations,
    tokens: &[usize],
    targets: Option<&[usize]>,
    b: usize,
    t: usize,
    train: bool,
) -> Option<f32> {
    let (cfg, p, norm) = (&model.config, &model.params, model.config.norm);
    acts.fit(model, tokens, b, t, train);
    let dims = AttentionDims::of(cfg, b, t);
    let Activations { resid, blocks, lnf, lnf_cache, logits, probs, bn_updated: bn, training_pass, .. } = acts;

    // x₀ = wte[tokens] + P: (N, C)
    embedding_forward(resid[0].view_mut(), tokens, t, p.wte.view(), model.positions());
    for (l, (bp, a)) in p.blocks.iter().zip(blocks.iter_mut()).enumerate() {
        let (done, rest) = resid.split_at_mut(l + 1);
        let (x, out) = (done[l].view(), rest[0].view_mut());
        // ln1 = norm₁(x)
        norm_forward(norm, a.ln1.view_mut(), x, bp.ln_1_w.view(), bp.ln_1_b.view(), &mut a.ln1_cache, &mut bn[2 * l], train);
        // qkv = ln1 · W_attnᵀ + b: (N, 3C)
        linear_forward(a.qkv.view_mut(), a.ln1.view(), bp.c_attn_w.view(), Some(bp.c_attn_b.view()));
        // atty = concat_h softmax(Q_h K_hᵀ / √hs + mask) V_h: (N, C)
        attention_forward(a.atty.view_mut(), a.qkv.view(), dims, &mut a.attn);
        // attn_out = atty · W_Oᵀ + b (the heads mixed); resid2 = x + attn_out (attn_out without the skip)
        linear_forward(a.attn_out.view_mut(), a.atty.view(), bp.attn_proj_w.view(), Some(bp.attn_proj_b.view()));
        residual_forward(a.resid2.view_mut(), x, a.attn_out.view(), cfg.residual);
        // ln2 = norm₂(resid2)
        norm_forward(norm, a.ln2.view_mut(), a.resid2.view(), bp.ln_2_w.view(), bp.ln_2_b.view(), &mut a.ln2_cache, &mut bn[2 * l + 1], train);
        a.fch_is_slope = *training_pass;
        if a.fch_is_slope {
            // fch = ln2 · W_fcᵀ + b; fch_gelu = gelu(fch) and fch ← gelu'(fch), all the backward
            // needs (a training pass), in the product's store
            linear_forward_then(a.fch.view_mut(), a.ln2.view(), bp.c_fc_w.view(), Some(bp.c_fc_b.view()), a.fch_gelu.view_mut(), gelu_slope_rows);
        } else {
            // fch = ln2 · W_fcᵀ + b: (N, 4C); fch_gelu = gelu(fch)
            linear_forward(a.fch.view_mut(), a.ln2.view(), bp.c_fc_w.view(), Some(bp.c_fc_b.view()));
            gelu_forward(a.fch_gelu.view_mut(), a.fch.view());
        }
        // mlp_out = fch_gelu · W_projᵀ + b; out = resid2 + mlp_out (mlp_out without the skip)
        linear_forward(a.mlp_out.view_mut(), a.fch_gelu.view(), bp.mlp_proj_w.view(), Some(bp.mlp_proj_b.view()));
        residual_forward(out, a.resid2.view(), a.mlp_out.view(), cfg.residual);
    }
    // lnf = norm_f(x_L)
    let x = resid[cfg.n_layer].view();
    norm_forward(norm, lnf.view_mut(), x, p.ln_f_w.view(), p.ln_f_b.view(), lnf_cache, &mut bn[2 * cfg.n_layer], train);
    // logits = lnf · wteᵀ: (N, V), the LM head tied to the token embedding
    linear_forward(logits.view_mut(), lnf.view(), p.wte.view(), None);
    // loss = mean_n −log softmax(logits_n)[target_n]
    targets.map(|targets| {
        ensure(probs, b * t, cfg.vocab_size);
        crossentropy_forward(probs, logits.view(), targets)
    })
}

/// The backward pass of [`gpt_forward`] (which must have run with targets), in the reverse
/// order; each line undoes the forward line quoted in its comment. The parameters' gradients
/// are accumulated into `grads` (zero it first for a fresh step).
///
/// An activation's gradient is written by the first backward line that reaches it and added to
/// by the others, as PyTorch's autograd sums a tensor's gradient over the operations that read
/// it. Only the residual stream has two readers (a norm and the skip): its gradient stays in
/// `dres` through the residual's backward (d(skip input) = d(sub-layer output) = dres, one
/// buffer), the sub-layer's backward reads it, and the norm's backward adds its part into it;
/// after the block, `dres` holds d(the block's input). So no buffer is zeroed but `dres`, which
/// only a norm reaches. (llm.c zeroes every activation gradient and accumulates into all of
/// them; here the zeroing was about 4 % of the large training step's samples (`perf`), and the
/// products read the zeros back: writing instead took 1/1.011 of the large step's time and
/// 1/1.026 of the medium's, one process alternating the two step by step, 2026-12-03.)
#[rustfmt::skip] // one layer per line, as llm.c's gpt2_backward
pub fn gpt_backward(model: &Gpt, acts: &mut Activations, targets: &[usize], grads: &mut Grads) {
    let (cfg, p, norm, train) = (&model.config, &model.params, model.config.norm, acts.train);
    let dims = AttentionDims::of(cfg, acts.b, acts.t);
    acts.scratch.fit(acts.b * acts.t, cfg.n_embd, cfg.vocab_size);
    let Activations { resid, blocks, lnf, lnf_cache, probs, tokens, t, scratch, .. } = acts;
    let BackwardScratch { dlogits, dlnf, dres, dsub_copy, dfch_gelu, dfch, dln, datty, dqkv, datt } = scratch;

    // loss = mean −log softmax(logits)[target]: dlogits = (p − onehot(target)) / N
    crossentropy_backward(dlogits.view_mut(), probs.view(), targets);
    // logits = lnf · wteᵀ: dlnf = dlogits · wte, dwte += dlogitsᵀ · lnf
    linear_backward(Some(dlnf.view_mut()), grads.wte.view_mut(), None, dlogits.view(), lnf.view(), p.wte.view());
    // lnf = norm_f(x_L): dres = d x_L (the norm's backward adds: zero first)
    let x = resid[cfg.n_layer].view();
    zero(dres);
    norm_backward(norm, dres.view_mut(), grads.ln_f_w.view_mut(), grads.ln_f_b.view_mut(), dlnf.view(), x, p.ln_f_w.view(), lnf_cache, train);
    for l in (0..cfg.n_layer).rev() {
        let (bp, g, a, x) = (&p.blocks[l], &mut grads.blocks[l], &blocks[l], resid[l].view());
        // out = resid2 + mlp_out (or out = mlp_out): dsub = d mlp_out; dres becomes d resid2
        let dsub = residual_backward(dres, dsub_copy, cfg.residual);
        if a.fch_is_slope {
            // mlp_out = fch_gelu · W_projᵀ + b, and fch_gelu = gelu(fch) with gelu'(fch) kept in
            // fch (a training pass): dfch = (dmlp_out · W_proj) ⊙ gelu'(fch), in one product
            linear_backward_through(dfch.view_mut(), a.fch.view(), g.mlp_proj_w.view_mut(), Some(g.mlp_proj_b.view_mut()), dsub, a.fch_gelu.view(), bp.mlp_proj_w.view());
        } else {
            // mlp_out = fch_gelu · W_projᵀ + b
            linear_backward(Some(dfch_gelu.view_mut()), g.mlp_proj_w.view_mut(), Some(g.mlp_proj_b.view_mut()), dsub, a.fch_gelu.view(), bp.mlp_proj_w.view());
            // fch_gelu = gelu(fch)
            gelu_backward(dfch.view_mut(), a.fch.view(), dfch_gelu.view());
        }
        // fch = ln2 · W_fcᵀ + b
        linear_backward(Some(dln.view_mut()), g.c_fc_w.view_mut(), Some(g.c_fc_b.view_mut()), dfch.view(), a.ln2.view(), bp.c_fc_w.view());
        // ln2 = norm₂(resid2)
        norm_backward(norm, dres.view_mut(), g.ln_2_w.view_mut(), g.ln_2_b.view_mut(), dln.view(), a.resid2.view(), bp.ln_2_w.view(), &a.ln2_cache, train);
        // resid2 = x + attn_out (or resid2 = attn_out): dsub = d attn_out; dres becomes d x
        let dsub = residual_backward(dres, dsub_copy, cfg.residual);
        // attn_out = atty · W_Oᵀ + b
        linear_backward(Some(datty.view_mut()), g.attn_proj_w.view_mut(), Some(g.attn_proj_b.view_mut()), dsub, a.atty.view(), bp.attn_proj_w.view());
        // atty = concat_h softmax(Q_h K_hᵀ / √hs + mask) V_h
        attention_backward(dqkv.view_mut(), datty.view(), a.qkv.view(), dims, &a.attn, datt);
        // qkv = ln1 · W_attnᵀ + b
        linear_backward(Some(dln.view_mut()), g.c_attn_w.view_mut(), Some(g.c_attn_b.view_mut()), dqkv.view(), a.ln1.view(), bp.c_attn_w.view());
        // ln1 = norm₁(x)
        norm_backward(norm, dres.view_mut(), g.ln_1_w.view_mut(), g.ln_1_b.view_mut(), dln.view(), x, bp.ln_1_w.view(), &a.ln1_cache, train);
        // dres now holds d(this block's input): d(the output of the block below)
    }
    // x₀ = wte[tokens] + wpe[t]
    let dwpe = match cfg.pos_encoding {
        PosEncoding::Learned => grads.wpe.as_mut().map(|w| w.view_mut()),
        _ => None,
    };
    embedding_backward(grads.wte.view_mut(), dwpe, dres.view(), tokens, *t);
}

impl BackwardScratch {
    /// Size every buffer for N rows, C channels and V tokens.
    fn fit(&mut self, n: usize, c: usize, v: usize) {
        ensure(&mut self.dlogits, n, v);
        for (m, cols) in [
            (&mut self.dlnf, c),
            (&mut self.dres, c),
            (&mut self.dsub_copy, c),
            (&mut self.dfch_gelu, 4 * c),
            (&mut self.dfch, 4 * c),
            (&mut self.dln, c),
            (&mut self.datty, c),
            (&mut self.dqkv, 3 * c),
        ] {
            ensure(m, n, cols);
        }
    }
}

/// Set a buffer to zero, as one `memset` (ndarray's `fill` goes entry by entry).
fn zero(buffer: &mut Array2<f32>) {
    match buffer.as_slice_mut() {
        Some(s) => s.fill(0.0),
        None => buffer.fill(0.0),
    }
}

/// The attention weights of every layer for sequence `b`: (L, H, T, T) as nested vectors.
pub fn attention_maps(acts: &Activations, b: usize) -> Vec<Vec<Array2<f32>>> {
    acts.blocks
        .iter()
        .map(|blk| {
            let h = blk.attn.att.dim().1;
            (0..h)
                .map(|hh| blk.attn.att.slice(s![b, hh, .., ..]).to_owned())
                .collect()
        })
        .collect()
}

/// The attention weights of one prompt (batch 1, eval mode): (L, H) maps of (T, T).
pub fn prompt_attention(model: &Gpt, ids: &[usize]) -> Vec<Vec<Array2<f32>>> {
    if ids.is_empty() {
        return Vec::new();
    }
    let mut acts = Activations::default();
    gpt_forward(model, &mut acts, ids, None, 1, ids.len(), false);
    attention_maps(&acts, 0)
}

impl AttentionDims {
    /// The attention shape of `cfg` for `b` sequences of `t` tokens.
    pub fn of(cfg: &GptConfig, b: usize, t: usize) -> Self {
        Self {
            b,
            t,
            h: cfg.n_head,
            scale: cfg.attn_scale,
            causal: cfg.causal,
        }
    }
}
