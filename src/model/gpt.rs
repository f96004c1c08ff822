//! The whole GPT: parameters, one forward pass that keeps what the backward needs, and the
//! backward pass that fills gradients of the same shape as the parameters.
//!
//! Pre-norm blocks as nanoGPT (`model.py`): x ← x + attn(norm₁(x)); x ← x + mlp(norm₂(x));
//! then a final norm and the LM head tied to the token embedding: logits = norm_f(x) · wteᵀ.
//!
//! Legend: B = batch, T = time, C = channels (`n_embd`), V = vocabulary, L = layers, N = B·T.

use std::ops::Range;
use std::sync::Mutex;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, s};
use rand::{Rng, RngExt};

use super::attention::{
    AttentionCache, AttentionDims, attention_backward, attention_cache_fit, attention_forward,
    attention_heads_forward,
};
use super::config::{GptConfig, NormKind, PosEncoding};
use super::embedding::{embedding_backward, embedding_forward};
use super::gemm::PackedB;
use super::linear::{linear_backward, linear_forward, linear_forward_packed};
use super::loss::{crossentropy_backward, crossentropy_forward};
use super::mlp::{gelu_backward, gelu_forward};
use super::norm::{
    BnRunning, NormCache, batchnorm_backward, batchnorm_forward, layernorm_backward,
    layernorm_forward, norm_rows, resize, rmsnorm_backward, rmsnorm_forward,
};
use super::parallel::{Team, lock};
use super::position;

/// One transformer block's parameters (nanoGPT names in the comments).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockParams {
    /// `ln_1.weight`, `ln_1.bias`: (C)
    pub ln_1_w: Array1<f32>,
    /// `ln_1.bias`: (C)
    pub ln_1_b: Array1<f32>,
    /// `attn.c_attn.weight`: (3C, C), rows q, k, v
    pub c_attn_w: Array2<f32>,
    /// `attn.c_attn.bias`: (3C)
    pub c_attn_b: Array1<f32>,
    /// `attn.c_proj.weight`: (C, C) — the mixing matrix W_O
    pub attn_proj_w: Array2<f32>,
    /// `attn.c_proj.bias`: (C)
    pub attn_proj_b: Array1<f32>,
    /// `ln_2.weight`: (C)
    pub ln_2_w: Array1<f32>,
    /// `ln_2.bias`: (C)
    pub ln_2_b: Array1<f32>,
    /// `mlp.c_fc.weight`: (4C, C)
    pub c_fc_w: Array2<f32>,
    /// `mlp.c_fc.bias`: (4C)
    pub c_fc_b: Array1<f32>,
    /// `mlp.c_proj.weight`: (C, 4C)
    pub mlp_proj_w: Array2<f32>,
    /// `mlp.c_proj.bias`: (C)
    pub mlp_proj_b: Array1<f32>,
}

/// All parameters. [`Grads`] is the same type: gradients mirror parameters field for field.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// `transformer.wte.weight`: (V, C), also the LM head.
    pub wte: Array2<f32>,
    /// `transformer.wpe.weight`: (T, C), only for learned positions.
    pub wpe: Option<Array2<f32>>,
    /// `transformer.h.{i}`.
    pub blocks: Vec<BlockParams>,
    /// `transformer.ln_f.weight`: (C)
    pub ln_f_w: Array1<f32>,
    /// `transformer.ln_f.bias`: (C)
    pub ln_f_b: Array1<f32>,
}

/// Gradients of the loss with respect to every parameter.
pub type Grads = Params;

impl Params {
    /// All zeros, shaped for `cfg`.
    pub fn zeros(cfg: &GptConfig) -> Self {
        let (v, c, t) = (cfg.vocab_size, cfg.n_embd, cfg.block_size);
        let block = || BlockParams {
            ln_1_w: Array1::zeros(c),
            ln_1_b: Array1::zeros(c),
            c_attn_w: Array2::zeros((3 * c, c)),
            c_attn_b: Array1::zeros(3 * c),
            attn_proj_w: Array2::zeros((c, c)),
            attn_proj_b: Array1::zeros(c),
            ln_2_w: Array1::zeros(c),
            ln_2_b: Array1::zeros(c),
            c_fc_w: Array2::zeros((4 * c, c)),
            c_fc_b: Array1::zeros(4 * c),
            mlp_proj_w: Array2::zeros((c, 4 * c)),
            mlp_proj_b: Array1::zeros(c),
        };
        Self {
            wte: Array2::zeros((v, c)),
            wpe: (cfg.pos_encoding == PosEncoding::Learned).then(|| Array2::zeros((t, c))),
            blocks: (0..cfg.n_layer).map(|_| block()).collect(),
            ln_f_w: Array1::zeros(c),
            ln_f_b: Array1::zeros(c),
        }
    }

    /// nanoGPT's initialisation: weights ~ N(0, 0.02²), the residual projections ~ N(0, (0.02/√(2L))²),
    /// biases 0, norm gains 1.
    pub fn init(cfg: &GptConfig, rng: &mut impl Rng) -> Self {
        let mut p = Self::zeros(cfg);
        let proj_std = 0.02 / (2.0 * cfg.n_layer as f32).sqrt();
        fill_normal(p.wte.as_slice_mut(), 0.02, rng);
        if let Some(wpe) = &mut p.wpe {
            fill_normal(wpe.as_slice_mut(), 0.02, rng);
        }
        for b in &mut p.blocks {
            b.ln_1_w.fill(1.0);
            b.ln_2_w.fill(1.0);
            fill_normal(b.c_attn_w.as_slice_mut(), 0.02, rng);
            fill_normal(b.attn_proj_w.as_slice_mut(), proj_std, rng);
            fill_normal(b.c_fc_w.as_slice_mut(), 0.02, rng);
            fill_normal(b.mlp_proj_w.as_slice_mut(), proj_std, rng);
        }
        p.ln_f_w.fill(1.0);
        p
    }

    /// Every tensor with its nanoGPT name and shape, in a fixed order.
    pub fn tensors<'a>(&'a self) -> Vec<(String, Vec<usize>, &'a [f32])> {
        let mut out: Vec<(String, Vec<usize>, &[f32])> = Vec::new();
        fn add<'a>(
            out: &mut Vec<(String, Vec<usize>, &'a [f32])>,
            name: String,
            shape: &[usize],
            data: Option<&'a [f32]>,
        ) {
            out.push((name, shape.to_vec(), data.unwrap_or_default()));
        }
        let mut push = |name: String, shape: &[usize], data: Option<&'a [f32]>| {
            add(&mut out, name, shape, data)
        };
        push(
            "transformer.wte.weight".into(),
            self.wte.shape(),
            self.wte.as_slice(),
        );
        if let Some(wpe) = &self.wpe {
            push("transformer.wpe.weight".into(), wpe.shape(), wpe.as_slice());
        }
        for (i, b) in self.blocks.iter().enumerate() {
            let h = format!("transformer.h.{i}");
            push(
                format!("{h}.ln_1.weight"),
                b.ln_1_w.shape(),
                b.ln_1_w.as_slice(),
            );
            push(
                format!("{h}.ln_1.bias"),
                b.ln_1_b.shape(),
                b.ln_1_b.as_slice(),
            );
            push(
                format!("{h}.attn.c_attn.weight"),
                b.c_attn_w.shape(),
                b.c_attn_w.as_slice(),
            );
            push(
                format!("{h}.attn.c_attn.bias"),
                b.c_attn_b.shape(),
                b.c_attn_b.as_slice(),
            );
            push(
                format!("{h}.attn.c_proj.weight"),
                b.attn_proj_w.shape(),
                b.attn_proj_w.as_slice(),
            );
            push(
                format!("{h}.attn.c_proj.bias"),
                b.attn_proj_b.shape(),
                b.attn_proj_b.as_slice(),
            );
            push(
                format!("{h}.ln_2.weight"),
                b.ln_2_w.shape(),
                b.ln_2_w.as_slice(),
            );
            push(
                format!("{h}.ln_2.bias"),
                b.ln_2_b.shape(),
                b.ln_2_b.as_slice(),
            );
            push(
                format!("{h}.mlp.c_fc.weight"),
                b.c_fc_w.shape(),
                b.c_fc_w.as_slice(),
            );
            push(
                format!("{h}.mlp.c_fc.bias"),
                b.c_fc_b.shape(),
                b.c_fc_b.as_slice(),
            );
            push(
                format!("{h}.mlp.c_proj.weight"),
                b.mlp_proj_w.shape(),
                b.mlp_proj_w.as_slice(),
            );
            push(
                format!("{h}.mlp.c_proj.bias"),
                b.mlp_proj_b.shape(),
                b.mlp_proj_b.as_slice(),
            );
        }
        push(
            "transformer.ln_f.weight".into(),
            self.ln_f_w.shape(),
            self.ln_f_w.as_slice(),
        );
        push(
            "transformer.ln_f.bias".into(),
            self.ln_f_b.shape(),
            self.ln_f_b.as_slice(),
        );
        out
    }

    /// Every tensor as a mutable flat slice, in the order of [`Params::tensors`], with a flag for
    /// 2-D weights (the ones AdamW decays).
    pub fn tensors_mut(&mut self) -> Vec<(&mut [f32], bool)> {
        let mut out: Vec<(&mut [f32], bool)> = Vec::new();
        fn push2<'a>(out: &mut Vec<(&'a mut [f32], bool)>, a: &'a mut Array2<f32>) {
            out.push((a.as_slice_mut().unwrap_or_default(), true));
        }
        fn push1<'a>(out: &mut Vec<(&'a mut [f32], bool)>, a: &'a mut Array1<f32>) {
            out.push((a.as_slice_mut().unwrap_or_default(), false));
        }
        push2(&mut out, &mut self.wte);
        if let Some(wpe) = &mut self.wpe {
            push2(&mut out, wpe);
        }
        for b in &mut self.blocks {
            push1(&mut out, &mut b.ln_1_w);
            push1(&mut out, &mut b.ln_1_b);
            push2(&mut out, &mut b.c_attn_w);
            push1(&mut out, &mut b.c_attn_b);
            push2(&mut out, &mut b.attn_proj_w);
            push1(&mut out, &mut b.attn_proj_b);
            push1(&mut out, &mut b.ln_2_w);
            push1(&mut out, &mut b.ln_2_b);
            push2(&mut out, &mut b.c_fc_w);
            push1(&mut out, &mut b.c_fc_b);
            push2(&mut out, &mut b.mlp_proj_w);
            push1(&mut out, &mut b.mlp_proj_b);
        }
        push1(&mut out, &mut self.ln_f_w);
        push1(&mut out, &mut self.ln_f_b);
        out
    }

    /// Every tensor as a flat slice with its 2-D flag, in the order of [`Params::tensors`],
    /// without allocating (the training step's loops use this, not `tensors`).
    pub fn iter(&self) -> impl Iterator<Item = (&[f32], bool)> {
        fn f<D: ndarray::Dimension>(a: &ndarray::Array<f32, D>) -> &[f32] {
            a.as_slice().unwrap_or_default()
        }
        std::iter::once((f(&self.wte), true))
            .chain(self.wpe.iter().map(|w| (f(w), true)))
            .chain(self.blocks.iter().flat_map(|b| {
                [
                    (f(&b.ln_1_w), false),
                    (f(&b.ln_1_b), false),
                    (f(&b.c_attn_w), true),
                    (f(&b.c_attn_b), false),
                    (f(&b.attn_proj_w), true),
                    (f(&b.attn_proj_b), false),
                    (f(&b.ln_2_w), false),
                    (f(&b.ln_2_b), false),
                    (f(&b.c_fc_w), true),
                    (f(&b.c_fc_b), false),
                    (f(&b.mlp_proj_w), true),
                    (f(&b.mlp_proj_b), false),
                ]
            }))
            .chain([(f(&self.ln_f_w), false), (f(&self.ln_f_b), false)])
    }

    /// [`Params::iter`], mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&mut [f32], bool)> {
        fn f<D: ndarray::Dimension>(a: &mut ndarray::Array<f32, D>) -> &mut [f32] {
            a.as_slice_mut().unwrap_or_default()
        }
        std::iter::once((f(&mut self.wte), true))
            .chain(self.wpe.iter_mut().map(|w| (f(w), true)))
            .chain(self.blocks.iter_mut().flat_map(|b| {
                [
                    (f(&mut b.ln_1_w), false),
                    (f(&mut b.ln_1_b), false),
                    (f(&mut b.c_attn_w), true),
                    (f(&mut b.c_attn_b), false),
                    (f(&mut b.attn_proj_w), true),
                    (f(&mut b.attn_proj_b), false),
                    (f(&mut b.ln_2_w), false),
                    (f(&mut b.ln_2_b), false),
                    (f(&mut b.c_fc_w), true),
                    (f(&mut b.c_fc_b), false),
                    (f(&mut b.mlp_proj_w), true),
                    (f(&mut b.mlp_proj_b), false),
                ]
            }))
            .chain([(f(&mut self.ln_f_w), false), (f(&mut self.ln_f_b), false)])
    }

    /// Number of scalars.
    pub fn count(&self) -> usize {
        self.iter().map(|(d, _)| d.len()).sum()
    }

    /// Copy every entry from `other` (same shapes) without allocating.
    pub fn copy_from(&mut self, other: &Params) {
        for ((dst, _), (src, _)) in self.iter_mut().zip(other.iter()) {
            dst.copy_from_slice(src);
        }
    }

    /// Set every entry to zero.
    pub fn zero(&mut self) {
        for (t, _) in self.iter_mut() {
            t.fill(0.0);
        }
    }

    /// Are all entries finite?
    pub fn all_finite(&self) -> bool {
        self.iter().all(|(d, _)| d.iter().all(|v| v.is_finite()))
    }
}

/// Fill with N(0, std²) samples (Box–Muller; `rand` alone has no normal distribution).
pub fn fill_normal(x: Option<&mut [f32]>, std: f32, rng: &mut impl Rng) {
    let Some(x) = x else { return };
    for pair in x.chunks_mut(2) {
        let u1: f32 = rng.random::<f32>().max(f32::MIN_POSITIVE);
        let u2: f32 = rng.random::<f32>();
        let r = (-2.0 * u1.ln()).sqrt() * std;
        let theta = std::f32::consts::TAU * u2;
        pair[0] = r * theta.cos();
        if pair.len() > 1 {
            pair[1] = r * theta.sin();
        }
    }
}

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
    /// x + attention: (N, C)
    pub resid2: Array2<f32>,
    /// norm₂(resid2): (N, C)
    pub ln2: Array2<f32>,
    /// Statistics of norm₂.
    pub ln2_cache: NormCache,
    /// MLP hidden layer before GELU: (N, 4C)
    pub fch: Array2<f32>,
    /// After GELU: (N, 4C)
    pub fch_gelu: Array2<f32>,
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
    /// Residual stream: resid[0] = embeddings, resid[l + 1] = output of block l: L + 1 of (N, C).
    pub resid: Vec<Array2<f32>>,
    /// Per-block activations.
    pub blocks: Vec<BlockActs>,
    /// norm_f(resid[L]): (N, C)
    pub lnf: Array2<f32>,
    /// Statistics of norm_f.
    pub lnf_cache: NormCache,
    /// Logits: (N, V)
    pub logits: Array2<f32>,
    /// softmax(logits): (N, V), filled when targets are given.
    pub probs: Array2<f32>,
    /// Train mode (BatchNorm uses the batch's statistics).
    pub train: bool,
    /// BatchNorm running statistics after this batch (train mode), applied by the trainer.
    pub bn_updated: Vec<BnRunning>,
    /// Buffers of the backward pass, kept so that a training step allocates nothing.
    scratch: BackwardScratch,
}

/// Gradients of activations, reused from step to step.
#[derive(Debug, Clone, Default)]
struct BackwardScratch {
    dlogits: Array2<f32>,
    dlnf: Array2<f32>,
    dresid: Array2<f32>,
    dfch_gelu: Array2<f32>,
    dfch: Array2<f32>,
    dln: Array2<f32>,
    datty: Array2<f32>,
    dqkv: Array2<f32>,
    datt: Array2<f32>,
}

#[allow(clippy::too_many_arguments)]
fn norm_forward(
    kind: NormKind,
    out: &mut Array2<f32>,
    x: &Array2<f32>,
    w: &Array1<f32>,
    b: &Array1<f32>,
    cache: &mut NormCache,
    running: Option<&mut BnRunning>,
    train: bool,
) {
    match kind {
        NormKind::LayerNorm => {
            layernorm_forward(out.view_mut(), x.view(), w.view(), b.view(), cache)
        }
        NormKind::RmsNorm => rmsnorm_forward(out.view_mut(), x.view(), w.view(), b.view(), cache),
        NormKind::BatchNorm => match running {
            Some(running) => batchnorm_forward(
                out.view_mut(),
                x.view(),
                w.view(),
                b.view(),
                cache,
                running,
                train,
            ),
            None => batchnorm_forward(
                out.view_mut(),
                x.view(),
                w.view(),
                b.view(),
                cache,
                &mut BnRunning::new(x.ncols()),
                train,
            ),
        },
        NormKind::None => out.assign(x),
    }
}

#[allow(clippy::too_many_arguments)]
fn norm_backward(
    kind: NormKind,
    dx: &mut Array2<f32>,
    dw: &mut Array1<f32>,
    db: &mut Array1<f32>,
    dout: &Array2<f32>,
    x: &Array2<f32>,
    w: &Array1<f32>,
    cache: &NormCache,
    train: bool,
) {
    match kind {
        NormKind::LayerNorm => layernorm_backward(
            dx.view_mut(),
            dw.view_mut(),
            db.view_mut(),
            dout.view(),
            x.view(),
            w.view(),
            cache,
        ),
        NormKind::RmsNorm => rmsnorm_backward(
            dx.view_mut(),
            dw.view_mut(),
            db.view_mut(),
            dout.view(),
            x.view(),
            w.view(),
            cache,
        ),
        NormKind::BatchNorm => batchnorm_backward(
            dx.view_mut(),
            dw.view_mut(),
            db.view_mut(),
            dout.view(),
            x.view(),
            w.view(),
            cache,
            train,
        ),
        NormKind::None => *dx += dout,
    }
}

fn ensure(a: &mut Array2<f32>, rows: usize, cols: usize) {
    if a.dim() != (rows, cols) {
        *a = Array2::zeros((rows, cols));
    }
}

/// The forward pass. tokens: (B·T) ids < V; targets: (B·T) next-token ids, or none.
/// Returns the mean cross-entropy when targets are given. `train` selects BatchNorm's batch
/// statistics (and records updated running statistics in `acts.bn_updated`).
pub fn gpt_forward(
    model: &Gpt,
    acts: &mut Activations,
    tokens: &[usize],
    targets: Option<&[usize]>,
    b: usize,
    t: usize,
    train: bool,
) -> Option<f32> {
    forward_impl(
        &mut Team::serial(),
        model,
        None,
        acts,
        tokens,
        targets,
        b,
        t,
        train,
    )
}

/// [`gpt_forward`] with each matrix product cut by output columns, attention by heads and
/// LayerNorm/RMSNorm by rows over the threads of `team`. The parts are computed exactly as the
/// whole would be, so the result is the same bit for bit; the embedding, BatchNorm and the loss
/// run on this thread.
#[allow(clippy::too_many_arguments)]
pub fn gpt_forward_team(
    team: &mut Team,
    model: &Gpt,
    acts: &mut Activations,
    tokens: &[usize],
    targets: Option<&[usize]>,
    b: usize,
    t: usize,
    train: bool,
) -> Option<f32> {
    forward_impl(team, model, None, acts, tokens, targets, b, t, train)
}

/// The weights of a model with every Wᵀ packed for the matrix products ([`PackedB`]), for
/// repeated inference with the same weights. It borrows the model, so the weights cannot
/// change while it lives and the packed copies cannot go stale.
#[derive(Debug)]
pub struct Prepared<'a> {
    model: &'a Gpt,
    /// Per block: c_attn, attn.c_proj, c_fc, mlp.c_proj, each Wᵀ.
    blocks: Vec<[PackedB; 4]>,
    /// wteᵀ: (C, V), the LM head.
    head: PackedB,
}

impl<'a> Prepared<'a> {
    /// Pack the weights of `model`.
    pub fn new(model: &'a Gpt) -> Self {
        let p = &model.params;
        let blocks = p
            .blocks
            .iter()
            .map(|bp| {
                [
                    PackedB::new(bp.c_attn_w.t()),
                    PackedB::new(bp.attn_proj_w.t()),
                    PackedB::new(bp.c_fc_w.t()),
                    PackedB::new(bp.mlp_proj_w.t()),
                ]
            })
            .collect();
        Self {
            model,
            blocks,
            head: PackedB::new(p.wte.t()),
        }
    }

    /// The model these weights are from.
    pub fn model(&self) -> &'a Gpt {
        self.model
    }
}

/// [`gpt_forward_team`] in eval mode with packed weights: the same result, bit for bit.
pub fn gpt_forward_prepared(
    team: &mut Team,
    prepared: &Prepared<'_>,
    acts: &mut Activations,
    tokens: &[usize],
    b: usize,
    t: usize,
) {
    forward_impl(
        team,
        prepared.model,
        Some(prepared),
        acts,
        tokens,
        None,
        b,
        t,
        false,
    );
}

#[allow(clippy::too_many_arguments)]
fn forward_impl(
    team: &mut Team,
    model: &Gpt,
    packed: Option<&Prepared<'_>>,
    acts: &mut Activations,
    tokens: &[usize],
    targets: Option<&[usize]>,
    b: usize,
    t: usize,
    train: bool,
) -> Option<f32> {
    let cfg = &model.config;
    let (c, v, n) = (cfg.n_embd, cfg.vocab_size, b * t);
    let p = &model.params;
    acts.b = b;
    acts.t = t;
    acts.train = train;
    acts.tokens.clear();
    acts.tokens.extend_from_slice(tokens);
    acts.resid.resize_with(cfg.n_layer + 1, Default::default);
    acts.blocks.resize_with(cfg.n_layer, Default::default);
    acts.bn_updated.clone_from(&model.bn);
    for r in &mut acts.resid {
        ensure(r, n, c);
    }
    embedding_forward(
        acts.resid[0].view_mut(),
        tokens,
        t,
        p.wte.view(),
        model.positions(),
    );
    let dims = AttentionDims {
        b,
        t,
        h: cfg.n_head,
        scale: cfg.attn_scale,
        causal: cfg.causal,
    };
    for (l, bp) in p.blocks.iter().enumerate() {
        let pw = packed.and_then(|pk| pk.blocks.get(l));
        fn weight<'w>(w: &'w Array2<f32>, pw: Option<&'w [PackedB; 4]>, i: usize) -> Weight<'w> {
            Weight {
                w: w.view(),
                packed: pw.map(|pw| &pw[i]),
            }
        }
        let (before, after) = acts.resid.split_at_mut(l + 1);
        let x = &before[l];
        let out = &mut after[0];
        let a = &mut acts.blocks[l];
        ensure(&mut a.ln1, n, c);
        ensure(&mut a.qkv, n, 3 * c);
        ensure(&mut a.atty, n, c);
        ensure(&mut a.resid2, n, c);
        ensure(&mut a.ln2, n, c);
        ensure(&mut a.fch, n, 4 * c);
        ensure(&mut a.fch_gelu, n, 4 * c);
        let mut bn = acts.bn_updated.iter_mut().skip(2 * l);
        norm_team(
            team,
            cfg.norm,
            &mut a.ln1,
            x,
            &bp.ln_1_w,
            &bp.ln_1_b,
            &mut a.ln1_cache,
            bn.next(),
            train,
        );
        // qkv = ln1 · W_attnᵀ + b, then attention, head by head
        attention_team(
            team,
            a.atty.view_mut(),
            a.qkv.view_mut(),
            a.ln1.view(),
            weight(&bp.c_attn_w, pw, 0),
            bp.c_attn_b.view(),
            dims,
            &mut a.attn,
        );
        // resid2 = x + atty · W_Oᵀ + b
        linear_team(
            team,
            a.resid2.view_mut(),
            None,
            a.atty.view(),
            weight(&bp.attn_proj_w, pw, 1),
            Some(bp.attn_proj_b.view()),
            Some(x.view()),
        );
        norm_team(
            team,
            cfg.norm,
            &mut a.ln2,
            &a.resid2,
            &bp.ln_2_w,
            &bp.ln_2_b,
            &mut a.ln2_cache,
            bn.next(),
            train,
        );
        // fch = ln2 · W_fcᵀ + b, fch_gelu = gelu(fch)
        linear_team(
            team,
            a.fch.view_mut(),
            Some(a.fch_gelu.view_mut()),
            a.ln2.view(),
            weight(&bp.c_fc_w, pw, 2),
            Some(bp.c_fc_b.view()),
            None,
        );
        // out = resid2 + fch_gelu · W_projᵀ + b
        linear_team(
            team,
            out.view_mut(),
            None,
            a.fch_gelu.view(),
            weight(&bp.mlp_proj_w, pw, 3),
            Some(bp.mlp_proj_b.view()),
            Some(a.resid2.view()),
        );
    }
    ensure(&mut acts.lnf, n, c);
    let last = acts
        .bn_updated
        .last_mut()
        .filter(|_| cfg.norm == NormKind::BatchNorm);
    norm_team(
        team,
        cfg.norm,
        &mut acts.lnf,
        &acts.resid[cfg.n_layer],
        &p.ln_f_w,
        &p.ln_f_b,
        &mut acts.lnf_cache,
        last,
        train,
    );
    ensure(&mut acts.logits, n, v);
    linear_team(
        team,
        acts.logits.view_mut(),
        None,
        acts.lnf.view(),
        Weight {
            w: p.wte.view(),
            packed: packed.map(|pk| &pk.head),
        },
        None,
        None,
    );
    targets.map(|targets| {
        ensure(&mut acts.probs, n, v);
        crossentropy_forward(&mut acts.probs, acts.logits.view(), targets)
    })
}

/// [`norm_forward`] with the rows cut in [`Team::parts`] parts (BatchNorm, whose statistics
/// couple the rows, runs whole on this thread).
#[allow(clippy::too_many_arguments)]
fn norm_team(
    team: &mut Team,
    kind: NormKind,
    out: &mut Array2<f32>,
    x: &Array2<f32>,
    w: &Array1<f32>,
    b: &Array1<f32>,
    cache: &mut NormCache,
    running: Option<&mut BnRunning>,
    train: bool,
) {
    let rows = x.nrows();
    let by_rows = matches!(kind, NormKind::LayerNorm | NormKind::RmsNorm);
    if team.parts() < 2 || !by_rows || rows < 2 || out.dim() != x.dim() {
        return norm_forward(kind, out, x, w, b, cache, running, train);
    }
    resize(&mut cache.rstd, rows);
    if kind == NormKind::LayerNorm {
        resize(&mut cache.mean, rows);
    }
    let (Some(o), Some(xs), Some(ws), Some(bs), Some(rstd)) = (
        out.as_slice_mut(),
        x.as_slice(),
        w.as_slice(),
        b.as_slice(),
        cache.rstd.as_slice_mut(),
    ) else {
        return norm_forward(kind, out, x, w, b, cache, running, train);
    };
    let cut = rows.div_ceil(2);
    let at = cut * x.ncols();
    let (o0, o1) = o.split_at_mut(at);
    let (r0, r1) = rstd.split_at_mut(cut);
    let (m0, m1) = match cache.mean.as_slice_mut() {
        Some(m) if kind == NormKind::LayerNorm => {
            let (m0, m1) = m.split_at_mut(cut);
            (Some(m0), Some(m1))
        }
        _ => (None, None),
    };
    let parts = [Mutex::new((o0, m0, r0)), Mutex::new((o1, m1, r1))];
    team.run(&|i| {
        let mut part = lock(&parts[i]);
        let (o, m, r) = &mut *part;
        let x = if i == 0 { &xs[..at] } else { &xs[at..] };
        norm_rows(o, x, ws, bs, m.as_deref_mut(), r);
    });
}

/// A weight W: (OC, C) of a linear layer, with Wᵀ packed if the weights are [`Prepared`].
#[derive(Clone, Copy)]
struct Weight<'a> {
    w: ArrayView2<'a, f32>,
    packed: Option<&'a PackedB>,
}

impl Weight<'_> {
    /// out = inp · W[rows]ᵀ + b: output columns `rows` of the linear layer.
    fn forward(
        &self,
        out: ArrayViewMut2<'_, f32>,
        inp: ArrayView2<'_, f32>,
        rows: Range<usize>,
        b: Option<ArrayView1<'_, f32>>,
    ) {
        match self.packed {
            Some(p) if rows.start.is_multiple_of(PackedB::PANEL) => {
                linear_forward_packed(out, inp, p, rows, b)
            }
            _ => linear_forward(out, inp, self.w.slice(s![rows, ..]), b),
        }
    }
}

/// Where to cut `n` output columns for `parts` threads: in half, rounded up to the width of a
/// matrix-product panel (16) so that neither part gets a ragged panel it need not.
fn column_cut(n: usize, parts: usize) -> usize {
    if parts < 2 {
        n
    } else {
        n.div_ceil(2).next_multiple_of(16).min(n)
    }
}

/// out = inp · Wᵀ + b (+ residual), and gelu_out = gelu(out) if given, with the output columns
/// cut in [`Team::parts`] parts. out, gelu_out, residual: (N, n); inp: (N, k); w: (n, k); b: (n).
fn linear_team(
    team: &mut Team,
    out: ArrayViewMut2<'_, f32>,
    gelu_out: Option<ArrayViewMut2<'_, f32>>,
    inp: ArrayView2<'_, f32>,
    w: Weight<'_>,
    b: Option<ArrayView1<'_, f32>>,
    residual: Option<ArrayView2<'_, f32>>,
) {
    let n = out.ncols();
    let cut = column_cut(n, team.parts());
    let (o0, o1) = out.split_at(Axis(1), cut);
    let outs = [Mutex::new(o0), Mutex::new(o1)];
    let gelus = gelu_out.map(|g| {
        let (g0, g1) = g.split_at(Axis(1), cut);
        [Mutex::new(g0), Mutex::new(g1)]
    });
    team.run(&|i| {
        let cols = if i == 0 { 0..cut } else { cut..n };
        let mut o = lock(&outs[i]);
        w.forward(
            o.view_mut(),
            inp,
            cols.clone(),
            b.map(|b| b.slice_move(s![cols.clone()])),
        );
        if let Some(r) = residual {
            *o += &r.slice(s![.., cols]);
        }
        if let Some(gelus) = &gelus {
            let mut g = lock(&gelus[i]);
            match (g.as_slice_mut(), o.as_slice()) {
                (Some(g), Some(x)) => gelu_forward(g, x),
                _ => {
                    for (mut g, x) in g.rows_mut().into_iter().zip(o.rows()) {
                        if let (Some(g), Some(x)) = (g.as_slice_mut(), x.as_slice()) {
                            gelu_forward(g, x);
                        }
                    }
                }
            }
        }
    });
}

/// qkv = inp · W_attnᵀ + b and then [`attention_forward`], with the heads cut in
/// [`Team::parts`] parts: each part computes its own heads' q, k and v columns and their
/// attention, with no wait in between. out: (N, C), qkv: (N, 3C), inp: (N, C), w: (3C, C).
#[allow(clippy::too_many_arguments)]
fn attention_team(
    team: &mut Team,
    out: ArrayViewMut2<'_, f32>,
    qkv: ArrayViewMut2<'_, f32>,
    inp: ArrayView2<'_, f32>,
    w: Weight<'_>,
    b: ArrayView1<'_, f32>,
    dims: AttentionDims,
    cache: &mut AttentionCache,
) {
    let c = out.ncols();
    let hs = c / dims.h.max(1);
    if team.parts() < 2 {
        // One product for all of q, k and v (the training shards' many rows pay for packing).
        let mut qkv = qkv;
        w.forward(qkv.view_mut(), inp, 0..3 * c, Some(b));
        attention_forward(out, qkv.view(), dims, cache);
        return;
    }
    attention_cache_fit(cache, dims);
    let cut = dims.h.div_ceil(2);
    let (o0, o1) = out.split_at(Axis(1), cut * hs);
    let (p0, p1) = cache.preatt.view_mut().split_at(Axis(1), cut);
    let (a0, a1) = cache.att.view_mut().split_at(Axis(1), cut);
    // [q | k | v] → the columns of part 0's heads and of part 1's heads in each.
    let (q, kv) = qkv.split_at(Axis(1), c);
    let (k, v) = kv.split_at(Axis(1), c);
    let (q0, q1) = q.split_at(Axis(1), cut * hs);
    let (k0, k1) = k.split_at(Axis(1), cut * hs);
    let (v0, v1) = v.split_at(Axis(1), cut * hs);
    let parts = [
        Mutex::new((o0, [q0, k0, v0], p0, a0)),
        Mutex::new((o1, [q1, k1, v1], p1, a1)),
    ];
    team.run(&|i| {
        let mut part = lock(&parts[i]);
        let (o, qkv, p, a) = &mut *part;
        let heads = if i == 0 { 0..cut * hs } else { cut * hs..c };
        for (j, x) in qkv.iter_mut().enumerate() {
            let rows = j * c + heads.start..j * c + heads.end;
            w.forward(x.view_mut(), inp, rows.clone(), Some(b.slice(s![rows])));
        }
        let [q, k, v] = qkv;
        attention_heads_forward(
            o.view_mut(),
            q.view(),
            k.view(),
            v.view(),
            dims,
            p.view_mut(),
            a.view_mut(),
        );
    });
}

/// The backward pass of [`gpt_forward`] (which must have run with targets). Gradients are
/// accumulated into `grads` (zero it first for a fresh step).
pub fn gpt_backward(model: &Gpt, acts: &mut Activations, targets: &[usize], grads: &mut Grads) {
    let mut sc = std::mem::take(&mut acts.scratch);
    backward_with(model, acts, targets, grads, &mut sc);
    acts.scratch = sc;
}

fn backward_with(
    model: &Gpt,
    acts: &Activations,
    targets: &[usize],
    grads: &mut Grads,
    sc: &mut BackwardScratch,
) {
    let cfg = &model.config;
    let (c, v) = (cfg.n_embd, cfg.vocab_size);
    let n = acts.b * acts.t;
    let p = &model.params;
    let train = acts.train;
    let dims = AttentionDims {
        b: acts.b,
        t: acts.t,
        h: cfg.n_head,
        scale: cfg.attn_scale,
        causal: cfg.causal,
    };

    ensure(&mut sc.dlogits, n, v);
    for (a, r, cols) in [
        (&mut sc.dlnf, n, c),
        (&mut sc.dresid, n, c),
        (&mut sc.dln, n, c),
        (&mut sc.datty, n, c),
    ] {
        ensure(a, r, cols);
    }
    ensure(&mut sc.dfch_gelu, n, 4 * c);
    ensure(&mut sc.dfch, n, 4 * c);
    ensure(&mut sc.dqkv, n, 3 * c);
    let BackwardScratch {
        dlogits,
        dlnf,
        dresid,
        dfch_gelu,
        dfch,
        dln,
        datty,
        dqkv,
        datt,
    } = sc;
    crossentropy_backward(dlogits.view_mut(), acts.probs.view(), targets);
    // logits = lnf · wteᵀ (the tied head): dlnf = dlogits · wte, dwte += dlogitsᵀ · lnf.
    dlnf.fill(0.0);
    linear_backward(
        Some(dlnf.view_mut()),
        grads.wte.view_mut(),
        None,
        dlogits.view(),
        acts.lnf.view(),
        p.wte.view(),
    );
    dresid.fill(0.0);
    norm_backward(
        cfg.norm,
        dresid,
        &mut grads.ln_f_w,
        &mut grads.ln_f_b,
        dlnf,
        &acts.resid[cfg.n_layer],
        &p.ln_f_w,
        &acts.lnf_cache,
        train,
    );

    for l in (0..cfg.n_layer).rev() {
        let (bp, gb, a) = (&p.blocks[l], &mut grads.blocks[l], &acts.blocks[l]);
        // resid[l+1] = resid2 + mlp_proj(gelu(c_fc(ln2))): dresid flows to both.
        dfch_gelu.fill(0.0);
        linear_backward(
            Some(dfch_gelu.view_mut()),
            gb.mlp_proj_w.view_mut(),
            Some(gb.mlp_proj_b.view_mut()),
            dresid.view(),
            a.fch_gelu.view(),
            bp.mlp_proj_w.view(),
        );
        dfch.fill(0.0);
        gelu_backward(
            dfch.as_slice_mut().unwrap_or_default(),
            a.fch.as_slice().unwrap_or_default(),
            dfch_gelu.as_slice().unwrap_or_default(),
        );
        dln.fill(0.0);
        linear_backward(
            Some(dln.view_mut()),
            gb.c_fc_w.view_mut(),
            Some(gb.c_fc_b.view_mut()),
            dfch.view(),
            a.ln2.view(),
            bp.c_fc_w.view(),
        );
        // dresid now holds d resid2.
        norm_backward(
            cfg.norm,
            dresid,
            &mut gb.ln_2_w,
            &mut gb.ln_2_b,
            dln,
            &a.resid2,
            &bp.ln_2_w,
            &a.ln2_cache,
            train,
        );
        // resid2 = x + attn_proj(atty): dresid flows to both.
        datty.fill(0.0);
        linear_backward(
            Some(datty.view_mut()),
            gb.attn_proj_w.view_mut(),
            Some(gb.attn_proj_b.view_mut()),
            dresid.view(),
            a.atty.view(),
            bp.attn_proj_w.view(),
        );
        dqkv.fill(0.0);
        attention_backward(
            dqkv.view_mut(),
            datty.view(),
            a.qkv.view(),
            dims,
            &a.attn,
            datt,
        );
        dln.fill(0.0);
        linear_backward(
            Some(dln.view_mut()),
            gb.c_attn_w.view_mut(),
            Some(gb.c_attn_b.view_mut()),
            dqkv.view(),
            a.ln1.view(),
            bp.c_attn_w.view(),
        );
        // dresid now holds d resid[l].
        norm_backward(
            cfg.norm,
            dresid,
            &mut gb.ln_1_w,
            &mut gb.ln_1_b,
            dln,
            &acts.resid[l],
            &bp.ln_1_w,
            &a.ln1_cache,
            train,
        );
    }
    let dwpe = match cfg.pos_encoding {
        PosEncoding::Learned => grads.wpe.as_mut().map(|w| w.view_mut()),
        _ => None,
    };
    embedding_backward(
        grads.wte.view_mut(),
        dwpe,
        dresid.view(),
        &acts.tokens,
        acts.t,
    );
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
