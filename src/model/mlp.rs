//! GELU, tanh approximation (PyTorch `nn.GELU(approximate="tanh")`, as GPT-2):
//! gelu(x) = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))).
//! The MLP itself is linear (C → 4C) → GELU → linear (4C → C); its linears are in `linear.rs`.
//! Source: llm.c `gelu_forward` / `gelu_backward`.

const GELU_SCALE: f32 = 0.797_884_6; // √(2/π)

/// out = gelu(x), elementwise. x, out: (N · 4C)
pub fn gelu_forward(out: &mut [f32], x: &[f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        let cube = 0.044715 * v * v * v;
        *o = 0.5 * v * (1.0 + (GELU_SCALE * (v + cube)).tanh());
    }
}

/// In the forward pass this was out = ½ x (1 + tanh u), u = √(2/π)(x + 0.044715 x³), so
/// d out/dx = ½ (1 + tanh u) + ½ x (1 − tanh² u) · √(2/π)(1 + 3 · 0.044715 x²); dx += that · dout.
pub fn gelu_backward(dx: &mut [f32], x: &[f32], dout: &[f32]) {
    for ((d, &v), &g) in dx.iter_mut().zip(x).zip(dout) {
        let u = GELU_SCALE * (v + 0.044715 * v * v * v);
        let t = u.tanh();
        let sech2 = 1.0 - t * t;
        let local = 0.5 * (1.0 + t) + 0.5 * v * sech2 * GELU_SCALE * (1.0 + 3.0 * 0.044715 * v * v);
        *d += local * g;
    }
}
