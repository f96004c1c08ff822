//! Headless subcommands, one file each. `main.rs` only parses arguments and dispatches here.
//!
//! Every error a user can cause is one line on stderr and exit status 2 — never a panic.

pub mod bench;
pub mod data;
pub mod inspect;
pub mod lessons;
pub mod train;

use std::process::ExitCode;

/// Exit status for bad input (unknown lesson, unknown key, a value of the wrong type).
pub const EXIT_USAGE: u8 = 2;

/// Print a one-line error and return exit status 2.
pub fn usage_error(message: &str) -> ExitCode {
    eprintln!("attention-lab: error: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Check a lesson id against the registry; the error names the valid choices.
pub fn check_lesson_id(id: &str) -> Result<(), String> {
    let ids = crate::lessons::lesson_ids();
    if ids.contains(&id) {
        Ok(())
    } else {
        Err(format!(
            "unknown lesson \"{id}\"; valid lessons: {}",
            ids.join(", ")
        ))
    }
}

/// Print `text` and a newline on stdout. A reader that went away (`attention-lab data … | head`)
/// is not an error of ours: we stop quietly with success, as Unix tools do; any other write
/// error is reported.
pub fn print_stdout(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("attention-lab: error: cannot write the output: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Split `key=value`.
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("--set expects key=value, got \"{s}\"")),
    }
}
