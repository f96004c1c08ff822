//! Headless frame benchmark: for every lesson, the CPU time of one frame (egui pass + tessellation,
//! no GPU) at default settings, with the pointer sweeping over the lesson so hover paths run too.
//!
//! Run: `cargo bench --bench frames` (prints a table; targets: median ≤ 4 ms, p99 ≤ 12 ms).

use std::time::{Duration, Instant};

use attention_lab::app::{LabApp, StartOptions};
use attention_lab::lessons::all_lessons;
use egui::{Event, Pos2, RawInput, Rect, vec2};

const WARMUP: usize = 30;
const FRAMES: usize = 400;

fn main() {
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    // Start-up of the live lesson: the pretrained model loaded and its worker running.
    let t0 = Instant::now();
    let started = attention_lab::pretrained::bears().and_then(|(gpt, _)| {
        let mut config = attention_lab::train::TrainConfig::default();
        config.model = gpt.config.clone();
        attention_lab::train::Worker::spawn("bench", config, Some(gpt), || {})
    });
    println!(
        "live lesson start-up (pretrained model loaded, worker running): {:.1} ms{}",
        t0.elapsed().as_secs_f64() * 1000.0,
        if started.is_ok() { "" } else { " — FAILED" }
    );
    drop(started);
    println!(
        "frame benchmark: {FRAMES} frames per lesson at 1280 × 800, pointer sweeping the lesson area"
    );
    println!(
        "{:<14} {:>10} {:>10} {:>10}",
        "lesson", "median ms", "p99 ms", "max ms"
    );
    let mut worst = (0.0_f64, 0.0_f64);
    for lesson in all_lessons() {
        let id = lesson.info().id;
        if filter.as_deref().is_some_and(|f| !id.contains(f)) {
            continue;
        }
        let (median, p99, max) = bench_lesson(id, false);
        worst = (worst.0.max(median), worst.1.max(p99));
        println!("{id:<14} {median:>10.3} {p99:>10.3} {max:>10.3}");
        if id == "live" {
            // The same lesson while the worker trains (`--play`): the UI shares the 2 cores.
            let (median, p99, max) = bench_lesson(id, true);
            worst = (worst.0.max(median), worst.1.max(p99));
            println!(
                "{:<14} {median:>10.3} {p99:>10.3} {max:>10.3}",
                "live+training"
            );
        }
    }
    // Every section of the computed lessons at its slider extremes (largest sizes), and every
    // section of the attention and residuals lessons (those that train, while they train).
    println!(
        "\n{:<44} {:>10} {:>10} {:>10} {:>12}",
        "lesson section at its extremes", "median ms", "p99 ms", "max ms", "first frame"
    );
    for (id, sets) in EXTREMES {
        if filter.as_deref().is_some_and(|f| !id.contains(f)) {
            continue;
        }
        let (first, (median, p99, max)) = bench_settings(id, sets);
        worst = (worst.0.max(median), worst.1.max(p99));
        let name = format!("{id} {}", sets.join(" "));
        println!("{name:<44} {median:>10.3} {p99:>10.3} {max:>10.3} {first:>12.1}");
    }
    // The heatmap widget alone: a 64 × 64 map, with and without the pointer on it.
    let (median, p99, max) = bench_heatmap();
    println!(
        "{:<14} {median:>10.3} {p99:>10.3} {max:>10.3}",
        "heatmap 64²"
    );
    let ok = worst.0 <= 4.0 && worst.1 <= 12.0;
    println!(
        "worst median {:.3} ms, worst p99 {:.3} ms: {}",
        worst.0,
        worst.1,
        if ok {
            "within the targets (median ≤ 4, p99 ≤ 12)"
        } else {
            "OVER the targets"
        }
    );
}

fn bench_lesson(id: &str, play: bool) -> (f64, f64, f64) {
    let options = StartOptions {
        lesson: Some(id.to_owned()),
        present: false,
        theme: None,
        play,
        sets: Vec::new(),
        notes: Vec::new(),
    };
    let mut app = LabApp::from_storage(None, options);
    // While training runs, leave the worker the rest of a 60 Hz frame, as a display would.
    let pause = if play {
        Duration::from_millis(8)
    } else {
        Duration::ZERO
    };
    let times = time_frames(Pos2::new(260.0, 120.0), vec2(500.0, 300.0), pause, |ui| {
        app.show(ui)
    });
    let rate = app.training_rate().filter(|_| play);
    drop(app); // stop its worker before timing training alone
    if let Some(rate) = rate {
        let (_, d, l, h, ctx, b) = attention_lab::cli::bench::CONFIGS[4];
        let alone = attention_lab::cli::bench::bench_config(d, l, h, ctx, b, 2.0).tokens_per_sec;
        println!(
            "  training inside the app while it draws: {rate:.0} tokens/s; `bench` alone (config \"live\"): {alone:.0} tokens/s ({:.0} %)",
            100.0 * f64::from(rate) / alone
        );
    }
    times
}

/// Lesson sections at the largest values of their sliders (the issues' frame targets).
const EXTREMES: &[(&str, &[&str])] = &[
    ("attention", &["section=0", "model=encoder"]),
    (
        "attention",
        &["section=1", "model=encoder", "sentence=game"],
    ),
    ("attention", &["section=2", "sentence=game"]),
    ("attention", &["section=3", "sentence=game"]),
    ("attention", &["section=4"]),
    ("decoding", &["section=0", "depth=4"]),
    (
        "decoding",
        &["section=1", "beam=16", "max_len=12", "length_alpha=1"],
    ),
    ("decoding", &["section=2", "horizon=5", "depth=4"]),
    ("decoding", &["section=3"]),
    ("experts", &["section=0", "k=64"]),
    (
        "experts",
        &[
            "section=1",
            "samples=2000",
            "true_components=4",
            "fit_components=4",
            "em_steps=500",
        ],
    ),
    // Training live, every frame: 20 steps of 6 experts and 6 members of 32 hidden units.
    ("experts", &["section=2", "experts=6", "hidden=32"]),
    (
        "experts",
        &["section=2", "experts=6", "hidden=32", "routing=top1"],
    ),
    ("experts", &["section=3", "k=64", "classes=100"]),
    ("residuals", &["section=0", "tensor=6"]),
    ("residuals", &["section=1"]),
    ("residuals", &["section=2", "layers=12"]),
    ("residuals", &["section=3", "scale=100"]),
    ("residuals", &["section=4"]),
    ("softmax", &["section=0", "n=64", "scale=100"]),
    ("softmax", &["section=1", "d=1024", "keys=256"]),
    ("softmax", &["section=2", "n=64"]),
    ("positions", &["section=0", "ctx=256", "d=128"]),
    (
        "positions",
        &["section=1", "ctx=256", "d=128", "position=255"],
    ),
    ("positions", &["section=2", "ctx=256", "d=128"]),
    ("positions", &["section=3"]),
    ("positions", &["section=4"]),
    ("norms", &["section=0", "batch=256", "features=64"]),
    ("norms", &["section=1", "batch=256", "features=64"]),
    ("norms", &["section=2", "batch=256", "features=64"]),
    ("norms", &["section=3", "gamma=3", "beta=-3"]),
    ("rnn", &["section=0", "steps=200"]),
    (
        "rnn",
        &[
            "section=1",
            "hidden=64",
            "steps=200",
            "radius=1.5",
            "clip=true",
        ],
    ),
    (
        "rnn",
        &["section=2", "hidden=64", "steps=200", "input_scale=10"],
    ),
    ("rnn", &["section=3", "hidden=64", "steps=200"]),
    (
        "rnn",
        &["section=4", "hidden=64", "steps=200", "cell_step=200"],
    ),
    // Training and the sweep on background threads (`play`: as `--play` starts them).
    ("rnn", &["section=5", "recall_k=100", "play"]),
    ("rnn", &["section=6", "play"]),
];

/// Frame times of one lesson with `sets` applied (`"play"` among them: as `--play`); also the
/// first frame alone (it computes).
fn bench_settings(id: &str, sets: &[&str]) -> (f64, (f64, f64, f64)) {
    let options = StartOptions {
        lesson: Some(id.to_owned()),
        play: sets.contains(&"play"),
        sets: sets
            .iter()
            .filter_map(|s| s.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ..StartOptions::default()
    };
    let mut app = LabApp::from_storage(None, options);
    let ctx = egui::Context::default();
    attention_lab::widgets::fonts::install(&ctx);
    let input = RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(1280.0, 800.0))),
        ..Default::default()
    };
    let start = Instant::now();
    let output = ctx.run_ui(input, |ui| app.show(ui));
    std::hint::black_box(ctx.tessellate(output.shapes, output.pixels_per_point));
    let first = start.elapsed().as_secs_f64() * 1000.0;
    // Sections that sample on a background thread (softmax §2, norms §3) show a spinner until
    // it is done: give it time, so the frames timed below draw the full figures.
    std::thread::sleep(Duration::from_millis(1500));
    let times = time_frames(
        Pos2::new(260.0, 120.0),
        vec2(500.0, 300.0),
        Duration::ZERO,
        |ui| app.show(ui),
    );
    (first, times)
}

fn bench_heatmap() -> (f64, f64, f64) {
    let values =
        ndarray::Array2::from_shape_fn((64, 64), |(r, c)| ((r * 7 + c * 3) % 17) as f32 / 17.0);
    time_frames(
        Pos2::new(200.0, 200.0),
        vec2(150.0, 150.0),
        Duration::ZERO,
        |ui| {
            attention_lab::widgets::Heatmap::new("bench", values.view())
                .axis_names("query", "key")
                .max_size(vec2(512.0, 512.0))
                .show(ui);
        },
    )
}

/// Time WARMUP + FRAMES frames (egui pass + tessellation) at 1280 × 800 with the pointer
/// sweeping a Lissajous path over `origin + amplitude · (1 + sin, 1 + cos)`.
fn time_frames(
    origin: Pos2,
    amplitude: egui::Vec2,
    pause: Duration,
    mut frame: impl FnMut(&mut egui::Ui),
) -> (f64, f64, f64) {
    let ctx = egui::Context::default();
    attention_lab::widgets::fonts::install(&ctx);
    let screen = Rect::from_min_size(Pos2::ZERO, vec2(1280.0, 800.0));
    let mut times: Vec<Duration> = Vec::with_capacity(FRAMES);
    for i in 0..WARMUP + FRAMES {
        let t = i as f32 / 60.0;
        let pointer = origin
            + vec2(
                amplitude.x * (1.0 + (t * 0.7).sin()),
                amplitude.y * (1.0 + (t * 1.1).cos()),
            );
        let input = RawInput {
            screen_rect: Some(screen),
            time: Some(f64::from(t)),
            events: vec![Event::PointerMoved(pointer)],
            ..Default::default()
        };
        let start = Instant::now();
        let output = ctx.run_ui(input, &mut frame);
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        if i >= WARMUP {
            times.push(start.elapsed());
        }
        std::thread::sleep(pause);
    }
    summarize(times)
}

fn summarize(mut times: Vec<Duration>) -> (f64, f64, f64) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pick = |q: f64| ms(times[((times.len() - 1) as f64 * q).round() as usize]);
    (pick(0.5), pick(0.99), pick(1.0))
}
