//! Multi-head (masked) self-attention, given the projected queries, keys and values.
//!
//! For each sequence b and head h, with Q, K, V: (T, hs) slices of `qkv`:
//!     S = Q Kᵀ · s          (s = 1/√hs when scaling is on, else 1)   — the pre-softmax scores
//!     S[t, t2] = −∞ for t2 > t when the causal mask is on            — future keys
//!     A = softmax_rows(S)                                            — the attention weights
//!     out_h = A V           and the heads are concatenated: out = [out_1 … out_H]: (T, C)
//! Vaswani et al. 2017, "Attention is all you need", eq. 1; the mixing matrix W_O (`c_proj`) and
//! the QKV projection (`c_attn`) are linears (`linear.rs`). Source: llm.c `attention_forward` /
//! `attention_backward`, batched per head with matrix products.
//!
//! With the causal mask, half of every T × T product is known: A and dS are lower triangular,
//! and S, dA are only read on and below the diagonal. The products skip that half
//! (`gemm::Structure`), and the softmax rows stop at the diagonal; the skipped terms are exact
//! zeros, so the results are those of the full products.
//!
//! Legend: B = batch, T = time, C = channels, H = heads, hs = C / H. Rows of `qkv` are b·T + t and
//! its columns are [q | k | v], each C wide, head h at columns h·hs … (h+1)·hs.

use super::softmax::softmax_row;
use crate::engine::gemm::{Structure, gemm_structured};
use crate::engine::simd::{self, multiversion};
use ndarray::{Array2, Array4, ArrayView2, ArrayViewMut2, ArrayViewMut4, s};

/// What the backward pass needs, and what the lessons draw.
#[derive(Debug, Clone, Default)]
pub struct AttentionCache {
    /// Pre-softmax scores S (with −∞ where masked): (B, H, T, T); empty when `skip_scores`.
    pub preatt: Array4<f32>,
    /// Attention weights A = softmax(S): (B, H, T, T).
    pub att: Array4<f32>,
    /// Keep no scores: each head's S goes to one (T, T) buffer that the next head overwrites. A
    /// training pass sets this (through `Activations::training_pass`): the backward reads only A,
    /// and the B·H·T² scores per block would be written and never read.
    pub skip_scores: bool,
    /// That buffer: (T, T) when `skip_scores`.
    scratch: Array2<f32>,
}

/// Where [`attention_heads_forward`] writes each head's pre-softmax scores S.
pub enum Scores<'a> {
    /// Into the cache: (B, heads, T, T), kept.
    Keep(ArrayViewMut4<'a, f32>),
    /// Into one (T, T) buffer that each head overwrites.
    Scratch(&'a mut Array2<f32>),
}

/// Shape and switches of one attention call.
#[derive(Debug, Clone, Copy)]
pub struct AttentionDims {
    /// Sequences in the batch.
    pub b: usize,
    /// Sequence length.
    pub t: usize,
    /// Heads.
    pub h: usize,
    /// Scale scores by 1/√hs.
    pub scale: bool,
    /// Mask future keys.
    pub causal: bool,
}

/// out = concat_h softmax(Q_h K_hᵀ · s + mask) V_h.
/// qkv: (B·T, 3C) → out: (B·T, C); cache preatt, att: (B, H, T, T).
pub fn attention_forward(
    out: ArrayViewMut2<'_, f32>,
    qkv: ArrayView2<'_, f32>,
    dims: AttentionDims,
    cache: &mut AttentionCache,
) {
    attention_cache_fit(cache, dims);
    let c = qkv.ncols() / 3;
    let scores = if cache.skip_scores {
        Scores::Scratch(&mut cache.scratch)
    } else {
        Scores::Keep(cache.preatt.view_mut())
    };
    attention_heads_forward(
        out,
        qkv.slice(s![.., ..c]),
        qkv.slice(s![.., c..2 * c]),
        qkv.slice(s![.., 2 * c..]),
        dims,
        scores,
        cache.att.view_mut(),
    );
}

/// Give the cache the shape (B, H, T, T), in standard layout (so that every head's T × T block
/// is one contiguous slice); with `skip_scores`, no scores and a (T, T) buffer instead.
pub fn attention_cache_fit(cache: &mut AttentionCache, dims: AttentionDims) {
    let shape = (dims.b, dims.h, dims.t, dims.t);
    let fits = |a: &Array4<f32>| a.dim() == shape && a.is_standard_layout();
    if !fits(&cache.att) {
        cache.att = Array4::zeros(shape);
    }
    if cache.skip_scores {
        if !cache.preatt.is_empty() {
            cache.preatt = Array4::zeros((0, 0, 0, 0));
        }
        if cache.scratch.dim() != (dims.t, dims.t) || !cache.scratch.is_standard_layout() {
            cache.scratch = Array2::zeros((dims.t, dims.t));
        }
    } else if !fits(&cache.preatt) {
        cache.preatt = Array4::zeros(shape);
    }
}

/// [`attention_forward`] for some of the heads, so that heads can run on different threads.
/// q, k, v: (B·T, n·hs), those heads' columns of `qkv`; out: (B·T, n·hs), their output columns;
/// scores: where S goes (their (B, n, T, T) slice of the cache, or one (T, T) buffer); att:
/// (B, n, T, T), their slice of the cache.
pub fn attention_heads_forward(
    mut out: ArrayViewMut2<'_, f32>,
    q: ArrayView2<'_, f32>,
    k: ArrayView2<'_, f32>,
    v: ArrayView2<'_, f32>,
    dims: AttentionDims,
    mut scores: Scores<'_>,
    mut att: ArrayViewMut4<'_, f32>,
) {
    let AttentionDims { b: nb, t: nt, .. } = dims;
    let heads = att.dim().1;
    let hs = q.ncols() / heads.max(1);
    let scale = if dims.scale {
        1.0 / (hs as f32).sqrt()
    } else {
        1.0
    };
    let (lower_a, lower_c) = structures(dims.causal).0;
    for b in 0..nb {
        let rows = b * nt..(b + 1) * nt;
        for h in 0..heads {
            let cols = h * hs..(h + 1) * hs;
            let q = q.slice(s![rows.clone(), cols.clone()]);
            let k = k.slice(s![rows.clone(), cols.clone()]);
            let v = v.slice(s![rows.clone(), cols.clone()]);
            let mut pre = match &mut scores {
                Scores::Keep(preatt) => preatt.slice_mut(s![b, h, .., ..]),
                Scores::Scratch(buf) => buf.view_mut(),
            };
            gemm_structured(scale, q, k.t(), 0.0, pre.view_mut(), lower_c);
            let mut a = att.slice_mut(s![b, h, .., ..]);
            if let (Some(pre), Some(a)) = (pre.as_slice_mut(), a.as_slice_mut()) {
                softmax_rows(a, pre, nt, dims.causal);
            }
            let o = out.slice_mut(s![rows.clone(), cols]);
            gemm_structured(1.0, a.view(), v, 0.0, o, lower_a);
        }
    }
}

/// In the forward pass this was out_h = A V, A = softmax(S), S = Q Kᵀ · s, so now:
/// dA = dout_h Vᵀ, dV = Aᵀ dout_h, dS = A ⊙ (dA − rowsum(A ⊙ dA)) (0 where masked, as A is),
/// dQ = dS K · s, dK = dSᵀ Q · s. dout: (B·T, C), qkv: (B·T, 3C) → dqkv: (B·T, 3C) (written:
/// each head's columns of q, k and v are read by that head alone). `datt` is scratch space
/// (resized to T × T if needed).
pub fn attention_backward(
    mut dqkv: ArrayViewMut2<'_, f32>,
    dout: ArrayView2<'_, f32>,
    qkv: ArrayView2<'_, f32>,
    dims: AttentionDims,
    cache: &AttentionCache,
    datt: &mut Array2<f32>,
) {
    let AttentionDims {
        b: nb,
        t: nt,
        h: nh,
        ..
    } = dims;
    let c = qkv.ncols() / 3;
    let hs = c / nh;
    let scale = if dims.scale {
        1.0 / (hs as f32).sqrt()
    } else {
        1.0
    };
    let ((lower_a, lower_c), upper_a) = structures(dims.causal);
    if datt.dim() != (nt, nt) || !datt.is_standard_layout() {
        *datt = Array2::zeros((nt, nt));
    }
    for b in 0..nb {
        let rows = b * nt..(b + 1) * nt;
        for h in 0..nh {
            let q = qkv.slice(s![rows.clone(), h * hs..(h + 1) * hs]);
            let k = qkv.slice(s![rows.clone(), c + h * hs..c + (h + 1) * hs]);
            let v = qkv.slice(s![rows.clone(), 2 * c + h * hs..2 * c + (h + 1) * hs]);
            let att = cache.att.slice(s![b, h, .., ..]);
            let dout_h = dout.slice(s![rows.clone(), h * hs..(h + 1) * hs]);
            // dA = dout_h Vᵀ ; dV = Aᵀ dout_h
            gemm_structured(1.0, dout_h, v.t(), 0.0, datt.view_mut(), lower_c);
            {
                let dv = dqkv.slice_mut(s![rows.clone(), 2 * c + h * hs..2 * c + (h + 1) * hs]);
                gemm_structured(1.0, att.t(), dout_h, 0.0, dv, upper_a);
            }
            // dS = A ⊙ (dA − rowsum(A ⊙ dA)), in place in datt.
            if let (Some(a), Some(d)) = (att.as_slice(), datt.as_slice_mut()) {
                softmax_backward_rows(d, a, nt, dims.causal);
            }
            {
                let dq = dqkv.slice_mut(s![rows.clone(), h * hs..(h + 1) * hs]);
                gemm_structured(scale, datt.view(), k, 0.0, dq, lower_a);
            }
            let dk = dqkv.slice_mut(s![rows.clone(), c + h * hs..c + (h + 1) * hs]);
            gemm_structured(scale, datt.t(), q, 0.0, dk, upper_a);
        }
    }
}

/// ((A lower, C lower), A upper) for the products of one head: with the causal mask, A and dS
/// are lower triangular and S, dA are needed on and below the diagonal only (`gemm.rs` skips
/// the rest).
fn structures(causal: bool) -> ((Structure, Structure), Structure) {
    if causal {
        ((Structure::LowerA, Structure::LowerC), Structure::UpperA)
    } else {
        ((Structure::General, Structure::General), Structure::General)
    }
}

multiversion! {
    /// A = softmax(S) row by row for one head: pre, att: (T, T) row-major. With the causal mask,
    /// row t has t + 1 keys: S's later entries are set to −∞ and A's to exactly 0. The softmax
    /// runs to the next multiple of 8 (its vector width), over −∞ entries that add exact zeros.
    fn softmax_rows(att: &mut [f32], pre: &mut [f32], nt: usize, causal: bool) {
        if nt == 0 {
            return;
        }
        for (t, (a, p)) in att.chunks_exact_mut(nt).zip(pre.chunks_exact_mut(nt)).enumerate() {
            let keys = if causal { t + 1 } else { nt };
            let span = keys.next_multiple_of(8).min(nt);
            p[keys..].fill(f32::NEG_INFINITY);
            softmax_row(&mut a[..span], &p[..span]);
            a[span..].fill(0.0);
        }
    }
}

multiversion! {
    /// dS = A ⊙ (dA − rowsum(A ⊙ dA)) in place in `d` (= dA on entry) for one head: (T, T)
    /// row-major. Masked entries (A = 0) get 0.
    fn softmax_backward_rows(d: &mut [f32], att: &[f32], nt: usize, causal: bool) {
        if nt == 0 {
            return;
        }
        for (t, (dr, a)) in d.chunks_exact_mut(nt).zip(att.chunks_exact(nt)).enumerate() {
            let keys = if causal { t + 1 } else { nt };
            // As in the forward pass, to a multiple of 8: the masked A entries are exact zeros.
            let span = keys.next_multiple_of(8).min(nt);
            let dot = simd::dot(&a[..span], &dr[..span]);
            for (di, &ai) in dr[..span].iter_mut().zip(&a[..span]) {
                *di = ai * (*di - dot);
            }
            dr[keys..].fill(0.0);
        }
    }
}
