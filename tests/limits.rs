//! Bounded memory: inputs that used to make the app allocate tens of GB (a 400 kB checkpoint
//! declaring a huge model, model sizes through `--set` and `train`) fail fast with exit 2 while
//! the process runs under an address-space limit (`ulimit -v`, 2 GiB) — an allocation attempt
//! past the limit would abort the process instead of exiting 2.

use std::collections::HashMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use attention_lab::model::GptConfig;
use attention_lab::model::checkpoint;
use attention_lab::model::gpt::Gpt;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Address space allowed to the process, in KiB.
const LIMIT_KIB: u64 = 2 << 20;

fn limited(args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {LIMIT_KIB} && exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_attention-lab"))
        .args(args)
        .output()
        .expect("sh runs")
}

fn fails_fast(args: &[&str], what: &str) {
    let started = Instant::now();
    let out = limited(args);
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {e}");
    assert!(e.contains(what), "{args:?}: {e}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{args:?} took {:?}",
        started.elapsed()
    );
}

/// A valid checkpoint's bytes with its metadata's config replaced.
fn with_config(config: serde_json::Value) -> Vec<u8> {
    let cfg = GptConfig {
        vocab_size: 5,
        n_layer: 1,
        n_head: 2,
        n_embd: 8,
        block_size: 6,
        ..GptConfig::default()
    };
    let gpt = Gpt::new(cfg, &mut StdRng::seed_from_u64(0));
    let tok = r#"{"kind":"word","vocab":["a","b","c","d","e"]}"#;
    let bytes = checkpoint::to_bytes_checkpoint(&gpt, tok).unwrap_or_else(|e| panic!("{e}"));
    // The header: 8 bytes of length, then JSON; rewrite its metadata's config.
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8])) as usize;
    let mut header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + n]).unwrap_or_else(|e| panic!("{e}"));
    header["__metadata__"]["config"] = serde_json::Value::String(config.to_string());
    // Padded to about 400 kB, as in the report, inside the metadata (still a valid file).
    header["__metadata__"]["padding"] = serde_json::Value::String("x".repeat(390_000));
    let text = header.to_string();
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

#[test]
fn a_small_file_declaring_a_huge_model_fails_fast_in_bounded_memory() {
    let dir = std::env::temp_dir().join(format!("al-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let cases: HashMap<&str, (serde_json::Value, &str)> = HashMap::from([
        (
            // The report's checkpoint: n_embd 4096, 64 layers, vocab 2^20 (17 GB).
            "huge",
            (
                serde_json::json!({"vocab_size": 1 << 20, "n_layer": 64, "n_head": 64, "n_embd": 4096, "block_size": 1024}),
                "must be between",
            ),
        ),
        (
            // Within the limits (46 M parameters) but not in a 400 kB file.
            "declared",
            (
                serde_json::json!({"vocab_size": 16384, "n_layer": 12, "n_head": 8, "n_embd": 512, "block_size": 64}),
                "declares",
            ),
        ),
    ]);
    for (name, (config, what)) in cases {
        let path = dir.join(format!("{name}.safetensors"));
        std::fs::write(&path, with_config(config)).unwrap_or_else(|e| panic!("{e}"));
        fails_fast(&["inspect", "--checkpoint", &path.to_string_lossy()], what);
    }
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn set_and_train_extremes_fail_fast_in_bounded_memory() {
    fails_fast(&["data", "live", "--set", "ctx=4096"], "ctx must be");
    fails_fast(
        &["data", "live", "--set", "batch=1000000000"],
        "batch must be",
    );
    fails_fast(
        &[
            "train",
            "--d",
            "4096",
            "--layers",
            "64",
            "--heads",
            "64",
            "--out",
            "/tmp/x.safetensors",
        ],
        "must be between",
    );
    fails_fast(
        &[
            "train",
            "--batch",
            "512",
            "--ctx",
            "1024",
            "--d",
            "512",
            "--heads",
            "8",
            "--out",
            "/tmp/x.safetensors",
        ],
        "memory",
    );
}
