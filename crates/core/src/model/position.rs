//! Fixed positional encodings (the learned one is a parameter, `wpe`).
//!
//! - Sinusoidal (Vaswani et al. 2017, §3.5): PE[p, 2i] = sin(p / base^(2i/d)),
//!   PE[p, 2i+1] = cos(p / base^(2i/d)), base = 10000.
//! - Binary: column j holds bit j of p (least significant first) as ±1 — the digital version the
//!   lecture reads the sinusoids as; columns past the bits a position needs are −1.
//!
//! The positions lesson's own tables (octave sinusoids, similarities) are in `math::positions`.

use ndarray::Array2;

/// Sinusoidal table (T, d) with the given base (10000 in the paper).
pub fn sinusoidal(t: usize, d: usize, base: f32) -> Array2<f32> {
    Array2::from_shape_fn((t, d), |(p, j)| {
        let i2 = (j - j % 2) as f64; // 2i
        let angle = p as f64 / f64::from(base).powf(i2 / d as f64);
        (if j % 2 == 0 { angle.sin() } else { angle.cos() }) as f32
    })
}

/// Binary table (T, d): bit j of p as +1 (set) or −1 (clear).
pub fn binary(t: usize, d: usize) -> Array2<f32> {
    Array2::from_shape_fn((t, d), |(p, j)| {
        if j < usize::BITS as usize && (p >> j) & 1 == 1 {
            1.0
        } else {
            -1.0
        }
    })
}
