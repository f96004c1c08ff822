//! Normalisation layers, each a `*_forward` / `*_backward` pair.
//!
//! - LayerNorm (Ba et al. 2016): y = (x − μ) / √(σ² + ε) · γ + β, statistics over the C features
//!   of each row. Source: llm.c `layernorm_forward` / `layernorm_backward`, PyTorch `nn.LayerNorm`.
//! - RMSNorm (Zhang & Sennrich 2019): y = x / √(mean(x²) + ε) · γ + β (β kept so every norm has the
//!   same checkpoint tensors; it starts at 0).
//! - BatchNorm (Ioffe & Szegedy 2015): the same as LayerNorm "transposed": statistics of each
//!   feature over the N = B·T rows. Training uses the batch's statistics and updates running
//!   averages (momentum 0.1, unbiased variance, as PyTorch); inference uses the running averages.
//!
//! Legend: N = rows (batch · time), C = features. ε = 1e-5, biased variance in the statistics.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};

use super::config::NormKind;
use crate::engine::simd::{self, multiversion, on_rows as on_slice, rows};

/// ε of every norm (PyTorch's default).
pub const EPS: f32 = 1e-5;
/// Running-average momentum of BatchNorm (PyTorch's default).
pub const BN_MOMENTUM: f32 = 0.1;

/// What the backward pass needs from a norm's forward pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NormCache {
    /// Per-row (LayerNorm) or per-feature (BatchNorm) mean; empty for RMSNorm.
    pub mean: Vec<f32>,
    /// Per-row or per-feature 1/√(σ² + ε) (RMSNorm: 1/√(mean(x²) + ε)).
    pub rstd: Vec<f32>,
}

/// The norm `kind` forward: LayerNorm, RMSNorm, BatchNorm (with its running statistics, which
/// train mode updates) or the identity. x: (N, C), w, b: (C) → out: (N, C).
#[allow(clippy::too_many_arguments)]
pub fn norm_forward(
    kind: NormKind,
    mut out: ArrayViewMut2<'_, f32>,
    x: ArrayView2<'_, f32>,
    w: ArrayView1<'_, f32>,
    b: ArrayView1<'_, f32>,
    cache: &mut NormCache,
    running: &mut BnRunning,
    train: bool,
) {
    match kind {
        NormKind::LayerNorm => layernorm_forward(out, x, w, b, cache),
        NormKind::RmsNorm => rmsnorm_forward(out, x, w, b, cache),
        NormKind::BatchNorm => batchnorm_forward(out, x, w, b, cache, running, train),
        NormKind::None => out.assign(&x),
    }
}

/// The backward pass of [`norm_forward`]: dx, dw, db accumulate (`+=`).
#[allow(clippy::too_many_arguments)]
pub fn norm_backward(
    kind: NormKind,
    mut dx: ArrayViewMut2<'_, f32>,
    dw: ArrayViewMut1<'_, f32>,
    db: ArrayViewMut1<'_, f32>,
    dout: ArrayView2<'_, f32>,
    x: ArrayView2<'_, f32>,
    w: ArrayView1<'_, f32>,
    cache: &NormCache,
    train: bool,
) {
    match kind {
        NormKind::LayerNorm => layernorm_backward(dx, dw, db, dout, x, w, cache),
        NormKind::RmsNorm => rmsnorm_backward(dx, dw, db, dout, x, w, cache),
        NormKind::BatchNorm => batchnorm_backward(dx, dw, db, dout, x, w, cache, train),
        // In the forward pass this was out = x, so dx += dout.
        NormKind::None => dx += &dout,
    }
}

/// Make `v` hold n entries (allocating only when it never held that many).
pub(crate) fn resize(v: &mut Vec<f32>, n: usize) {
    v.resize(n, 0.0);
}

/// LayerNorm forward. x: (N, C), w, b: (C) → out: (N, C); cache mean, rstd: (N).
pub fn layernorm_forward(
    mut out: ArrayViewMut2<'_, f32>,
    x: ArrayView2<'_, f32>,
    w: ArrayView1<'_, f32>,
    b: ArrayView1<'_, f32>,
    cache: &mut NormCache,
) {
    let n = x.nrows();
    resize(&mut cache.mean, n);
    resize(&mut cache.rstd, n);
    let (x, w, b) = (rows(&x), rows(&w), rows(&b));
    let (mean, rstd) = (&mut cache.mean, &mut cache.rstd);
    on_slice(&mut out, |out| norm_rows(out, &x, &w, &b, Some(mean), rstd));
}

multiversion! {
    /// The rows of LayerNorm (`mean` given: centred) or RMSNorm (no `mean`: μ = 0, and σ² is
    /// then mean(x²)) forward on contiguous (N, C) data.
    pub(crate) fn norm_rows(
        out: &mut [f32],
        x: &[f32],
        w: &[f32],
        b: &[f32],
        mean: Option<&mut [f32]>,
        rstd: &mut [f32],
    ) {
        let c = w.len();
        if c == 0 {
            return;
        }
        let centred = mean.is_some();
        let mut means = mean.map(|m| m.iter_mut());
        for ((o, row), r) in out.chunks_exact_mut(c).zip(x.chunks_exact(c)).zip(rstd.iter_mut()) {
            let mu = if centred { simd::sum(row) / c as f32 } else { 0.0 };
            let var = simd::sum_map(row, |v| (v - mu) * (v - mu)) / c as f32;
            let rs = 1.0 / (var + EPS).sqrt();
            for (((o, &xi), &wi), &bi) in o.iter_mut().zip(row).zip(w).zip(b) {
                *o = (xi - mu) * rs * wi + bi;
            }
            if let Some(m) = means.as_mut().and_then(|m| m.next()) {
                *m = mu;
            }
            *r = rs;
        }
    }
}

/// In the forward pass this was `out = norm · w + b` with `norm = (x − mean) · rstd`, so now:
/// db += Σ dout, dw += Σ norm · dout, and with dnorm = w · dout:
/// dx += rstd · (dnorm − mean(dnorm) − norm · mean(dnorm · norm)).
/// dout, x: (N, C); w: (C) → dx: (N, C), dw, db: (C).
pub fn layernorm_backward(
    dx: ArrayViewMut2<'_, f32>,
    dw: ArrayViewMut1<'_, f32>,
    db: ArrayViewMut1<'_, f32>,
    dout: ArrayView2<'_, f32>,
    x: ArrayView2<'_, f32>,
    w: ArrayView1<'_, f32>,
    cache: &NormCache,
) {
    rows_backward(dx, dw, db, dout, x, w, Some(&cache.mean), &cache.rstd);
}

/// LayerNorm's (`mean` given) or RMSNorm's (no `mean`) backward on views: the rows as slices.
#[allow(clippy::too_many_arguments)]
fn rows_backward(
    mut dx: ArrayViewMut2<'_, f32>,
    mut dw: ArrayViewMut1<'_, f32>,
    mut db: ArrayViewMut1<'_, f32>,
    dout: ArrayView2<'_, f32>,
    x: ArrayView2<'_, f32>,
    w: ArrayView1<'_, f32>,
    mean: Option<&[f32]>,
    rstd: &[f32],
) {
    let (dout, x, w) = (rows(&dout), rows(&x), rows(&w));
    on_slice(&mut dx, |dx| {
        on_slice(&mut dw, |dw| {
            on_slice(&mut db, |db| {
                let grads = NormGrads { dx, dw, db };
                norm_backward_rows(grads, &dout, &x, &w, mean, rstd);
            })
        })
    });
}

/// The gradients a norm's backward pass accumulates into.
struct NormGrads<'a> {
    dx: &'a mut [f32],
    dw: &'a mut [f32],
    db: &'a mut [f32],
}

multiversion! {
    /// The rows of LayerNorm (`mean` given) or RMSNorm (no `mean`: μ = 0 and no mean(dnorm)
    /// term) backward on contiguous (N, C) data.
    fn norm_backward_rows(
        g: NormGrads<'_>,
        dout: &[f32],
        x: &[f32],
        w: &[f32],
        mean: Option<&[f32]>,
        rstd: &[f32],
    ) {
        let c = w.len();
        if c == 0 {
            return;
        }
        let NormGrads { dx, dw, db } = g;
        for (i, (((dxrow, xrow), drow), &rs)) in dx
            .chunks_exact_mut(c)
            .zip(x.chunks_exact(c))
            .zip(dout.chunks_exact(c))
            .zip(rstd)
            .enumerate()
        {
            let mu = mean.and_then(|m| m.get(i).copied()).unwrap_or(0.0);
            // Σ w·d and Σ (w·d)·((x − μ)·r) over the row, in one pass.
            let (dnorm_sum, dnorm_norm_sum) = simd::norm_sums(xrow, drow, w, mu, rs);
            let dnorm_mean = if mean.is_some() { dnorm_sum / c as f32 } else { 0.0 };
            let dnorm_norm_mean = dnorm_norm_sum / c as f32;
            for (((((dxj, &xj), &dj), &wj), dwj), dbj) in dxrow
                .iter_mut()
                .zip(xrow)
                .zip(drow)
                .zip(w)
                .zip(dw.iter_mut())
                .zip(db.iter_mut())
            {
                let norm = (xj - mu) * rs;
                let dnorm = wj * dj;
                *dbj += dj;
                *dwj += norm * dj;
                *dxj += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * rs;
            }
        }
    }
}

/// RMSNorm forward. x: (N, C), w, b: (C) → out: (N, C); cache rstd: (N).
pub fn rmsnorm_forward(
    mut out: ArrayViewMut2<'_, f32>,
    x: ArrayView2<'_, f32>,
    w: ArrayView1<'_, f32>,
    b: ArrayView1<'_, f32>,
    cache: &mut NormCache,
) {
    resize(&mut cache.rstd, x.nrows());
    let (x, w, b) = (rows(&x), rows(&w), rows(&b));
    let rstd = &mut cache.rstd;
    on_slice(&mut out, |out| norm_rows(out, &x, &w, &b, None, rstd));
}

/// In the forward pass this was `out = x · r · w + b` with r = 1/√(mean(x²) + ε), so now with
/// norm = x · r and dnorm = w · dout: dx += r · (dnorm − norm · mean(dnorm · norm)).
pub fn rmsnorm_backward(
    dx: ArrayViewMut2<'_, f32>,
    dw: ArrayViewMut1<'_, f32>,
    db: ArrayViewMut1<'_, f32>,
    dout: ArrayView2<'_, f32>,
    x: ArrayView2<'_, f32>,
    w: ArrayView1<'_, f32>,
    cache: &NormCache,
) {
    rows_backward(dx, dw, db, dout, x, w, None, &cache.rstd);
}

/// BatchNorm's running statistics (per feature), used at inference.
#[derive(Debug, PartialEq)]
pub struct BnRunning {
    /// Running mean (C), starts at 0.
    pub mean: Vec<f32>,
    /// Running unbiased variance (C), starts at 1.
    pub var: Vec<f32>,
}

impl Clone for BnRunning {
    fn clone(&self) -> Self {
        Self {
            mean: self.mean.clone(),
            var: self.var.clone(),
        }
    }

    /// Reuses the buffers (the trainer copies the statistics every step).
    fn clone_from(&mut self, source: &Self) {
        self.mean.clone_from(&source.mean);
        self.var.clone_from(&source.var);
    }
}

impl BnRunning {
    /// Fresh statistics for `c` features.
    pub fn new(c: usize) -> Self {
        Self {
            mean: vec![0.0; c],
            var: vec![1.0; c],
        }
    }
}

/// BatchNorm forward. x: (N, C), w, b: (C) → out: (N, C); cache mean, rstd: (C).
/// `train`: use the batch's statistics and update `running`; otherwise use `running`.
pub fn batchnorm_forward(
    mut out: ArrayViewMut2<'_, f32>,
    x: ArrayView2<'_, f32>,
    w: ArrayView1<'_, f32>,
    b: ArrayView1<'_, f32>,
    cache: &mut NormCache,
    running: &mut BnRunning,
    train: bool,
) {
    let (n, c) = x.dim();
    resize(&mut cache.mean, c);
    resize(&mut cache.rstd, c);
    let NormCache { mean, rstd } = cache;
    if train && n > 0 {
        // Mean and biased variance of each feature over the N rows, into the cache's buffers
        // (two passes; no allocation per step). `rstd` holds Σ (x − μ)² until the end.
        mean.fill(0.0);
        for row in x.outer_iter() {
            for (m, &xi) in mean.iter_mut().zip(row) {
                *m += xi;
            }
        }
        for m in mean.iter_mut() {
            *m /= n as f32;
        }
        rstd.fill(0.0);
        for row in x.outer_iter() {
            for ((s, &xi), &m) in rstd.iter_mut().zip(row).zip(mean.iter()) {
                *s += (xi - m) * (xi - m);
            }
        }
        // Running statistics keep the unbiased variance, as PyTorch does.
        let unbias = if n > 1 {
            n as f32 / (n - 1) as f32
        } else {
            1.0
        };
        for (r, &m) in running.mean.iter_mut().zip(mean.iter()) {
            *r = *r * (1.0 - BN_MOMENTUM) + m * BN_MOMENTUM;
        }
        for (r, s) in running.var.iter_mut().zip(rstd.iter_mut()) {
            let var = *s / n as f32;
            *r = *r * (1.0 - BN_MOMENTUM) + var * unbias * BN_MOMENTUM;
            *s = 1.0 / (var + EPS).sqrt();
        }
    } else {
        for (m, &r) in mean.iter_mut().zip(running.mean.iter()) {
            *m = r;
        }
        for (s, &v) in rstd.iter_mut().zip(running.var.iter()) {
            *s = 1.0 / (v + EPS).sqrt();
        }
    }
    for (mut orow, xrow) in out.outer_iter_mut().zip(x.outer_iter()) {
        Zip::from(&mut orow)
            .and(&xrow)
            .and(&w)
            .and(&b)
            .and(&ArrayView1::from(&mean[..]))
            .and(&ArrayView1::from(&rstd[..]))
            .for_each(|o, &xi, &wi, &bi, &m, &r| *o = (xi - m) * r * wi + bi);
    }
}

/// In the forward pass (train) this was LayerNorm transposed: statistics over the N rows of each
/// feature, so now dx += rstd · (dnorm − mean_rows(dnorm) − norm · mean_rows(dnorm · norm)).
/// In eval mode the statistics are constants: dx += rstd · dnorm.
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_backward(
    mut dx: ArrayViewMut2<'_, f32>,
    mut dw: ArrayViewMut1<'_, f32>,
    mut db: ArrayViewMut1<'_, f32>,
    dout: ArrayView2<'_, f32>,
    x: ArrayView2<'_, f32>,
    w: ArrayView1<'_, f32>,
    cache: &NormCache,
    train: bool,
) {
    let (n, c) = x.dim();
    // Feature by feature (a column at a time), so no per-feature scratch is allocated.
    for j in 0..c {
        let (m, r, wj) = (cache.mean[j], cache.rstd[j], w[j]);
        let (mut dnorm_mean, mut dnorm_norm_mean) = (0.0_f32, 0.0_f32);
        for i in 0..n {
            let norm = (x[[i, j]] - m) * r;
            let d = dout[[i, j]];
            dnorm_mean += wj * d;
            dnorm_norm_mean += wj * d * norm;
            db[j] += d;
            dw[j] += norm * d;
        }
        dnorm_mean /= n.max(1) as f32;
        dnorm_norm_mean /= n.max(1) as f32;
        for i in 0..n {
            let dnorm = wj * dout[[i, j]];
            dx[[i, j]] += if train {
                let norm = (x[[i, j]] - m) * r;
                (dnorm - dnorm_mean - norm * dnorm_norm_mean) * r
            } else {
                dnorm * r
            };
        }
    }
}
