//! The speed engine: what makes the textbook model (`model/`) fast, behind the small
//! interface its layers call. Nothing here changes a result's meaning; every fast path is
//! tested against a plain one.
//!
//! - [`gemm`]: the matrix product C ← α·A·B + β·C under every linear layer and attention head
//!   (AVX2/FMA kernels chosen at run time, a portable fallback elsewhere, the browser included).
//!   The layers call [`gemm::gemm`], [`gemm::gemm_structured`] and [`gemm::gemm_bias`].
//! - [`peak`]: the cores' FMA throughput on registers alone, the ceiling `bench` measures
//!   each training step against.
//! - [`reference`]: the naive triple loop the kernels are checked against.
//! - [`simd`]: the `multiversion!` macro that compiles a plain elementwise loop a second time
//!   for AVX2 (the layers mark their loops with it; the loop bodies stay ordinary Rust), and the
//!   vector-friendly sums, dot products and `exp` those loops use.
//! - [`pool`]: one thread pool for the process (rayon), used by the data-parallel training step
//!   (`train::data_parallel`) and by the inference forward pass (`inference`).
//! - [`subnormal`]: training flushes subnormal floats to zero (x86's FTZ/DAZ), which keeps a
//!   deep stack without skips or norms (residuals §3) from running 6× slower.
//! - [`gemm::PackedB`]: a weight packed once for many products (inference packs every Wᵀ once;
//!   `inference::Prepared`).
//!
//! Where the time goes (2026-12-02, `perf record -e cpu-clock` of `attention-lab bench --only
//! large` on the 2-core machine, training steps and forward passes; share of samples): the
//! product's kernel 81.2 % and its packing 3.6 %; softmax rows 2.4 %; GELU 2.4 % forward and
//! 1.0 % backward; LayerNorm 0.7 % forward and 0.6 % backward; adding the shards' gradients
//! 0.6 %; AdamW 0.5 %; the rest below 0.5 % each. PyTorch 2.15 (SDPA attention, MKL and oneDNN
//! on AVX-512) was 1.5–1.9× faster per large training step in the same hour (README): the lever
//! is the kernel (AVX-512 where the CPU has it), not the elementwise passes.
//!
//! To make the model faster, change this folder; the textbook in `model/` stays as it reads.

pub mod gemm;
pub mod peak;
pub mod pool;
pub mod reference;
pub mod simd;
pub mod subnormal;
