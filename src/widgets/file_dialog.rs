//! A small in-app file dialog (a modal): folder navigation, a list of the files with one
//! extension, and a file-name field. Pure egui, so it works on a bare Linux without GTK or a
//! desktop portal.
//!
//! In a browser the same dialog is the browser's own: Save confirms the suggested name at once
//! (`files::write_atomic` then offers a download of that name), Load opens the browser's file
//! picker and confirms `uploads/<name>` once the chosen file's bytes are in memory
//! (`files::add_upload`). The lessons that use it do not change.

use std::path::{Path, PathBuf};

/// Open for saving or for loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogMode {
    /// Choose a (new or existing) file to write.
    Save,
    /// Choose an existing file to read.
    Load,
}

/// The dialog's state while it is open.
#[derive(Debug, Clone)]
pub struct FileDialog {
    mode: DialogMode,
    dir: PathBuf,
    name: String,
    extension: &'static str,
    entries: Vec<(String, bool)>,
    error: Option<String>,
    title: String,
    /// In a browser: the picker's answer, once it was opened.
    #[cfg(target_arch = "wasm32")]
    picked: Option<BrowserPick>,
}

/// The browser file picker's slot (see `browser::pick_file`).
#[cfg(target_arch = "wasm32")]
#[derive(Clone)]
struct BrowserPick(crate::browser::Picked);

#[cfg(target_arch = "wasm32")]
impl std::fmt::Debug for BrowserPick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrowserPick")
    }
}

impl FileDialog {
    /// A dialog in `dir` for files ending in `.extension`, with a suggested file name.
    pub fn new(mode: DialogMode, dir: PathBuf, name: String, extension: &'static str) -> Self {
        let title = match mode {
            DialogMode::Save => "Save checkpoint".to_owned(),
            DialogMode::Load => "Load checkpoint".to_owned(),
        };
        let mut d = Self {
            mode,
            dir,
            name,
            extension,
            entries: Vec::new(),
            error: None,
            title,
            #[cfg(target_arch = "wasm32")]
            picked: None,
        };
        if !cfg!(target_arch = "wasm32") {
            d.refresh();
        }
        d
    }

    fn refresh(&mut self) {
        self.entries.clear();
        match std::fs::read_dir(&self.dir) {
            Ok(read) => {
                for entry in read.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                    if name.starts_with('.') {
                        continue;
                    }
                    if is_dir || name.ends_with(&format!(".{}", self.extension)) {
                        self.entries.push((name, is_dir));
                    }
                }
                // Folders first, then files, each sorted.
                self.entries
                    .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                self.error = None;
            }
            Err(e) => self.error = Some(format!("cannot list {}: {e}", self.dir.display())),
        }
    }

    /// Set the heading (default: "Save checkpoint" / "Load checkpoint").
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Save or load.
    pub fn mode(&self) -> DialogMode {
        self.mode
    }

    /// The chosen path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    fn enter(&mut self, dir: &Path) {
        self.dir = dir.to_path_buf();
        self.refresh();
    }

    /// Show the dialog. Returns `Some(Some(path))` when confirmed, `Some(None)` when cancelled,
    /// `None` while it stays open.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<Option<PathBuf>> {
        #[cfg(target_arch = "wasm32")]
        if self.error.is_none() {
            return self.show_in_browser(ctx);
        }
        let mut result = None;
        let title = self.title.clone();
        let modal =
            egui::Modal::new(egui::Id::unique(("file_dialog", title.as_str()))).show(ctx, |ui| {
                ui.set_min_width(460.0);
                ui.heading(&title);
                ui.horizontal(|ui| {
                    if ui
                        .button("⬆ Up")
                        .on_hover_text("The parent folder")
                        .clicked()
                        && let Some(parent) = self.dir.parent().map(Path::to_path_buf)
                    {
                        self.enter(&parent);
                    }
                    ui.label(self.dir.display().to_string());
                });
                egui::ScrollArea::vertical()
                    .max_height(220.0)
                    .show(ui, |ui| {
                        if self.entries.is_empty() {
                            ui.weak(format!("(no folders or .{} files here)", self.extension));
                        }
                        let mut go = None;
                        for (name, is_dir) in &self.entries {
                            let label = if *is_dir {
                                format!("📁 {name}")
                            } else {
                                name.clone()
                            };
                            if ui
                                .selectable_label(!is_dir && *name == self.name, label)
                                .clicked()
                            {
                                if *is_dir {
                                    go = Some(self.dir.join(name));
                                } else {
                                    self.name = name.clone();
                                }
                            }
                        }
                        if let Some(dir) = go {
                            self.enter(&dir);
                        }
                    });
                ui.horizontal(|ui| {
                    let l = ui.label("file name");
                    ui.add(egui::TextEdit::singleline(&mut self.name).desired_width(300.0))
                        .labelled_by(l.id);
                });
                if let Some(e) = &self.error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                ui.horizontal(|ui| {
                    let ok = match self.mode {
                        DialogMode::Save => "Save",
                        DialogMode::Load => "Load",
                    };
                    if ui.button(ok).clicked() {
                        if self.name.trim().is_empty() {
                            self.error = Some("type a file name".into());
                        } else if self.mode == DialogMode::Load && !self.path().is_file() {
                            self.error = Some(format!("{} does not exist", self.path().display()));
                        } else {
                            result = Some(Some(self.path()));
                        }
                    }
                    if ui.button("Cancel").clicked() {
                        result = Some(None);
                    }
                });
            });
        if modal.should_close() && result.is_none() {
            result = Some(None);
        }
        result
    }
}

#[cfg(target_arch = "wasm32")]
impl FileDialog {
    /// [`FileDialog::show`] in a browser (see the top of this file). A file that cannot be read
    /// leaves `error` set, and the modal shows it.
    fn show_in_browser(&mut self, ctx: &egui::Context) -> Option<Option<PathBuf>> {
        if self.mode == DialogMode::Save {
            return Some(Some(PathBuf::from(&self.name)));
        }
        let slot = match &self.picked {
            Some(p) => p.0.clone(),
            None => {
                let ctx = ctx.clone();
                let arrived = move || ctx.request_repaint();
                match crate::browser::pick_file(&format!(".{}", self.extension), arrived) {
                    Ok(slot) => {
                        self.picked = Some(BrowserPick(slot.clone()));
                        slot
                    }
                    Err(e) => {
                        self.error = Some(format!("the file picker did not open: {e}"));
                        return None;
                    }
                }
            }
        };
        let answer = slot.borrow_mut().take();
        match answer {
            // Still choosing (a cancelled picker leaves it here until the next Load…).
            None => None,
            Some(Ok((name, bytes))) => Some(Some(crate::files::add_upload(&name, bytes))),
            Some(Err(e)) => {
                self.error = Some(e);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_folders_first_and_only_matching_files() {
        let dir = std::env::temp_dir().join(format!("al-dialog-{}", std::process::id()));
        let _ = std::fs::create_dir_all(dir.join("sub"));
        let _ = std::fs::write(dir.join("b.safetensors"), b"x");
        let _ = std::fs::write(dir.join("a.safetensors"), b"x");
        let _ = std::fs::write(dir.join("notes.txt"), b"x");
        let d = FileDialog::new(DialogMode::Load, dir.clone(), String::new(), "safetensors");
        let names: Vec<&str> = d.entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["sub", "a.safetensors", "b.safetensors"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
