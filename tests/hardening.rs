//! One regression test per item of the hardening issue: what a hostile user did with flags,
//! settings files and checkpoints, and what the app now does instead (a one-line error and exit
//! 2 on the command line; a message in the GUI with the previous model untouched; nothing
//! overwritten; no NaN passed off as a result). Each test starts the real binary or the real
//! loader. Memory limits are in `tests/limits.rs`, the fuzz harness in `tests/fuzz.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use attention_lab::data::{Tokenizer, TokenizerKind};
use attention_lab::model::checkpoint;
use attention_lab::model::gpt::Gpt;
use attention_lab::model::{GptConfig, NormKind};
use attention_lab::train::runner::{Command as Cmd, Runner};
use attention_lab::train::{TrainConfig, Trainer};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_attention-lab"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A one-line error with exit status 2, mentioning `what`.
fn refused(args: &[&str], what: &str) {
    let out = run(args);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {e}");
    assert!(e.contains(what), "{args:?}: {e}");
    assert_eq!(e.trim().lines().count(), 1, "{args:?}: one line, got {e}");
    assert!(!e.contains("panicked"), "{args:?}: {e}");
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("al-hard-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn small_model() -> Gpt {
    let cfg = GptConfig {
        vocab_size: 5,
        n_layer: 1,
        n_head: 2,
        n_embd: 8,
        block_size: 6,
        ..GptConfig::default()
    };
    Gpt::new(cfg, &mut StdRng::seed_from_u64(1))
}

fn words(n: usize) -> String {
    let vocab: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
    let t = Tokenizer::new(TokenizerKind::Word, vocab).unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_string(&t).unwrap_or_else(|e| panic!("{e}"))
}

/// Item 1: A tokenizer with more words than the model's vocabulary: `inspect` panicked in the
/// embedding; the GUI loaded it and its training thread died.
#[test]
fn a_tokenizer_larger_than_the_vocabulary_is_refused_at_load() {
    let dir = scratch("tok");
    let path = dir.join("m.safetensors");
    checkpoint::save(&path, &small_model(), &words(9)).unwrap_or_else(|e| panic!("{e}"));
    let p = path.to_string_lossy().into_owned();
    refused(
        &["inspect", "--checkpoint", &p, "--prompt", "w8"],
        "the tokenizer has 9 tokens but the model's vocabulary is 5",
    );
    // The GUI's Load goes through the same check: an error message, the model unchanged.
    let mut r = Runner::new(Trainer::new(TrainConfig::default()).unwrap_or_else(|e| panic!("{e}")));
    let before = r.trainer().gpt.clone();
    r.handle(Cmd::Load(path.clone()));
    let u = r.take_update(false);
    let msg = u.message.unwrap_or_else(|| Ok(String::new()));
    assert!(msg.is_err_and(|e| e.contains("9 tokens")));
    assert_eq!(r.trainer().gpt, before);
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
}

/// Item 2: `bench --seconds inf` panicked; NaN, 0 and −1 silently became 0.1 s.
#[test]
fn bench_seconds_out_of_range_are_refused() {
    for s in ["inf", "1e20", "NaN", "0", "-1"] {
        refused(&["bench", "--seconds", s], "--seconds must be");
    }
}

/// Item 3: Any model size through `--set` or `train`: the app aborted on allocation.
#[test]
fn model_sizes_beyond_the_limits_exit_2_before_allocating() {
    let started = Instant::now();
    refused(
        &["data", "live", "--set", "ctx=4096"],
        "ctx must be between 4 and 64",
    );
    refused(
        &["--lesson", "live", "--set", "ctx=4096", "--play"],
        "ctx must be",
    );
    refused(
        &["data", "live", "--set", "batch=1000000000"],
        "batch must be",
    );
    refused(&["data", "live", "--set", "d=4096"], "d must be");
    refused(
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
    refused(
        &["train", "--batch", "100000", "--out", "/tmp/x.safetensors"],
        "batch must be between 1 and 512",
    );
    refused(
        &[
            "train",
            "--d",
            "1024",
            "--layers",
            "24",
            "--heads",
            "16",
            "--out",
            "/tmp/x.safetensors",
        ],
        "too large",
    );
    assert!(started.elapsed() < Duration::from_secs(20), "all fast");
}

/// Item 3: `inspect --checkpoint /dev/zero` read until memory ran out; a FIFO blocked forever.
#[test]
fn special_files_are_refused_before_they_are_opened() {
    refused(
        &["inspect", "--checkpoint", "/dev/zero"],
        "not a regular file",
    );
    let dir = scratch("fifo");
    let fifo = dir.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let started = Instant::now();
        refused(
            &["inspect", "--checkpoint", &fifo.to_string_lossy()],
            "FIFO",
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    refused(
        &["inspect", "--checkpoint", &dir.to_string_lossy()],
        "directory",
    );
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
}

/// Item 4: `inspect --checkpoint m --grads-out m` replaced the model with its gradients.
#[test]
fn gradients_never_overwrite_their_checkpoint() {
    let dir = scratch("grads");
    let path = dir.join("m.safetensors");
    checkpoint::save(&path, &small_model(), &words(5)).unwrap_or_else(|e| panic!("{e}"));
    let before = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let p = path.to_string_lossy().into_owned();
    refused(
        &[
            "inspect",
            "--checkpoint",
            &p,
            "--prompt",
            "w1 w2",
            "--grads-out",
            &p,
        ],
        "would replace the model",
    );
    #[cfg(unix)]
    {
        let link = dir.join("link.safetensors");
        std::os::unix::fs::symlink(&path, &link).unwrap_or_else(|e| panic!("{e}"));
        refused(
            &[
                "inspect",
                "--checkpoint",
                &p,
                "--prompt",
                "w1 w2",
                "--grads-out",
                &link.to_string_lossy(),
            ],
            "would replace the model",
        );
    }
    assert_eq!(std::fs::read(&path).ok(), Some(before));
    // Writable elsewhere: the gradients are written, the model untouched.
    let g = dir.join("g.safetensors");
    let out = run(&[
        "inspect",
        "--checkpoint",
        &p,
        "--prompt",
        "w1 w2",
        "--grads-out",
        &g.to_string_lossy(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(g.exists());
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
}

/// Item 4: `--out` errors (a missing folder) appeared only after the whole run.
#[test]
fn an_output_that_cannot_be_written_is_refused_before_training() {
    let started = Instant::now();
    refused(
        &[
            "train",
            "--steps",
            "100000",
            "--out",
            "/no/such/folder/m.safetensors",
        ],
        "does not exist",
    );
    refused(
        &["train", "--steps", "100000", "--out", "/dev/null"],
        "not a file",
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused before training"
    );
}

/// Item 5: `train --lr 1e9` printed "diverged … rolled back" 599 times, exited 0 and saved weights
/// whose logits were NaN; progress lines showed `val NaN` before the first evaluation.
#[test]
fn a_diverging_run_stops_saves_nothing_and_exits_non_zero() {
    refused(
        &["train", "--lr", "1e9", "--out", "/tmp/x.safetensors"],
        "learning rate must be between",
    );
    refused(
        &["train", "--lr", "-1", "--out", "/tmp/x.safetensors"],
        "learning rate must be between",
    );
    let dir = scratch("diverge");
    let out_path = dir.join("m.safetensors");
    let args = [
        "train", "--lr", "1", "--steps", "300", "--d", "16", "--layers", "1", "--heads", "2",
        "--out",
    ];
    let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    all.push(out_path.to_string_lossy().into_owned());
    let out = bin().args(&all).output().expect("runs");
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("diverged") && e.contains("nothing was saved"),
        "{e}"
    );
    assert_eq!(e.matches("diverged (").count(), 1, "reported once: {e}");
    assert!(!out_path.exists());
    assert!(!e.contains("NaN"), "no NaN shown as a value: {e}");
    // A healthy short run shows "val —" until the first evaluation, never "val NaN".
    let ok = bin()
        .args([
            "train", "--steps", "5", "--d", "16", "--layers", "1", "--heads", "2", "--out",
        ])
        .arg(&out_path)
        .output()
        .expect("runs");
    assert!(ok.status.success(), "{}", stderr(&ok));
    let e = stderr(&ok);
    assert!(e.contains("val —") && !e.contains("NaN"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
}

/// Item 5: Checkpoints with huge-but-finite weights or NaN/negative BatchNorm statistics loaded.
#[test]
fn checkpoints_with_absurd_numbers_are_refused() {
    let mut huge = small_model();
    huge.params.wte[[0, 0]] = 1e9;
    let bytes = checkpoint::to_bytes_checkpoint(&huge, &words(5)).unwrap_or_else(|e| panic!("{e}"));
    let e = checkpoint::from_bytes(&bytes).err().unwrap_or_default();
    assert!(e.contains("wte") && e.contains("within"), "{e}");
    let cfg = GptConfig {
        norm: NormKind::BatchNorm,
        ..small_model().config
    };
    for bad in [f32::NAN, -1.0, 0.0] {
        let mut bn = Gpt::new(cfg.clone(), &mut StdRng::seed_from_u64(2));
        bn.bn[0].var[3] = bad;
        let bytes =
            checkpoint::to_bytes_checkpoint(&bn, &words(5)).unwrap_or_else(|e| panic!("{e}"));
        let e = checkpoint::from_bytes(&bytes).err().unwrap_or_default();
        assert!(e.contains("BatchNorm"), "{bad}: {e}");
    }
}

/// Item 6: Values that were silently changed or ignored.
#[test]
fn silently_wrong_values_are_refused() {
    refused(&["data", "live", "--set", "lr=1e308"], "lr must be between");
    refused(
        &["--lesson", "live", "--set", "lr=1e9"],
        "lr must be between",
    );
    refused(&["data", "live", "--set", "heads=3"], "multiple of heads");
    refused(
        &[
            "train",
            "--text-file",
            "/etc/hostname",
            "--out",
            "/tmp/x.safetensors",
        ],
        "only read by the text task",
    );
}

/// Item 7: A 50 MB text took 85 s and 4.4 GB; a 900 kB CJK file 21 s (a linear word lookup).
#[test]
fn large_texts_are_capped_and_foreign_ones_fast() {
    let dir = scratch("text");
    let big = dir.join("big.txt");
    let f = std::fs::File::create(&big).unwrap_or_else(|e| panic!("{e}"));
    f.set_len(50 << 20).unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    refused(
        &[
            "train",
            "--task",
            "text",
            "--text-file",
            &big.to_string_lossy(),
            "--out",
            "/tmp/x.safetensors",
        ],
        "at most 16 MB",
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // 900 kB of CJK with thousands of different characters: read in well under a second.
    let cjk: String = (0..300_000u32)
        .map(|i| char::from_u32(0x4E00 + (i * 7919) % 6000).unwrap_or('字'))
        .collect();
    let path = dir.join("cjk.txt");
    std::fs::write(&path, &cjk).unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let data = attention_lab::data::Dataset::from_file(&path, 16).unwrap_or_else(|e| panic!("{e}"));
    assert!(data.tokenizer.len() > 5000);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
}

/// Item 7: In the GUI the worker was busy 25 s with no progress, Pause queued behind it.
#[test]
fn a_text_file_loads_in_slices_with_progress_and_pause_cancels_it() {
    let dir = scratch("slices");
    let path = dir.join("t.txt");
    std::fs::write(
        &path,
        "the quick brown fox jumps over the lazy dog. ".repeat(60_000),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut r = Runner::new(Trainer::new(TrainConfig::default()).unwrap_or_else(|e| panic!("{e}")));
    let config = TrainConfig {
        task: attention_lab::data::Task::Text,
        text_file: Some(path.clone()),
        ..TrainConfig::default()
    };
    r.take_update(false);
    r.handle(Cmd::Reset(Box::new(config.clone())));
    assert!(r.busy());
    r.work(Duration::ZERO);
    let u = r.take_update(false);
    assert!(
        u.loading.is_some_and(|p| (0.0..1.0).contains(&p)),
        "{:?}",
        u.loading
    );
    r.handle(Cmd::Pause);
    let u = r.take_update(false);
    assert!(u.loading.is_none() && !r.busy());
    assert!(
        u.message
            .is_some_and(|m| m.is_ok_and(|m| m.contains("stopped reading")))
    );
    assert_eq!(
        r.trainer().config.task,
        attention_lab::data::Task::Bears,
        "the old model stays"
    );
    // Left alone, it finishes and the run is on the text.
    r.handle(Cmd::Reset(Box::new(config)));
    while r.busy() {
        r.work(Duration::from_millis(50));
    }
    assert_eq!(r.trainer().config.task, attention_lab::data::Task::Text);
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
}

/// Item 8: Rough edges: a closed pipe, a huge bad value echoed whole, 1e-308 printed as hundreds of
/// zeros, `--lr -1` taken for a flag, `--set text_file=…` "expects a JSON value".
#[test]
fn rough_edges_are_smooth() {
    // `data … | head`: the reader goes away after one line; no panic.
    let mut child = bin()
        .args(["data", "positions"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("waits");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert!(out.status.success() || out.status.code() == Some(1));
    let long = format!("n={}", "9".repeat(100_000));
    let out = run(&["data", "softmax", "--set", &long]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).len() < 400, "{} bytes", stderr(&out).len());
    let out = run(&["data", "softmax", "--set", "scale=1e-308"]);
    assert!(stderr(&out).contains("1e-308"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("00000000"));
    let out = run(&["data", "live", "--set", "text_file=/bin/ls"]);
    assert!(out.status.success(), "a path is a text: {}", stderr(&out));
}

/// Item 8: Settings were saved only while frames were drawn: a killed idle app lost them.
#[test]
fn changed_settings_reach_storage_without_waiting_for_eframe() {
    use attention_lab::app::{LabApp, StartOptions};
    #[derive(Default)]
    struct Memory(std::collections::HashMap<String, String>, usize);
    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {
            self.1 += 1;
        }
    }
    let mut storage = Memory::default();
    let mut app = LabApp::from_storage(None, StartOptions::default());
    let ctx = egui::Context::default();
    attention_lab::widgets::fonts::install(&ctx);
    app.persist_now(&mut storage, &ctx);
    assert_eq!(storage.1, 1, "written and flushed at once");
    app.open_lesson("softmax");
    std::thread::sleep(attention_lab::app::SAVE_EVERY + Duration::from_millis(50));
    app.persist_now(&mut storage, &ctx);
    assert_eq!(
        storage.1, 2,
        "a change is written without waiting for eframe's auto-save"
    );
    assert!(storage.0.values().any(|v| v.contains("softmax")));
    app.persist_now(&mut storage, &ctx);
    assert_eq!(storage.1, 2, "nothing changed, nothing written");
}

/// Helpers used above must not rot: the scratch folder is per process.
#[test]
fn scratch_folders_are_per_process() {
    let a = scratch("x");
    assert!(
        a.to_string_lossy()
            .contains(&std::process::id().to_string())
    );
    assert!(Path::new(&a).is_dir());
    std::fs::remove_dir_all(&a).unwrap_or_else(|e| panic!("{e}"));
}
