//! Soak benchmark: the live lesson's training left running, its memory sampled.
//!
//! `cargo bench --bench soak [-- SECONDS]` (default 600): the bundled bears model trains on the
//! worker thread with the replay probe recording, while this thread plays the UI — 60 times a
//! second it asks for the weights, merges the updates and reads the prompt off the model, as the
//! live lesson does. The process's resident memory (RSS, from /proc/self/statm) is sampled every
//! 10 s; after a minute of warm-up it must stay within 10 % of its first sample. Prints every
//! sample and a verdict; exits 1 if memory grew.

use std::time::{Duration, Instant};

use attention_lab::math::readout::{analyze, prompt_view};
use attention_lab::train::{Command, TrainConfig, Worker};

fn rss_mb() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0 / 1e6)
}

fn main() {
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(600);
    let warmup = Duration::from_secs(60.min(seconds / 4));
    let (gpt, tokenizer) = match attention_lab::pretrained::bears() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("soak: the bundled model did not load: {e}");
            std::process::exit(1);
        }
    };
    let config = TrainConfig {
        model: gpt.config.clone(),
        ..TrainConfig::default()
    };
    let mut worker = match Worker::spawn("soak", config, Some(gpt.clone()), || {}) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(1);
        }
    };
    let view = prompt_view(
        &tokenizer,
        "she bears the pain of the game",
        gpt.config.block_size,
    );
    worker.send(Command::SetProbe(view.ids.clone()));
    worker.send(Command::Play);
    println!(
        "soak: {seconds} s of live training with replay on; RSS every 10 s (warm-up {} s)",
        warmup.as_secs()
    );
    let start = Instant::now();
    let mut next_sample = Duration::ZERO;
    let mut samples: Vec<(u64, f64)> = Vec::new();
    while start.elapsed() < Duration::from_secs(seconds) {
        worker.request_model();
        let snap = worker.poll().clone();
        let a = analyze(&snap.gpt, &view.ids);
        std::hint::black_box(&a);
        if start.elapsed() >= next_sample {
            let rss = rss_mb().unwrap_or(f64::NAN);
            let t = start.elapsed().as_secs();
            println!(
                "t {t:>5} s  step {:>8}  history {:>7} points  probe {:>4} frames  RSS {rss:7.1} MB",
                snap.step,
                snap.history.len(),
                snap.probe.1.len()
            );
            samples.push((t, rss));
            next_sample += Duration::from_secs(10);
        }
        std::thread::sleep(Duration::from_millis(16));
    }
    worker.send(Command::Pause);
    let after: Vec<f64> = samples
        .iter()
        .filter(|(t, _)| *t >= warmup.as_secs())
        .map(|(_, r)| *r)
        .collect();
    let (Some(&first), Some(max)) = (after.first(), after.iter().copied().reduce(f64::max)) else {
        println!("soak: too short to judge");
        return;
    };
    let growth = max / first - 1.0;
    println!(
        "soak: after warm-up RSS {first:.1} MB → at most {max:.1} MB ({:+.1} %): {}",
        100.0 * growth,
        if growth <= 0.10 {
            "flat (within 10 %)"
        } else {
            "GREW"
        }
    );
    if growth > 0.10 {
        std::process::exit(1);
    }
}
