//! Lesson "Ensembles and mixtures of experts": an ensemble averages predictors and helps as much
//! as their mistakes are uncorrelated (c + (v − c)/k); a mixture of experts is a conditional
//! ensemble whose gate hands each part of the input to one expert, rooted in the mixture of
//! Gaussians; and the lecture's open question — what the best and worst cases become under
//! cross-entropy — answered by simulation.
//!
//! Math: `math::experts` (theory, Monte-Carlo, EM, the experts' forward and backward, the
//! cross-entropy simulation). One file per section.

mod cross_entropy;
mod ensemble;
mod gate;
mod mixture;
pub mod settings;

use serde_json::{Value, json};

use crate::lessons::common::background::Steps;
use crate::lessons::lesson::{Lesson, LessonInfo, LessonSettings, Sectioned};
use crate::math::experts::{
    CeRow, EnsembleCe, Estimate, ExpertsRun, Gmm, ce_floor, ensemble_mse_mc, ensemble_mse_theory,
    parameter_counts,
};
pub use settings::ExpertsSettings;

/// Monte-Carlo draws per point of section 1.
pub const MSE_TRIALS: usize = 4000;
/// Monte-Carlo draws per point of section 4.
pub const CE_TRIALS: usize = 2000;
/// The k of section 1's first figure.
pub const K_GRID: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];
/// Points of the fitted curves of section 3 and of `data`.
pub const GRID_POINTS: usize = 101;

/// The lesson, for the registry.
pub fn lesson() -> Box<dyn Lesson> {
    Box::new(Sectioned::new(
        LessonInfo {
            id: "experts",
            title: "Ensembles and mixtures of experts",
            summary: "Averaging k predictors removes the part of their error they do not share: c + (v − c)/k. A mixture of experts is a conditional ensemble — a gate hands each input to the experts responsible for it. And what changes when the loss is cross-entropy?",
        },
        vec![
            Box::new(ensemble::EnsembleError::default()),
            Box::new(mixture::MixtureOfGaussians::default()),
            Box::new(gate::ExpertsAndGate::default()),
            Box::new(cross_entropy::CrossEntropy::default()),
        ],
        data,
    ))
}

/// ρ = 0, 0.1, …, 1: the x axis of the figures against correlation.
pub fn rho_grid() -> Vec<f64> {
    (0..=10).map(|i| f64::from(i) / 10.0).collect()
}

/// One point of section 1: (k or ρ, theory, simulation).
pub type MsePoint = (f64, f64, Estimate);

/// The averaged MSE against k at (v, ρ), theory and simulation.
pub fn mse_vs_k(v: f64, rho: f64, seed: u64) -> Vec<MsePoint> {
    mse_points_vs_k(v, rho, seed).collect()
}

/// [`mse_vs_k`]'s points, each computed when it is taken (a part of the section's job).
pub fn mse_points_vs_k(v: f64, rho: f64, seed: u64) -> impl Iterator<Item = MsePoint> + Send {
    K_GRID.iter().map(move |&k| {
        (
            k as f64,
            ensemble_mse_theory(k, v, rho),
            ensemble_mse_mc(k, v, rho, MSE_TRIALS, seed.wrapping_add(k as u64)),
        )
    })
}

/// The averaged MSE against ρ at (k, v), theory and simulation.
pub fn mse_vs_rho(k: usize, v: f64, seed: u64) -> Vec<MsePoint> {
    mse_points_vs_rho(k, v, seed).collect()
}

/// [`mse_vs_rho`]'s points, each computed when it is taken (a part of the section's job).
pub fn mse_points_vs_rho(k: usize, v: f64, seed: u64) -> impl Iterator<Item = MsePoint> + Send {
    rho_grid().into_iter().enumerate().map(move |(i, rho)| {
        (
            rho,
            ensemble_mse_theory(k, v, rho),
            ensemble_mse_mc(k, v, rho, MSE_TRIALS, seed.wrapping_add(100 + i as u64)),
        )
    })
}

/// The mixture the samples of section 2 are drawn from.
pub fn true_mixture(s: &ExpertsSettings) -> Gmm {
    let n = s.true_components.clamp(1, settings::MAX_COMPONENTS);
    Gmm {
        weights: s.true_weights.iter().take(n).copied().collect(),
        means: s.true_means.iter().take(n).copied().collect(),
        sds: s.true_sds.iter().take(n).copied().collect(),
    }
    .normalised()
}

/// Section 2's samples.
pub fn mixture_samples(s: &ExpertsSettings) -> Vec<f64> {
    true_mixture(s).sample(s.samples, s.seed)
}

/// EM from its starting point: the fit after each of `steps` steps (the start first).
pub fn em_fits(samples: &[f64], components: usize, steps: usize) -> Vec<Gmm> {
    let mut fits = vec![Gmm::em_start(samples, components)];
    for _ in 0..steps {
        let next = fits[fits.len() - 1].em_step(samples);
        fits.push(next);
    }
    fits
}

/// Section 4's table at (k, v, V, m): one row per ρ of [`rho_grid`].
pub fn ce_table(k: usize, v: f64, classes: usize, margin: f64, seed: u64) -> Vec<CeRow> {
    let mut job = ce_table_in_steps(k, v, classes, margin, seed);
    loop {
        if let Some(table) = job() {
            return table;
        }
    }
}

/// Normal draws per piece of [`ce_table_in_steps`]: about a millisecond of work in the browser.
const PIECE_DRAWS: usize = 20_000;

/// [`ce_table`] a piece at a time (about `PIECE_DRAWS` normal draws each), for a frame
/// without threads: at k = 64 members and V = 100 classes the table is 140 million draws,
/// seconds of work. The same table, bit for bit ([`EnsembleCe`]).
pub fn ce_table_in_steps(
    k: usize,
    v: f64,
    classes: usize,
    margin: f64,
    seed: u64,
) -> Steps<Vec<CeRow>> {
    let rhos = rho_grid();
    let per_trial = (k.max(1) + 1) * classes.max(2);
    let per_piece = (PIECE_DRAWS / per_trial).max(1);
    let mut rows = Vec::with_capacity(rhos.len());
    let mut run: Option<EnsembleCe> = None;
    Box::new(move || {
        let i = rows.len();
        let rho = *rhos.get(i)?;
        let r = run.get_or_insert_with(|| {
            EnsembleCe::new(k, rho, v, classes, margin, seed.wrapping_add(i as u64))
        });
        r.advance(per_piece.min(CE_TRIALS - r.trials()));
        if r.trials() == CE_TRIALS {
            rows.push(r.finish());
            run = None;
        }
        (rows.len() == rhos.len()).then(|| std::mem::take(&mut rows))
    })
}

/// The members k and variance v sliders of sections 1 and 4 (`v_name`: what v is there).
pub fn k_and_v_sliders(ui: &mut egui::Ui, s: &mut ExpertsSettings, v_name: &str) {
    use crate::widgets::plots::labelled;
    labelled(ui, "members k", |ui| {
        ui.add(egui::Slider::new(&mut s.k, 1..=64).logarithmic(true))
    });
    labelled(ui, v_name, |ui| {
        ui.add(egui::Slider::new(&mut s.v, 0.01..=10.0).logarithmic(true))
    });
}

/// The x grid of section 3's curves: [−1, 1].
pub fn x_grid() -> Vec<f32> {
    (0..GRID_POINTS)
        .map(|i| -1.0 + 2.0 * i as f32 / (GRID_POINTS - 1) as f32)
        .collect()
}

/// Section 3's run, trained for `steps` full-batch steps (deterministic for the settings).
pub fn trained_run(s: &ExpertsSettings, steps: usize) -> ExpertsRun {
    let mut run = ExpertsRun::new(s.experts, s.hidden, s.routing, s.target, s.seed);
    for _ in 0..steps {
        run.train_step();
    }
    run
}

fn est(e: &Estimate) -> Value {
    json!({ "mean": e.mean, "stderr": e.stderr })
}

fn gmm_json(g: &Gmm) -> Value {
    json!({ "weights": g.weights, "means": g.means, "sds": g.sds })
}

fn data(s: &ExpertsSettings) -> Value {
    let vs_k: Vec<Value> = mse_vs_k(s.v, s.rho, s.seed)
        .iter()
        .map(|(k, t, e)| json!({ "k": k, "theory": t, "simulated": est(e) }))
        .collect();
    let vs_rho: Vec<Value> = mse_vs_rho(s.k, s.v, s.seed)
        .iter()
        .map(|(r, t, e)| json!({ "rho": r, "theory": t, "simulated": est(e) }))
        .collect();
    let samples = mixture_samples(s);
    let truth = true_mixture(s);
    let fits = em_fits(&samples, s.fit_components, s.em_steps);
    let em: Vec<Value> = fits
        .iter()
        .enumerate()
        .map(|(i, g)| {
            json!({ "step": i, "mixture": gmm_json(g), "mean_log_likelihood": g.mean_log_likelihood(&samples) })
        })
        .collect();
    let run = trained_run(s, s.train_steps);
    let xs = x_grid();
    let mix = run.mixture(&xs);
    let (eh, eu, mh, mu) = parameter_counts(s.experts, s.hidden, s.routing);
    let last = run.history.last().copied();
    let floor = ce_floor(s.classes, s.margin);
    let ce: Vec<Value> = ce_table(s.k, s.v, s.classes, s.margin, s.seed)
        .iter()
        .map(|r| {
            json!({
                "rho": r.rho,
                "member": est(&r.member),
                "prob_avg": est(&r.prob_avg),
                "logit_avg": est(&r.logit_avg),
                "jensen_violations": r.jensen_violations,
                "mse_fraction_theory": ensemble_mse_theory(s.k, 1.0, r.rho),
            })
        })
        .collect();
    json!({
        "settings": s.to_json(),
        "ensemble_mse": {
            "k": s.k, "v": s.v, "rho": s.rho, "trials": MSE_TRIALS,
            "theory": ensemble_mse_theory(s.k, s.v, s.rho),
            "vs_k": vs_k,
            "vs_rho": vs_rho,
        },
        "mixture": {
            "true": gmm_json(&truth),
            "samples": samples.len(),
            "true_mean_log_likelihood": truth.mean_log_likelihood(&samples),
            "em": em,
        },
        "experts": {
            "target": s.target,
            "routing": s.routing,
            "experts": s.experts,
            "hidden": s.hidden,
            "steps": run.step,
            "params": { "ensemble_held": eh, "ensemble_used": eu, "mixture_held": mh, "mixture_used_per_input": mu },
            "final_mse": last.map(|(_, e, m, x)| json!({ "ensemble": e, "average_member": m, "mixture": x })),
            "x": xs,
            "truth": xs.iter().map(|&x| s.target.eval(f64::from(x))).collect::<Vec<_>>(),
            "ensemble": run.ensemble(&xs),
            "mixture": mix.y.to_vec(),
            "gate": mix.gate.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
            "expert_outputs": mix.experts.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        },
        "cross_entropy": {
            "k": s.k, "v": s.v, "classes": s.classes, "margin": s.margin, "trials": CE_TRIALS,
            "floor": floor,
            "rows": ce,
        },
    })
}
