//! The RNN lesson's math (`model::rnn`): BPTT against finite differences, the ρ^k law, and
//! eigenvalues against NumPy.

use attention_lab::math::rnn::{
    Activation, Lstm, RnnSpec, WInit, eigenvalues, lstm_backward, lstm_forward, recurrent_matrix,
    rnn_backward, rnn_experiment, rnn_forward, rnn_inputs,
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
fn clipping_caps_the_norm_and_leaves_small_gradients_alone() {
    let spec = RnnSpec {
        hidden: 8,
        steps: 100,
        radius: 1.1,
        init: WInit::Gaussian,
        activation: Activation::Linear,
        input_scale: 1.0,
        clip: Some(5.0),
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
