//! A link to one exact figure: a lesson and the settings that differ from its defaults, as the
//! fragment of a URL, `lesson=softmax&scale=100&section=2` (the browser build keeps the address
//! bar at this link and follows one that is opened). Three more keys do what the command line's
//! flags do: `play` starts training (`--play`), `present` turns presentation mode on
//! (`--present`), `theme=light` or `theme=dark` picks the theme (`--theme`).
//!
//! Values are written as `--set key=value` reads them (`lessons::overrides`): numbers, `true`
//! or `false`, text, `none` for an empty optional text, JSON for a list; each key and value
//! percent-encoded (RFC 3986: every byte outside `A–Z a–z 0–9 - . _ ~` as `%XX`).

use serde_json::Value;

/// What a link asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Link {
    /// The lesson's id.
    pub lesson: String,
    /// `key=value` settings, in the link's order.
    pub sets: Vec<(String, String)>,
    /// Start training at once.
    pub play: bool,
    /// Presentation mode on (`Some(true)`) or off.
    pub present: Option<bool>,
    /// The theme: "light" or "dark".
    pub theme: Option<String>,
}

/// Read a fragment (without its '#'). Errors name what is wrong.
pub fn parse(fragment: &str) -> Result<Link, String> {
    let mut link = Link::default();
    for part in fragment.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let (key, value) = (decode(key)?, decode(value)?);
        match key.as_str() {
            "lesson" => link.lesson = value,
            "play" => link.play = switch(&value),
            "present" => link.present = Some(switch(&value)),
            "theme" => match value.as_str() {
                "light" | "dark" => link.theme = Some(value),
                _ => {
                    return Err(format!(
                        "theme must be light or dark, got \"{}\"",
                        crate::lessons::overrides::echo(&value)
                    ));
                }
            },
            _ => link.sets.push((key, value)),
        }
    }
    if link.lesson.is_empty() {
        return Err(format!(
            "the link \"#{}\" names no lesson (it should start with lesson=ID)",
            crate::lessons::overrides::echo(fragment)
        ));
    }
    Ok(link)
}

/// A flag's value: on unless it says off (`play`, `play=1`, `play=0`, `play=off`).
fn switch(value: &str) -> bool {
    !matches!(value, "0" | "false" | "no" | "off")
}

/// The fragment for `lesson` with the settings in `settings` that differ from `defaults` (both
/// JSON objects), in the order of their keys.
pub fn format(lesson: &str, settings: &Value, defaults: &Value) -> String {
    let mut out = format!("lesson={}", encode(lesson));
    if let Value::Object(map) = settings {
        for (key, value) in map {
            if defaults.get(key) == Some(value) {
                continue;
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Null => "none".to_owned(),
                other => other.to_string(),
            };
            out.push('&');
            out.push_str(&encode(key));
            out.push('=');
            out.push_str(&encode(&text));
        }
    }
    out
}

/// Percent-encode every byte outside RFC 3986's unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Undo [`encode`] (any `%XX`; a `+` stays a `+`). The bytes must be UTF-8.
pub fn decode(s: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "\"{}\" in the link is not valid percent-encoding",
            crate::lessons::overrides::echo(s)
        )
    };
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_link_lists_only_what_differs_from_the_defaults_and_reads_back() {
        let defaults = json!({"section": 0, "scale": 1.0, "prompt": "I love bears", "file": null, "k": [1, 2]});
        let settings = json!({"section": 2, "scale": 100.0, "prompt": "She bears the pain", "file": null, "k": [1, 3]});
        let f = format("softmax", &settings, &defaults);
        assert_eq!(
            f,
            "lesson=softmax&k=%5B1%2C3%5D&prompt=She%20bears%20the%20pain&scale=100.0&section=2"
        );
        let link = parse(&f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(link.lesson, "softmax");
        assert!(!link.play);
        assert_eq!(
            link.sets,
            vec![
                ("k".to_owned(), "[1,3]".to_owned()),
                ("prompt".to_owned(), "She bears the pain".to_owned()),
                ("scale".to_owned(), "100.0".to_owned()),
                ("section".to_owned(), "2".to_owned()),
            ]
        );
        assert_eq!(format("softmax", &defaults, &defaults), "lesson=softmax");
    }

    #[test]
    fn play_unicode_and_bad_links() {
        let link = parse("lesson=live&play").unwrap_or_else(|e| panic!("{e}"));
        assert!(link.play && link.sets.is_empty());
        assert!(!parse("lesson=live&play=0").is_ok_and(|l| l.play));
        let shown = parse("lesson=softmax&present&theme=light").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (shown.present, shown.theme.as_deref()),
            (Some(true), Some("light"))
        );
        assert!(parse("lesson=softmax&theme=pink").is_err_and(|e| e.contains("light or dark")));
        assert_eq!(
            decode(&encode("√d × 100 — é")).as_deref(),
            Ok("√d × 100 — é")
        );
        assert!(parse("scale=100").is_err_and(|e| e.contains("names no lesson")));
        assert!(parse("lesson=a%2").is_err_and(|e| e.contains("percent-encoding")));
        assert!(parse("lesson=%FF").is_err());
    }
}
