//! The RNN lesson's math (`model::rnn`): BPTT against finite differences, the ρ^k law, and
//! eigenvalues against NumPy.

use attention_lab::math::rnn::{
    Activation, ClipMode, Lstm, RnnSpec, WInit, eigenvalues, lstm_backward, lstm_forward,
    recurrent_matrix, rnn_backward, rnn_experiment, rnn_forward, rnn_inputs,
};
use ndarray::{Array1, array, s};
use rand::SeedableRng;
use rand::rngs::StdRng;

#[test]
fn linear_orthogonal_gradients_follow_radius_to_the_k() {
    for radius in [0.9, 1.0, 1.1] {
        let e = rnn_experiment(&RnnSpec {
            hidden: 16,
            steps: 50,
            radius,
            init: WInit::Orthogonal,
            activation: Activation::Linear,
            input_scale: 1.0,
            clip: None,
            clip_mode: ClipMode::Global,
            seed: 0,
        });
        for (k, g) in e.grad_norms.iter().enumerate() {
            let want = radius.powi(k as i32) * e.grad_norms[0];
            assert!(
                ((g - want) / want).abs() < 1e-5,
                "radius {radius}, k {k}: {g} vs {want}"
            );
        }
        for z in &e.eigenvalues {
            assert!((z[0].hypot(z[1]) - radius).abs() < 1e-9);
        }
    }
}

#[test]
fn per_step_clipping_caps_every_step_and_leaves_small_gradients_alone() {
    let spec = RnnSpec {
        hidden: 8,
        steps: 100,
        radius: 1.1,
        init: WInit::Gaussian,
        activation: Activation::Linear,
        input_scale: 1.0,
        clip: Some(5.0),
        clip_mode: ClipMode::PerStep,
        seed: 2,
    };
    let e = rnn_experiment(&spec);
    let clipped = e.clipped_norms.unwrap_or_default();
    assert_eq!(clipped.len(), 101);
    assert!(e.grad_norms[100] > 1e3, "{}", e.grad_norms[100]);
    for (c, g) in clipped.iter().zip(&e.grad_norms) {
        assert!(*c <= 5.0 + 1e-9);
        if *g <= 1.0 {
            // Below the threshold so far: untouched.
            assert!((c - g).abs() < 1e-12);
        }
    }
}

/// L = gᵀ h_T as a function of the state at step t0 (forward from there).
fn rnn_loss_from(
    w: &ndarray::Array2<f64>,
    xs: &ndarray::Array2<f64>,
    g: &Array1<f64>,
    t0: usize,
    h: &Array1<f64>,
) -> f64 {
    let c = rnn_forward(
        w.view(),
        xs.slice(s![t0.., ..]),
        1.3,
        Activation::Tanh,
        h.view(),
    );
    c.h.row(c.h.nrows() - 1).dot(g)
}

#[test]
fn tanh_bptt_matches_finite_differences() {
    let (n, steps) = (6, 12);
    let mut rng = StdRng::seed_from_u64(9);
    let w = recurrent_matrix(n, 1.2, WInit::Gaussian, &mut rng);
    let (xs, g) = rnn_inputs(n, steps, 4);
    let h0 = Array1::zeros(n);
    let cache = rnn_forward(w.view(), xs.view(), 1.3, Activation::Tanh, h0.view());
    let grads = rnn_backward(w.view(), &cache, Activation::Tanh, g.view(), None);
    let eps = 1e-6;
    for k in [0, 1, 5, 11] {
        let t0 = steps - k;
        let h = cache.h.row(t0).to_owned();
        for i in 0..n {
            let (mut hp, mut hm) = (h.clone(), h.clone());
            hp[i] += eps;
            hm[i] -= eps;
            let fd = (rnn_loss_from(&w, &xs, &g, t0, &hp) - rnn_loss_from(&w, &xs, &g, t0, &hm))
                / (2.0 * eps);
            let an = grads[[k, i]];
            assert!(
                (fd - an).abs() <= 1e-6 * (1.0 + an.abs()),
                "k {k} unit {i}: analytic {an}, finite difference {fd}"
            );
        }
    }
}

#[test]
fn lstm_bptt_matches_finite_differences() {
    let (n, steps) = (5, 10);
    let m = Lstm::new(n, 1.0, 1.5, 3);
    let (xs, g) = rnn_inputs(n, steps, 8);
    let zero = Array1::zeros(n);
    let cache = lstm_forward(&m, xs.view(), zero.view(), zero.view());
    let (dh, dc) = lstm_backward(&m, &cache, g.view());
    let loss = |t0: usize, h: &Array1<f64>, c: &Array1<f64>| {
        let run = lstm_forward(&m, xs.slice(s![t0.., ..]), h.view(), c.view());
        run.h.row(run.h.nrows() - 1).dot(&g)
    };
    let eps = 1e-6;
    for k in [1, 4, 9] {
        let t0 = steps - k;
        let (h, c) = (cache.h.row(t0).to_owned(), cache.c.row(t0).to_owned());
        for i in 0..n {
            let bump = |v: &Array1<f64>, d: f64| {
                let mut v = v.clone();
                v[i] += d;
                v
            };
            let fd_h = (loss(t0, &bump(&h, eps), &c) - loss(t0, &bump(&h, -eps), &c)) / (2.0 * eps);
            // ∂L/∂c_t is the total derivative: c_t also reaches L through h_t = o_t ⊙ tanh(c_t).
            let o = cache.o.row(t0).to_owned();
            let through = |c: Array1<f64>| {
                let h = &o * &c.mapv(f64::tanh);
                loss(t0, &h, &c)
            };
            let fd_c = (through(bump(&c, eps)) - through(bump(&c, -eps))) / (2.0 * eps);
            assert!(
                (fd_h - dh[[k, i]]).abs() < 1e-7,
                "dh k {k} i {i}: {} vs {fd_h}",
                dh[[k, i]]
            );
            assert!(
                (fd_c - dc[[k, i]]).abs() < 1e-7,
                "dc k {k} i {i}: {} vs {fd_c}",
                dc[[k, i]]
            );
        }
    }
}

#[test]
fn a_large_forget_bias_keeps_the_cell_gradient_alive() {
    let norms = |b_f: f64| {
        let m = Lstm::new(16, b_f, 1.0, 0);
        let (xs, g) = rnn_inputs(16, 100, 0);
        let zero = Array1::zeros(16);
        let cache = lstm_forward(&m, xs.view(), zero.view(), zero.view());
        let (_, dc) = lstm_backward(&m, &cache, g.view());
        dc.row(100).dot(&dc.row(100)).sqrt()
    };
    let (open, closed) = (norms(5.0), norms(0.0));
    assert!(open > 1e-3, "{open}");
    assert!(closed < 1e-20, "{closed}");
}

#[test]
fn eigenvalues_match_numpy() {
    // import numpy as np
    // W = np.array([[0.5,-1.2,0.3,0.0],[0.9,0.1,-0.4,0.7],[-0.2,0.8,0.6,-0.5],[0.3,0.0,1.1,-0.3]])
    // ev = sorted(np.linalg.eigvals(W), key=lambda z: (-abs(z), -z.imag))
    let want = [
        [0.15563769313088863, 1.2891499067973589],
        [0.15563769313088863, -1.2891499067973589],
        [0.29436230686911113, 0.32243569441482145],
        [0.29436230686911113, -0.32243569441482145],
    ];
    let w = array![
        [0.5, -1.2, 0.3, 0.0],
        [0.9, 0.1, -0.4, 0.7],
        [-0.2, 0.8, 0.6, -0.5],
        [0.3, 0.0, 1.1, -0.3]
    ];
    let got = eigenvalues(w.view());
    assert_eq!(got.len(), 4);
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g[0] - w[0]).abs() < 1e-12 && (g[1] - w[1]).abs() < 1e-12,
            "{g:?} vs {w:?}"
        );
    }
}

#[test]
fn global_clipping_keeps_the_direction_and_caps_the_norm() {
    // Pascanu et al. 2013: ∂L/∂W rescaled once. Cosine with the true gradient 1 (to 1e-6), norm
    // exactly the threshold; per-step clipping turns the direction.
    for seed in 0..4 {
        let spec = RnnSpec {
            hidden: 16,
            steps: 100,
            radius: 1.1,
            init: WInit::Orthogonal,
            activation: Activation::Linear,
            input_scale: 1.0,
            clip: Some(10.0),
            clip_mode: ClipMode::Global,
            seed,
        };
        let e = rnn_experiment(&spec);
        assert!(e.weight_grad_norm > 10.0, "{}", e.weight_grad_norm);
        let cos = e.cosine_clipped_true.unwrap_or(f64::NAN);
        assert!((cos - 1.0).abs() < 1e-6, "seed {seed}: cosine {cos}");
        let n = e.clipped_weight_grad_norm.unwrap_or(f64::NAN);
        assert!((n - 10.0).abs() < 1e-9, "seed {seed}: norm {n}");
        // Every ∂L/∂h_t scaled by the same factor: the curve keeps its shape.
        let clipped = e.clipped_norms.clone().unwrap_or_default();
        let factor = 10.0 / e.weight_grad_norm;
        for (c, g) in clipped.iter().zip(&e.grad_norms) {
            assert!((c - g * factor).abs() <= 1e-9 * g.max(1.0));
        }
        let per_step = rnn_experiment(&RnnSpec {
            clip_mode: ClipMode::PerStep,
            ..spec
        });
        let cos = per_step.cosine_clipped_true.unwrap_or(f64::NAN);
        assert!(cos < 0.999, "seed {seed}: per-step cosine {cos}");
    }
}

#[test]
fn the_weight_gradient_matches_finite_differences() {
    // ∂L/∂W from BPTT against central differences of L = gᵀh_T in W (tanh, T = 12).
    let mut rng = StdRng::seed_from_u64(4);
    let w = recurrent_matrix(5, 0.9, WInit::Gaussian, &mut rng);
    let (xs, g) = rnn_inputs(5, 12, 4);
    let h0 = Array1::zeros(5);
    let loss = |w: &ndarray::Array2<f64>| {
        let c = rnn_forward(w.view(), xs.view(), 1.3, Activation::Tanh, h0.view());
        c.h.row(12).dot(&g)
    };
    let cache = rnn_forward(w.view(), xs.view(), 1.3, Activation::Tanh, h0.view());
    let rows = rnn_backward(w.view(), &cache, Activation::Tanh, g.view(), None);
    let dw = attention_lab::math::rnn::rnn_weight_grad(&cache, Activation::Tanh, rows.view());
    for i in 0..5 {
        for j in 0..5 {
            let mut wp = w.clone();
            wp[(i, j)] += 1e-6;
            let mut wm = w.clone();
            wm[(i, j)] -= 1e-6;
            let fd = (loss(&wp) - loss(&wm)) / 2e-6;
            assert!(
                (fd - dw[(i, j)]).abs() < 1e-7,
                "({i}, {j}): {fd} vs {}",
                dw[(i, j)]
            );
        }
    }
}

#[test]
fn recall_backward_passes_match_finite_differences() {
    use attention_lab::math::recall::{Cell, RecallModel, recall_batch};
    // Both cells, small (n = 3, delay 3, 4 sequences): every parameter's gradient against
    // central differences of the mean cross-entropy (f32 forward: h = 1e-2, tolerance 1 % of
    // the largest entry).
    let mut rng = StdRng::seed_from_u64(8);
    let batch = recall_batch(3, 4, &mut rng);
    for cell in [Cell::Rnn, Cell::Lstm] {
        let mut m = RecallModel::new(cell, 3, 5, 4, 1);
        let (_, grad, _) = m.loss_and_grad(&batch);
        assert_eq!(grad.len(), m.params.len());
        let scale = grad.iter().fold(0f32, |a, &b| a.max(b.abs()));
        for (i, &g) in grad.iter().enumerate() {
            let p = m.params[i];
            m.params[i] = p + 1e-2;
            let up = m.loss_only(&batch);
            m.params[i] = p - 1e-2;
            let down = m.loss_only(&batch);
            m.params[i] = p;
            let fd = (up - down) / 2e-2;
            assert!(
                (fd - f64::from(g)).abs() <= 1e-2 * f64::from(scale) + 1e-4,
                "{cell:?} parameter {i}: finite difference {fd}, backward {g}"
            );
        }
    }
}

#[test]
fn recall_training_is_deterministic_and_the_lstm_remembers_longer() {
    use attention_lab::math::recall::train_recall;
    let (acc, history) = train_recall(20, 16, 300, 0);
    let (acc2, history2) = train_recall(20, 16, 300, 0);
    assert_eq!(
        history, history2,
        "the same seed gives the same run, bit for bit"
    );
    assert_eq!(acc, acc2);
    // What the lesson shows at its default (k = 20, 300 steps, seed 0): measured, not assumed.
    assert!(acc[1] > 0.95, "LSTM accuracy {}", acc[1]);
    assert!(acc[0] < 0.5, "RNN accuracy {}", acc[0]);
}

#[test]
fn data_rnn_reports_clipping_and_recall() {
    let mut lesson = attention_lab::lessons::all_lessons()
        .into_iter()
        .find(|l| l.info().id == "rnn")
        .unwrap_or_else(|| panic!("no rnn lesson"));
    let mut s = lesson.settings().to_json();
    s["clip"] = serde_json::json!(true);
    s["radius"] = serde_json::json!(1.1);
    s["recall_k"] = serde_json::json!(5);
    s["recall_steps"] = serde_json::json!(40);
    s["forcing_steps"] = serde_json::json!(20);
    lesson
        .settings()
        .set_json(s)
        .unwrap_or_else(|e| panic!("{e}"));
    let d = lesson.data();
    assert_eq!(d["clip_mode"], serde_json::json!("global"));
    let cos = d["cosine_clipped_true"].as_f64().unwrap_or(f64::NAN);
    assert!((cos - 1.0).abs() < 1e-6, "{cos}");
    assert!((d["clipped_weight_grad_norm"].as_f64().unwrap_or(f64::NAN) - 10.0).abs() < 1e-9);
    assert_eq!(d["recall"]["k"], serde_json::json!(5));
    assert_eq!(d["teacher_forcing"]["steps"], serde_json::json!(20));
    let fed = d["teacher_forcing"]["teacher_forced_model_fed_truth"]["symbols"]
        .as_f64()
        .unwrap_or(f64::NAN);
    assert!((0.0..=1.0).contains(&fed), "{fed}");
    assert_eq!(d["recall"]["steps"], serde_json::json!(40));
    for cell in ["rnn", "lstm"] {
        let a = d["recall"]["accuracy"][cell].as_f64().unwrap_or(f64::NAN);
        assert!((0.0..=1.0).contains(&a), "{cell}: {a}");
    }
}

#[test]
fn copy_task_gradients_match_finite_differences_and_runs_repeat() {
    use attention_lab::math::recall::{
        COPY_INPUTS, Cell, CopyRun, Feeding, RecallModel, SYMBOLS, copy_batch, copy_loss,
        copy_loss_and_grad,
    };
    let mut rng = StdRng::seed_from_u64(12);
    let seqs = copy_batch(4, &mut rng);
    let mut m = RecallModel::new(Cell::Lstm, 4, COPY_INPUTS, SYMBOLS, 2);
    // Teacher forcing: the fed inputs are data, the loss is smooth in every parameter.
    // Free running: the fed guesses are argmaxes, constant under a small change unless one
    // flips; a flip shows as a jump, so those parameters are skipped (and counted).
    for feeding in [Feeding::Teacher, Feeding::Free] {
        let (_, grad) = copy_loss_and_grad(&m, &seqs, feeding);
        let scale = grad.iter().fold(0f32, |a, &b| a.max(b.abs()));
        let mut checked = 0;
        for (i, &g) in grad.iter().enumerate() {
            let p = m.params[i];
            m.params[i] = p + 1e-2;
            let up = copy_loss(&m, &seqs, feeding);
            m.params[i] = p - 1e-2;
            let down = copy_loss(&m, &seqs, feeding);
            m.params[i] = p;
            let fd = (up - down) / 2e-2;
            let ok = (fd - f64::from(g)).abs() <= 1e-2 * f64::from(scale) + 1e-4;
            if feeding == Feeding::Teacher {
                assert!(
                    ok,
                    "{feeding:?} parameter {i}: finite difference {fd}, backward {g}"
                );
            }
            checked += usize::from(ok);
        }
        assert!(
            checked * 10 >= grad.len() * 9,
            "{feeding:?}: only {checked} of {} agree",
            grad.len()
        );
    }
    let run = |n: usize| {
        let mut r = CopyRun::new(8, 3);
        let pts: Vec<_> = (0..n).map(|_| r.train_step()).collect();
        (pts, r.free_accuracy())
    };
    assert_eq!(run(30), run(30), "the same seed gives the same runs");
}
