//! A fuzz harness run by CI at a bounded number of cases: the checkpoint loader, the
//! tokenizer, `--set` parsing and the persisted settings, fed structure-aware mutations of
//! valid inputs (seeded, so a failure repeats). Every case must end in `Ok` or a message — no
//! panic, no abort, no hang — and every checkpoint that loads must survive the forward pass on
//! a prompt of its own tokens (a tokenizer larger than the vocabulary used to panic there).
//!
//! The corpus is seeded with the reported cases (a tokenizer of more words than the vocabulary,
//! a huge declared config, NaN and negative BatchNorm statistics, huge weights, zoom factors
//! of 0, NaN and 1e30, a window at 1e9, `lr=1e308`, a 100 k-character value).
//!
//! `FUZZ_CASES` sets the number of checkpoint cases (default 100 000; the other targets run a
//! tenth of it each). The summary line of each target says how many cases ran and how long the
//! slowest took.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use attention_lab::lessons::{all_lessons, apply_overrides};
use attention_lab::model::checkpoint::to_bytes_checkpoint;
use attention_lab::model::gpt::{Activations, Gpt, gpt_forward};
use attention_lab::model::{GptConfig, NormKind, PosEncoding};
use attention_lab::train::saved;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

fn cases() -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Run `f` on every case; fail on any panic or a case slower than `slow`.
fn harness<T>(
    name: &str,
    n: usize,
    slow: Duration,
    mut make: impl FnMut(usize) -> T,
    run: impl Fn(T),
) {
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut panics = Vec::new();
    for i in 0..n {
        let input = make(i);
        let t0 = Instant::now();
        if catch_unwind(AssertUnwindSafe(|| run(input))).is_err() {
            panics.push(i);
        }
        slowest = slowest.max(t0.elapsed());
    }
    eprintln!(
        "fuzz {name}: {n} cases in {:.1} s, slowest {:.1} ms, {} panics",
        started.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1000.0,
        panics.len()
    );
    assert!(
        panics.is_empty(),
        "{name}: cases {:?} panicked",
        &panics[..panics.len().min(20)]
    );
    assert!(slowest < slow, "{name}: a case took {slowest:?} (a hang?)");
}

// ---------------------------------------------------------------- checkpoints

/// Valid seeds: one per norm and position encoding, with word tokenizers.
fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (norm, pos) in [
        (NormKind::LayerNorm, PosEncoding::Learned),
        (NormKind::BatchNorm, PosEncoding::Binary),
        (NormKind::RmsNorm, PosEncoding::Sinusoidal),
        (NormKind::None, PosEncoding::None),
    ] {
        let cfg = GptConfig {
            vocab_size: 6,
            n_layer: 1,
            n_head: 2,
            n_embd: 8,
            block_size: 5,
            norm,
            pos_encoding: pos,
            ..GptConfig::default()
        };
        let gpt = Gpt::new(cfg, &mut StdRng::seed_from_u64(3));
        let tok = r#"{"kind":"word","vocab":["a","b","c","d","e","f"]}"#;
        out.push(to_bytes_checkpoint(&gpt, tok).unwrap_or_else(|e| panic!("{e}")));
    }
    out
}

/// The header JSON and the data after it, if the bytes hold them.
fn split(bytes: &[u8]) -> Option<(Value, Vec<u8>)> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let header = serde_json::from_slice(bytes.get(8..8usize.checked_add(n)?)?).ok()?;
    Some((header, bytes[8 + n..].to_vec()))
}

fn join(header: &Value, data: &[u8]) -> Vec<u8> {
    let text = header.to_string();
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A number a fuzzer likes: edges, huge, negative, zero.
fn wild(rng: &mut StdRng) -> Value {
    match rng.random_range(0..10) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(u64::MAX),
        3 => json!(1u64 << 20),
        4 => json!(4096),
        5 => json!(1.5),
        6 => json!("64"),
        7 => json!(null),
        8 => json!(rng.random_range(1..100)),
        _ => json!(rng.random_range(0..u32::MAX)),
    }
}

const CONFIG_KEYS: [&str; 9] = [
    "vocab_size",
    "n_layer",
    "n_head",
    "n_embd",
    "block_size",
    "pos_encoding",
    "attn_scale",
    "causal",
    "norm",
];

/// One mutation of a valid checkpoint.
fn mutate(seed: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let Some((mut header, mut data)) = split(seed) else {
        return seed.to_vec();
    };
    match rng.random_range(0..12) {
        // Config fields: wild values, wrong types, removed.
        0 | 1 => {
            let text = header["__metadata__"]["config"]
                .as_str()
                .unwrap_or("{}")
                .to_owned();
            let mut cfg: Value = serde_json::from_str(&text).unwrap_or(json!({}));
            let key = CONFIG_KEYS[rng.random_range(0..CONFIG_KEYS.len())];
            if let (true, Some(m)) = (rng.random_bool(0.2), cfg.as_object_mut()) {
                m.remove(key);
            } else {
                cfg[key] = wild(rng);
            }
            header["__metadata__"]["config"] = json!(cfg.to_string());
        }
        // The tokenizer: more or fewer tokens than the vocabulary, duplicates, empty, garbage.
        2 | 3 => {
            let n = rng.random_range(0..20);
            let vocab: Vec<String> = (0..n)
                .map(|i| match rng.random_range(0..6) {
                    0 => String::new(),
                    1 => "a".into(),
                    2 => "two words".into(),
                    3 => "\u{0}".into(),
                    _ => format!("t{i}"),
                })
                .collect();
            let kind = ["word", "char", "bytes"][rng.random_range(0..3)];
            let tok = if rng.random_bool(0.1) {
                "not json".to_owned()
            } else {
                json!({"kind": kind, "vocab": vocab}).to_string()
            };
            header["__metadata__"]["tokenizer"] = json!(tok);
        }
        // A tensor's shape, dtype or offsets.
        4..=6 => {
            let names: Vec<String> = header
                .as_object()
                .map(|m| m.keys().filter(|k| *k != "__metadata__").cloned().collect())
                .unwrap_or_default();
            if let Some(name) = names.get(rng.random_range(0..names.len().max(1))) {
                let t = &mut header[name.as_str()];
                match rng.random_range(0..3) {
                    0 => t["shape"] = json!([wild(rng), wild(rng)]),
                    1 => {
                        t["dtype"] =
                            json!(["F16", "I64", "BOOL", "F64", "U8"][rng.random_range(0..5)])
                    }
                    _ => t["data_offsets"] = json!([wild(rng), wild(rng)]),
                }
            }
        }
        // The numbers themselves: NaN, infinity, huge, denormal.
        7 | 8 => {
            for _ in 0..rng.random_range(1..8) {
                if data.len() >= 4 {
                    let at = rng.random_range(0..data.len() / 4) * 4;
                    let v = [f32::NAN, f32::INFINITY, -1e30, 1e9, -1.0, 0.0, 1e-40]
                        [rng.random_range(0..7)];
                    data[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        // Bytes: truncated, extended, flipped, a wild header length.
        9 => {
            let mut raw = join(&header, &data);
            let cut = rng.random_range(0..raw.len());
            raw.truncate(cut);
            return raw;
        }
        10 => {
            let mut raw = join(&header, &data);
            for _ in 0..rng.random_range(1..16) {
                let at = rng.random_range(0..raw.len());
                raw[at] = rng.random();
            }
            return raw;
        }
        _ => {
            let mut raw = join(&header, &data);
            let n: u64 = [u64::MAX, 1 << 40, 0, 7][rng.random_range(0..4)];
            raw[..8].copy_from_slice(&n.to_le_bytes());
            return raw;
        }
    }
    join(&header, &data)
}

/// Load; if it loads, run the model on a prompt of its own tokens, as `inspect` does.
fn load_and_use(bytes: Vec<u8>) {
    if let Ok((gpt, tok)) = saved::from_bytes(&bytes) {
        let ids: Vec<usize> = (0..tok.len().min(gpt.config.block_size)).collect();
        let mut acts = Activations::default();
        let t = ids.len();
        let targets: Vec<usize> = ids.iter().map(|&i| (i + 1) % tok.len()).collect();
        let loss = gpt_forward(&gpt, &mut acts, &ids, Some(&targets), 1, t, false);
        assert!(
            loss.is_some_and(f32::is_finite),
            "a loaded model gives a finite loss"
        );
    }
}

#[test]
fn the_checkpoint_loader_never_panics_hangs_or_overallocates() {
    let seeds = seeds();
    let mut rng = StdRng::seed_from_u64(0xF022);
    // The reported cases first.
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    if let Some((mut h, d)) = split(&seeds[0]) {
        h["__metadata__"]["tokenizer"] = json!(
            json!({"kind": "word", "vocab": ["a","b","c","d","e","f","g","h","i"]}).to_string()
        );
        corpus.push(join(&h, &d));
        let mut huge = h.clone();
        huge["__metadata__"]["config"] = json!(
            json!({"vocab_size": 1 << 20, "n_layer": 64, "n_head": 64, "n_embd": 4096}).to_string()
        );
        corpus.push(join(&huge, &d));
    }
    let n = cases();
    harness(
        "checkpoint loader",
        n,
        Duration::from_secs(2),
        |i| match corpus.get(i) {
            Some(c) => c.clone(),
            None => {
                let seed = &seeds[rng.random_range(0..seeds.len())];
                // Sometimes two mutations on top of each other.
                let once = mutate(seed, &mut rng);
                if rng.random_bool(0.3) {
                    mutate(&once, &mut rng)
                } else {
                    once
                }
            }
        },
        load_and_use,
    );
}

// ---------------------------------------------------------------- tokenizer

fn wild_text(rng: &mut StdRng) -> String {
    let pieces = [
        "bears", " ", "\u{200b}", "漢字", "\n", "\t", "😀", "İ", "ß", "a", "\u{0}", "  ", ".",
    ];
    let n = rng.random_range(0..40);
    (0..n)
        .map(|_| pieces[rng.random_range(0..pieces.len())])
        .collect()
}

#[test]
fn the_tokenizer_never_panics_and_round_trips() {
    use attention_lab::data::{Tokenizer, TokenizerKind};
    let mut rng = StdRng::seed_from_u64(7);
    harness(
        "tokenizer",
        cases() / 10,
        Duration::from_secs(1),
        |_| {
            (
                wild_text(&mut rng),
                wild_text(&mut rng),
                rng.random_bool(0.5),
            )
        },
        |(fit_on, text, chars)| {
            let kind = if chars {
                TokenizerKind::Char
            } else {
                TokenizerKind::Word
            };
            if let Ok(t) = Tokenizer::fit(kind, &fit_on) {
                match t.encode(&text) {
                    Ok(ids) => assert!(ids.iter().all(|&i| i < t.len())),
                    Err(e) => assert!(!e.unknown.is_empty()),
                }
                let ids = t
                    .encode(&fit_on)
                    .unwrap_or_else(|e| panic!("its own text: {e}"));
                let again = t.encode(&t.decode(&ids)).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(again, ids);
            }
        },
    );
}

// ---------------------------------------------------------------- --set and saved settings

fn wild_value(rng: &mut StdRng) -> String {
    let values = [
        "0",
        "-1",
        "1e308",
        "1e-308",
        "NaN",
        "inf",
        "-inf",
        "18446744073709551616",
        "3.5",
        "",
        "true",
        "maybe",
        "[1,2]",
        "{}",
        "null",
        "none",
        "learned",
        "layernorm",
        "bears",
        "text",
        "/bin/ls",
        "/dev/zero",
        "é",
        "4096",
        "2",
        "64",
    ];
    if rng.random_bool(0.02) {
        "9".repeat(100_000)
    } else {
        values[rng.random_range(0..values.len())].to_owned()
    }
}

#[test]
fn set_overrides_and_saved_settings_never_panic() {
    let mut lessons = all_lessons();
    let keys: Vec<Vec<String>> = lessons
        .iter_mut()
        .map(|l| match l.settings().to_json() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => Vec::new(),
        })
        .collect();
    let mut rng = StdRng::seed_from_u64(11);
    let n = cases() / 10;
    let started = Instant::now();
    let mut refused = 0;
    for i in 0..n {
        let li = rng.random_range(0..lessons.len());
        let key = match keys[li].get(rng.random_range(0..keys[li].len().max(1))) {
            Some(k) if rng.random_bool(0.9) => k.clone(),
            _ => "no_such_key".into(),
        };
        let value = wild_value(&mut rng);
        let lesson = lessons[li].as_mut();
        let before = lesson.settings().to_json();
        let r = catch_unwind(AssertUnwindSafe(|| {
            apply_overrides(lesson, &[(key.clone(), value.clone())])
        }));
        let Ok(r) = r else {
            panic!(
                "case {i}: --set {key}={} panicked",
                value.chars().take(30).collect::<String>()
            );
        };
        match r {
            Ok(()) => {
                // What was accepted round-trips, as persistence needs.
                let now = lesson.settings().to_json();
                assert!(lesson.settings().set_json(now).is_ok(), "case {i}");
            }
            Err(e) => {
                refused += 1;
                assert!(e.len() < 400, "case {i}: {} bytes of message: {e}", e.len());
                assert_eq!(
                    lesson.settings().to_json(),
                    before,
                    "case {i}: refused but changed"
                );
            }
        }
        // A saved-settings file: the lesson's own JSON with a field replaced by a wild one.
        let mut saved = lesson.settings().to_json();
        if let Some(m) = saved.as_object_mut() {
            let v: Value = serde_json::from_str(&wild_value(&mut rng)).unwrap_or(json!("x"));
            m.insert(key, v);
        }
        let r = catch_unwind(AssertUnwindSafe(|| lesson.settings().set_json(saved)));
        assert!(r.is_ok(), "case {i}: saved settings panicked");
    }
    eprintln!(
        "fuzz --set and saved settings: {n} cases in {:.1} s, {refused} refused with a message, 0 panics",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn saved_egui_and_window_state_never_panics() {
    use std::collections::HashMap;
    let mut rng = StdRng::seed_from_u64(13);
    let numbers = [
        "0.0", "-1.0", "NaN", "inf", "1e30", "100.0", "1e9", "1.25", "1.0",
    ];
    harness(
        "saved window state",
        cases() / 10,
        Duration::from_secs(1),
        |_| {
            let z = numbers[rng.random_range(0..numbers.len())];
            let x = numbers[rng.random_range(0..numbers.len())];
            let egui = format!("(options:(zoom_factor:{z}))");
            let window = format!(
                "(normal_geometry:(outer_position_pixels:Some((x:{x},y:0.0)),scale_factor:{z},inner_size_points:(x:{x},y:600.0)),fullscreen:false,maximized:false)"
            );
            let mut kv = HashMap::from([("egui".to_owned(), egui), ("window".to_owned(), window)]);
            if rng.random_bool(0.1) {
                kv.insert("egui".into(), wild_text(&mut rng));
            }
            kv
        },
        |mut kv| {
            attention_lab::app::sanitize_map(&mut kv);
            // What is left is sane: a zoom egui can start with, a window on a screen.
            if let Some(e) = kv.get("egui") {
                for bad in [
                    "zoom_factor:0.0",
                    "zoom_factor:-1.0",
                    "NaN",
                    "inf",
                    "1e30",
                    "100.0",
                ] {
                    assert!(!e.contains(bad), "{e}");
                }
            }
        },
    );
}

/// The app's own saved state (lesson, theme, zoom) from garbage never panics at start.
#[test]
fn the_app_starts_from_any_saved_state() {
    use attention_lab::app::{LabApp, StartOptions};
    struct Garbage(String);
    impl eframe::Storage for Garbage {
        fn get_string(&self, _key: &str) -> Option<String> {
            Some(self.0.clone())
        }
        fn set_string(&mut self, _key: &str, _value: String) {}
        fn remove_string(&mut self, _key: &str) {}
        fn flush(&mut self) {}
    }
    let mut rng = StdRng::seed_from_u64(17);
    harness(
        "app state",
        200,
        Duration::from_secs(5),
        |_| match rng.random_range(0..4) {
            0 => "(lesson:\"live\",theme:Light,zoom:NaN)".to_owned(),
            1 => "(lesson:\"nope\",theme:Dark,zoom:1e30)".to_owned(),
            2 => "{\"n\": 1e308, \"section\": 99}".to_owned(),
            _ => wild_text(&mut rng),
        },
        |text| {
            let app = LabApp::from_storage(Some(&Garbage(text)), StartOptions::default());
            let zoom = app.state().zoom;
            assert!(zoom.is_finite() && (0.25..=5.0).contains(&zoom));
        },
    );
}

#[test]
fn the_fuzzer_makes_different_inputs() {
    let seeds = seeds();
    let mut rng = StdRng::seed_from_u64(1);
    let a = mutate(&seeds[0], &mut rng);
    let b = mutate(&seeds[0], &mut rng);
    assert_ne!(a, b);
    assert!(saved::from_bytes(&seeds[0]).is_ok(), "the seeds are valid");
}
