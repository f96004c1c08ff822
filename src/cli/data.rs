//! `attention-lab data ID [--set key=value]...`: the numbers behind a lesson's figures as JSON,
//! computed by the same code the GUI draws from, with the lesson's settings overridden.

use std::process::ExitCode;

use super::{check_lesson_id, parse_key_value, usage_error};
use crate::lessons::{all_lessons, apply_overrides};

/// Check that `sets` (`key=value`) are valid settings of lesson `id`, without computing anything.
pub fn data_json_check(id: &str, sets: &[String]) -> Result<(), String> {
    with_settings(id, sets, |_| ())
}

/// Compute the JSON for lesson `id` with `sets` (`key=value`) applied.
pub fn data_json(id: &str, sets: &[String]) -> Result<serde_json::Value, String> {
    with_settings(id, sets, |lesson| lesson.data())
}

fn with_settings<R>(
    id: &str,
    sets: &[String],
    f: impl FnOnce(&mut dyn crate::lessons::Lesson) -> R,
) -> Result<R, String> {
    check_lesson_id(id)?;
    let overrides = sets
        .iter()
        .map(|s| parse_key_value(s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut lessons = all_lessons();
    let lesson = lessons
        .iter_mut()
        .find(|l| l.info().id == id)
        .ok_or_else(|| format!("unknown lesson \"{id}\""))?;
    apply_overrides(lesson.as_mut(), &overrides)?;
    Ok(f(lesson.as_mut()))
}

/// Run the subcommand.
pub fn run(id: &str, sets: &[String]) -> ExitCode {
    match data_json(id, sets) {
        Ok(value) => match serde_json::to_string_pretty(&value) {
            Ok(text) => super::print_stdout(&text),
            Err(e) => usage_error(&format!("could not write JSON: {e}")),
        },
        Err(e) => usage_error(&e),
    }
}
