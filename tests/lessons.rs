//! The numbers behind the lessons (softmax, positions, norms, RNN): golden values from NumPy
//! (`tools/golden.py`, output pasted by each test), the properties each lesson claims, and the
//! `data ID` JSON the CLI prints.

use attention_lab::cli::data::data_json;
use attention_lab::lessons::norms::NormSettings;
use attention_lab::math::norms::{ReluOrder, axis_stats, normalise, relu_clip};
use attention_lab::math::positions::{permutation_difference, random_encoder, shuffle};
use attention_lab::math::sharpness::softmax_stats;
use attention_lab::model::PosEncoding;
use attention_lab::model::position::sinusoidal;
use attention_lab::model::softmax::softmax;
use ndarray::{Array2, Axis};
use serde_json::Value;

fn det(rows: usize, cols: usize, a: f64, b: f64, s: f64) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(r, c)| {
        ((a * (r * cols + c) as f64 + b).sin() * s) as f32
    })
}

fn close(got: impl IntoIterator<Item = f64>, want: &[f64], tol: f64) {
    let got: Vec<f64> = got.into_iter().collect();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "index {i}: got {g}, want {w}");
    }
}

fn data(id: &str, sets: &[&str]) -> Value {
    let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
    data_json(id, &sets).unwrap_or_else(|e| panic!("{e}"))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .filter_map(Value::as_f64)
        .collect()
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a matrix: {v}"))
        .iter()
        .map(floats)
        .collect()
}

// ---------------------------------------------------------------- softmax

#[test]
fn softmax_demo_matches_numpy() {
    // softmax8 array([0.0969103583, 0.3145368088, 0.3243600372, 0.1038318131, 0.0244319123,
    //                 0.0126313149, 0.0236389386, 0.0996588169])
    // softmax8x100 array([3.27e-53, 4.4137612469e-02, 9.5586238753e-01, 3.24e-50, 4.71e-113,
    //                     1.05e-141, 1.74e-114, 5.36e-52])
    // entropy8 1.6546154303945109
    let x: Vec<f32> = det(1, 8, 0.9, 0.2, 1.7).iter().copied().collect();
    let plain = softmax_stats(&x, 1.0);
    close(
        plain.p.iter().map(|&v| f64::from(v)),
        &[
            0.0969103583,
            0.3145368088,
            0.3243600372,
            0.1038318131,
            0.0244319123,
            0.0126313149,
            0.0236389386,
            0.0996588169,
        ],
        1e-6,
    );
    assert!((plain.entropy - 1.6546154303945109).abs() < 1e-5);
    let sharp = softmax_stats(&x, 100.0);
    close(
        sharp.p.iter().map(|&v| f64::from(v)),
        &[
            0.0,
            4.4137612469e-02,
            9.5586238753e-01,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
        1e-5,
    );
}

#[test]
fn softmax_is_safe_for_huge_scores() {
    for x in [
        vec![1e30_f32, -1e30, 0.0, 1e30],
        vec![-1e30; 5],
        vec![1e30, 1e30 * 0.999_999],
        vec![3.0e38, -3.0e38, 1.0],
    ] {
        let p = softmax(&x);
        assert!(p.iter().all(|v| v.is_finite()), "{x:?} → {p:?}");
        let sum: f32 = p.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6, "{x:?} → {p:?}");
    }
}

#[test]
fn softmax_data_reproduces_the_lecture_picture() {
    // The default seed (0) with n = 8: ×100 puts more than 95 % of the weight on one score.
    let d = data("softmax", &["n=8", "scale=100", "seed=0"]);
    assert_eq!(floats(&d["x"]).len(), 8);
    let sharp = floats(&d["softmax_scaled"]);
    let plain = floats(&d["softmax"]);
    assert!(
        sharp.iter().copied().fold(0.0, f64::max) > 0.95,
        "{sharp:?}"
    );
    assert!(plain.iter().copied().fold(0.0, f64::max) < 0.6, "{plain:?}");
    assert!((sharp.iter().sum::<f64>() - 1.0).abs() < 1e-5);
    assert!(d["entropy"].as_f64().unwrap_or(0.0) > d["entropy_scaled"].as_f64().unwrap_or(9.0));
    let var = &d["variance"];
    let dims = floats(&var["d"]);
    let unscaled = floats(&var["var_unscaled"]);
    let scaled = floats(&var["var_scaled"]);
    assert_eq!(dims.len(), 11);
    for ((d, u), s) in dims.iter().zip(&unscaled).zip(&scaled) {
        assert!((u / d - 1.0).abs() < 0.15, "d {d}: Var(q·k) = {u}");
        assert!((s - 1.0).abs() < 0.15, "d {d}: Var(q·k/√d) = {s}");
    }
    // Unscaled attention over random keys collapses as d grows; scaled stays spread.
    let ent = &d["attention_entropy"];
    let (u, s) = (floats(&ent["unscaled"]), floats(&ent["scaled"]));
    assert!(u[10] < 0.3 * u[0], "{u:?}");
    assert!(s[10] > 0.8 * s[0], "{s:?}");
}

// ---------------------------------------------------------------- positions

#[test]
fn sinusoidal_base_matches_numpy() {
    // sinusoidal_base100 (T = 4, d = 6, base 100), from tools/golden.py
    let want = [
        0.0,
        1.0,
        0.0,
        1.0,
        0.0,
        1.0,
        0.8414709848,
        0.5403023059,
        0.2137806661,
        0.9768816852,
        0.0463992235,
        0.998922976,
        0.9092974268,
        -0.4161468365,
        0.4176768346,
        0.9085956536,
        0.0926985008,
        0.9956942241,
        0.1411200081,
        -0.9899924966,
        0.6022610341,
        0.7982992214,
        0.1387981011,
        0.9903206991,
    ];
    close(
        sinusoidal(4, 6, 100.0).iter().map(|&v| f64::from(v)),
        &want,
        1e-6,
    );
    let d = data("positions", &["ctx=4", "d=6", "base=100"]);
    let rows = matrix(&d["sinusoidal"]);
    close(rows.into_iter().flatten(), &want, 1e-6);
}

#[test]
fn positions_data_has_every_table_and_octaves_threshold_to_binary() {
    let d = data("positions", &["ctx=64", "d=32"]);
    let binary = matrix(&d["binary"]);
    assert_eq!((binary.len(), binary[0].len()), (64, 6));
    assert_eq!(
        binary[5],
        vec![1.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        "5 = 101₂, LSB first"
    );
    assert_eq!(matrix(&d["sinusoidal"])[0].len(), 32);
    assert_eq!(matrix(&d["octave"]).len(), 64);
    assert_eq!(matrix(&d["octave_thresholded"]), binary);
    assert_eq!(d["octave_thresholded_equals_binary"], Value::Bool(true));
    let sim = matrix(&d["similarity_sinusoidal"]);
    assert_eq!((sim.len(), sim[0].len()), (64, 64));
    // r_p · r_p = d/2 for every sinusoidal row (sin² + cos² per pair).
    for (p, row) in sim.iter().enumerate() {
        assert!((row[p] - 16.0).abs() < 1e-4, "{p}: {}", row[p]);
    }
    // Binary as ±1: r_i · r_j = bits − 2·Hamming(i, j).
    let sb = matrix(&d["similarity_binary"]);
    assert_eq!(sb[3][5], 6.0 - 2.0 * f64::from((3u32 ^ 5).count_ones()));
    assert!(d["learned"].is_array(), "the bundled model's learned table");
}

#[test]
fn attention_is_permutation_equivariant_only_without_positions() {
    let ids = [3, 9, 14, 3, 20, 7];
    for seed in 0..3 {
        let perm = shuffle(ids.len(), seed);
        assert_ne!(perm, (0..ids.len()).collect::<Vec<_>>());
        let none = random_encoder(40, PosEncoding::None, seed);
        let diff = permutation_difference(&none, &ids, &perm);
        assert!(diff < 1e-5, "no positions, seed {seed}: {diff}");
        for pos in [
            PosEncoding::Sinusoidal,
            PosEncoding::Learned,
            PosEncoding::Binary,
        ] {
            let with = random_encoder(40, pos, seed);
            let diff = permutation_difference(&with, &ids, &perm);
            assert!(diff > 1e-2, "{pos:?}, seed {seed}: {diff}");
        }
    }
    let d = data("positions", &["prompt=the bears won the game"]);
    let p = &d["permutation"];
    assert!(
        p["max_diff_no_positions"].as_f64().unwrap_or(1.0) < 1e-5,
        "{p}"
    );
    assert!(
        p["max_diff_with_positions"].as_f64().unwrap_or(0.0) > 1e-2,
        "{p}"
    );
}

#[test]
fn positions_reject_bad_settings_with_a_reason() {
    for (set, word) in [("d=7", "even"), ("ctx=1000", "ctx"), ("base=1", "base")] {
        let e = data_json("positions", &[set.to_owned()])
            .err()
            .unwrap_or_default();
        assert!(e.contains(word), "{set}: {e}");
    }
    let d = data("positions", &["prompt=i love salmon"]);
    assert!(
        d["permutation"]["error"]
            .as_str()
            .unwrap_or("")
            .contains("salmon"),
        "{}",
        d["permutation"]
    );
}

// ---------------------------------------------------------------- norms

#[test]
fn norms_match_numpy() {
    // batchnorm array([ 0.4970111505,  1.0787966255,  1.1568674681,  1.3805718992,  0.4754501139,
    //   -0.4690809649, -1.1441162517, -1.6144645955, -1.3939116762, -0.733466798 ,  0.0602178561,  0.706125173 ])
    // layernorm_plain array([-0.4487862628,  1.3858326519, -0.937046389 ,  0.0906253007,  1.1769145099,
    //   -1.2675398106, -0.1203984431,  1.2804970109, -1.1600985678, -0.5870096877,  1.4077593736, -0.820749686 ])
    // rmsnorm array([ 0.1532237567,  1.7055690412, -0.259912889 ,  0.4240280881,  1.4460875916,
    //   -0.8538319397, -0.4327475048,  0.8951349006, -1.418259663 , -0.2942050321,  1.6259963481, -0.5192074527])
    let mut x = det(4, 3, 0.61, 0.3, 2.0);
    for mut row in x.outer_iter_mut() {
        row[1] += 5.0;
        row[2] -= 3.0;
    }
    let n = normalise(&x);
    let f = |a: &Array2<f32>| a.iter().map(|&v| f64::from(v)).collect::<Vec<_>>();
    close(
        f(&n.bn),
        &[
            0.4970111505,
            1.0787966255,
            1.1568674681,
            1.3805718992,
            0.4754501139,
            -0.4690809649,
            -1.1441162517,
            -1.6144645955,
            -1.3939116762,
            -0.733466798,
            0.0602178561,
            0.706125173,
        ],
        2e-5,
    );
    close(
        f(&n.ln),
        &[
            -0.4487862628,
            1.3858326519,
            -0.937046389,
            0.0906253007,
            1.1769145099,
            -1.2675398106,
            -0.1203984431,
            1.2804970109,
            -1.1600985678,
            -0.5870096877,
            1.4077593736,
            -0.820749686,
        ],
        2e-5,
    );
    close(
        f(&n.rms),
        &[
            0.1532237567,
            1.7055690412,
            -0.259912889,
            0.4240280881,
            1.4460875916,
            -0.8538319397,
            -0.4327475048,
            0.8951349006,
            -1.418259663,
            -0.2942050321,
            1.6259963481,
            -0.5192074527,
        ],
        2e-5,
    );
}

#[test]
fn constant_rows_and_columns_stay_finite() {
    let mut x = det(5, 4, 0.3, 0.0, 1.0);
    x.column_mut(2).fill(7.0); // variance 0 over the batch
    let n = normalise(&x);
    assert!(n.bn.column(2).iter().all(|&v| v == 0.0));
    let mut y = det(5, 4, 0.3, 0.0, 1.0);
    y.row_mut(3).fill(-2.0); // variance 0 over the features
    let m = normalise(&y);
    assert!(m.ln.row(3).iter().all(|&v| v == 0.0));
    for a in [&n.bn, &n.ln, &n.rms, &m.bn, &m.ln, &m.rms] {
        assert!(a.iter().all(|v| v.is_finite()));
    }
    let zeros = normalise(&Array2::zeros((3, 3)));
    assert!(zeros.rms.iter().all(|v| *v == 0.0));
}

#[test]
fn norms_data_has_the_statistics_and_batch_one_zeroes_batchnorm() {
    let d = data("norms", &["batch=8", "features=16", "seed=0"]);
    let bn = matrix(&d["batchnorm"]);
    assert_eq!((bn.len(), bn[0].len()), (8, 16));
    assert_eq!(floats(&d["bn_mean"]).len(), 16);
    assert_eq!(floats(&d["bn_var"]).len(), 16);
    assert_eq!(floats(&d["ln_mean"]).len(), 8);
    assert_eq!(floats(&d["ln_var"]).len(), 8);
    // After BN each column has mean 0 and variance ≈ 1 over the batch.
    let x = Array2::from_shape_vec(
        (8, 16),
        bn.into_iter().flatten().map(|v| v as f32).collect(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (m, v) = axis_stats(&x, Axis(0));
    assert!(m.iter().all(|m| m.abs() < 1e-5));
    assert!(v.iter().all(|v| (v - 1.0).abs() < 1e-3));
    let one = data("norms", &["batch=1"]);
    assert_eq!(one["batchnorm_all_zero"], Value::Bool(true));
    let clip = &d["relu_clip"];
    let (e, t) = (
        clip["empirical"].as_f64().unwrap_or(0.0),
        clip["theory"].as_f64().unwrap_or(1.0),
    );
    assert!((e - t).abs() < 0.01, "{clip}");
    let model = data("norms", &["source=model", "batch=32"]);
    assert_eq!(matrix(&model["x"]).len(), 32);
    assert!(model["error"].is_null(), "{}", model["error"]);
}

#[test]
fn relu_clipping_follows_phi_of_minus_beta_over_gamma() {
    for (g, b) in [(1.0, 0.0), (0.5, 1.0), (2.0, -1.0), (1.0, 2.5)] {
        let r = relu_clip(g, b, ReluOrder::Before, 3);
        assert!(
            (r.empirical - r.theory).abs() < 0.01,
            "γ {g} β {b}: {} vs {}",
            r.empirical,
            r.theory
        );
    }
    let after = relu_clip(2.0, 1.0, ReluOrder::After, 3);
    assert!((after.empirical - 0.5).abs() < 0.01);
}

#[test]
fn batch_mean_spread_is_sigma_over_root_b() {
    let s = NormSettings::default();
    let pop = s.population();
    for b in [4, 64] {
        let sp = attention_lab::math::norms::batch_spread(&pop, 0, b, 1);
        let theory = pop.std[0] / (b as f64).sqrt();
        assert!(
            (sp.mean_sd / theory - 1.0).abs() < 0.15,
            "B {b}: {} vs {theory}",
            sp.mean_sd
        );
    }
}

// ---------------------------------------------------------------- rnn

#[test]
fn rnn_data_follows_radius_to_the_k_and_lists_eigenvalues() {
    let d = data(
        "rnn",
        &[
            "radius=0.9",
            "steps=50",
            "hidden=16",
            "seed=0",
            "activation=linear",
        ],
    );
    assert_eq!(matrix(&d["w"]).len(), 16);
    assert_eq!(d["eigenvalues"].as_array().map_or(0, Vec::len), 16);
    assert_eq!(floats(&d["g_final"]).len(), 16);
    let g = floats(&d["grad_norms"]);
    assert_eq!(g.len(), 51);
    for (k, v) in g.iter().enumerate() {
        let want = 0.9f64.powi(k as i32) * g[0];
        assert!(((v - want) / want).abs() < 1e-5, "k {k}");
    }
    let iir = floats(&d["iir"]);
    assert_eq!(iir.len(), 51);
    assert!(
        (iir[2] - 0.81).abs() < 1e-12,
        "w = −0.9 by default: {}",
        iir[2]
    );
    assert!(d.get("h").is_none(), "h only for tanh");
    let t = data("rnn", &["activation=tanh", "steps=20", "hidden=8"]);
    assert_eq!(matrix(&t["h"]).len(), 21);
    let e = data_json("rnn", &["activation=relu".to_owned()])
        .err()
        .unwrap_or_default();
    assert!(e.contains("activation"), "{e}");
}

#[test]
fn copy_data_gives_a_csv_for_every_section() {
    use attention_lab::lessons::{all_lessons, apply_overrides};
    for (id, sections) in [("softmax", 4), ("positions", 5), ("norms", 5), ("rnn", 4)] {
        for section in 0..sections {
            let mut lessons = all_lessons();
            let lesson = lessons
                .iter_mut()
                .find(|l| l.info().id == id)
                .unwrap_or_else(|| panic!("{id} is registered"));
            apply_overrides(lesson.as_mut(), &[("section".into(), section.to_string())])
                .unwrap_or_else(|e| panic!("{e}"));
            let csv = lesson.csv();
            let mut lines = csv.lines();
            let header = lines.next().unwrap_or_default();
            assert!(!header.is_empty(), "{id} §{section}: no header");
            let width = header.split(',').count();
            // Section 4 of softmax lists the compare runs, which have not been started here.
            if !(id == "softmax" && section == 3) {
                assert!(
                    lines.clone().count() >= 1,
                    "{id} §{section}: no rows\n{csv}"
                );
            }
            for line in lines {
                assert_eq!(line.split(',').count(), width, "{id} §{section}: {line}");
            }
        }
    }
}
