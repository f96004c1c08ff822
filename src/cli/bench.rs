//! `attention-lab bench`: ms per training step (forward + backward + AdamW) and tokens/s, and the
//! latency of one forward pass of one sequence (batch 1, T = ctx), for the reference sizes.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::engine::pool;
use crate::inference::{Prepared, forward, worth_splitting};
use crate::model::GptConfig;
use crate::model::gpt::{Activations, Gpt, Params, gpt_forward};
use crate::model::optim::{AdamW, AdamWConfig};
use crate::train::data_parallel::{Shards, forward_backward, shard_count};

/// Arguments of `bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Seconds to spend timing each measurement (more than 0, at most 600).
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub seconds: f32,
    /// Only the configs whose name contains this.
    #[arg(long)]
    pub only: Option<String>,
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
    let k = shard_count(&gpt, batch, ctx, pool::threads());
    // On the pool, as the training worker runs its steps.
    pool::install(|| {
        let started = Instant::now();
        while (started.elapsed() < budget || steps.len() < 5) && steps.len() < 10_000 {
            let t0 = Instant::now();
            forward_backward(
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
            optim.step(&mut gpt.params, &grads);
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
    let status = super::print_stdout(&format!(
        "training step = forward + backward + AdamW; forward = one sequence (batch 1, T = ctx); vocab 65\n{:<8} {:>4} {:>3} {:>3} {:>4} {:>5} {:>10} {:>12} {:>11} {:>11}",
        "config", "d", "L", "H", "ctx", "batch", "ms/step", "tokens/s", "fwd ms", "fwd 1 core"
    ));
    if status != ExitCode::SUCCESS {
        return status;
    }
    for (name, d, l, h, ctx, b) in CONFIGS {
        if args.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let r = bench_config(d, l, h, ctx, b, args.seconds);
        let status = super::print_stdout(&format!(
            "{name:<8} {d:>4} {l:>3} {h:>3} {ctx:>4} {b:>5} {:>10.3} {:>12.0} {:>11.4} {:>11.4}",
            r.step_ms, r.tokens_per_sec, r.forward_ms, r.forward_1core_ms
        ));
        if status != ExitCode::SUCCESS {
            return status;
        }
    }
    ExitCode::SUCCESS
}
