//! What happens inside one transformer block, and around the stack, as numbers for the lesson
//! "Residuals, the MLP and the stack".
//!
//! - Every tensor of a block on a prompt, read off the model's own forward pass:
//!   x → LN₁ → attention → x + attention → LN₂ → MLP (d → 4d → GELU → d) → + (Vaswani et al.
//!   2017 §3; the pre-norm order of GPT-2, Radford et al. 2019).
//! - The MLP acts on each token alone: MLP(h)_j depends on h_j only, so changing one row of its
//!   input changes that row of its output and no other — exactly (the same floating-point
//!   operations on the same numbers). Attention mixes rows.
//! - A linear layer's weight gradient is ∂L/∂W = δ xᵀ (`linear_backward`): proportional to its
//!   input, which the layer does not control; a norm in front makes it independent of the
//!   input's scale (Ba et al. 2016, "Layer normalization").

use ndarray::{Array1, Array2, s};

use crate::model::config::GptConfig;
use crate::model::gpt::{Activations, Gpt, gpt_forward};
use crate::model::linear::{linear_backward, linear_forward};
use crate::model::mlp::gelu_forward;
use crate::model::norm::{NormCache, layernorm_forward};

/// The names of the block's tensors, in the order of the forward pass.
pub const STREAM: [&str; 9] = [
    "x (block input)",
    "LN₁(x)",
    "attention(LN₁(x))",
    "x + attention",
    "LN₂",
    "MLP hidden, before GELU",
    "MLP hidden, after GELU",
    "MLP(LN₂)",
    "block output",
];

/// One block's tensors for a prompt: `stream[k]` is the k-th of [`STREAM`], each (T, C) but the
/// MLP's hidden layers, (T, 4C).
#[derive(Debug, Clone, Default)]
pub struct BlockTensors {
    /// The tensors, in the order of [`STREAM`].
    pub stream: Vec<Array2<f32>>,
}

/// Block `layer`'s tensors on the prompt `ids` (eval mode); `None` if the layer does not exist or
/// `ids` is empty.
pub fn block_tensors(gpt: &Gpt, ids: &[usize], layer: usize) -> Option<BlockTensors> {
    if ids.is_empty() || layer >= gpt.config.n_layer {
        return None;
    }
    let ids = &ids[ids.len().saturating_sub(gpt.config.block_size)..];
    let mut acts = Activations::default();
    gpt_forward(gpt, &mut acts, ids, None, 1, ids.len(), false);
    let a = acts.blocks.get(layer)?;
    Some(BlockTensors {
        stream: vec![
            acts.resid[layer].clone(),
            a.ln1.clone(),
            a.attn_out.clone(),
            a.resid2.clone(),
            a.ln2.clone(),
            a.fch.clone(),
            a.fch_gelu.clone(),
            a.mlp_out.clone(),
            acts.resid[layer + 1].clone(),
        ],
    })
}

/// The Euclidean norm of each row (token). m: (T, n) → (T)
pub fn row_norms(m: &Array2<f32>) -> Vec<f32> {
    m.outer_iter()
        .map(|r| r.iter().map(|v| v * v).sum::<f32>().sqrt())
        .collect()
}

/// The block's MLP on rows of its input: fc = h · W_fcᵀ + b, gelu, out = · W_projᵀ + b — the
/// same functions the model's forward pass calls. h: (T, C) → (T, C)
pub fn mlp_rows(gpt: &Gpt, layer: usize, h: &Array2<f32>) -> Array2<f32> {
    let bp = &gpt.params.blocks[layer];
    let (t, c) = h.dim();
    let mut fc = Array2::zeros((t, 4 * c));
    linear_forward(
        fc.view_mut(),
        h.view(),
        bp.c_fc_w.view(),
        Some(bp.c_fc_b.view()),
    );
    let mut g = Array2::zeros((t, 4 * c));
    gelu_forward(g.view_mut(), fc.view());
    let mut out = Array2::zeros((t, c));
    linear_forward(
        out.view_mut(),
        g.view(),
        bp.mlp_proj_w.view(),
        Some(bp.mlp_proj_b.view()),
    );
    out
}

/// How much each token's output changes when token `position` of the prompt is replaced by
/// `replacement`: (attention's output, the MLP's output on the MLP's own input with only row
/// `position` replaced), each ‖Δ row‖ per token. The MLP's is exactly 0 for every other token.
pub fn change_one_token(
    gpt: &Gpt,
    ids: &[usize],
    layer: usize,
    position: usize,
    replacement: usize,
) -> Option<(Vec<f32>, Vec<f32>)> {
    if position >= ids.len() {
        return None;
    }
    let mut changed = ids.to_vec();
    changed[position] = replacement;
    let before = block_tensors(gpt, ids, layer)?;
    let after = block_tensors(gpt, &changed, layer)?;
    let attn = row_norms(&(&after.stream[2] - &before.stream[2]));
    // The MLP's own input with one row replaced: every other row is the same numbers.
    let mut h = before.stream[4].clone();
    h.row_mut(position).assign(&after.stream[4].row(position));
    let mlp = row_norms(&(&mlp_rows(gpt, layer, &h) - &before.stream[7]));
    Some((attn, mlp))
}

/// Parameters of each piece of one block of width C: (attention, MLP, the two norms).
/// Attention: W_qkv 3C² + 3C and W_O C² + C; MLP: W_fc 4C² + 4C and W_proj 4C² + C;
/// norms: 2 × (γ, β) = 4C.
pub fn block_pieces(config: &GptConfig) -> (usize, usize, usize) {
    let c = config.n_embd;
    (4 * c * c + 4 * c, 8 * c * c + 5 * c, 4 * c)
}

/// ‖∂ŷ/∂W‖ of a linear layer ŷ = W x on the input x = scale · x₀, with or without a LayerNorm in
/// front, from the engine's own backward (`linear_backward` with dŷ = 1): its weight gradient
/// is the outer product 1 xᵀ, so its norm is √(rows) · ‖x‖ — proportional to the scale — or,
/// behind the norm, ‖LN(x)‖, the same for every scale. x0: (C); w: (rows, C)
pub fn weight_gradient_norm(x0: &[f32], w: &Array2<f32>, scale: f32, with_norm: bool) -> f32 {
    let c = x0.len();
    let x = Array2::from_shape_fn((1, c), |(_, j)| scale * x0[j]);
    let inp = if with_norm {
        let mut out = Array2::zeros((1, c));
        let (g, b) = (Array1::ones(c), Array1::zeros(c));
        layernorm_forward(
            out.view_mut(),
            x.view(),
            g.view(),
            b.view(),
            &mut NormCache::default(),
        );
        out
    } else {
        x
    };
    let rows = w.nrows();
    let dout = Array2::ones((1, rows));
    let mut dw = Array2::zeros((rows, c));
    linear_backward(None, dw.view_mut(), None, dout.view(), inp.view(), w.view());
    dw.iter().map(|v| v * v).sum::<f32>().sqrt()
}

/// The head on the prompt's last position: its final-norm vector (C), the logits x·Eᵀ over the
/// vocabulary (V, the embedding E tied) and their softmax (V).
pub fn head(gpt: &Gpt, ids: &[usize]) -> Option<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    if ids.is_empty() {
        return None;
    }
    let ids = &ids[ids.len().saturating_sub(gpt.config.block_size)..];
    let mut acts = Activations::default();
    gpt_forward(gpt, &mut acts, ids, None, 1, ids.len(), false);
    let last = ids.len() - 1;
    let x = acts.lnf.slice(s![last, ..]).to_vec();
    let logits = acts.logits.slice(s![last, ..]).to_vec();
    let probs = crate::model::softmax::softmax(&logits);
    Some((x, logits, probs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn a_norm_in_front_makes_the_weight_gradient_scale_free() {
        let x0 = [0.3f32, -1.2, 0.8, 0.1, 2.0, -0.4];
        let w = Array2::from_shape_fn((3, 6), |(i, j)| ((i * 6 + j) as f32 * 0.37).sin());
        let plain: Vec<f32> = [0.1f32, 1.0, 10.0]
            .iter()
            .map(|&s| weight_gradient_norm(&x0, &w, s, false))
            .collect();
        // √3 · ‖x‖ exactly: ×10 input, ×10 gradient.
        let norm_x0 = x0.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((plain[1] - 3f32.sqrt() * norm_x0).abs() < 1e-5);
        assert!(
            (plain[2] / plain[1] - 10.0).abs() < 1e-4 && (plain[1] / plain[0] - 10.0).abs() < 1e-4
        );
        let normed: Vec<f32> = [0.1f32, 1.0, 10.0]
            .iter()
            .map(|&s| weight_gradient_norm(&x0, &w, s, true))
            .collect();
        assert!(
            (normed[2] - normed[0]).abs() / normed[1] < 1e-3,
            "{normed:?}"
        );
    }

    #[test]
    fn the_mlp_is_per_token() {
        let cfg = GptConfig {
            vocab_size: 11,
            ..GptConfig::default()
        };
        let gpt = Gpt::new(cfg, &mut StdRng::seed_from_u64(3));
        let ids = [1, 4, 2, 7, 3];
        let Some((attn, mlp)) = change_one_token(&gpt, &ids, 0, 2, 9) else {
            panic!("no change computed");
        };
        for (j, &d) in mlp.iter().enumerate() {
            if j == 2 {
                assert!(d > 0.0);
            } else {
                assert_eq!(d, 0.0, "token {j}");
            }
        }
        // Attention mixes: with the causal mask every token from 2 on changes.
        assert!(attn[3] > 0.0 && attn[4] > 0.0);
        assert_eq!(attn[0], 0.0);
    }
}
