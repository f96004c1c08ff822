//! Figure export: "Save PNG" (a crop of the in-app screenshot) and "Copy data" (CSV).

use std::path::{Path, PathBuf};

use egui::{ColorImage, Rect};
use ndarray::ArrayView2;

/// CSV of a matrix with optional row and column names (the first column holds row names).
pub fn matrix_csv(
    values: ArrayView2<'_, f32>,
    row_labels: Option<&[String]>,
    col_labels: Option<&[String]>,
) -> String {
    let (rows, cols) = values.dim();
    let mut out = String::new();
    out.push_str("row");
    for c in 0..cols {
        out.push(',');
        out.push_str(&csv_field(&label(col_labels, c)));
    }
    out.push('\n');
    for r in 0..rows {
        out.push_str(&csv_field(&label(row_labels, r)));
        for c in 0..cols {
            out.push(',');
            out.push_str(&format_csv_number(values[[r, c]]));
        }
        out.push('\n');
    }
    out
}

/// CSV of named columns of equal length (`columns[i] = (header, values)`).
pub fn columns_csv(columns: &[(&str, Vec<f64>)]) -> String {
    let mut out = columns
        .iter()
        .map(|(h, _)| csv_field(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    let n = columns.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    for i in 0..n {
        let row: Vec<String> = columns
            .iter()
            .map(|(_, v)| match v.get(i) {
                Some(x) => format_csv_number(*x as f32),
                // A shorter column leaves its cell empty.
                None => String::new(),
            })
            .collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

fn label(labels: Option<&[String]>, i: usize) -> String {
    labels
        .and_then(|l| l.get(i))
        .cloned()
        .unwrap_or_else(|| i.to_string())
}

/// A number as CSV: shortest round-trip form; −∞ (a mask) and NaN spelled out.
fn format_csv_number(v: f32) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f32::INFINITY {
        "inf".into()
    } else if v == f32::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{v}")
    }
}

/// Quote a CSV field when it needs it (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `YYYYMMDD-HHMMSS` (UTC) for file names.
pub fn timestamp() -> String {
    let secs = web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    timestamp_from_unix(secs)
}

/// `YYYYMMDD-HHMMSS` for seconds since 1970 (UTC). Civil-from-days after H. Hinnant's algorithm.
pub fn timestamp_from_unix(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Where "Save PNG" writes a figure: `<lesson-id>-<timestamp>.png` in `dir`, or the bare name
/// without one (a browser's download).
pub fn png_path(dir: Option<&Path>, lesson_id: &str) -> PathBuf {
    let name = format!("{lesson_id}-{}.png", timestamp());
    match dir {
        Some(dir) => dir.join(name),
        None => PathBuf::from(name),
    }
}

/// Crop `rect` (in points) out of a screenshot taken at `pixels_per_point` and write it as PNG.
pub fn save_png_crop(
    screenshot: &ColorImage,
    rect: Rect,
    pixels_per_point: f32,
    path: &Path,
) -> Result<(u32, u32), String> {
    let [w, h] = screenshot.size;
    let x0 = ((rect.left() * pixels_per_point).round().max(0.0) as usize).min(w);
    let y0 = ((rect.top() * pixels_per_point).round().max(0.0) as usize).min(h);
    let x1 = ((rect.right() * pixels_per_point).round().max(0.0) as usize).min(w);
    let y1 = ((rect.bottom() * pixels_per_point).round().max(0.0) as usize).min(h);
    if x1 <= x0 || y1 <= y0 {
        return Err("the lesson area is empty: nothing to save".into());
    }
    let (cw, ch) = (x1 - x0, y1 - y0);
    let mut bytes = Vec::with_capacity(cw * ch * 4);
    for y in y0..y1 {
        for px in &screenshot.pixels[y * w + x0..y * w + x1] {
            bytes.extend_from_slice(&px.to_srgba_unmultiplied());
        }
    }
    let img = image::RgbaImage::from_raw(cw as u32, ch as u32, bytes)
        .ok_or_else(|| "internal error: screenshot size mismatch".to_string())?;
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| format!("could not encode {}: {e}", path.display()))?;
    // Through `files` (atomic on disk; a download in the browser).
    crate::files::write_atomic(path, png.get_ref())?;
    Ok((cw as u32, ch as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::Color32;
    use ndarray::array;

    #[test]
    fn timestamps_match_known_dates() {
        assert_eq!(timestamp_from_unix(0), "19700101-000000");
        // date -u -d @1795478400 +%Y%m%d-%H%M%S  → 20261124-000000
        assert_eq!(timestamp_from_unix(1_795_478_400), "20261124-000000");
        assert_eq!(timestamp_from_unix(951_782_400 + 3661), "20000229-010101");
    }

    #[test]
    fn matrix_csv_names_rows_and_columns() {
        let tokens: Vec<String> = vec!["i".into(), "a,b".into()];
        let csv = matrix_csv(
            array![[1.0, f32::NEG_INFINITY], [0.25, f32::NAN]].view(),
            Some(&tokens),
            Some(&tokens),
        );
        assert_eq!(csv, "row,i,\"a,b\"\ni,1,-inf\n\"a,b\",0.25,NaN\n");
    }

    #[test]
    fn png_crop_writes_the_requested_region() {
        let mut img = ColorImage::filled([8, 6], Color32::BLACK);
        img.pixels[2 * 8 + 3] = Color32::RED;
        let path = std::env::temp_dir().join(format!("al-crop-{}.png", std::process::id()));
        let size = save_png_crop(
            &img,
            Rect::from_min_max(egui::pos2(1.5, 1.0), egui::pos2(3.0, 2.5)),
            2.0,
            &path,
        );
        assert_eq!(size, Ok((3, 3)));
        let back = image::open(&path).map(|i| i.to_rgba8());
        let _ = std::fs::remove_file(&path);
        let back = back.expect("png readable");
        assert_eq!(back.get_pixel(0, 0).0, [255, 0, 0, 255]);
        assert_eq!(back.get_pixel(1, 1).0, [0, 0, 0, 255]);
    }
}
