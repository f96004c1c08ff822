//! `attention-lab lessons`: the lesson ids and titles, in lecture order.

use std::process::ExitCode;

use crate::lessons::all_lessons;

/// Print `N. id — title` for every lesson.
pub fn run() -> ExitCode {
    let lines: Vec<String> = all_lessons()
        .iter()
        .enumerate()
        .map(|(i, lesson)| {
            let info = lesson.info();
            format!("{:>2}. {:<12} {}", i + 1, info.id, info.title)
        })
        .collect();
    super::print_stdout(&lines.join("\n"))
}
