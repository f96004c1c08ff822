//! Golden values from an independent NumPy reference: `tools/golden.py` (no RNG: the inputs are
//! the deterministic formula `x[i] = sin(a·i + b)·s` over the row-major flat index, written the
//! same way here). Output of `python3 tools/golden.py` pasted below each test.

use attention_lab::model::attention::{AttentionCache, AttentionDims, attention_forward};
use attention_lab::model::loss::crossentropy_forward;
use attention_lab::model::mlp::gelu_forward;
use attention_lab::model::norm::{NormCache, layernorm_forward};
use attention_lab::model::position::sinusoidal;
use attention_lab::model::softmax::softmax;
use ndarray::{Array1, Array2, ArrayView1, ArrayViewMut1};

fn det(rows: usize, cols: usize, a: f64, b: f64, s: f64) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(r, c)| {
        ((a * (r * cols + c) as f64 + b).sin() * s) as f32
    })
}

fn assert_close(got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(*g) - w).abs() <= tol,
            "index {i}: got {g}, want {w}"
        );
    }
}

#[test]
fn layernorm_matches_numpy() {
    // layernorm array([-1.64181433, -0.58981842,  0.45333513,  1.278279  ,  1.68556041,
    //         1.25579179,  0.93729517,  0.25744338, -0.73280335, -1.92036591])
    let x = det(2, 5, 0.37, 0.1, 1.5);
    let w = Array1::from_shape_fn(5, |j| 1.0 + 0.1 * j as f32);
    let b = Array1::from_shape_fn(5, |j| 0.05 * j as f32);
    let mut out = Array2::zeros((2, 5));
    layernorm_forward(
        out.view_mut(),
        x.view(),
        w.view(),
        b.view(),
        &mut NormCache::default(),
    );
    let want = [
        -1.64181433,
        -0.58981842,
        0.45333513,
        1.278279,
        1.68556041,
        1.25579179,
        0.93729517,
        0.25744338,
        -0.73280335,
        -1.92036591,
    ];
    assert_close(out.as_slice().unwrap_or_default(), &want, 2e-5);
}

#[test]
fn gelu_matches_numpy() {
    // gelu array([-0.00363739, -0.15880801, -0.10032465,  0.        ,  0.34571401, 1.95459769])
    let x = [-3.0, -1.0, -0.25, 0.0, 0.5, 2.0];
    let mut out = [0.0; 6];
    gelu_forward(ArrayViewMut1::from(&mut out[..]), ArrayView1::from(&x[..]));
    assert_close(
        &out,
        &[
            -0.00363739,
            -0.15880801,
            -0.10032465,
            0.0,
            0.34571401,
            1.95459769,
        ],
        1e-6,
    );
}

#[test]
fn causal_scaled_attention_matches_numpy() {
    // attention_out array([-0.96313093, -0.96700138, -0.70554033, -0.25048898, -0.97181783,
    //        -0.95607163, -0.67853242, -0.21459945, -0.97846302, -0.94366108,
    //        -0.65108513, -0.17936521])
    // attention_att array([1., 0., 0., 0.51211722, 0.48788278, 0., 0.35166001, 0.33318495,
    //        0.31515504, 1., 0., 0., 0.52167268, 0.47832732, 0., 0.36210944, 0.33207764, 0.30581292])
    let qkv = det(3, 12, 0.53, 0.2, 1.0);
    let mut out = Array2::zeros((3, 4));
    let mut cache = AttentionCache::default();
    let dims = AttentionDims {
        b: 1,
        t: 3,
        h: 2,
        scale: true,
        causal: true,
    };
    attention_forward(out.view_mut(), qkv.view(), dims, &mut cache);
    assert_close(
        out.as_slice().unwrap_or_default(),
        &[
            -0.96313093,
            -0.96700138,
            -0.70554033,
            -0.25048898,
            -0.97181783,
            -0.95607163,
            -0.67853242,
            -0.21459945,
            -0.97846302,
            -0.94366108,
            -0.65108513,
            -0.17936521,
        ],
        2e-6,
    );
    assert_close(
        cache.att.as_slice().unwrap_or_default(),
        &[
            1., 0., 0., 0.51211722, 0.48788278, 0., 0.35166001, 0.33318495, 0.31515504, 1., 0., 0.,
            0.52167268, 0.47832732, 0., 0.36210944, 0.33207764, 0.30581292,
        ],
        2e-6,
    );
    // The mask is −∞ before softmax and exactly 0 after it.
    assert_eq!(cache.preatt[[0, 0, 0, 2]], f32::NEG_INFINITY);
    assert_eq!(cache.att[[0, 1, 1, 2]], 0.0);
}

#[test]
fn crossentropy_matches_numpy() {
    // crossentropy np.float64(1.746634754125549)
    let logits = det(2, 4, 0.91, 0.3, 2.0);
    let mut probs = Array2::zeros((2, 4));
    let loss = crossentropy_forward(&mut probs, logits.view(), &[2, 0]);
    assert!((f64::from(loss) - 1.746634754125549).abs() < 1e-6, "{loss}");
    for row in probs.outer_iter() {
        assert!((row.sum() - 1.0).abs() < 1e-6);
    }
}

#[test]
fn softmax_is_safe_for_huge_scores() {
    for scale in [1.0_f32, 1e10, 1e30, -1e30] {
        let p = softmax(&[scale, -scale, 0.5 * scale, 0.0]);
        assert!(p.iter().all(|v| v.is_finite()), "{scale}: {p:?}");
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{scale}: {p:?}");
    }
    let masked = softmax(&[0.0, f32::NEG_INFINITY]);
    assert_eq!(masked, vec![1.0, 0.0]);
}

#[test]
fn sinusoidal_follows_vaswani() {
    // numpy: p=5, d=8, i=1: np.sin(5/10000**(2/8)) = 0.479425538604203, np.cos(...) = 0.8775825618903728
    let pe = sinusoidal(8, 8, 10_000.0);
    assert!((pe[[5, 2]] - 0.479_425_54).abs() < 1e-6);
    assert!((pe[[5, 3]] - 0.877_582_56).abs() < 1e-6);
    assert_eq!(pe[[0, 0]], 0.0);
    assert_eq!(pe[[0, 1]], 1.0);
}

#[test]
fn adamw_with_clipping_matches_pytorch() {
    // PyTorch 2.15 (`torch.optim.AdamW` with nanoGPT's betas, and `clip_grad_norm_` before each
    // step, as nanoGPT's train.py does), three steps, the second one not clipped:
    //
    //   import math, torch
    //   p = torch.tensor([math.sin(0.3 * i + 0.1) for i in range(6)], requires_grad=True)
    //   opt = torch.optim.AdamW([p], lr=3e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    //   for t, s in [(1, 1.5), (2, 0.2), (3, 1.5)]:
    //       p.grad = torch.tensor([math.sin(0.7 * i + t) * s for i in range(6)])
    //       print(float(torch.nn.utils.clip_grad_norm_([p], 1.0)))
    //       opt.step()
    //   print([f"{x:.9f}" for x in p.tolist()])
    //
    // 2.7979671955108643
    // 0.3596934974193573
    // 2.287415027618408
    // ['0.091564544', '0.383218944', '0.639927447', '0.841824830', '0.971520364', '1.005654335']
    use attention_lab::model::optim::{AdamWConfig, FlatAdamW};
    let config = AdamWConfig {
        lr: 3e-3,
        ..AdamWConfig::default()
    };
    let mut p: Vec<f32> = (0..6)
        .map(|i| (0.3 * i as f64 + 0.1).sin() as f32)
        .collect();
    let mut opt = FlatAdamW::new(config, p.len());
    let mut norms = Vec::new();
    for (t, s) in [(1.0, 1.5), (2.0, 0.2), (3.0, 1.5)] {
        let g: Vec<f32> = (0..6)
            .map(|i| ((0.7 * i as f64 + t).sin() * s) as f32)
            .collect();
        norms.push(opt.step(&mut p, &g));
    }
    assert_close(
        &norms,
        &[2.7979671955108643, 0.3596934974193573, 2.287415027618408],
        1e-6,
    );
    // One ulp of these weights is 6e-8 to 1.2e-7.
    assert_close(
        &p,
        &[
            0.091564544,
            0.383218944,
            0.639927447,
            0.841824830,
            0.971520364,
            1.005654335,
        ],
        1.2e-7,
    );
}
