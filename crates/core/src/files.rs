//! Reading and writing the user's files safely: what every load and save of the app goes through.
//!
//! - [`read_regular`] reads a regular file no larger than a cap, and refuses anything else — a
//!   directory, a device (`/dev/zero` would read until memory runs out), a FIFO (which would
//!   block forever) — before it opens it.
//! - [`write_atomic`] writes a temporary file beside the target and renames it over the target,
//!   so a crash never leaves half a file where a good one was. A symbolic link is written through
//!   (its target is replaced, the link stays); a target that exists but is not a regular file
//!   (a device node, a directory) is refused; the temporary file is removed on every error, and
//!   a stale one left by a killed save is removed before the next save writes it again.
//! - [`same_file`] tells whether two paths name one file (through links), so that an output
//!   never silently replaces an input.
//!
//! In a browser (wasm32) there is no file system: a file the user picks (Load…) is kept in
//! memory under `uploads/<its name>` (`add_upload`) and [`read_regular`] reads it from there,
//! and [`write_atomic`] offers the bytes as a download named after the path's file name. The
//! callers (checkpoints, text files, PNGs) are the same on both.

use std::path::{Path, PathBuf};

/// The bytes of the regular file at `path`, refused with a reason if it is not a regular file or
/// is larger than `max_bytes`.
pub fn read_regular(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    #[cfg(target_arch = "wasm32")]
    return browser::read(path, max_bytes);
    #[cfg(not(target_arch = "wasm32"))]
    read_regular_file(path, max_bytes)
}

#[cfg(not(target_arch = "wasm32"))]
fn read_regular_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "{shown} is not a regular file (a {})",
            kind_of(&meta)
        ));
    }
    if meta.len() > max_bytes {
        return Err(format!(
            "{shown} is {} MB; at most {} MB are read",
            meta.len().div_ceil(1_000_000),
            max_bytes / 1_000_000
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow after the check: read one byte past the cap at most.
    std::io::Read::read_to_end(&mut std::io::Read::take(file, max_bytes + 1), &mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!(
            "{shown} grew past {} MB while it was read",
            max_bytes / 1_000_000
        ));
    }
    Ok(bytes)
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "device";
        }
        if t.is_socket() {
            return "socket";
        }
    }
    "special file"
}

/// Where a save to `path` really goes: through a symbolic link to its target. Refused if the
/// target exists and is not a regular file, or if its folder does not exist.
pub fn save_target(path: &Path) -> Result<PathBuf, String> {
    let shown = path.display();
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => match std::fs::canonicalize(path) {
            Ok(t) => t,
            // A dangling link: write where it points.
            Err(_) => {
                let link =
                    std::fs::read_link(path).map_err(|e| format!("cannot follow {shown}: {e}"))?;
                match path.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                }
            }
        },
        _ => path.to_owned(),
    };
    if let Ok(m) = std::fs::metadata(&target)
        && !m.is_file()
    {
        return Err(format!(
            "{shown} is a {}, not a file: nothing was written",
            kind_of(&m)
        ));
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(format!("the folder {} does not exist", dir.display()));
    }
    Ok(target)
}

/// The temporary file a save of `target` writes first.
pub fn temporary_for(target: &Path) -> PathBuf {
    let mut name = match target.file_name() {
        Some(n) => n.to_os_string(),
        // A path without a file name ("..") is refused by the write itself.
        None => std::ffi::OsString::from("attention-lab"),
    };
    name.push(".tmp");
    target.with_file_name(name)
}

/// Check, before any long work, that a save to `path` can be done: the folder exists and is
/// writable, the target is not a device or a directory. Leaves nothing behind.
pub fn check_writable(path: &Path) -> Result<(), String> {
    if cfg!(target_arch = "wasm32") {
        // A download: the browser asks where, or puts it in Downloads.
        return Ok(());
    }
    let target = save_target(path)?;
    let tmp = temporary_for(&target);
    let probe = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", path.display()));
    remove_quietly(&tmp);
    probe.map(drop)
}

/// Write `bytes` to `path` atomically (see the top of this file).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    #[cfg(target_arch = "wasm32")]
    return browser::download(path, bytes);
    #[cfg(not(target_arch = "wasm32"))]
    write_atomic_file(path, bytes)
}

#[cfg(not(target_arch = "wasm32"))]
fn write_atomic_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let target = save_target(path)?;
    let tmp = temporary_for(&target);
    // A stale temporary file from a killed save is replaced, never appended to.
    remove_quietly(&tmp);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut f, bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        remove_quietly(&tmp);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    std::fs::rename(&tmp, &target).map_err(|e| {
        remove_quietly(&tmp);
        format!("cannot replace {}: {e}", target.display())
    })
}

/// Keep a file the user picked in the browser, as `uploads/<name>`, for [`read_regular`]; the
/// path to read it by. (A new upload of the same name replaces the old one.)
#[cfg(target_arch = "wasm32")]
pub fn add_upload(name: &str, bytes: Vec<u8>) -> PathBuf {
    browser::add(name, bytes)
}

/// The browser's side of reading and writing: uploads kept in memory, saves as downloads.
#[cfg(target_arch = "wasm32")]
mod browser {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    static UPLOADS: Mutex<BTreeMap<PathBuf, Arc<Vec<u8>>>> = Mutex::new(BTreeMap::new());

    pub fn add(name: &str, bytes: Vec<u8>) -> PathBuf {
        // Only the name: a path the browser reports is never a real path here.
        let name = Path::new(name)
            .file_name()
            .map_or_else(|| "upload".into(), |n| n.to_string_lossy().into_owned());
        let path = PathBuf::from("uploads").join(name);
        // The lock fails only after a panic while it was held, which ends the app (panic =
        // abort): there is nobody left to read the upload.
        if let Ok(mut map) = UPLOADS.lock() {
            map.insert(path.clone(), Arc::new(bytes));
        }
        path
    }

    pub fn read(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
        let shown = path.display();
        let bytes = UPLOADS
            .lock()
            .ok()
            .and_then(|map| map.get(path).cloned())
            .ok_or_else(|| {
                format!(
                    "cannot read {shown}: in the browser only a file chosen with Load… can be read"
                )
            })?;
        if bytes.len() as u64 > max_bytes {
            return Err(format!(
                "{shown} is {} MB; at most {} MB are read",
                (bytes.len() as u64).div_ceil(1_000_000),
                max_bytes / 1_000_000
            ));
        }
        Ok(bytes.to_vec())
    }

    pub fn download(path: &Path, bytes: &[u8]) -> Result<(), String> {
        let name = path.file_name().map_or_else(
            || "attention-lab".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mime = match path.extension().and_then(|e| e.to_str()) {
            Some("png") => "image/png",
            Some("csv") => "text/csv",
            _ => "application/octet-stream",
        };
        crate::browser::download(&name, bytes, mime)
            .map_err(|e| format!("cannot download {name}: {e}"))
    }
}

/// Remove a temporary file if it is there; a file that is already gone is what we wanted.
fn remove_quietly(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        // Anything else (a read-only folder) leaves it for the next save, which tries again.
        Err(_) => {}
    }
}

/// Do `a` and `b` name the same existing file (also through links or different spellings)?
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("al-files-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    #[test]
    fn special_files_and_oversized_files_are_refused_before_reading() {
        let dir = scratch("read");
        let e = read_regular(&dir, 10).unwrap_err();
        assert!(
            e.contains("not a regular file") && e.contains("directory"),
            "{e}"
        );
        #[cfg(unix)]
        {
            let e = read_regular(Path::new("/dev/zero"), 10).unwrap_err();
            assert!(e.contains("device"), "{e}");
        }
        let f = dir.join("big");
        std::fs::write(&f, vec![0u8; 100]).unwrap_or_else(|e| panic!("{e}"));
        assert!(read_regular(&f, 99).unwrap_err().contains("at most"));
        assert_eq!(read_regular(&f, 100).map(|b| b.len()), Ok(100));
        std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn saves_go_through_links_and_never_replace_special_files() {
        let dir = scratch("write");
        let real = dir.join("real.bin");
        write_atomic(&real, b"one").unwrap_or_else(|e| panic!("{e}"));
        #[cfg(unix)]
        {
            let link = dir.join("link.bin");
            std::os::unix::fs::symlink(&real, &link).unwrap_or_else(|e| panic!("{e}"));
            write_atomic(&link, b"two").unwrap_or_else(|e| panic!("{e}"));
            assert!(std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()));
            assert_eq!(std::fs::read(&real).ok(), Some(b"two".to_vec()));
            assert!(same_file(&link, &real));
            let e = write_atomic(Path::new("/dev/null"), b"x").unwrap_err();
            assert!(e.contains("device"), "{e}");
        }
        // A stale temporary file from a killed save is cleaned, and none is left behind.
        std::fs::write(temporary_for(&real), b"partial").unwrap_or_else(|e| panic!("{e}"));
        write_atomic(&real, b"three").unwrap_or_else(|e| panic!("{e}"));
        assert!(!temporary_for(&real).exists());
        assert!(
            write_atomic(&dir.join("no/such/dir/x"), b"x")
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(!same_file(&real, &dir.join("other")));
        std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    }
}
