//! What eframe persists for itself (egui's memory, the window's geometry), checked before eframe
//! reads it. eframe applies its saved state before the app's code runs, and some values make it
//! panic or misbehave at every start — a zoom factor of 0, −1 or NaN panics in the DPI code, 100
//! or 1e30 in the window system, a window 1e9 points wide or at NaN opens off screen — so a
//! saved state that holds one would lock the user out until the file is deleted by hand.
//!
//! [`sanitize`] reads eframe's file (`app.ron`, a map of key → RON text), checks the two entries
//! and removes an entry that is not sane (eframe then starts with its defaults), writing the file
//! back atomically. The app's own state and every lesson's settings are checked by the app as it
//! loads them (`LabApp::from_storage`).

use std::collections::HashMap;
use std::path::Path;

use ron::Value;

/// eframe's key for egui's memory (zoom factor, collapsed headers, …).
const EGUI_KEY: &str = "egui";
/// eframe's key for the window's position and size.
const WINDOW_KEY: &str = "window";
/// The zoom factors egui may start with.
const ZOOM: (f64, f64) = (0.25, 5.0);
/// Largest |coordinate| and size (points or pixels) of a window that is on some screen.
const MAX_GEOMETRY: f64 = 32_768.0;

/// Check eframe's saved state in `file` and remove what is not sane. Returns one note per entry
/// removed (for the status bar); a file that does not exist is fine (a first start).
pub fn sanitize(file: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let mut kv: HashMap<String, String> = match ron::from_str(&text) {
        Ok(kv) => kv,
        Err(e) => {
            // eframe would start with nothing from this file either; say so.
            return vec![format!("the saved window state could not be read ({e})")];
        }
    };
    let notes = sanitize_map(&mut kv);
    if !notes.is_empty() {
        let written = ron::to_string(&kv)
            .map_err(|e| e.to_string())
            .and_then(|t| crate::files::write_atomic(file, t.as_bytes()));
        if let Err(e) = written {
            return vec![format!(
                "the saved window state is not valid and could not be repaired ({e})"
            )];
        }
    }
    notes
}

/// [`sanitize`] on the map itself.
pub fn sanitize_map(kv: &mut HashMap<String, String>) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(Err(why)) = kv.get(EGUI_KEY).map(|t| check_egui(t)) {
        kv.remove(EGUI_KEY);
        notes.push(format!("egui's saved state was reset ({why})"));
    }
    if let Some(Err(why)) = kv.get(WINDOW_KEY).map(|t| check_window(t)) {
        kv.remove(WINDOW_KEY);
        notes.push(format!(
            "the saved window position and size were reset ({why})"
        ));
    }
    notes
}

/// The field `name` of a RON struct or map.
fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Map(m) => m.iter().find_map(|(k, v)| match k {
            Value::String(s) if s == name => Some(v),
            _ => None,
        }),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(n.into_f64()),
        _ => None,
    }
}

fn check_egui(text: &str) -> Result<(), String> {
    let v: Value = ron::from_str(text).map_err(|e| format!("unreadable: {e}"))?;
    let Some(zoom) = field(&v, "options").and_then(|o| field(o, "zoom_factor")) else {
        return Ok(());
    };
    let z = number(zoom).ok_or("a zoom factor that is not a number")?;
    if !(z.is_finite() && (ZOOM.0..=ZOOM.1).contains(&z)) {
        return Err(format!(
            "zoom factor {}, outside {} … {}",
            crate::model::config::number(z),
            ZOOM.0,
            ZOOM.1
        ));
    }
    Ok(())
}

fn check_window(text: &str) -> Result<(), String> {
    let v: Value = ron::from_str(text).map_err(|e| format!("unreadable: {e}"))?;
    let mut bad = None;
    walk_numbers(&v, &mut |n| {
        if !(n.is_finite() && n.abs() <= MAX_GEOMETRY) && bad.is_none() {
            bad = Some(n);
        }
    });
    if let Some(n) = bad {
        return Err(format!(
            "a coordinate of {} is off every screen",
            crate::model::config::number(n)
        ));
    }
    let scale = field(&v, "normal_geometry")
        .and_then(|g| field(g, "scale_factor"))
        .and_then(number);
    if let Some(s) = scale
        && !(s > 0.1 && s <= 10.0)
    {
        return Err(format!("scale factor {}", crate::model::config::number(s)));
    }
    Ok(())
}

fn walk_numbers(v: &Value, f: &mut dyn FnMut(f64)) {
    match v {
        Value::Number(n) => f(n.into_f64()),
        Value::Map(m) => {
            for (_, v) in m.iter() {
                walk_numbers(v, f);
            }
        }
        Value::Seq(s) => {
            for v in s {
                walk_numbers(v, f);
            }
        }
        Value::Option(Some(v)) => walk_numbers(v, f),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory_with_zoom(z: f32) -> String {
        let mut m = egui::Memory::default();
        m.options.zoom_factor = z;
        ron::to_string(&m).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn zoom_factors_that_panic_at_start_are_removed() {
        for z in [0.0, -1.0, f32::NAN, 100.0, 1e30, f32::INFINITY] {
            let mut kv = HashMap::from([(EGUI_KEY.to_owned(), memory_with_zoom(z))]);
            let notes = sanitize_map(&mut kv);
            assert_eq!(notes.len(), 1, "zoom {z}");
            assert!(!kv.contains_key(EGUI_KEY));
        }
        let mut kv = HashMap::from([(EGUI_KEY.to_owned(), memory_with_zoom(1.5))]);
        assert!(sanitize_map(&mut kv).is_empty());
        assert!(kv.contains_key(EGUI_KEY));
    }

    #[test]
    fn off_screen_windows_are_removed() {
        let good = "(normal_geometry:(outer_position_pixels:Some((x:10.0,y:20.0)),scale_factor:1.0,inner_size_points:(x:1280.0,y:800.0)),fullscreen:false,maximized:false)";
        let mut kv = HashMap::from([(WINDOW_KEY.to_owned(), good.to_owned())]);
        assert!(sanitize_map(&mut kv).is_empty());
        for bad in ["1e9", "NaN", "inf", "-1e9"] {
            let text = good.replace("1280.0", bad);
            let mut kv = HashMap::from([(WINDOW_KEY.to_owned(), text)]);
            assert_eq!(sanitize_map(&mut kv).len(), 1, "{bad}");
            assert!(!kv.contains_key(WINDOW_KEY));
        }
        let mut kv = HashMap::from([(WINDOW_KEY.to_owned(), "not ron (".to_owned())]);
        assert_eq!(sanitize_map(&mut kv).len(), 1);
    }
}
