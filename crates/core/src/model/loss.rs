//! Cross-entropy of the next token: loss = mean_n −log softmax(logits_n)\[target_n\].
//! Fused with the softmax, whose backward then is dlogits = (p − onehot(target)) / N.
//! The loss is computed as log-sum-exp: −log p_t = (m + ln Σ_j e^(l_j − m)) − l_t with
//! m = max_j l_j, which is exact where p_t itself would underflow to 0 (no clamp, no made-up
//! floor: a hopeless prediction costs what it costs, and NaN logits give a NaN loss).
//! Source: llm.c `crossentropy_forward` / `crossentropy_softmax_backward`.
//! A target of [`IGNORE`] leaves its row out of the mean (and out of the gradient), e.g. the last
//! position of a prompt, which has no next token.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::softmax::softmax_forward;
use crate::engine::simd::{self, multiversion};

/// A target that is not scored (PyTorch's `ignore_index`).
pub const IGNORE: usize = usize::MAX;

fn scored(targets: &[usize]) -> usize {
    targets.iter().filter(|&&t| t != IGNORE).count().max(1)
}

/// probs = softmax(logits) row-wise; returns the mean loss over the rows.
/// logits: (N, V), targets: (N) → probs: (N, V)
pub fn crossentropy_forward(
    probs: &mut Array2<f32>,
    logits: ArrayView2<'_, f32>,
    targets: &[usize],
) -> f32 {
    let v = logits.ncols();
    let total = match (probs.as_slice_mut(), logits.as_slice()) {
        (Some(p), Some(l)) if v > 0 => softmax_nll_rows(p, l, targets, v),
        _ => {
            let mut total = 0.0_f64;
            for (i, (row, &t)) in logits.outer_iter().zip(targets).enumerate() {
                softmax_forward(probs.row_mut(i), row);
                if t != IGNORE {
                    let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
                    let sum: f64 = row.iter().map(|&x| f64::from((x - max).exp())).sum();
                    total += f64::from(max) + sum.ln() - f64::from(row[t]);
                }
            }
            total
        }
    };
    (total / scored(targets) as f64) as f32
}

multiversion! {
    /// probs = softmax(logits) on contiguous rows of length v; returns Σ −ln p[target] over the
    /// scored rows.
    fn softmax_nll_rows(probs: &mut [f32], logits: &[f32], targets: &[usize], v: usize) -> f64 {
        let mut total = 0.0_f64;
        for ((p, l), &t) in probs.chunks_exact_mut(v).zip(logits.chunks_exact(v)).zip(targets) {
            // softmax_inline, keeping its maximum and sum for the log-sum-exp.
            let max = simd::max(l);
            for (o, &x) in p.iter_mut().zip(l) {
                *o = simd::exp(x - max);
            }
            let sum = simd::sum(p);
            let inv = 1.0 / sum;
            for o in p.iter_mut() {
                *o *= inv;
            }
            if t != IGNORE {
                total += f64::from(max) + f64::from(sum).ln() - f64::from(l[t]);
            }
        }
        total
    }
}

/// In the forward pass this was loss = mean −log p\[target\], p = softmax(logits), so
/// dlogits = (p − onehot(target)) / N. dlogits: (N, V) (overwritten).
pub fn crossentropy_backward(
    mut dlogits: ArrayViewMut2<'_, f32>,
    probs: ArrayView2<'_, f32>,
    targets: &[usize],
) {
    let scale = 1.0 / scored(targets) as f32;
    dlogits.assign(&probs);
    for (i, &t) in targets.iter().enumerate() {
        if t == IGNORE {
            dlogits.row_mut(i).fill(0.0);
        } else {
            dlogits[[i, t]] -= 1.0;
        }
    }
    dlogits *= scale;
}
