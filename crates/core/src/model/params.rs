//! The model's parameters, listed ONCE.
//!
//! [`BlockParams`] is declared by the table in `block_params!` below: one line per tensor with
//! its field, shape (in c = C = `n_embd`) and nanoGPT name. Everything that walks the parameters —
//! the checkpoint (names and shapes), the initialisation, AdamW (which tensors decay), the
//! gradients (the same type, [`Grads`]) and the tests — iterates [`Params::tensors`] or
//! [`Params::tensors_mut`], which come from that table, so a tensor added to it is saved,
//! loaded, initialised, optimised and checked without another edit.
//!
//! Names and shapes are nanoGPT's (`model.py`), so a checkpoint loads into PyTorch: `nn.Linear`
//! stores W as (out, in), and `c_attn` stacks W_Q, W_K, W_V as rows (q, k, v).

use ndarray::{Array, Array1, Array2, Dimension};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::config::{GptConfig, PosEncoding};
use crate::engine::simd;

/// One parameter tensor, as the code that walks all of them sees it.
#[derive(Debug, Clone, Copy)]
pub struct Tensor<'a> {
    /// The block, for `transformer.h.{layer}.{name}`; none for the embeddings and `ln_f`.
    pub layer: Option<usize>,
    /// The name (below `transformer.h.{layer}.` for a block's tensors).
    pub name: &'static str,
    /// Shape, e.g. (3C, C).
    pub shape: &'a [usize],
    /// Entries in row-major order.
    pub data: &'a [f32],
    /// AdamW decays it: the 2-D weights (matrices, embeddings), not biases or norm gains.
    pub decay: bool,
}

impl Tensor<'_> {
    /// The full checkpoint name, e.g. `transformer.h.0.attn.c_attn.weight`.
    pub fn full_name(&self) -> String {
        full_name(self.layer, self.name)
    }
}

/// [`Tensor`] with its entries writable.
#[derive(Debug)]
pub struct TensorMut<'a> {
    /// See [`Tensor::layer`].
    pub layer: Option<usize>,
    /// See [`Tensor::name`].
    pub name: &'static str,
    /// Entries in row-major order.
    pub data: &'a mut [f32],
    /// See [`Tensor::decay`].
    pub decay: bool,
}

impl TensorMut<'_> {
    /// The full checkpoint name.
    pub fn full_name(&self) -> String {
        full_name(self.layer, self.name)
    }
}

fn full_name(layer: Option<usize>, name: &str) -> String {
    match layer {
        Some(i) => format!("transformer.h.{i}.{name}"),
        None => format!("transformer.{name}"),
    }
}

/// A parameter's entries in row-major order. Parameters are created only by
/// [`BlockParams::zeros`] / [`Params::zeros`] (standard layout) and then written in place, so
/// the slice always exists; a parameter replaced by a transposed copy is a programming error.
fn flat<D: Dimension>(a: &Array<f32, D>) -> &[f32] {
    a.as_slice()
        .expect("parameters are stored in standard (row-major) layout")
}

/// [`flat`], mutable.
fn flat_mut<D: Dimension>(a: &mut Array<f32, D>) -> &mut [f32] {
    a.as_slice_mut()
        .expect("parameters are stored in standard (row-major) layout")
}

/// Declares [`BlockParams`] from its table: the struct, `zeros`, `tensors` and `tensors_mut`.
macro_rules! block_params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident(width $c:ident) {
            $( $(#[$doc:meta])* $field:ident: $kind:ident [$($dim:expr),+] = $tname:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[$doc])* pub $field: $kind<f32>, )*
        }

        impl $name {
            /// How many tensors a block has.
            pub const COUNT: usize = [$($tname),*].len();

            /// All zeros, for a residual stream `width` wide.
            pub fn zeros(width: usize) -> Self {
                let $c = width;
                Self { $( $field: $kind::zeros([$($dim),+]), )* }
            }

            /// The block's tensors in checkpoint order; `layer` is the block's index.
            pub fn tensors(&self, layer: usize) -> [Tensor<'_>; Self::COUNT] {
                [$(Tensor {
                    layer: Some(layer),
                    name: $tname,
                    shape: self.$field.shape(),
                    data: flat(&self.$field),
                    decay: self.$field.ndim() == 2,
                },)*]
            }

            /// [`Self::tensors`], writable.
            pub fn tensors_mut(&mut self, layer: usize) -> [TensorMut<'_>; Self::COUNT] {
                [$(TensorMut {
                    layer: Some(layer),
                    name: $tname,
                    decay: self.$field.ndim() == 2,
                    data: flat_mut(&mut self.$field),
                },)*]
            }
        }
    };
}

block_params! {
    /// One transformer block's parameters, `transformer.h.{i}.*` in a checkpoint (pre-norm, as
    /// nanoGPT: x ← x + attn(norm₁(x)); x ← x + mlp(norm₂(x))).
    pub struct BlockParams(width c) {
        /// norm₁ gain γ: (C)
        ln_1_w: Array1 [c] = "ln_1.weight",
        /// norm₁ shift β: (C)
        ln_1_b: Array1 [c] = "ln_1.bias",
        /// [W_Q; W_K; W_V] stacked as rows: (3C, C)
        c_attn_w: Array2 [3 * c, c] = "attn.c_attn.weight",
        /// Biases of q, k, v: (3C)
        c_attn_b: Array1 [3 * c] = "attn.c_attn.bias",
        /// The mixing matrix W_O that combines the heads: (C, C)
        attn_proj_w: Array2 [c, c] = "attn.c_proj.weight",
        /// Its bias: (C)
        attn_proj_b: Array1 [c] = "attn.c_proj.bias",
        /// norm₂ gain γ: (C)
        ln_2_w: Array1 [c] = "ln_2.weight",
        /// norm₂ shift β: (C)
        ln_2_b: Array1 [c] = "ln_2.bias",
        /// MLP up-projection: (4C, C)
        c_fc_w: Array2 [4 * c, c] = "mlp.c_fc.weight",
        /// Its bias: (4C)
        c_fc_b: Array1 [4 * c] = "mlp.c_fc.bias",
        /// MLP down-projection: (C, 4C)
        mlp_proj_w: Array2 [c, 4 * c] = "mlp.c_proj.weight",
        /// Its bias: (C)
        mlp_proj_b: Array1 [c] = "mlp.c_proj.bias",
    }
}

/// All parameters. [`Grads`] is the same type: gradients mirror parameters field for field.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// `transformer.wte.weight`: (V, C), the token embedding and (tied) the LM head.
    pub wte: Array2<f32>,
    /// `transformer.wpe.weight`: (T, C), only for learned positions.
    pub wpe: Option<Array2<f32>>,
    /// `transformer.h.{i}`: L blocks.
    pub blocks: Vec<BlockParams>,
    /// `transformer.ln_f.weight`: (C)
    pub ln_f_w: Array1<f32>,
    /// `transformer.ln_f.bias`: (C)
    pub ln_f_b: Array1<f32>,
}

/// Gradients of the loss with respect to every parameter.
pub type Grads = Params;

impl Params {
    /// All zeros, shaped for `cfg`.
    pub fn zeros(cfg: &GptConfig) -> Self {
        let (v, c, t) = (cfg.vocab_size, cfg.n_embd, cfg.block_size);
        Self {
            wte: Array2::zeros((v, c)),
            wpe: (cfg.pos_encoding == PosEncoding::Learned).then(|| Array2::zeros((t, c))),
            blocks: (0..cfg.n_layer).map(|_| BlockParams::zeros(c)).collect(),
            ln_f_w: Array1::zeros(c),
            ln_f_b: Array1::zeros(c),
        }
    }

    /// nanoGPT's initialisation (`_init_weights`): 2-D weights ~ N(0, 0.02²), the two residual
    /// projections (`c_proj`) ~ N(0, (0.02/√(2L))²), biases 0, norm gains 1.
    pub fn init(cfg: &GptConfig, rng: &mut impl Rng) -> Self {
        let mut p = Self::zeros(cfg);
        let proj_std = 0.02 / (2.0 * cfg.n_layer.max(1) as f32).sqrt();
        for t in p.tensors_mut() {
            if t.name.ends_with("c_proj.weight") {
                fill_normal(t.data, proj_std, rng);
            } else if t.decay {
                fill_normal(t.data, 0.02, rng);
            } else if t.name.ends_with(".weight") {
                t.data.fill(1.0); // a norm's gain γ
            }
        }
        p
    }

    /// Every tensor with its name and shape, in checkpoint order, without allocating.
    pub fn tensors(&self) -> impl Iterator<Item = Tensor<'_>> {
        fn top<'a, D: Dimension>(name: &'static str, a: &'a Array<f32, D>) -> Tensor<'a> {
            Tensor {
                layer: None,
                name,
                shape: a.shape(),
                data: flat(a),
                decay: a.ndim() == 2,
            }
        }
        std::iter::once(top("wte.weight", &self.wte))
            .chain(self.wpe.iter().map(move |w| top("wpe.weight", w)))
            .chain(
                self.blocks
                    .iter()
                    .enumerate()
                    .flat_map(|(i, b)| b.tensors(i)),
            )
            .chain([
                top("ln_f.weight", &self.ln_f_w),
                top("ln_f.bias", &self.ln_f_b),
            ])
    }

    /// [`Params::tensors`], writable (same order).
    pub fn tensors_mut(&mut self) -> impl Iterator<Item = TensorMut<'_>> {
        let Self {
            wte,
            wpe,
            blocks,
            ln_f_w,
            ln_f_b,
        } = self;
        let top = |name, decay, data| TensorMut {
            layer: None,
            name,
            data,
            decay,
        };
        std::iter::once(top("wte.weight", true, flat_mut(wte)))
            .chain(
                wpe.iter_mut()
                    .map(move |w| top("wpe.weight", true, flat_mut(w))),
            )
            .chain(
                blocks
                    .iter_mut()
                    .enumerate()
                    .flat_map(|(i, b)| b.tensors_mut(i)),
            )
            .chain([
                top("ln_f.weight", false, flat_mut(ln_f_w)),
                top("ln_f.bias", false, flat_mut(ln_f_b)),
            ])
    }

    /// Number of scalars.
    pub fn count(&self) -> usize {
        self.tensors().map(|t| t.data.len()).sum()
    }

    /// Copy every entry from `other` (same shapes) without allocating.
    pub fn copy_from(&mut self, other: &Params) {
        for (dst, src) in self.tensors_mut().zip(other.tensors()) {
            dst.data.copy_from_slice(src.data);
        }
    }

    /// Set every entry to zero.
    pub fn zero(&mut self) {
        for t in self.tensors_mut() {
            t.data.fill(0.0);
        }
    }

    /// Are all entries finite?
    pub fn all_finite(&self) -> bool {
        self.tensors().all(|t| t.data.iter().all(|v| v.is_finite()))
    }

    /// The Euclidean norm of each block's tensors together, first block first (for gradients:
    /// how much signal reaches each layer's weights).
    pub fn block_norms_into(&self, out: &mut Vec<f32>) {
        let sums: Vec<f64> = self.tensors().map(|t| simd::sum_squares(t.data)).collect();
        self.block_norms_from(&sums, out);
    }

    /// [`Params::block_norms_into`] from each tensor's Σ x² in the order of [`Params::tensors`]
    /// (`optim::Gradient::tensor_sums_into`, which the training step's global norm takes too), so
    /// that the gradients are not read again.
    pub fn block_norms_from(&self, tensor_sums: &[f64], out: &mut Vec<f32>) {
        out.clear();
        out.extend((0..self.blocks.len()).map(|l| {
            let sum: f64 = self
                .tensors()
                .zip(tensor_sums)
                .filter(|(t, _)| t.layer == Some(l))
                .map(|(_, s)| s)
                .sum();
            sum.sqrt() as f32
        }));
    }

    /// The largest |entry| (NaN if any entry is NaN).
    pub fn max_abs(&self) -> f32 {
        self.tensors()
            .map(|t| simd::max_abs(t.data))
            .fold(0.0_f32, |m, v| {
                if v.is_nan() || m.is_nan() {
                    f32::NAN
                } else {
                    m.max(v)
                }
            })
    }
}

/// Fill with N(0, std²) samples.
pub fn fill_normal(x: &mut [f32], std: f32, rng: &mut impl Rng) {
    for v in x {
        let z: f32 = rng.sample(StandardNormal);
        *v = z * std;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn the_table_names_shapes_and_decays_every_tensor_once() {
        let cfg = GptConfig {
            vocab_size: 7,
            n_layer: 2,
            n_embd: 8,
            n_head: 2,
            block_size: 5,
            ..GptConfig::default()
        };
        let p = Params::zeros(&cfg);
        let names: Vec<String> = p.tensors().map(|t| t.full_name()).collect();
        assert_eq!(names.len(), 2 + 2 * BlockParams::COUNT + 2);
        assert_eq!(names[0], "transformer.wte.weight");
        assert_eq!(names[2], "transformer.h.0.ln_1.weight");
        assert_eq!(names[4], "transformer.h.0.attn.c_attn.weight");
        assert_eq!(
            names.last().map(String::as_str),
            Some("transformer.ln_f.bias")
        );
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for t in p.tensors() {
            assert_eq!(
                t.data.len(),
                t.shape.iter().product::<usize>(),
                "{}",
                t.full_name()
            );
            assert_eq!(t.decay, t.shape.len() == 2, "{}", t.full_name());
        }
        let mutable: Vec<String> = Params::zeros(&cfg)
            .tensors_mut()
            .map(|t| t.full_name())
            .collect();
        assert_eq!(mutable, names);
        // c_attn (3C, C), mlp.c_proj (C, 4C).
        let b = &p.blocks[0];
        assert_eq!(b.c_attn_w.dim(), (24, 8));
        assert_eq!(b.mlp_proj_w.dim(), (8, 32));
    }

    #[test]
    fn init_follows_nanogpt() {
        let cfg = GptConfig {
            n_layer: 2,
            ..GptConfig::default()
        };
        let p = Params::init(&cfg, &mut StdRng::seed_from_u64(0));
        let std = |a: &[f32]| {
            let n = a.len() as f64;
            (a.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n).sqrt()
        };
        assert!((std(flat(&p.wte)) - 0.02).abs() < 0.002);
        assert!((std(flat(&p.blocks[0].attn_proj_w)) - 0.01).abs() < 0.001);
        assert!(p.blocks[1].ln_2_w.iter().all(|&v| v == 1.0));
        assert!(p.blocks[1].c_fc_b.iter().all(|&v| v == 0.0));
        assert!(p.ln_f_w.iter().all(|&v| v == 1.0));
    }
}
