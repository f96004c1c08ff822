//! Inference of one sequence as fast as the machine allows, with the same numbers as the
//! textbook: [`forward`] computes exactly what `model::gpt::gpt_forward` computes in eval mode
//! (bit for bit, tested), in the same order of layers, but
//! - with every Wᵀ packed once for the matrix products ([`Prepared`]; packing had been about
//!   12 % of a one-core forward pass when it was redone in every product), and
//! - with each layer cut in two over the process's thread pool (`engine::pool`): every product
//!   by rows (q, k and v together, as one product), then attention by heads; the GELU and the
//!   residual adds ride along in each part. Until 2026-12-03 the products were cut by output
//!   columns and each half of the heads computed its own q, k, v columns; but at these sizes
//!   most column halves are 128 columns or fewer, where the kernel reads A in place rather
//!   than packing it (`gemm::DIRECT_MAX_N`), and the LM head's 65 columns split 48 + 17.
//!   Measured one change at a time (one process alternating the old and the new cut pass by
//!   pass, median of the pairs' ratios, 618–38 000 pairs): rows for the products whose halves
//!   were narrow but whose whole width is not, 1.07× on the large model's forward pass; then
//!   q, k, v whole first, 1.04× large, 1.03× medium, 1.01× small; then rows wherever the halves
//!   were narrow, 1.00× large, 1.11× medium, 1.15× small; then rows for every product, 1.02×
//!   large, 1.04× medium, 1.00× small. The norms and the embedding run whole: at these sizes a
//!   fork costs more than they do.
//!
//! A batch of one cannot be cut by sequences as training cuts its batch
//! (`train::data_parallel`); this is what `attention-lab bench` times as "fwd ms".

use std::ops::Range;

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2, Axis, s};

use crate::engine::gemm::{PackedB, Rhs, gemm_bias};
use crate::engine::pool;
use crate::model::attention::{
    AttentionDims, Scores, attention_cache_fit, attention_heads_forward,
};
use crate::model::embedding::embedding_forward;
use crate::model::gpt::{Activations, Gpt};
use crate::model::mlp::gelu_forward;
use crate::model::norm::norm_forward;
use crate::model::residual::residual_forward;

/// Below this many multiply-adds, one sequence's forward pass is faster on one thread.
const MIN_WORK_TO_SPLIT: usize = 1_000_000;

/// Should one forward pass over `t` tokens be cut over the pool's threads?
pub fn worth_splitting(model: &Gpt, t: usize) -> bool {
    let c = model.config.n_embd;
    pool::threads() >= 2 && t * c * c * 12 * model.config.n_layer >= MIN_WORK_TO_SPLIT
}

/// The weights of a model with every Wᵀ packed for the matrix products, for repeated inference
/// with the same weights. It borrows the model, so the weights cannot change while it lives and
/// the packed copies cannot go stale.
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

/// `gpt_forward` in eval mode (no targets) with packed weights, each layer cut over the pool
/// when `split` (see [`worth_splitting`]). The result is the same bit for bit either way.
pub fn forward(
    prepared: &Prepared<'_>,
    acts: &mut Activations,
    tokens: &[usize],
    b: usize,
    t: usize,
    split: bool,
) {
    // Inside the pool, each fork is a cheap push that an idle pool thread steals; cut in two,
    // the pass keeps the other threads awake between its forks (`pool::awake`: 1.19× on the
    // large model's pass, 1.10× on the medium).
    let pass = || forward_on_pool(prepared, acts, tokens, b, t, split);
    if split {
        pool::awake(pass)
    } else {
        pool::install(pass)
    }
}

fn forward_on_pool<'a>(
    prepared: &'a Prepared<'a>,
    acts: &mut Activations,
    tokens: &[usize],
    b: usize,
    t: usize,
    split: bool,
) {
    let model = prepared.model;
    let (cfg, p, norm) = (&model.config, &model.params, model.config.norm);
    let skip = cfg.residual;
    acts.fit(model, tokens, b, t, false);
    let dims = AttentionDims::of(cfg, b, t);
    let Activations {
        resid,
        blocks,
        lnf,
        lnf_cache,
        logits,
        bn_updated: bn,
        ..
    } = acts;
    embedding_forward(
        resid[0].view_mut(),
        tokens,
        t,
        p.wte.view(),
        model.positions(),
    );
    for (l, ((bp, a), packed)) in p
        .blocks
        .iter()
        .zip(blocks.iter_mut())
        .zip(&prepared.blocks)
        .enumerate()
    {
        let (done, rest) = resid.split_at_mut(l + 1);
        let (x, out) = (done[l].view(), rest[0].view_mut());
        let weight = |i: usize| Weight { packed: &packed[i] };
        // Norms run whole: a LayerNorm of T rows costs less than the fork that would cut it.
        let (w1, b1) = (bp.ln_1_w.view(), bp.ln_1_b.view());
        norm_forward(
            norm,
            a.ln1.view_mut(),
            x,
            w1,
            b1,
            &mut a.ln1_cache,
            &mut bn[2 * l],
            false,
        );
        attention_split(
            split,
            a.atty.view_mut(),
            a.qkv.view_mut(),
            a.ln1.view(),
            weight(0),
            bp.c_attn_b.view(),
            dims,
            &mut a.attn,
        );
        // attn_out = atty · W_Oᵀ + b, then resid2 = x + attn_out, row by row
        linear_split(
            split,
            a.attn_out.view_mut(),
            a.atty.view(),
            weight(1),
            Some(bp.attn_proj_b.view()),
            Then::Residual(a.resid2.view_mut(), x, skip),
        );
        let (w2, b2) = (bp.ln_2_w.view(), bp.ln_2_b.view());
        let resid2 = a.resid2.view();
        norm_forward(
            norm,
            a.ln2.view_mut(),
            resid2,
            w2,
            b2,
            &mut a.ln2_cache,
            &mut bn[2 * l + 1],
            false,
        );
        // fch = ln2 · W_fcᵀ + b, then fch_gelu = gelu(fch)
        linear_split(
            split,
            a.fch.view_mut(),
            a.ln2.view(),
            weight(2),
            Some(bp.c_fc_b.view()),
            Then::Gelu(a.fch_gelu.view_mut()),
        );
        // mlp_out = fch_gelu · W_projᵀ + b, then out = resid2 + mlp_out
        linear_split(
            split,
            a.mlp_out.view_mut(),
            a.fch_gelu.view(),
            weight(3),
            Some(bp.mlp_proj_b.view()),
            Then::Residual(out, a.resid2.view(), skip),
        );
    }
    let x = resid[cfg.n_layer].view();
    let (wf, bf) = (p.ln_f_w.view(), p.ln_f_b.view());
    norm_forward(
        norm,
        lnf.view_mut(),
        x,
        wf,
        bf,
        lnf_cache,
        &mut bn[2 * cfg.n_layer],
        false,
    );
    let head = Weight {
        packed: &prepared.head,
    };
    linear_split(
        split,
        logits.view_mut(),
        lnf.view(),
        head,
        None,
        Then::Nothing,
    );
}

/// A linear layer's weight W: (OC, C), with Wᵀ packed.
#[derive(Clone, Copy)]
struct Weight<'a> {
    packed: &'a PackedB,
}

impl Weight<'_> {
    /// out = inp · Wᵀ + b, with the packed Wᵀ.
    fn forward(
        &self,
        out: ArrayViewMut2<'_, f32>,
        inp: ArrayView2<'_, f32>,
        b: Option<ArrayView1<'_, f32>>,
    ) {
        let n = self.packed.dim().1;
        gemm_bias(1.0, inp, Rhs::Packed(self.packed, 0..n), 0.0, out, b);
    }
}

/// What a part of [`linear_split`] does with its rows of the product before it returns.
enum Then<'a> {
    /// Nothing more.
    Nothing,
    /// Also gelu(out) into this (N, n) output (`model::mlp::gelu_forward`).
    Gelu(ArrayViewMut2<'a, f32>),
    /// Also x + out (or out, without the skip) into this (N, n) output
    /// (`model::residual::residual_forward`).
    Residual(ArrayViewMut2<'a, f32>, ArrayView2<'a, f32>, bool),
}

impl<'a> Then<'a> {
    /// The same step for rows [..cut] and [cut..].
    fn split(self, cut: usize) -> (Then<'a>, Then<'a>) {
        match self {
            Then::Nothing => (Then::Nothing, Then::Nothing),
            Then::Gelu(g) => {
                let (g0, g1) = g.split_at(Axis(0), cut);
                (Then::Gelu(g0), Then::Gelu(g1))
            }
            Then::Residual(sum, x, skip) => {
                let (s0, s1) = sum.split_at(Axis(0), cut);
                let (x0, x1) = x.split_at(Axis(0), cut);
                (Then::Residual(s0, x0, skip), Then::Residual(s1, x1, skip))
            }
        }
    }

    /// Apply the step to `out`, the part's rows of the product.
    fn apply(self, out: ArrayView2<'_, f32>) {
        match self {
            Then::Nothing => {}
            Then::Gelu(mut g) => {
                for (g, o) in g.rows_mut().into_iter().zip(out.rows()) {
                    gelu_forward(g, o);
                }
            }
            Then::Residual(sum, x, skip) => residual_forward(sum, x, out, skip),
        }
    }
}

/// out = inp · Wᵀ + b, then `then`; with the rows cut in two when `split`, each part doing
/// `then` on its rows. out: (N, n); inp: (N, k); w: (n, k).
fn linear_split(
    split: bool,
    out: ArrayViewMut2<'_, f32>,
    inp: ArrayView2<'_, f32>,
    w: Weight<'_>,
    b: Option<ArrayView1<'_, f32>>,
    then: Then<'_>,
) {
    let part = |mut o: ArrayViewMut2<'_, f32>, inp: ArrayView2<'_, f32>, then: Then<'_>| {
        if o.nrows() > 0 {
            w.forward(o.view_mut(), inp, b);
            then.apply(o.view());
        }
    };
    if !split {
        return part(out, inp, then);
    }
    let half = out.nrows().div_ceil(2);
    let (o0, o1) = out.split_at(Axis(0), half);
    let (i0, i1) = inp.split_at(Axis(0), half);
    let (t0, t1) = then.split(half);
    pool::join(|| part(o0, i0, t0), || part(o1, i1, t1));
}

/// qkv = inp · W_attnᵀ + b ([`linear_split`]) and then attention, with the heads cut in two.
/// out: (N, C), qkv: (N, 3C), inp: (N, C), w: (3C, C).
#[allow(clippy::too_many_arguments)]
fn attention_split(
    split: bool,
    out: ArrayViewMut2<'_, f32>,
    mut qkv: ArrayViewMut2<'_, f32>,
    inp: ArrayView2<'_, f32>,
    w: Weight<'_>,
    b: ArrayView1<'_, f32>,
    dims: AttentionDims,
    cache: &mut crate::model::attention::AttentionCache,
) {
    linear_split(split, qkv.view_mut(), inp, w, Some(b), Then::Nothing);
    let c = out.ncols();
    let hs = c / dims.h.max(1);
    // The scores are kept, as `gpt_forward` keeps them (compared in the tests below).
    cache.skip_scores = false;
    attention_cache_fit(cache, dims);
    let cut = if split { dims.h.div_ceil(2) } else { dims.h };
    let (o0, o1) = out.split_at(Axis(1), cut * hs);
    let (p0, p1) = cache.preatt.view_mut().split_at(Axis(1), cut);
    let (a0, a1) = cache.att.view_mut().split_at(Axis(1), cut);
    let qkv = qkv.view();
    // Heads `heads` (as columns of q, k and v): their attention into their columns of out.
    let part = |heads: Range<usize>,
                o: ArrayViewMut2<'_, f32>,
                pre: ndarray::ArrayViewMut4<'_, f32>,
                att: ndarray::ArrayViewMut4<'_, f32>| {
        if !heads.is_empty() {
            let cols = |j: usize| qkv.slice_move(s![.., j * c + heads.start..j * c + heads.end]);
            attention_heads_forward(o, cols(0), cols(1), cols(2), dims, Scores::Keep(pre), att);
        }
    };
    if split {
        pool::join(
            || part(0..cut * hs, o0, p0, a0),
            || part(cut * hs..c, o1, p1, a1),
        );
    } else {
        part(0..c, o0, p0, a0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpt::gpt_forward;
    use crate::model::{GptConfig, NormKind};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn packed_and_split_forwards_give_the_textbook_forward_bit_for_bit() {
        // Head sizes and widths that do and do not fall on the 16-column panels (24 / 3 heads),
        // odd head counts (the heads cut 2 + 1), one token (3 rows, cut 2 + 1), and every norm.
        let cases = [
            (NormKind::LayerNorm, true, 64, 4, 9, true),
            (NormKind::RmsNorm, false, 24, 3, 7, true),
            (NormKind::BatchNorm, true, 32, 2, 5, true),
            (NormKind::None, true, 48, 3, 1, true),
            (NormKind::LayerNorm, true, 32, 4, 6, false),
            // Every product wider than 128 columns, where the kernel packs A rather than reading
            // it in place (C = 160).
            (NormKind::LayerNorm, true, 160, 5, 4, true),
        ];
        for (norm, causal, n_embd, n_head, t, residual) in cases {
            let cfg = GptConfig {
                vocab_size: 37,
                n_layer: 2,
                n_head,
                n_embd,
                block_size: t,
                causal,
                norm,
                residual,
                ..GptConfig::default()
            };
            let model = Gpt::new(cfg, &mut StdRng::seed_from_u64(5));
            let b = 3;
            let tokens: Vec<usize> = (0..b * t).map(|i| (i * 7 + 2) % 37).collect();
            let mut serial = Activations::default();
            gpt_forward(&model, &mut serial, &tokens, None, b, t, false);
            let prepared = Prepared::new(&model);
            for split in [false, true] {
                let case = format!(
                    "{norm:?} causal {causal} residual {residual} C {n_embd} H {n_head} split {split}"
                );
                let mut fast = Activations::default();
                forward(&prepared, &mut fast, &tokens, b, t, split);
                assert_eq!(fast.logits, serial.logits, "{case}");
                assert_eq!(fast.resid, serial.resid, "{case}");
                for (x, y) in fast.blocks.iter().zip(&serial.blocks) {
                    assert_eq!(x.attn.att, y.attn.att, "{case}");
                    assert_eq!(x.attn.preatt, y.attn.preatt, "{case}");
                    assert_eq!(x.ln1_cache, y.ln1_cache, "{case}");
                    assert_eq!(x.ln2_cache, y.ln2_cache, "{case}");
                    assert_eq!(x.fch_gelu, y.fch_gelu, "{case}");
                }
            }
        }
    }
}
