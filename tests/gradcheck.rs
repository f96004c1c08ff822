//! Every backward pass against central finite differences (llm.c's `layernorm.py` pattern: a fake
//! loss L = Σ out ⊙ dout with a fixed dout, so dL/dout = dout). The check is per tensor:
//! ‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖) ≤ 1e-3, the loss summed in f64.
//! The whole model, for every switch combination, is checked in `reference_f64.rs` against
//! finite differences of an independent float64 forward pass.

use attention_lab::model::attention::{
    AttentionCache, AttentionDims, attention_backward, attention_forward,
};
use attention_lab::model::linear::{linear_backward, linear_backward_through, linear_forward};
use attention_lab::model::loss::{crossentropy_backward, crossentropy_forward};
use attention_lab::model::mlp::{gelu_backward, gelu_forward, gelu_slope_rows};
use attention_lab::model::norm::{
    BnRunning, NormCache, batchnorm_backward, batchnorm_forward, layernorm_backward,
    layernorm_forward, rmsnorm_backward, rmsnorm_forward,
};
use attention_lab::model::residual::residual_backward;
use ndarray::{Array1, Array2, ArrayView1, ArrayViewMut1};

const EPS: f32 = 1e-2;
const TOL: f64 = 1e-3;

fn det(rows: usize, cols: usize, a: f32, b: f32) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(r, c)| (a * (r * cols + c) as f32 + b).sin())
}

fn dot(a: &Array2<f32>, b: &Array2<f32>) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

fn rel_error(analytic: &[f32], numeric: &[f64]) -> f64 {
    let diff: f64 = analytic
        .iter()
        .zip(numeric)
        .map(|(a, n)| (f64::from(*a) - n).powi(2))
        .sum::<f64>()
        .sqrt();
    let na = analytic
        .iter()
        .map(|a| f64::from(*a).powi(2))
        .sum::<f64>()
        .sqrt();
    let nn = numeric.iter().map(|n| n * n).sum::<f64>().sqrt();
    diff / na.max(nn).max(1e-12)
}

/// Central differences of `loss` with respect to every entry of `x` (restored afterwards).
fn numeric_grad(x: &mut [f32], mut loss: impl FnMut(&[f32]) -> f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let orig = x[i];
            x[i] = orig + EPS;
            let plus = loss(x);
            x[i] = orig - EPS;
            let minus = loss(x);
            x[i] = orig;
            (plus - minus) / (2.0 * f64::from(EPS))
        })
        .collect()
}

fn assert_grad(name: &str, analytic: &[f32], numeric: &[f64]) {
    let e = rel_error(analytic, numeric);
    assert!(
        e <= TOL,
        "{name}: relative error {e:.2e} > {TOL:.0e}\nanalytic {analytic:?}\nnumeric {numeric:?}"
    );
}

fn flat(a: &Array2<f32>) -> Vec<f32> {
    a.iter().copied().collect()
}

#[test]
fn linear_backward_matches_finite_differences() {
    let (inp, w, b) = (
        det(4, 3, 0.7, 0.1),
        det(5, 3, 0.3, 0.5),
        Array1::from_shape_fn(5, |i| 0.1 * i as f32),
    );
    let dout = det(4, 5, 1.3, 0.2);
    let fwd = |inp: &Array2<f32>, w: &Array2<f32>, b: &Array1<f32>| {
        let mut out = Array2::zeros((4, 5));
        linear_forward(out.view_mut(), inp.view(), w.view(), Some(b.view()));
        dot(&out, &dout)
    };
    // dinp is written (NaN before, so an entry left alone fails); dW and db accumulate onto
    // what they held (ones before, subtracted below).
    let (mut dinp, mut dw, mut db) = (
        Array2::from_elem((4, 3), f32::NAN),
        Array2::ones((5, 3)),
        Array1::ones(5),
    );
    linear_backward(
        Some(dinp.view_mut()),
        dw.view_mut(),
        Some(db.view_mut()),
        dout.view(),
        inp.view(),
        w.view(),
    );
    let mut x = flat(&inp);
    let n = numeric_grad(&mut x, |x| {
        fwd(
            &Array2::from_shape_vec((4, 3), x.to_vec()).unwrap_or_default(),
            &w,
            &b,
        )
    });
    assert_grad("dinp", &flat(&dinp), &n);
    let mut x = flat(&w);
    let n = numeric_grad(&mut x, |x| {
        fwd(
            &inp,
            &Array2::from_shape_vec((5, 3), x.to_vec()).unwrap_or_default(),
            &b,
        )
    });
    assert_grad("dw", &flat(&(dw - 1.0)), &n);
    let mut x = b.to_vec();
    let n = numeric_grad(&mut x, |x| fwd(&inp, &w, &Array1::from(x.to_vec())));
    assert_grad("db", &(db - 1.0).to_vec(), &n);
}

#[derive(Clone, Copy, Debug)]
enum Norm {
    Layer,
    Rms,
    BatchTrain,
    BatchEval,
}

fn norm_fwd(
    kind: Norm,
    x: &Array2<f32>,
    w: &Array1<f32>,
    b: &Array1<f32>,
    cache: &mut NormCache,
) -> Array2<f32> {
    let mut out = Array2::zeros(x.dim());
    let mut running = BnRunning {
        mean: vec![0.2; x.ncols()],
        var: vec![1.7; x.ncols()],
    };
    match kind {
        Norm::Layer => layernorm_forward(out.view_mut(), x.view(), w.view(), b.view(), cache),
        Norm::Rms => rmsnorm_forward(out.view_mut(), x.view(), w.view(), b.view(), cache),
        Norm::BatchTrain => batchnorm_forward(
            out.view_mut(),
            x.view(),
            w.view(),
            b.view(),
            cache,
            &mut running,
            true,
        ),
        Norm::BatchEval => batchnorm_forward(
            out.view_mut(),
            x.view(),
            w.view(),
            b.view(),
            cache,
            &mut running,
            false,
        ),
    }
    out
}

#[test]
fn norm_backwards_match_finite_differences() {
    for kind in [Norm::Layer, Norm::Rms, Norm::BatchTrain, Norm::BatchEval] {
        let x = det(5, 6, 0.9, 0.3) * 2.0 + 0.5;
        let w = Array1::from_shape_fn(6, |i| 1.0 + 0.2 * i as f32);
        let b = Array1::from_shape_fn(6, |i| 0.1 * i as f32);
        let dout = det(5, 6, 1.7, 0.4);
        let mut cache = NormCache::default();
        norm_fwd(kind, &x, &w, &b, &mut cache);
        let (mut dx, mut dw, mut db) = (Array2::zeros((5, 6)), Array1::zeros(6), Array1::zeros(6));
        let (dxv, dwv, dbv, doutv, xv, wv) = (
            dx.view_mut(),
            dw.view_mut(),
            db.view_mut(),
            dout.view(),
            x.view(),
            w.view(),
        );
        match kind {
            Norm::Layer => layernorm_backward(dxv, dwv, dbv, doutv, xv, wv, &cache),
            Norm::Rms => rmsnorm_backward(dxv, dwv, dbv, doutv, xv, wv, &cache),
            Norm::BatchTrain => batchnorm_backward(dxv, dwv, dbv, doutv, xv, wv, &cache, true),
            Norm::BatchEval => batchnorm_backward(dxv, dwv, dbv, doutv, xv, wv, &cache, false),
        }
        let loss = |x: &Array2<f32>, w: &Array1<f32>, b: &Array1<f32>| {
            dot(&norm_fwd(kind, x, w, b, &mut NormCache::default()), &dout)
        };
        let mut xs = flat(&x);
        let n = numeric_grad(&mut xs, |xs| {
            loss(
                &Array2::from_shape_vec((5, 6), xs.to_vec()).unwrap_or_default(),
                &w,
                &b,
            )
        });
        assert_grad(&format!("{kind:?} dx"), &flat(&dx), &n);
        let mut ws = w.to_vec();
        let n = numeric_grad(&mut ws, |ws| loss(&x, &Array1::from(ws.to_vec()), &b));
        assert_grad(&format!("{kind:?} dw"), &dw.to_vec(), &n);
        let mut bs = b.to_vec();
        let n = numeric_grad(&mut bs, |bs| loss(&x, &w, &Array1::from(bs.to_vec())));
        assert_grad(&format!("{kind:?} db"), &db.to_vec(), &n);
    }
}

#[test]
fn attention_backward_matches_finite_differences() {
    for (scale, causal) in [(true, true), (true, false), (false, true), (false, false)] {
        let dims = AttentionDims {
            b: 2,
            t: 4,
            h: 2,
            scale,
            causal,
        };
        let qkv = det(8, 12, 0.77, 0.2) * 1.5;
        let dout = det(8, 4, 1.1, 0.6);
        let fwd = |qkv: &Array2<f32>, cache: &mut AttentionCache| {
            let mut out = Array2::zeros((8, 4));
            attention_forward(out.view_mut(), qkv.view(), dims, cache);
            out
        };
        let mut cache = AttentionCache::default();
        fwd(&qkv, &mut cache);
        // Written, not accumulated: NaN before, so an entry left alone fails.
        let mut dqkv = Array2::from_elem((8, 12), f32::NAN);
        attention_backward(
            dqkv.view_mut(),
            dout.view(),
            qkv.view(),
            dims,
            &cache,
            &mut Array2::zeros((0, 0)),
        );
        let mut xs = flat(&qkv);
        let n = numeric_grad(&mut xs, |xs| {
            let q = Array2::from_shape_vec((8, 12), xs.to_vec()).unwrap_or_default();
            dot(&fwd(&q, &mut AttentionCache::default()), &dout)
        });
        assert_grad(
            &format!("attention scale={scale} causal={causal}"),
            &flat(&dqkv),
            &n,
        );
    }
}

#[test]
fn softmax_backward_matches_finite_differences() {
    use attention_lab::model::softmax::{softmax, softmax_backward};
    for scale in [1.0_f32, 4.0] {
        let x: Vec<f32> = (0..7)
            .map(|i| scale * (0.9 * i as f32 + 0.2).sin())
            .collect();
        let dp: Vec<f32> = (0..7).map(|i| (1.3 * i as f32).cos()).collect();
        let p = softmax(&x);
        let mut dx = vec![0.0; 7];
        softmax_backward(
            ndarray::ArrayViewMut1::from(&mut dx[..]),
            ndarray::ArrayView1::from(&dp[..]),
            ndarray::ArrayView1::from(&p[..]),
        );
        let mut xs = x.clone();
        let n = numeric_grad(&mut xs, |xs| {
            softmax(xs)
                .iter()
                .zip(&dp)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum()
        });
        assert_grad(&format!("softmax ×{scale}"), &dx, &n);
    }
}

#[test]
fn gelu_backward_matches_finite_differences() {
    let x: Vec<f32> = (0..12).map(|i| -3.0 + 0.5 * i as f32).collect();
    let dout: Vec<f32> = (0..12).map(|i| (0.7 * i as f32).cos()).collect();
    // Written, not accumulated: NaN before, so an entry left alone fails.
    let mut dx = vec![f32::NAN; 12];
    gelu_backward(
        ArrayViewMut1::from(&mut dx[..]),
        ArrayView1::from(&x[..]),
        ArrayView1::from(&dout[..]),
    );
    let mut xs = x.clone();
    let n = numeric_grad(&mut xs, |xs| {
        let mut out = [0.0; 12];
        gelu_forward(ArrayViewMut1::from(&mut out[..]), ArrayView1::from(xs));
        out.iter()
            .zip(&dout)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum()
    });
    assert_grad("gelu", &dx, &n);
}

#[test]
fn gelu_backward_from_the_kept_slope_is_gelu_backward() {
    let x: Vec<f32> = (0..40).map(|i| -5.0 + 0.25 * i as f32).collect();
    let dout: Vec<f32> = (0..40).map(|i| (0.7 * i as f32).cos()).collect();
    let (mut out, mut want_out) = (vec![0.0; 40], vec![0.0; 40]);
    gelu_forward(
        ArrayViewMut1::from(&mut want_out[..]),
        ArrayView1::from(&x[..]),
    );
    let mut slope = x.clone();
    gelu_slope_rows(&mut out, &mut slope);
    let mut want_dx = vec![f32::NAN; 40];
    gelu_backward(
        ArrayViewMut1::from(&mut want_dx[..]),
        ArrayView1::from(&x[..]),
        ArrayView1::from(&dout[..]),
    );
    // The backward from the kept slope: dx = dout ⊙ slope.
    let dx: Vec<f32> = dout.iter().zip(&slope).map(|(g, s)| g * s).collect();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&out), bits(&want_out));
    assert_eq!(bits(&dx), bits(&want_dx));
}

#[test]
fn linear_backward_through_a_kept_slope_is_linear_backward_then_the_slope() {
    // An MLP's second linear (C = 96 → OC = 20) over N = 50 rows: dfch = (dout · W) ⊙ slope
    // in the product's store, against linear_backward then dinp ⊙ slope.
    let (n, c, oc) = (50, 96, 20);
    let pre = det(n, c, 0.37, 0.2) * 3.0;
    let mut inp = Array2::zeros((n, c));
    let mut slope = pre.clone();
    if let (Some(i), Some(s)) = (inp.as_slice_mut(), slope.as_slice_mut()) {
        gelu_slope_rows(i, s);
    }
    let w = det(oc, c, 0.71, 0.4);
    let dout = det(n, oc, 0.53, 0.9);
    let (mut dw, mut db) = (det(oc, c, 0.11, 0.0), Array1::from_elem(oc, 0.25));
    let (mut dw_want, mut db_want) = (dw.clone(), db.clone());
    let mut dinp = Array2::from_elem((n, c), f32::NAN);
    linear_backward(
        Some(dinp.view_mut()),
        dw_want.view_mut(),
        Some(db_want.view_mut()),
        dout.view(),
        inp.view(),
        w.view(),
    );
    let want = &dinp * &slope;
    let mut got = Array2::from_elem((n, c), f32::NAN);
    linear_backward_through(
        got.view_mut(),
        slope.view(),
        dw.view_mut(),
        Some(db.view_mut()),
        dout.view(),
        inp.view(),
        w.view(),
    );
    let bits = |a: &Array2<f32>| a.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&want));
    assert_eq!(bits(&dw), bits(&dw_want));
    assert_eq!(db, db_want);
    // And it is the gradient through GELU: against gelu_backward on the pre-activations.
    let mut through_gelu = Array2::from_elem((n, c), f32::NAN);
    gelu_backward(through_gelu.view_mut(), pre.view(), dinp.view());
    assert_eq!(bits(&got), bits(&through_gelu));
}

#[test]
fn crossentropy_backward_matches_finite_differences() {
    let logits = det(3, 5, 0.61, 0.9) * 2.0;
    let targets = [4, 0, 2];
    let mut probs = Array2::zeros((3, 5));
    crossentropy_forward(&mut probs, logits.view(), &targets);
    let mut dlogits = Array2::zeros((3, 5));
    crossentropy_backward(dlogits.view_mut(), probs.view(), &targets);
    let mut xs = flat(&logits);
    let n = numeric_grad(&mut xs, |xs| {
        let l = Array2::from_shape_vec((3, 5), xs.to_vec()).unwrap_or_default();
        f64::from(crossentropy_forward(
            &mut Array2::zeros((3, 5)),
            l.view(),
            &targets,
        ))
    });
    assert_grad("crossentropy", &flat(&dlogits), &n);
}

#[test]
fn residual_backward_gives_both_gradients() {
    // out = a + b: da = db = dout, both the dout buffer itself (no copy); without the skip,
    // out = b: da = 0 (the dout buffer zeroed) and db = dout, copied into the second buffer
    // (NaN before, so an entry left alone fails).
    let dout = det(3, 4, 0.9, 0.3);
    for skip in [true, false] {
        let (mut d, mut copy) = (dout.clone(), Array2::from_elem((3, 4), f32::NAN));
        let db = residual_backward(&mut d, &mut copy, skip).to_owned();
        assert_eq!(db, dout, "skip {skip}");
        let want_da = if skip {
            dout.clone()
        } else {
            Array2::zeros((3, 4))
        };
        assert_eq!(d, want_da, "skip {skip}");
        if !skip {
            assert_eq!(copy, dout);
        }
    }
    // A copy buffer of another shape is resized.
    let (mut d, mut copy) = (dout.clone(), Array2::zeros((1, 1)));
    assert_eq!(residual_backward(&mut d, &mut copy, false), dout.view());
}
