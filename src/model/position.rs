//! Fixed positional encodings (the learned one is a parameter, `wpe`).
//!
//! - Sinusoidal (Vaswani et al. 2017, §3.5): PE[p, 2i] = sin(p / base^(2i/d)),
//!   PE[p, 2i+1] = cos(p / base^(2i/d)), base = 10000.
//! - Binary: column j holds bit j of p (least significant first) as ±1 — the digital version the
//!   lecture reads the sinusoids as; columns past the bits a position needs are −1.

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

/// Bits needed to write positions 0…t−1 in binary (at least 1).
pub fn bits_for(t: usize) -> usize {
    (usize::BITS - t.saturating_sub(1).leading_zeros()).max(1) as usize
}

/// Binary digits (T, bits) as 0/1: column j = bit j of p, least significant first.
pub fn binary_digits(t: usize, bits: usize) -> Array2<f32> {
    Array2::from_shape_fn((t, bits), |(p, j)| {
        if j < usize::BITS as usize && (p >> j) & 1 == 1 {
            1.0
        } else {
            0.0
        }
    })
}

/// "Octave" sinusoids (T, bits): column j = −sin(π (p + ½) / 2^j), period 2^(j+1) — each column
/// an octave lower than the one before. It is positive exactly where bit j of p is 1, so
/// thresholding it at 0 gives back the binary digits (and it is never 0 at an integer p).
pub fn octave(t: usize, bits: usize) -> Array2<f32> {
    Array2::from_shape_fn((t, bits), |(p, j)| {
        let period_half = 2f64.powi(j as i32);
        (-(std::f64::consts::PI * (p as f64 + 0.5) / period_half).sin()) as f32
    })
}

/// 1 where x > 0, else 0.
pub fn threshold(x: &Array2<f32>) -> Array2<f32> {
    x.mapv(|v| if v > 0.0 { 1.0 } else { 0.0 })
}

/// Similarity r_i · r_j of every pair of rows. table: (T, d) → (T, T)
pub fn similarity(table: &Array2<f32>) -> Array2<f32> {
    table.dot(&table.t())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_cover_the_positions() {
        assert_eq!(bits_for(1), 1);
        assert_eq!(bits_for(2), 1);
        assert_eq!(bits_for(3), 2);
        assert_eq!(bits_for(64), 6);
        assert_eq!(bits_for(65), 7);
    }

    #[test]
    fn thresholded_octaves_are_the_binary_digits() {
        for bits in 1..=10 {
            let t = 1 << bits;
            assert_eq!(
                threshold(&octave(t, bits)),
                binary_digits(t, bits),
                "{bits} bits"
            );
        }
    }

    #[test]
    fn binary_similarity_is_bits_minus_twice_hamming() {
        let b = binary(16, 4);
        let s = similarity(&b);
        for i in 0..16usize {
            for j in 0..16usize {
                let hamming = (i ^ j).count_ones() as f32;
                assert_eq!(s[[i, j]], 4.0 - 2.0 * hamming);
            }
        }
    }
}
