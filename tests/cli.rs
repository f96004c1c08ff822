//! The command line: `lessons`, `data` for every lesson, and the bad-input cases (exit 2).

use std::process::{Command, Output};

use attention_lab::lessons::all_lessons;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attention-lab"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_owned()
}

#[test]
fn lessons_lists_every_id_and_title() {
    let out = run(&["lessons"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for lesson in all_lessons() {
        assert!(
            text.contains(lesson.info().id) && text.contains(lesson.info().title),
            "{text}"
        );
    }
}

#[test]
fn data_returns_valid_json_for_every_lesson() {
    for lesson in all_lessons() {
        let out = run(&["data", lesson.info().id]);
        assert!(
            out.status.success(),
            "{}: {}",
            lesson.info().id,
            stderr_line(&out)
        );
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
        assert!(value.is_object(), "{}", lesson.info().id);
    }
}

#[test]
fn data_applies_set_overrides() {
    let out = run(&["data", "overview", "--set", "d=128", "--set", "heads=8"]);
    assert!(out.status.success(), "{}", stderr_line(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(value["settings"]["d"], 128);
    let shapes = value["blocks"].to_string();
    assert!(shapes.contains("8 heads of 3 × 16"), "{shapes}");
}

#[test]
fn unknown_lesson_exits_2_naming_the_choices() {
    for args in [&["data", "nope"][..], &["--lesson", "nope"][..]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr_line(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("unknown lesson \"nope\"") && err.contains("overview"),
            "{err}"
        );
    }
}

#[test]
fn unknown_key_exits_2_naming_the_keys() {
    let out = run(&["data", "overview", "--set", "colour=red"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_line(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no setting \"colour\"") && err.contains("valid keys: d, heads"),
        "{err}"
    );
}

#[test]
fn wrong_type_exits_2_naming_the_type() {
    let out = run(&["data", "overview", "--set", "d=wide"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_line(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("expects an integer") && err.contains("\"wide\""),
        "{err}"
    );
    // A value of the right type but out of range is refused the same way.
    let out = run(&["data", "overview", "--set", "d=30"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_line(&out).contains("multiple of heads"));
}

#[test]
fn no_display_gives_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_attention-lab"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    let err = stderr_line(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no display") && err.contains("attention-lab data"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn data_live_has_tokens_attention_and_next_tokens() {
    let out = run(&["data", "live", "--set", "prompt=she bears the"]);
    assert!(out.status.success(), "{}", stderr_line(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["tokens"], serde_json::json!(["she", "bears", "the"]));
    assert_eq!(v["attention"].as_array().map(Vec::len), Some(2));
    let top = v["top_next"].as_array().cloned().unwrap_or_default();
    assert_eq!(top.len(), 8);
    // "she bears the …": a burden, not a game.
    let first = top[0]["token"].as_str().unwrap_or_default();
    assert!(
        ["pain", "weight", "burden", "cost"].contains(&first),
        "{first}"
    );
}

#[test]
fn gui_settings_are_checked_before_the_window_opens() {
    // Out of range: exit 2 with the setting named, without needing a display.
    let out = run(&["--lesson", "rnn", "--set", "radius=9"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_line(&out);
    assert!(err.contains("radius") && err.contains("between"), "{err}");
    // --set needs --lesson.
    let out = run(&["--set", "radius=1.1"]);
    assert_eq!(out.status.code(), Some(2));
    // A good setting gets as far as the display check.
    let out = Command::new(env!("CARGO_BIN_EXE_attention-lab"))
        .args(["--lesson", "rnn", "--set", "radius=1.1"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_line(&out));
}

/// `bench` prints every config's row with its GFLOP/s and share of the measured peak, and says
/// why PyTorch was not compared; `--products` lists the large step's products and their total.
#[test]
fn bench_prints_its_rows_the_peak_and_the_products() {
    let out = run(&[
        "bench",
        "--only",
        "tiny",
        "--seconds",
        "0.05",
        "--rounds",
        "0",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FMA peak of"), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("tiny "))
        .expect("a tiny row");
    let fields: Vec<&str> = row.split_whitespace().collect();
    // name, d, L, H, ctx, batch, ms/step, tokens/s, fwd ms, fwd 1 core, GFLOP/s, % peak
    assert_eq!(&fields[..6], ["tiny", "32", "1", "2", "16", "8"], "{row}");
    let number = |i: usize| fields[i].parse::<f64>().unwrap_or(f64::NAN);
    // GFLOP/s is printed to one decimal: a debug build on a loaded machine can print 0.0.
    assert!(number(6) > 0.0 && number(10) >= 0.0, "{row}");
    // The step's GFLOP/s is nanoGPT's count over the step's time.
    let flops = attention_lab::cli::bench::step_flops(32, 1, 16, 8);
    let expect = flops / (number(6) / 1000.0) / 1e9;
    assert!(
        (number(10) - expect).abs() <= 0.05 + 1e-3 * expect,
        "{row}: {expect}"
    );
    assert!(text.contains("PyTorch not compared: --rounds 0"), "{text}");

    let out = run(&["bench", "--products", "--seconds", "0.2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let rows = text
        .lines()
        .filter(|l| l.contains(" = ") && l.split_whitespace().count() >= 8);
    assert_eq!(rows.count(), 21, "{text}");
    assert!(text.contains("all products of one shard's step:"), "{text}");
}

/// nanoGPT's estimate_mfu count for the large config, by hand: N = 3 176 192 parameters without
/// the position table (wte 65·256 = 16 640; per block 12·256² + 13·256 = 789 760, × 4; ln_f 512),
/// 6N + 12·L·d·T = 19 057 152 + 1 572 864 = 20 630 016 per token, × 1024 tokens ≈ 21.1 GFLOP
/// (the engine issue's "≈ 21 GFLOP").
#[test]
fn the_step_flop_count_is_nanogpts() {
    let flops = attention_lab::cli::bench::step_flops(256, 4, 128, 8);
    assert_eq!(flops, 20_630_016.0 * 1024.0);
}
