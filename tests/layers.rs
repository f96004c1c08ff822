//! The layering of `docs/ARCHITECTURE.md`, checked on the source: each folder of `src/` and
//! `crates/core/src/` uses only the folders it may (the engine nothing, the model only the
//! engine, …), and the folders below the UI never name egui (the core crate cannot: egui is not
//! among its dependencies). A `use` that breaks the map fails here with the file and line.

use std::collections::BTreeSet;
use std::path::Path;

/// (folder or file under src/ or crates/core/src/, the top-level modules it may use).
const ALLOWED: &[(&str, &[&str])] = &[
    ("engine", &[]),
    ("browser.rs", &[]),
    ("files.rs", &["browser"]),
    ("model", &["engine", "files"]),
    ("data", &["model", "files"]),
    ("inference", &["engine", "model"]),
    ("train", &["engine", "model", "data", "files"]),
    ("math", &["engine", "model", "data", "pretrained"]),
    ("pretrained.rs", &["model", "data", "train"]),
    (
        "widgets",
        &["engine", "model", "data", "math", "files", "browser"],
    ),
    (
        "lessons",
        &[
            "engine",
            "model",
            "data",
            "inference",
            "train",
            "math",
            "pretrained",
            "widgets",
            "files",
        ],
    ),
    ("app", &["lessons", "widgets", "model", "files"]),
    (
        "web.rs",
        &["app", "lessons", "train", "browser", "engine", "model"],
    ),
    (
        "cli",
        &[
            "engine",
            "model",
            "data",
            "inference",
            "train",
            "math",
            "pretrained",
            "lessons",
            "files",
        ],
    ),
];

/// The folders and files of the core crate (`crates/core/src/`; the rest are under `src/`).
const CORE: &[&str] = &[
    "engine",
    "browser.rs",
    "files.rs",
    "model",
    "data",
    "inference",
    "train",
];

/// Where a folder or file of [`ALLOWED`] is, from the repository's root.
fn location(part: &str) -> String {
    if CORE.contains(&part) {
        format!("crates/core/src/{part}")
    } else {
        format!("src/{part}")
    }
}

/// Folders of the app crate that must not depend on the GUI, besides the whole core.
const NO_EGUI: &[&str] = &["math", "pretrained.rs", "cli"];

fn rust_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            rust_files(&p, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

/// The code lines of a file (comments and doc comments dropped).
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("")))
        .collect()
}

#[test]
fn every_folder_uses_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for (part, allowed) in ALLOWED {
        let allowed: BTreeSet<&str> = allowed.iter().copied().collect();
        let mut files = Vec::new();
        let at = location(part);
        rust_files(&root.join(&at), &mut files);
        assert!(!files.is_empty(), "no Rust files under {at}");
        let own = part.trim_end_matches(".rs");
        for file in files {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for (n, line) in code_lines(&text) {
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let top: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if top.is_empty() || top == own || allowed.contains(top.as_str()) {
                        continue;
                    }
                    problems.push(format!(
                        "{}:{n}: {at} may not use crate::{top}",
                        file.display()
                    ));
                }
                let no_egui = CORE.contains(part) || NO_EGUI.contains(part);
                if no_egui && (line.contains("egui::") || line.contains("use egui")) {
                    problems.push(format!(
                        "{}:{n}: {at} must not depend on egui",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn lesson_files_stay_small() {
    // A lesson is a folder of small files, one per section: none grows past ~400 lines.
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lessons"),
        &mut files,
    );
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).ok()?.lines().count();
            (n > 450).then(|| format!("{}: {n} lines", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these into sections:\n{}",
        long.join("\n")
    );
}
