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
//! Legend: B = batch, T = time, C = channels, H = heads, hs = C / H. Rows of `qkv` are b·T + t and
//! its columns are [q | k | v], each C wide, head h at columns h·hs … (h+1)·hs.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Array4, ArrayView2, ArrayViewMut2, s};

/// What the backward pass needs, and what the lessons draw.
#[derive(Debug, Clone, Default)]
pub struct AttentionCache {
    /// Pre-softmax scores S (with −∞ where masked): (B, H, T, T).
    pub preatt: Array4<f32>,
    /// Attention weights A = softmax(S): (B, H, T, T).
    pub att: Array4<f32>,
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
    mut out: ArrayViewMut2<'_, f32>,
    qkv: ArrayView2<'_, f32>,
    dims: AttentionDims,
    cache: &mut AttentionCache,
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
    if cache.att.dim() != (nb, nh, nt, nt) {
        cache.att = Array4::zeros((nb, nh, nt, nt));
        cache.preatt = Array4::zeros((nb, nh, nt, nt));
    }
    for b in 0..nb {
        let rows = b * nt..(b + 1) * nt;
        for h in 0..nh {
            let q = qkv.slice(s![rows.clone(), h * hs..(h + 1) * hs]);
            let k = qkv.slice(s![rows.clone(), c + h * hs..c + (h + 1) * hs]);
            let v = qkv.slice(s![rows.clone(), 2 * c + h * hs..2 * c + (h + 1) * hs]);
            let mut pre = cache.preatt.slice_mut(s![b, h, .., ..]);
            general_mat_mul(scale, &q, &k.t(), 0.0, &mut pre);
            let mut att = cache.att.slice_mut(s![b, h, .., ..]);
            for t in 0..nt {
                let mut pre_row = pre.row_mut(t);
                if dims.causal {
                    pre_row.slice_mut(s![t + 1..]).fill(f32::NEG_INFINITY);
                }
                super::softmax::softmax_forward(att.row_mut(t), pre_row.view());
            }
            let mut o = out.slice_mut(s![rows.clone(), h * hs..(h + 1) * hs]);
            general_mat_mul(1.0, &att, &v, 0.0, &mut o);
        }
    }
}

/// In the forward pass this was out_h = A V, A = softmax(S), S = Q Kᵀ · s, so now:
/// dA = dout_h Vᵀ, dV += Aᵀ dout_h, dS = A ⊙ (dA − rowsum(A ⊙ dA)) (0 where masked, as A is),
/// dQ += dS K · s, dK += dSᵀ Q · s. dout: (B·T, C), qkv: (B·T, 3C) → dqkv: (B·T, 3C) (+=).
/// `datt` is scratch space (resized to T × T if needed).
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
    if datt.dim() != (nt, nt) {
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
            // dA = dout_h Vᵀ ; dV += Aᵀ dout_h
            general_mat_mul(1.0, &dout_h, &v.t(), 0.0, datt);
            {
                let mut dv = dqkv.slice_mut(s![rows.clone(), 2 * c + h * hs..2 * c + (h + 1) * hs]);
                general_mat_mul(1.0, &att.t(), &dout_h, 1.0, &mut dv);
            }
            // dS = A ⊙ (dA − rowsum(A ⊙ dA)), in place in datt.
            for t in 0..nt {
                let a = att.row(t);
                let mut d = datt.row_mut(t);
                let dot: f32 = a.iter().zip(d.iter()).map(|(x, y)| x * y).sum();
                d.zip_mut_with(&a, |di, &ai| *di = ai * (*di - dot));
            }
            {
                let mut dq = dqkv.slice_mut(s![rows.clone(), h * hs..(h + 1) * hs]);
                general_mat_mul(scale, &*datt, &k, 1.0, &mut dq);
            }
            let mut dk = dqkv.slice_mut(s![rows.clone(), c + h * hs..c + (h + 1) * hs]);
            general_mat_mul(scale, &datt.t(), &q, 1.0, &mut dk);
        }
    }
}
