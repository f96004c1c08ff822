//! `attention-lab lessons`: the lesson ids and titles, in lecture order.

use std::process::ExitCode;

use crate::lessons::all_lessons;

/// Print `N. id — title` for every lesson.
pub fn run() -> ExitCode {
    for (i, lesson) in all_lessons().iter().enumerate() {
        let info = lesson.info();
        println!("{:>2}. {:<12} {}", i + 1, info.id, info.title);
    }
    ExitCode::SUCCESS
}
