//! `key=value` overrides of a lesson's settings (`--lesson ID --set key=value`,
//! `attention-lab data ID --set key=value`), typed by the current value of each key.

use serde_json::Value;

use super::lesson::Lesson;

/// The longest value echoed back in an error message (the rest is elided).
const ECHO_MAX: usize = 60;

/// `raw` as an error message shows it: at most `ECHO_MAX` characters.
pub fn echo(raw: &str) -> String {
    if raw.chars().count() <= ECHO_MAX {
        raw.to_owned()
    } else {
        let head: String = raw.chars().take(ECHO_MAX).collect();
        format!("{head}… ({} characters)", raw.chars().count())
    }
}

/// Apply `key=value` overrides to a lesson's settings.
///
/// Errors (one line each) name the problem and the valid choices: an unknown key lists the
/// lesson's keys, a value of the wrong type says which type was expected, a value out of range
/// says the range. On error the lesson's settings are unchanged.
pub fn apply_overrides(
    lesson: &mut dyn Lesson,
    overrides: &[(String, String)],
) -> Result<(), String> {
    let id = lesson.info().id;
    let settings = lesson.settings();
    let original = settings.to_json();
    let mut current = original.clone();
    let Value::Object(map) = &mut current else {
        if overrides.is_empty() {
            return Ok(());
        }
        return Err(format!("lesson \"{id}\" has no settings to set"));
    };
    for (key, raw) in overrides {
        let Some(now) = map.get(key) else {
            let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
            keys.sort_unstable();
            return Err(format!(
                "lesson \"{id}\" has no setting \"{}\"; valid keys: {}",
                echo(key),
                keys.join(", ")
            ));
        };
        let parsed = parse_like(now, raw).map_err(|expected| {
            format!(
                "setting \"{key}\" of lesson \"{id}\" expects {expected}, got \"{}\"",
                echo(raw)
            )
        })?;
        map.insert(key.clone(), parsed);
        // Check each key as it is applied, so that the error names the setting that is wrong.
        if let Err(e) = settings.set_json(Value::Object(map.clone())) {
            restore(settings, original);
            return Err(format!(
                "setting \"{key}\" of lesson \"{id}\" cannot be \"{}\": {e}",
                echo(raw)
            ));
        }
    }
    Ok(())
}

/// Put back settings that were valid a moment ago.
fn restore(settings: &mut dyn super::lesson::LessonSettings, original: Value) {
    if let Err(e) = settings.set_json(original) {
        // The settings came from `to_json` of a validated struct; refusing them is a bug.
        debug_assert!(false, "settings that round-trip were refused: {e}");
    }
}

/// Parse `raw` as a JSON value of the same kind as `like`; on failure, name the expected kind.
fn parse_like(like: &Value, raw: &str) -> Result<Value, String> {
    match like {
        Value::Bool(_) => match raw {
            "true" | "on" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "off" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err("a boolean (true or false)".into()),
        },
        Value::Number(n) if n.is_u64() || n.is_i64() => raw
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "an integer".into()),
        Value::Number(_) => match raw.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::from(x)),
            _ => Err("a finite number".into()),
        },
        Value::String(_) => Ok(Value::String(raw.to_owned())),
        // An optional text (a file name): "none" clears it, anything else is the text itself.
        Value::Null => Ok(match raw {
            "none" | "null" | "" => Value::Null,
            _ => Value::String(raw.to_owned()),
        }),
        _ => serde_json::from_str(raw).map_err(|_| "a JSON value".into()),
    }
}
