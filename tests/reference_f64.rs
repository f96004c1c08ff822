//! The whole model's gradient against central finite differences in f64, for all 64 switch
//! combinations (positions × norms × scaling × mask) with skip connections, and the 16 of
//! learned positions (norms × scaling × mask) without them.
//!
//! The finite differences are taken on an independent float64 forward pass written here from
//! the equations (not from `crates/core/src/model/`): token + position embedding, pre-norm blocks
//! (norm → multi-head attention → +x → norm → MLP with tanh-GELU → +x, the "+x" left out
//! without skip connections), final norm, LM head tied
//! to the embedding, mean cross-entropy. In f64 a central difference with h = 1e-5 is exact to
//! ~1e-10, so the comparison measures the analytic f32 gradient of `gpt_backward` itself:
//! per tensor, ‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖) ≤ 1e-3 (or the difference is
//! below f32 precision, 1e-6 per entry, for tensors whose gradient is itself ~0).
//! The same reference also checks the f32 forward: the losses agree to 1e-5. A training step's
//! pass (`Activations::training_pass`) must give the lessons' pass's loss and gradient bit for bit.

use std::collections::HashMap;

use attention_lab::model::config::{GptConfig, NormKind, PosEncoding};
use attention_lab::model::gpt::{Activations, Gpt, Params, gpt_backward, gpt_forward};
use rand::SeedableRng;
use rand::rngs::StdRng;

type Tensors = HashMap<String, Vec<f64>>;

const H: f64 = 1e-5;
const TOL: f64 = 1e-3;
const EPS: f64 = 1e-5;

fn get<'a>(p: &'a Tensors, name: &str) -> &'a [f64] {
    p.get(name)
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("no tensor {name}"))
}

/// y = x Wᵀ + b for rows x: (N, inp), W: (out, inp).
fn linear(x: &[Vec<f64>], w: &[f64], b: Option<&[f64]>, out: usize) -> Vec<Vec<f64>> {
    x.iter()
        .map(|row| {
            (0..out)
                .map(|o| {
                    let dot: f64 = row
                        .iter()
                        .enumerate()
                        .map(|(i, v)| v * w[o * row.len() + i])
                        .sum();
                    dot + b.map_or(0.0, |b| b[o])
                })
                .collect()
        })
        .collect()
}

fn norm(kind: NormKind, x: &[Vec<f64>], w: &[f64], b: &[f64]) -> Vec<Vec<f64>> {
    let c = x[0].len();
    match kind {
        NormKind::None => x.to_vec(),
        NormKind::LayerNorm => x
            .iter()
            .map(|r| {
                let m = r.iter().sum::<f64>() / c as f64;
                let v = r.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / c as f64;
                let s = 1.0 / (v + EPS).sqrt();
                (0..c).map(|j| (r[j] - m) * s * w[j] + b[j]).collect()
            })
            .collect(),
        NormKind::RmsNorm => x
            .iter()
            .map(|r| {
                let ms = r.iter().map(|a| a * a).sum::<f64>() / c as f64;
                let s = 1.0 / (ms + EPS).sqrt();
                (0..c).map(|j| r[j] * s * w[j] + b[j]).collect()
            })
            .collect(),
        NormKind::BatchNorm => {
            // Train mode: statistics of each feature over all B·T rows, biased variance.
            let n = x.len() as f64;
            let mean: Vec<f64> = (0..c)
                .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n)
                .collect();
            let var: Vec<f64> = (0..c)
                .map(|j| x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n)
                .collect();
            x.iter()
                .map(|r| {
                    (0..c)
                        .map(|j| (r[j] - mean[j]) / (var[j] + EPS).sqrt() * w[j] + b[j])
                        .collect()
                })
                .collect()
        }
    }
}

fn position(kind: PosEncoding, p: usize, j: usize, c: usize, wpe: Option<&[f64]>) -> f64 {
    match kind {
        PosEncoding::None => 0.0,
        PosEncoding::Learned => wpe.map_or(0.0, |w| w[p * c + j]),
        PosEncoding::Sinusoidal => {
            let angle = p as f64 / 10_000f64.powf((j - j % 2) as f64 / c as f64);
            if j.is_multiple_of(2) {
                angle.sin()
            } else {
                angle.cos()
            }
        }
        PosEncoding::Binary => {
            if (p >> j) & 1 == 1 {
                1.0
            } else {
                -1.0
            }
        }
    }
}

fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh())
}

/// Mean cross-entropy of the reference model.
fn reference_loss(
    cfg: &GptConfig,
    p: &Tensors,
    tokens: &[usize],
    targets: &[usize],
    b: usize,
    t: usize,
) -> f64 {
    let c = cfg.n_embd;
    let (nh, hs) = (cfg.n_head, c / cfg.n_head);
    let wte = get(p, "transformer.wte.weight");
    let wpe = p.get("transformer.wpe.weight").map(Vec::as_slice);
    let mut x: Vec<Vec<f64>> = tokens
        .iter()
        .enumerate()
        .map(|(n, &tok)| {
            (0..c)
                .map(|j| wte[tok * c + j] + position(cfg.pos_encoding, n % t, j, c, wpe))
                .collect()
        })
        .collect();
    for l in 0..cfg.n_layer {
        let name = |s: &str| format!("transformer.h.{l}.{s}");
        let ln1 = norm(
            cfg.norm,
            &x,
            get(p, &name("ln_1.weight")),
            get(p, &name("ln_1.bias")),
        );
        let qkv = linear(
            &ln1,
            get(p, &name("attn.c_attn.weight")),
            Some(get(p, &name("attn.c_attn.bias"))),
            3 * c,
        );
        let mut y = vec![vec![0.0; c]; b * t];
        let scale = if cfg.attn_scale {
            1.0 / (hs as f64).sqrt()
        } else {
            1.0
        };
        for seq in 0..b {
            for h in 0..nh {
                for q in 0..t {
                    let keys = if cfg.causal { q + 1 } else { t };
                    let qrow = &qkv[seq * t + q];
                    let scores: Vec<f64> = (0..keys)
                        .map(|k| {
                            let krow = &qkv[seq * t + k];
                            (0..hs)
                                .map(|i| qrow[h * hs + i] * krow[c + h * hs + i])
                                .sum::<f64>()
                                * scale
                        })
                        .collect();
                    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                    let z: f64 = e.iter().sum();
                    for (k, ek) in e.iter().enumerate() {
                        let vrow = &qkv[seq * t + k];
                        for i in 0..hs {
                            y[seq * t + q][h * hs + i] += ek / z * vrow[2 * c + h * hs + i];
                        }
                    }
                }
            }
        }
        let proj = linear(
            &y,
            get(p, &name("attn.c_proj.weight")),
            Some(get(p, &name("attn.c_proj.bias"))),
            c,
        );
        // x + attention(x), or attention(x) alone without the skip.
        let x2: Vec<Vec<f64>> = if cfg.residual {
            x.iter()
                .zip(&proj)
                .map(|(a, b)| a.iter().zip(b).map(|(u, v)| u + v).collect())
                .collect()
        } else {
            proj
        };
        let ln2 = norm(
            cfg.norm,
            &x2,
            get(p, &name("ln_2.weight")),
            get(p, &name("ln_2.bias")),
        );
        let fc: Vec<Vec<f64>> = linear(
            &ln2,
            get(p, &name("mlp.c_fc.weight")),
            Some(get(p, &name("mlp.c_fc.bias"))),
            4 * c,
        )
        .into_iter()
        .map(|r| r.into_iter().map(gelu).collect())
        .collect();
        let mlp = linear(
            &fc,
            get(p, &name("mlp.c_proj.weight")),
            Some(get(p, &name("mlp.c_proj.bias"))),
            c,
        );
        x = if cfg.residual {
            x2.iter()
                .zip(&mlp)
                .map(|(a, b)| a.iter().zip(b).map(|(u, v)| u + v).collect())
                .collect()
        } else {
            mlp
        };
    }
    let lnf = norm(
        cfg.norm,
        &x,
        get(p, "transformer.ln_f.weight"),
        get(p, "transformer.ln_f.bias"),
    );
    let logits = linear(&lnf, wte, None, cfg.vocab_size);
    let total: f64 = logits
        .iter()
        .zip(targets)
        .map(|(row, &y)| {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            lse - row[y]
        })
        .sum();
    total / targets.len() as f64
}

#[test]
fn gpt_backward_matches_f64_finite_differences_for_every_switch() {
    let (b, t) = (2, 4);
    let tokens: Vec<usize> = (0..b * t).map(|i| (i * 3 + 1) % 7).collect();
    let targets: Vec<usize> = (0..b * t).map(|i| (i * 5 + 2) % 7).collect();
    let mut worst = (0.0_f64, String::new());
    for pos in [
        PosEncoding::Learned,
        PosEncoding::Sinusoidal,
        PosEncoding::Binary,
        PosEncoding::None,
    ] {
        for norm_kind in [
            NormKind::LayerNorm,
            NormKind::RmsNorm,
            NormKind::BatchNorm,
            NormKind::None,
        ] {
            for attn_scale in [true, false] {
                for (causal, residual) in
                    [(true, true), (false, true), (true, false), (false, false)]
                {
                    // Without skip connections: one position encoding is enough.
                    if !residual && pos != PosEncoding::Learned {
                        continue;
                    }
                    let config = GptConfig {
                        vocab_size: 7,
                        n_layer: 2,
                        n_head: 2,
                        n_embd: 8,
                        block_size: t,
                        pos_encoding: pos,
                        attn_scale,
                        causal,
                        norm: norm_kind,
                        residual,
                    };
                    let label = format!(
                        "pos={pos:?} norm={norm_kind:?} scale={attn_scale} causal={causal} residual={residual}"
                    );
                    let mut rng = StdRng::seed_from_u64(7);
                    // Bigger weights than the 0.02 init, so every path carries a visible gradient.
                    let mut params = Params::init(&config, &mut rng);
                    for x in params.tensors_mut() {
                        for (i, v) in x.data.iter_mut().enumerate() {
                            *v += 0.1 * ((i as f32) * 0.91 + 0.3).sin();
                        }
                    }
                    let model = Gpt::from_params(config.clone(), params);
                    let mut acts = Activations::default();
                    let loss32 =
                        gpt_forward(&model, &mut acts, &tokens, Some(&targets), b, t, true)
                            .unwrap_or(f32::NAN);
                    let mut grads = Params::zeros(&config);
                    gpt_backward(&model, &mut acts, &targets, &mut grads);
                    // A training step's pass (no scores kept, GELU's slope in place of fch) gives
                    // the same loss and gradient, bit for bit.
                    let mut lean = Activations::default();
                    lean.training_pass = true;
                    let lean_loss =
                        gpt_forward(&model, &mut lean, &tokens, Some(&targets), b, t, true)
                            .unwrap_or(f32::NAN);
                    let mut lean_grads = Params::zeros(&config);
                    gpt_backward(&model, &mut lean, &targets, &mut lean_grads);
                    assert_eq!(
                        lean_loss.to_bits(),
                        loss32.to_bits(),
                        "{label}: training pass"
                    );
                    for (g, lean) in grads.tensors().zip(lean_grads.tensors()) {
                        let bits = |d: &[f32]| d.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                        assert!(
                            bits(g.data) == bits(lean.data),
                            "{label}: {} differs in a training pass",
                            g.full_name()
                        );
                    }

                    let mut p64: Tensors = model
                        .params
                        .tensors()
                        .map(|t| {
                            let d = t.data.iter().map(|&v| f64::from(v)).collect();
                            (t.full_name(), d)
                        })
                        .collect();
                    let loss64 = reference_loss(&config, &p64, &tokens, &targets, b, t);
                    assert!(
                        (f64::from(loss32) - loss64).abs() < 1e-5,
                        "{label}: f32 loss {loss32} vs f64 reference {loss64}"
                    );
                    for tensor in grads.tensors() {
                        let (name, analytic) = (tensor.full_name(), tensor.data);
                        let len = analytic.len();
                        let picks: Vec<usize> =
                            (0..len.min(12)).map(|j| j * len / len.min(12)).collect();
                        let mut diff2 = 0.0;
                        let (mut a2, mut n2) = (0.0, 0.0);
                        for &i in &picks {
                            let orig = p64[&name][i];
                            let mut at = |delta: f64| {
                                if let Some(x) = p64.get_mut(&name) {
                                    x[i] = orig + delta;
                                }
                                reference_loss(&config, &p64, &tokens, &targets, b, t)
                            };
                            let numeric = (at(H) - at(-H)) / (2.0 * H);
                            at(0.0);
                            let a = f64::from(analytic[i]);
                            diff2 += (a - numeric).powi(2);
                            a2 += a * a;
                            n2 += numeric * numeric;
                        }
                        let rel = diff2.sqrt() / a2.sqrt().max(n2.sqrt()).max(1e-12);
                        let below_f32 = diff2.sqrt() <= 1e-6 * (picks.len() as f64).sqrt();
                        assert!(
                            rel <= TOL || below_f32,
                            "{label} {name}: relative error {rel:.2e} (|Δ| {:.2e})",
                            diff2.sqrt()
                        );
                        if n2.sqrt() > 1e-3 && rel > worst.0 {
                            worst = (rel, format!("{label} {name}"));
                        }
                    }
                }
            }
        }
    }
    // Not vacuous: the gradients checked are far above the f32 floor.
    assert!(
        !worst.1.is_empty(),
        "no tensor with a gradient above 1e-3 was checked"
    );
    println!(
        "largest relative error among tensors with ‖gradient‖ > 1e-3: {:.2e} ({})",
        worst.0, worst.1
    );
}
