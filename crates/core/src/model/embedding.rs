//! Token embedding plus positions: x\[b, t\] = wte\[token\[b, t\]\] + P\[t\].
//! P is the learned `wpe`, a fixed table (sinusoidal, binary) or nothing.
//! Source: llm.c `encoder_forward` / `encoder_backward`.

use ndarray::{ArrayView2, ArrayViewMut2};

/// x: (B·T, C) from tokens (B·T), wte: (V, C), pos: (≥T, C) or none.
pub fn embedding_forward(
    mut x: ArrayViewMut2<'_, f32>,
    tokens: &[usize],
    t_len: usize,
    wte: ArrayView2<'_, f32>,
    pos: Option<ArrayView2<'_, f32>>,
) {
    for (n, &tok) in tokens.iter().enumerate() {
        let mut row = x.row_mut(n);
        row.assign(&wte.row(tok));
        if let Some(p) = &pos {
            row += &p.row(n % t_len);
        }
    }
}

/// In the forward pass this was x\[n\] = wte\[tok\[n\]\] + wpe\[t\], so
/// dwte\[tok\[n\]\] += dx\[n\] and (for learned positions) dwpe\[t\] += dx\[n\].
pub fn embedding_backward(
    mut dwte: ArrayViewMut2<'_, f32>,
    dwpe: Option<ArrayViewMut2<'_, f32>>,
    dx: ArrayView2<'_, f32>,
    tokens: &[usize],
    t_len: usize,
) {
    for (n, &tok) in tokens.iter().enumerate() {
        let mut r = dwte.row_mut(tok);
        r += &dx.row(n);
    }
    if let Some(mut dwpe) = dwpe {
        for n in 0..tokens.len() {
            let mut r = dwpe.row_mut(n % t_len);
            r += &dx.row(n);
        }
    }
}
