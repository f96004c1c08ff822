//! The positions lesson's math: binary digits and their analog version (octave sinusoids), the
//! similarity r_i·r_j of position vectors, and the shuffle experiment that shows attention
//! without positions is permutation-equivariant. The model's own tables (sinusoidal, binary as
//! ±1) are `model::position`.

use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::data::Tokenizer;
use crate::model::gpt::{Activations, Gpt, gpt_forward, prompt_attention};
use crate::model::position::{binary, sinusoidal};
use crate::model::{GptConfig, NormKind, PosEncoding};

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

/// How far a similarity matrix is from depending only on i − j: max over (i, j) of
/// |m\[i\]\[j\] − m\[0\]\[|i − j|\]| (0 for a symmetric Toeplitz matrix). For sinusoids,
/// r_i·r_j = Σ_k sin(ω_k i) sin(ω_k j) + cos(ω_k i) cos(ω_k j) = Σ_k cos(ω_k (i − j)) exactly, so
/// what is left is float32 rounding.
pub fn toeplitz_deviation(m: &Array2<f32>) -> f32 {
    let mut worst = 0.0_f32;
    for ((i, j), &v) in m.indexed_iter() {
        worst = worst.max((v - m[[0, i.abs_diff(j)]]).abs());
    }
    worst
}

/// The tables at the current T, d, base.
pub struct Tables {
    /// A number that changes whenever the tables do (for the heatmaps' texture caches).
    pub version: u64,
    /// Bits needed for T positions.
    pub bits: usize,
    /// (a) binary digits as 0/1: (T, bits).
    pub binary: Array2<f32>,
    /// Binary digits as ±1 (the model's binary encoding): (T, bits).
    pub binary_pm: Array2<f32>,
    /// (b) Vaswani sinusoids: (T, d).
    pub sinusoidal: Array2<f32>,
    /// (c) octave sinusoids: (T, bits).
    pub octave: Array2<f32>,
    /// (d) (c) thresholded at 0: (T, bits), equal to (a).
    pub thresholded: Array2<f32>,
    /// r_i·r_j of (b): (T, T).
    pub sim_sinusoidal: Array2<f32>,
    /// r_i·r_j of the ±1 digits: (T, T).
    pub sim_binary: Array2<f32>,
    /// r_i·r_j of (c): (T, T).
    pub sim_octave: Array2<f32>,
}

/// Every table of the lesson for T = `ctx` positions, width d and the sinusoids' base.
pub fn tables(ctx: usize, d: usize, base: f64) -> Tables {
    let bits = bits_for(ctx);
    let sinusoidal = sinusoidal(ctx, d, base as f32);
    let binary_pm = binary(ctx, bits);
    let octave = octave(ctx, bits);
    Tables {
        version: (ctx as u64) << 40 ^ (d as u64) << 32 ^ base.to_bits().rotate_left(7),
        bits,
        binary: binary_digits(ctx, bits),
        thresholded: threshold(&octave),
        sim_sinusoidal: similarity(&sinusoidal),
        sim_binary: similarity(&binary_pm),
        sim_octave: similarity(&octave),
        binary_pm,
        sinusoidal,
        octave,
    }
}

/// The result of section 5: max |f(shuffled) − shuffled f| without and with positions.
#[derive(Debug, Clone)]
pub struct Permutation {
    /// The prompt's tokens, in order.
    pub tokens: Vec<String>,
    /// The shuffle: position i of the shuffled prompt holds token perm\[i\].
    pub perm: Vec<usize>,
    /// Without positions.
    pub max_diff_none: f32,
    /// With the chosen encoding.
    pub max_diff_with: f32,
    /// Layer-1 head-1 attention: [none original, none shuffled, with original, with shuffled].
    pub maps: [Array2<f32>; 4],
}

/// A seeded shuffle of 0…n−1 that moves something when n ≥ 2.
pub fn shuffle(n: usize, seed: u64) -> Vec<usize> {
    use rand::RngExt;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5_4FF1E);
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        perm.swap(i, j);
    }
    if n >= 2 && perm.iter().enumerate().all(|(i, &p)| i == p) {
        perm.rotate_left(1);
    }
    perm
}

/// A random encoder (no causal mask) of the bears vocabulary with the given positions.
pub fn random_encoder(vocab: usize, pos: PosEncoding, seed: u64) -> Gpt {
    let config = GptConfig {
        vocab_size: vocab,
        n_layer: 2,
        n_head: 4,
        n_embd: 32,
        block_size: 16,
        pos_encoding: pos,
        attn_scale: true,
        causal: false,
        norm: NormKind::LayerNorm,
        residual: true,
    };
    let mut gpt = Gpt::new(config, &mut StdRng::seed_from_u64(seed));
    // GPT-2's init gives positions std 0.02 like the tokens; make a learned table as large as the
    // fixed ones so that "with positions" is clearly visible.
    // Tokens and positions both at unit scale (like the sinusoidal table), so that neither drowns
    // the other after the LayerNorm.
    gpt.params.wte.mapv_inplace(|v| v * 50.0);
    if let Some(wpe) = gpt.params.wpe.as_mut() {
        wpe.mapv_inplace(|v| v * 50.0);
    }
    // At GPT-2's init every score is ≈ 0 and attention is uniform, which would hide the shuffle:
    // larger query/key weights give each head a pattern worth looking at.
    for block in &mut gpt.params.blocks {
        block.c_attn_w.mapv_inplace(|v| v * 12.0);
    }
    gpt
}

/// max over tokens and features of |f(shuffled ids)\[i\] − f(ids)\[perm\[i\]\]|, f = the final
/// normalised residual stream.
pub fn permutation_difference(gpt: &Gpt, ids: &[usize], perm: &[usize]) -> f32 {
    let shuffled: Vec<usize> = perm.iter().map(|&p| ids[p]).collect();
    let run = |ids: &[usize]| {
        let mut acts = Activations::default();
        gpt_forward(gpt, &mut acts, ids, None, 1, ids.len(), false);
        acts.lnf
    };
    let (a, b) = (run(ids), run(&shuffled));
    let mut max = 0.0_f32;
    for (i, &p) in perm.iter().enumerate() {
        for (x, y) in b.row(i).iter().zip(a.row(p).iter()) {
            max = max.max((x - y).abs());
        }
    }
    max
}

/// The shuffle experiment on `prompt` (words of `tokenizer`): a random encoder without positions
/// and one with `with`, each run on the prompt and on its shuffle.
pub fn permutation(
    tokenizer: &Tokenizer,
    prompt: &str,
    seed: u64,
    with: PosEncoding,
) -> Result<Permutation, String> {
    let ids = tokenizer.encode(prompt).map_err(|e| {
        format!(
            "not in the bears vocabulary: {}",
            e.unknown
                .iter()
                .map(|(_, w)| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    if ids.len() < 2 {
        return Err("type at least two words to shuffle".into());
    }
    let ids: Vec<usize> = ids.into_iter().take(16).collect();
    let perm = shuffle(ids.len(), seed);
    let shuffled: Vec<usize> = perm.iter().map(|&p| ids[p]).collect();
    let none = random_encoder(tokenizer.len(), PosEncoding::None, seed);
    let with = random_encoder(tokenizer.len(), with, seed);
    // Layer 1, head 1 (the encoder has 2 layers of 4 heads).
    let first = |gpt: &Gpt, ids: &[usize]| {
        let mut maps = prompt_attention(gpt, ids);
        maps.swap_remove(0).swap_remove(0)
    };
    Ok(Permutation {
        tokens: ids.iter().map(|&i| tokenizer.word(i)).collect(),
        max_diff_none: permutation_difference(&none, &ids, &perm),
        max_diff_with: permutation_difference(&with, &ids, &perm),
        maps: [
            first(&none, &ids),
            first(&none, &shuffled),
            first(&with, &ids),
            first(&with, &shuffled),
        ],
        perm,
    })
}

/// One token of the projection: word, position, e(token) and e(token) + r_p in 2-D.
pub type Projected = (String, usize, [f64; 2], [f64; 2]);

/// Project e(token) and e(token) + r_p of every prompt token on the top two principal axes of
/// all of those points together (`pca::Pca2`).
pub fn project_prompt(model: &Gpt, tokenizer: &Tokenizer, ids: &[usize]) -> Vec<Projected> {
    let (wte, Some(wpe)) = (&model.params.wte, &model.params.wpe) else {
        return Vec::new();
    };
    let ids: Vec<usize> = ids.iter().copied().take(wpe.nrows()).collect();
    let c = wte.ncols();
    let mut points = Array2::<f32>::zeros((2 * ids.len(), c));
    for (p, &id) in ids.iter().enumerate() {
        for k in 0..c {
            let e = wte[[id, k]];
            points[[2 * p, k]] = e;
            points[[2 * p + 1, k]] = e + wpe[[p, k]];
        }
    }
    let fit = super::pca::Pca2::fit(&points);
    let xy = fit.project_rows(&points);
    ids.iter()
        .enumerate()
        .map(|(p, &id)| (tokenizer.word(id), p, xy[2 * p], xy[2 * p + 1]))
        .collect()
}

/// Parameters of one pre-norm block of width c (attention 4c² + 4c, MLP 8c² + 5c, two norms 4c).
pub fn block_params(c: usize) -> usize {
    12 * c * c + 13 * c
}

#[cfg(test)]
mod tests {
    #[test]
    fn sinusoidal_similarity_depends_only_on_the_distance() {
        let t = super::tables(64, 32, 10_000.0);
        let dev = super::toeplitz_deviation(&t.sim_sinusoidal);
        // Σ_k cos(ω_k (i − j)) exactly; what is left is float32 rounding of d/2 = 16 terms.
        assert!(dev < 1e-4, "{dev}");
        // The binary table's similarity is not a function of i − j.
        assert!(super::toeplitz_deviation(&t.sim_binary) > 1.0);
    }

    use super::*;
    use crate::model::position::binary;

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
