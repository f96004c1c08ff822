//! The ensembles-and-experts lesson's math: the ensemble MSE theory against simulation, EM
//! against NumPy and its monotone likelihood, the experts' gradients against finite
//! differences, deterministic training, the cross-entropy table's exact facts, and `data`.

use attention_lab::lessons::all_lessons;
use attention_lab::math::experts::{
    ExpertsRun, Gmm, Routing, Target, ce_floor, competitive_loss, ensemble_ce, ensemble_mse_mc,
    ensemble_mse_theory, mixture_loss_and_grad, mlp_loss_and_grad, parameter_counts, training_set,
};
use serde_json::{Value, json};

#[test]
fn simulated_ensemble_mse_is_within_four_standard_errors_of_theory() {
    // Theory c + (v − c)/k (Goodfellow et al. §7.11). Tolerance: 4 standard errors of the
    // Monte-Carlo mean (a false alarm once in ~16 000 checks), on a fixed seed.
    for &k in &[1usize, 2, 5, 16, 64] {
        for &rho in &[0.0, 0.3, 0.7, 1.0] {
            for &v in &[0.5, 2.0] {
                let t = ensemble_mse_theory(k, v, rho);
                let e = ensemble_mse_mc(k, v, rho, 20_000, 7);
                assert!(
                    (e.mean - t).abs() <= 4.0 * e.stderr,
                    "k {k} ρ {rho} v {v}: simulated {} ± {}, theory {t}",
                    e.mean,
                    e.stderr
                );
            }
        }
    }
    // The extremes: v/k and v.
    assert!((ensemble_mse_theory(16, 2.0, 0.0) - 0.125).abs() < 1e-15);
    assert!((ensemble_mse_theory(16, 2.0, 1.0) - 2.0).abs() < 1e-15);
}

#[test]
fn one_em_step_matches_numpy() {
    // NumPy (Bishop eqs. 9.23–9.27), independent of our code:
    //   xs = np.array([-2.1, -1.7, -0.3, 0.4, 1.2, 1.9, 2.5])
    //   w = np.array([.5, .5]); mu = np.array([-1., 1.]); sd = np.array([1., 1.])
    //   p = w*np.exp(-0.5*((xs[:,None]-mu)/sd)**2)/(sd*np.sqrt(2*np.pi))
    //   ll = np.mean(np.log(p.sum(1))); g = p/p.sum(1, keepdims=True); N = g.sum(0)
    //   mu2 = (g*xs[:,None]).sum(0)/N; sd2 = np.sqrt((g*(xs[:,None]-mu2)**2).sum(0)/N); w2 = N/7
    let xs = [-2.1, -1.7, -0.3, 0.4, 1.2, 1.9, 2.5];
    let g = Gmm {
        weights: vec![0.5, 0.5],
        means: vec![-1.0, 1.0],
        sds: vec![1.0, 1.0],
    };
    assert!((g.mean_log_likelihood(&xs) - -1.876_803_276_817_704_3).abs() < 1e-12);
    let n = g.em_step(&xs);
    let want_w = [0.431_479_878_151_542_54, 0.568_520_121_848_457_6];
    let want_mu = [-1.200_401_996_372_418_8, 1.388_478_346_183_540_4];
    let want_sd = [1.019_221_135_708_486_6, 0.962_654_153_445_798];
    for i in 0..2 {
        assert!((n.weights[i] - want_w[i]).abs() < 1e-12, "weight {i}");
        assert!((n.means[i] - want_mu[i]).abs() < 1e-12, "mean {i}");
        assert!((n.sds[i] - want_sd[i]).abs() < 1e-12, "sd {i}");
    }
}

#[test]
fn em_never_lowers_the_likelihood_and_finds_the_components() {
    for seed in 0..5u64 {
        let truth = Gmm {
            weights: vec![0.3, 0.5, 0.2],
            means: vec![-3.0, 0.5, 3.5],
            sds: vec![0.5, 0.8, 0.4],
        };
        let xs = truth.sample(3000, seed);
        let mut g = Gmm::em_start(&xs, 3);
        let mut last = g.mean_log_likelihood(&xs);
        for step in 0..200 {
            g = g.em_step(&xs);
            let ll = g.mean_log_likelihood(&xs);
            assert!(ll >= last - 1e-10, "seed {seed} step {step}: {ll} < {last}");
            last = ll;
        }
        let mut means = g.means.clone();
        means.sort_by(f64::total_cmp);
        for (m, want) in means.iter().zip([-3.0, 0.5, 3.5]) {
            assert!((m - want).abs() < 0.1, "seed {seed}: means {means:?}");
        }
    }
}

/// Central differences in f64 of a loss over f32 parameters, against the analytic gradient:
/// every entry within 2e-3 of the largest.
fn check_grad(p: &[f32], analytic: &[f32], loss: impl Fn(&[f32]) -> f64, what: &str) {
    let scale = analytic.iter().fold(0f32, |a, &b| a.max(b.abs())).max(1e-3);
    let mut q = p.to_vec();
    for i in 0..p.len() {
        let h = 1e-3f32;
        q[i] = p[i] + h;
        let up = loss(&q);
        q[i] = p[i] - h;
        let down = loss(&q);
        q[i] = p[i];
        let fd = (up - down) / (2.0 * f64::from(h));
        assert!(
            (fd - f64::from(analytic[i])).abs() <= 2e-3 * f64::from(scale),
            "{what}: parameter {i}: finite difference {fd}, backward {}",
            analytic[i]
        );
    }
}

#[test]
fn expert_and_gate_gradients_match_finite_differences() {
    let (xs, ys) = training_set(Target::SineKink, 3);
    let (xs, ys) = (&xs[..40], &ys[..40]);
    // One MLP.
    let run = ExpertsRun::new(3, 5, Routing::Soft, Target::SineKink, 3);
    let p: Vec<f32> = run.mixture_params()[..16].to_vec();
    let (_, g) = mlp_loss_and_grad(&p, 5, xs, ys);
    check_grad(&p, &g, |q| mlp_loss_and_grad(q, 5, xs, ys).0, "MLP");
    // The mixture, soft and top-1 (top-1: away from ties, the argmax does not move under h).
    let p = run.mixture_params().to_vec();
    for routing in [Routing::Soft, Routing::Top1] {
        let (_, g) = mixture_loss_and_grad(&p, 3, 5, routing, xs, ys);
        check_grad(
            &p,
            &g,
            |q| mixture_loss_and_grad(q, 3, 5, routing, xs, ys).0,
            "mixture",
        );
    }
    // The competitive objective (Jacobs et al. 1991).
    let (_, g) = mixture_loss_and_grad(&p, 3, 5, Routing::Competitive, xs, ys);
    check_grad(&p, &g, |q| competitive_loss(q, 3, 5, xs, ys), "competitive");
}

#[test]
fn training_is_deterministic_and_learns() {
    let train = || {
        let mut r = ExpertsRun::new(3, 8, Routing::Competitive, Target::Pieces, 0);
        for _ in 0..300 {
            r.train_step();
        }
        r
    };
    let (a, b) = (train(), train());
    assert_eq!(
        a.history, b.history,
        "the same seed gives the same run, bit for bit"
    );
    assert_eq!(a.mixture_params(), b.mixture_params());
    let (first, last) = (a.history[0], a.history[299]);
    assert!(last.1 < first.1 / 5.0, "ensemble: {first:?} → {last:?}");
    assert!(last.3 < first.3 / 5.0, "mixture: {first:?} → {last:?}");
}

#[test]
fn parameters_held_and_used() {
    // Expert 3h + 1 = 25 at h = 8; gate 2k.
    assert_eq!(parameter_counts(3, 8, Routing::Soft), (75, 75, 81, 81));
    assert_eq!(parameter_counts(3, 8, Routing::Top1), (75, 75, 81, 31));
}

#[test]
fn cross_entropy_facts_hold_exactly_and_the_logit_average_is_one_quieter_member() {
    // ln(1 + 9 e^−2), NumPy: np.log(1 + 9*np.exp(-2.0)) = 0.7966138010382245.
    assert!((ce_floor(10, 2.0) - 0.796_613_801_038_224_5).abs() < 1e-12);
    for &k in &[2usize, 8] {
        for &rho in &[0.0, 0.5, 1.0] {
            let r = ensemble_ce(k, rho, 1.0, 10, 2.0, 3000, 11);
            assert_eq!(r.jensen_violations, 0, "Jensen: k {k} ρ {rho}");
            assert!(r.prob_avg.mean <= r.member.mean && r.logit_avg.mean <= r.member.mean);
            if rho == 1.0 {
                assert!((r.prob_avg.mean - r.member.mean).abs() < 1e-9);
                assert!((r.logit_avg.mean - r.member.mean).abs() < 1e-9);
            }
            // z̄ has noise variance v(ρ + (1 − ρ)/k): the same loss as one member with that
            // noise (different draws: within 4 combined standard errors).
            let quiet = ensemble_ce(
                1,
                0.0,
                ensemble_mse_theory(k, 1.0, rho),
                10,
                2.0,
                20_000,
                99,
            );
            let tol = 4.0 * (r.logit_avg.stderr.powi(2) + quiet.member.stderr.powi(2)).sqrt();
            assert!(
                (r.logit_avg.mean - quiet.member.mean).abs() <= tol,
                "k {k} ρ {rho}: logit average {} vs one member {}",
                r.logit_avg.mean,
                quiet.member.mean
            );
        }
    }
}

fn lesson_data(sets: Value) -> Value {
    let mut lesson = all_lessons()
        .into_iter()
        .find(|l| l.info().id == "experts")
        .unwrap_or_else(|| panic!("no experts lesson"));
    let mut s = lesson.settings().to_json();
    if let (Some(obj), Some(new)) = (s.as_object_mut(), sets.as_object()) {
        for (k, v) in new {
            obj.insert(k.clone(), v.clone());
        }
    }
    lesson
        .settings()
        .set_json(s)
        .unwrap_or_else(|e| panic!("{e}"));
    lesson.data()
}

#[test]
fn data_has_every_table_and_bad_settings_are_named() {
    let d = lesson_data(json!({ "train_steps": 200, "em_steps": 10 }));
    assert_eq!(d["ensemble_mse"]["vs_k"].as_array().map(Vec::len), Some(7));
    assert_eq!(
        d["ensemble_mse"]["vs_rho"].as_array().map(Vec::len),
        Some(11)
    );
    assert_eq!(d["mixture"]["em"].as_array().map(Vec::len), Some(11));
    assert_eq!(d["experts"]["steps"], json!(200));
    assert_eq!(d["experts"]["gate"].as_array().map(Vec::len), Some(101));
    assert_eq!(
        d["cross_entropy"]["rows"].as_array().map(Vec::len),
        Some(11)
    );
    assert!((d["ensemble_mse"]["theory"].as_f64().unwrap_or(f64::NAN) - 0.3875).abs() < 1e-12);
    let mut lesson = all_lessons()
        .into_iter()
        .find(|l| l.info().id == "experts")
        .unwrap_or_else(|| panic!("no experts lesson"));
    for (key, bad, says) in [
        ("k", json!(0), "k must be between 1 and 64"),
        ("rho", json!(1.5), "rho must be between 0 and 1"),
        (
            "true_means",
            json!([1.0]),
            "true_means must be a list of 4 numbers",
        ),
        ("experts", json!(9), "experts must be between 2 and 6"),
        ("target", json!("zigzag"), "unknown variant"),
    ] {
        let mut s = lesson.settings().to_json();
        s[key] = bad;
        let err = lesson.settings().set_json(s).err().unwrap_or_default();
        assert!(err.contains(says), "{key}: {err}");
    }
}
