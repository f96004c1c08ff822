//! `attention-lab bench`: ms per training step (forward + backward + AdamW) and tokens/s, and the
//! latency of one forward pass of one sequence (batch 1, T = ctx), for the reference sizes; each
//! step's GFLOP/s against the cores' measured FMA peak (`engine::peak`); and, where PyTorch is
//! installed, the same model in PyTorch (`tools/torch_bench.py`, nanoGPT's way) timed in
//! alternating rounds in the same run, with the ratios PyTorch ms / ours ms.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::engine::gemm::Structure;
use crate::engine::pool;
use crate::inference::{Prepared, forward, worth_splitting};
use crate::model::GptConfig;
use crate::model::gpt::{Activations, Gpt, Params, gpt_forward};
use crate::model::optim::{AdamW, AdamWConfig, Gradient};
use crate::train::data_parallel::{Shards, forward_backward_unsummed, shard_count};

/// Arguments of `bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Seconds to spend timing each measurement (more than 0, at most 600).
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub seconds: f32,
    /// Only the configs whose name contains this.
    #[arg(long)]
    pub only: Option<String>,
    /// Instead of the table: each matrix product of one shard of the large config's training
    /// step, alone on one thread, in GFLOP/s and as a share of one thread's FMA peak.
    #[arg(long)]
    pub products: bool,
    /// Rounds against PyTorch (ours, then PyTorch, per config and round); 0 skips PyTorch.
    /// Without python3 and torch the comparison is skipped, and says so.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

/// (name, d, layers, heads, ctx, batch) of the reference table, plus the live lesson's
/// default bears model; vocabulary 65.
pub const CONFIGS: [(&str, usize, usize, usize, usize, usize); 5] = [
    ("tiny", 32, 1, 2, 16, 8),
    ("small", 64, 2, 4, 32, 16),
    ("medium", 128, 4, 4, 64, 16),
    ("large", 256, 4, 8, 128, 8),
    ("live", 64, 2, 4, 16, 16),
];

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct BenchRow {
    /// Median ms per training step.
    pub step_ms: f64,
    /// Tokens per second of training.
    pub tokens_per_sec: f64,
    /// Median ms of one forward pass of one sequence, inference as `bench` sets it up: the
    /// weights packed once ([`Prepared`]) and each layer cut over the cores when that pays.
    pub forward_ms: f64,
    /// Median ms of the same forward pass on one core, weights unpacked (`gpt_forward`, as
    /// the app runs it beside the training thread).
    pub forward_1core_ms: f64,
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v.get(v.len() / 2)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(f64::NAN)
}

/// Time one config.
pub fn bench_config(
    d: usize,
    layers: usize,
    heads: usize,
    ctx: usize,
    batch: usize,
    seconds: f32,
) -> BenchRow {
    let config = GptConfig {
        vocab_size: 65,
        n_layer: layers,
        n_head: heads,
        n_embd: d,
        block_size: ctx,
        ..GptConfig::default()
    };
    let mut rng = StdRng::seed_from_u64(0);
    let mut gpt = Gpt::new(config.clone(), &mut rng);
    let mut optim = AdamW::new(AdamWConfig::default(), &gpt.params);
    let mut grads = Params::zeros(&config);
    let mut acts = Activations::default();
    let n = batch * ctx;
    let tokens: Vec<usize> = (0..n).map(|_| rng.random_range(0..65)).collect();
    let targets: Vec<usize> = (0..n).map(|_| rng.random_range(0..65)).collect();
    // `run` checked 0 < seconds ≤ 600; a direct caller with anything else gets 0.1 s.
    let seconds = if seconds > 0.0 && seconds <= 600.0 {
        seconds
    } else {
        0.1
    };
    let budget = Duration::from_secs_f32(seconds);
    let mut steps = Vec::new();
    let mut shards = Shards::default();
    let mut sums = Vec::new();
    let k = shard_count(&gpt, batch, ctx, pool::threads());
    // On the pool, as the training worker runs its steps.
    pool::install(|| {
        let started = Instant::now();
        while (started.elapsed() < budget || steps.len() < 5) && steps.len() < 10_000 {
            let t0 = Instant::now();
            // As `Trainer::step` runs a step cut in shards: the pool's threads kept awake, two
            // shards' gradients added inside AdamW's passes.
            pool::awake_if(k >= 2, || {
                forward_backward_unsummed(
                    &gpt,
                    &mut shards,
                    &mut acts,
                    &tokens,
                    &targets,
                    batch,
                    ctx,
                    k,
                    true,
                    &mut grads,
                );
                shards
                    .gradient(k, batch, &grads)
                    .tensor_sums_into(&mut sums);
                let norm = Gradient::norm(&sums);
                optim.step_gradient(&mut gpt.params, shards.gradient(k, batch, &grads), norm);
                if k == 2 {
                    shards.parts_taken();
                }
            });
            steps.push(t0.elapsed());
        }
    });
    let step_ms = median(steps.split_off(steps.len().min(2)));
    // The two forwards alternate in 8 rounds, so that both see the same machine; a round is
    // long, so that the pool's other thread is awake (as it is while forwards follow each
    // other) except at the start of each.
    let (mut fwd, mut fwd1) = (Vec::new(), Vec::new());
    let mut acts1 = Activations::default();
    let prepared = Prepared::new(&gpt);
    let split = worth_splitting(&gpt, ctx);
    let round = budget / 16;
    let tok = &tokens[..ctx];
    pool::install(|| {
        for _ in 0..8 {
            let started = Instant::now();
            while (started.elapsed() < round || fwd.len() < 5) && fwd.len() < 100_000 {
                let t0 = Instant::now();
                forward(&prepared, &mut acts1, tok, 1, ctx, split);
                fwd.push(t0.elapsed());
            }
            let started = Instant::now();
            while (started.elapsed() < round || fwd1.len() < 5) && fwd1.len() < 100_000 {
                let t0 = Instant::now();
                gpt_forward(&gpt, &mut acts1, tok, None, 1, ctx, false);
                fwd1.push(t0.elapsed());
            }
        }
    });
    BenchRow {
        step_ms,
        tokens_per_sec: n as f64 / (step_ms / 1000.0),
        forward_ms: median(fwd),
        forward_1core_ms: median(fwd1),
    }
}

/// Floating-point operations of one training step, as nanoGPT's `estimate_mfu` counts them:
/// 6 per parameter per token (2 forward, 4 backward; the position table, a lookup, excluded)
/// plus 12·L·d·T per token for the attention products, counted in full (our kernels skip the
/// masked half, so this slightly overstates the work we do).
pub fn step_flops(d: usize, layers: usize, ctx: usize, batch: usize) -> f64 {
    let config = GptConfig {
        vocab_size: 65,
        n_layer: layers,
        n_embd: d,
        block_size: ctx,
        ..GptConfig::default()
    };
    let params = Params::zeros(&config);
    let positions = params.wpe.as_ref().map_or(0, |w| w.len());
    let n = (params.count() - positions) as f64;
    let per_token = 6.0 * n + 12.0 * (layers * d * ctx) as f64;
    per_token * (batch * ctx) as f64
}

/// Where `tools/torch_bench.py` is: beside the sources this binary was built from, else under
/// the current directory.
fn torch_script() -> Option<std::path::PathBuf> {
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/torch_bench.py");
    let here = std::path::PathBuf::from("tools/torch_bench.py");
    [built, here].into_iter().find(|p| p.is_file())
}

/// PyTorch's (ms/step, fwd ms) for one config, or why not.
fn torch_row(script: &std::path::Path, name: &str, seconds: f32) -> Result<(f64, f64), String> {
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(format!("{seconds}"))
        .args(["--only", name])
        .output()
        .map_err(|e| format!("python3 did not start: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("no message");
        return Err(format!("tools/torch_bench.py failed: {last}"));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name) && f.len() >= 4)
        .ok_or_else(|| format!("no row \"{name}\" in tools/torch_bench.py's output"))?;
    let num = |s: &str| {
        s.parse::<f64>()
            .map_err(|e| format!("\"{s}\" in PyTorch's row: {e}"))
    };
    Ok((num(row[1])?, num(row[3])?))
}

/// The median and range of ratios, "median (lo–hi)".
fn ratio_summary(r: &[f64]) -> String {
    let mut v: Vec<f64> = r.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return "—".into();
    }
    v.sort_by(f64::total_cmp);
    format!("{:.2}× ({:.2}–{:.2})", v[v.len() / 2], v[0], v[v.len() - 1])
}

/// Is PyTorch importable by python3 (and the script found)? The script, or why not.
fn torch_available() -> Result<std::path::PathBuf, String> {
    let script = torch_script().ok_or("tools/torch_bench.py is not found")?;
    let ok = std::process::Command::new("python3")
        .args(["-c", "import torch"])
        .output()
        .map_err(|e| format!("python3 did not start: {e}"))?;
    if ok.status.success() {
        Ok(script)
    } else {
        Err("python3 cannot import torch (pip install torch)".into())
    }
}

/// The products of one shard (4 sequences of 128 tokens, N = 512) of the large config's training
/// step (d = 256, 8 heads of 32, vocabulary 65): (what, m, k, n, A transposed, B transposed,
/// structure, times per step). "Aᵀ" / "Bᵀ": the operand is a transposed view (strided), as the
/// layer passes it.
/// (what, m, k, n, A transposed, B transposed, structure, times per step).
type ProductShape = (
    &'static str,
    usize,
    usize,
    usize,
    bool,
    bool,
    Structure,
    usize,
);

#[rustfmt::skip] // one product per line, as the table reads
const LARGE_PRODUCTS: [ProductShape; 21] = [
    ("qkv = x·W_attnᵀ", 512, 256, 768, false, true, Structure::General, 4),
    ("scores = Q·Kᵀ /head", 128, 32, 128, false, true, Structure::LowerC, 128),
    ("y = att·V /head", 128, 128, 32, false, false, Structure::LowerA, 128),
    ("out = y·W_Oᵀ", 512, 256, 256, false, true, Structure::General, 4),
    ("fc = x·W_fcᵀ", 512, 256, 1024, false, true, Structure::General, 4),
    ("proj = h·W_projᵀ", 512, 1024, 256, false, true, Structure::General, 4),
    ("logits = x·wteᵀ", 512, 256, 65, false, true, Structure::General, 1),
    ("dx = dlogits·wte", 512, 65, 256, false, false, Structure::General, 1),
    ("dwte = dlogitsᵀ·x", 65, 512, 256, true, false, Structure::General, 1),
    ("dh = dproj·W_proj", 512, 256, 1024, false, false, Structure::General, 4),
    ("dW_proj = dprojᵀ·h", 256, 512, 1024, true, false, Structure::General, 4),
    ("dx = dfc·W_fc", 512, 1024, 256, false, false, Structure::General, 4),
    ("dW_fc = dfcᵀ·x", 1024, 512, 256, true, false, Structure::General, 4),
    ("dy = dout·W_O", 512, 256, 256, false, false, Structure::General, 4),
    ("dW_O = doutᵀ·y", 256, 512, 256, true, false, Structure::General, 4),
    ("datt = dy·Vᵀ /head", 128, 32, 128, false, true, Structure::LowerC, 128),
    ("dV = attᵀ·dy /head", 128, 128, 32, true, false, Structure::UpperA, 128),
    ("dQ = dS·K /head", 128, 128, 32, false, false, Structure::LowerA, 128),
    ("dK = dSᵀ·Q /head", 128, 128, 32, true, false, Structure::UpperA, 128),
    ("dx = dqkv·W_attn", 512, 768, 256, false, false, Structure::General, 4),
    ("dW_attn = dqkvᵀ·x", 768, 512, 256, true, false, Structure::General, 4),
];

/// `bench --products`: [`LARGE_PRODUCTS`] one by one on this thread.
fn products(seconds: f32) -> ExitCode {
    use crate::engine::gemm::gemm_structured;
    let peak = crate::engine::peak::fma_peak(1, Duration::from_secs_f32(seconds.min(1.0)));
    let header = format!(
        "one shard of the large step's products, each alone on one thread; one thread's FMA peak: {}\n{:<26} {:>5} {:>5} {:>5} {:>8} {:>9} {:>7} {:>9}",
        peak.map_or("not measured".to_owned(), |p| format!(
            "{:.1} GFLOP/s",
            p / 1e9
        )),
        "product",
        "m",
        "k",
        "n",
        "µs",
        "GFLOP/s",
        "% peak",
        "ms/step"
    );
    let status = super::print_stdout(&header);
    if status != ExitCode::SUCCESS {
        return status;
    }
    let budget = Duration::from_secs_f32(seconds / LARGE_PRODUCTS.len() as f32);
    let mut total_ms = 0.0;
    for (what, m, k, n, ta, tb, structure, times) in LARGE_PRODUCTS {
        let fill = |r: usize, c: usize| {
            ndarray::Array2::from_shape_fn((r, c), |(i, j)| {
                ((i * 7 + j * 3) % 11) as f32 * 0.1 - 0.5
            })
        };
        // Stored so that the view the product gets is transposed when asked.
        let a_store = if ta { fill(k, m) } else { fill(m, k) };
        let b_store = if tb { fill(n, k) } else { fill(k, n) };
        let a = if ta { a_store.t() } else { a_store.view() };
        let b = if tb { b_store.t() } else { b_store.view() };
        let mut c = ndarray::Array2::<f32>::zeros((m, n));
        let mut times_us = Vec::new();
        let started = Instant::now();
        while (started.elapsed() < budget || times_us.len() < 5) && times_us.len() < 100_000 {
            let t0 = Instant::now();
            gemm_structured(1.0, a, b, 0.0, c.view_mut(), structure);
            times_us.push(t0.elapsed());
        }
        let ms = median(times_us);
        // Full products' operations (the triangular ones do about half of them).
        let gflops = 2.0 * (m * k * n) as f64 / (ms / 1000.0) / 1e9;
        let share = peak.map_or("—".to_owned(), |p| {
            format!("{:.0} %", 100.0 * gflops * 1e9 / p)
        });
        let line = format!(
            "{what:<26} {m:>5} {k:>5} {n:>5} {:>8.1} {gflops:>9.1} {share:>7} {:>9.2}",
            ms * 1000.0,
            ms * times as f64
        );
        total_ms += ms * times as f64;
        let status = super::print_stdout(&line);
        if status != ExitCode::SUCCESS {
            return status;
        }
    }
    super::print_stdout(&format!(
        "all products of one shard's step: {total_ms:.1} ms (\"ms/step\": the product's time × how often one shard's step runs it; the triangular products' GFLOP/s count the full product)"
    ))
}

/// Run `bench`.
pub fn run(args: &BenchArgs) -> ExitCode {
    if !(args.seconds > 0.0 && args.seconds <= 600.0) {
        return super::usage_error(&format!(
            "--seconds must be more than 0 and at most 600, got {}",
            crate::model::config::number(f64::from(args.seconds))
        ));
    }
    if let Some(o) = &args.only
        && !CONFIGS.iter().any(|c| c.0.contains(o.as_str()))
    {
        let names: Vec<&str> = CONFIGS.iter().map(|c| c.0).collect();
        return super::usage_error(&format!(
            "--only \"{}\" matches no config; the configs are {}",
            crate::lessons::overrides::echo(o),
            names.join(", ")
        ));
    }
    if args.products {
        return products(args.seconds);
    }
    let threads = pool::threads();
    let peak =
        crate::engine::peak::fma_peak(threads, Duration::from_secs_f32(args.seconds.min(2.0)));
    let peak_text = peak.map_or("no AVX2: not measured".to_owned(), |p| {
        format!("{:.0} GFLOP/s", p / 1e9)
    });
    let status = super::print_stdout(&format!(
        "training step = forward + backward + AdamW; forward = one sequence (batch 1, T = ctx); vocab 65\n\
         FMA peak of {threads} thread(s) together, registers only: {peak_text} now (\"% peak\": of the peak \
         measured just before and after each row); step GFLOP counted as nanoGPT's estimate_mfu counts them\n\
         {:<8} {:>4} {:>3} {:>3} {:>4} {:>5} {:>10} {:>12} {:>11} {:>11} {:>8} {:>6}",
        "config",
        "d",
        "L",
        "H",
        "ctx",
        "batch",
        "ms/step",
        "tokens/s",
        "fwd ms",
        "fwd 1 core",
        "GFLOP/s",
        "% peak"
    ));
    if status != ExitCode::SUCCESS {
        return status;
    }
    let selected: Vec<_> = CONFIGS
        .iter()
        .filter(|c| args.only.as_deref().is_none_or(|o| c.0.contains(o)))
        .collect();
    let torch = if args.rounds == 0 {
        Err("--rounds 0".to_owned())
    } else {
        torch_available()
    };
    // Per config: (ours step, ours fwd, PyTorch step, PyTorch fwd) of each round.
    let mut rounds: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new(); selected.len()];
    let total_rounds = if torch.is_ok() { args.rounds } else { 1 };
    for round in 0..total_rounds {
        if total_rounds > 1 {
            let status = super::print_stdout(&format!("round {} of {total_rounds}", round + 1));
            if status != ExitCode::SUCCESS {
                return status;
            }
        }
        for (i, &&(name, d, l, h, ctx, b)) in selected.iter().enumerate() {
            // The peak measured just before and just after this config's timing (this
            // machine's speed drifts within minutes), averaged.
            let around = Duration::from_secs_f32((args.seconds / 4.0).min(0.5));
            let before = crate::engine::peak::fma_peak(threads, around);
            let r = bench_config(d, l, h, ctx, b, args.seconds);
            let after = crate::engine::peak::fma_peak(threads, around);
            let local_peak = before.zip(after).map(|(x, y)| (x + y) / 2.0);
            let gflops = step_flops(d, l, ctx, b) / (r.step_ms / 1000.0) / 1e9;
            let share = local_peak.map_or("—".to_owned(), |p| {
                format!("{:.0} %", 100.0 * gflops * 1e9 / p)
            });
            let mut line = format!(
                "{name:<8} {d:>4} {l:>3} {h:>3} {ctx:>4} {b:>5} {:>10.3} {:>12.0} {:>11.4} {:>11.4} {gflops:>8.1} {share:>6}",
                r.step_ms, r.tokens_per_sec, r.forward_ms, r.forward_1core_ms
            );
            if let Ok(script) = &torch
                && CONFIGS[..4].iter().any(|c| c.0 == name)
            {
                match torch_row(script, name, args.seconds) {
                    Ok((ts, tf)) => {
                        rounds[i].push((r.step_ms, r.forward_ms, ts, tf));
                        line += &format!(
                            "   PyTorch {ts:.3} ms/step, fwd {tf:.4} ms: ratio {:.2}× step, {:.2}× fwd",
                            ts / r.step_ms,
                            tf / r.forward_ms
                        );
                    }
                    Err(e) => line += &format!("   PyTorch: {e}"),
                }
            }
            let status = super::print_stdout(&line);
            if status != ExitCode::SUCCESS {
                return status;
            }
        }
    }
    let summary = match &torch {
        Err(why) => format!("PyTorch not compared: {why}"),
        Ok(_) => {
            let mut t = format!(
                "PyTorch (tools/torch_bench.py: nanoGPT's model, SDPA attention, AdamW) against ours, {total_rounds} alternating round(s); ratio = PyTorch ms / ours ms, above 1 = we are faster; median (range)\n{:<8} {:>24} {:>24}",
                "config", "training step", "forward"
            );
            for (&&(name, ..), r) in selected.iter().zip(&rounds) {
                if r.is_empty() {
                    continue;
                }
                let step: Vec<f64> = r.iter().map(|x| x.2 / x.0).collect();
                let fwd: Vec<f64> = r.iter().map(|x| x.3 / x.1).collect();
                t += &format!(
                    "\n{name:<8} {:>24} {:>24}",
                    ratio_summary(&step),
                    ratio_summary(&fwd)
                );
            }
            t
        }
    };
    let status = super::print_stdout(&summary);
    if status != ExitCode::SUCCESS {
        return status;
    }
    ExitCode::SUCCESS
}
