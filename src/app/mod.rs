//! `LabApp`: the window. Persisted settings (`AppState`, each lesson's settings) are kept apart
//! from runtime fields, as in egui's `wrap_app.rs`; lessons return requests that are applied
//! after the frame is drawn.
//!
//! Keys: F5 presentation mode (bigger zoom, no side panel, PageDown/PageUp and →/← step through
//! lessons), F11 fullscreen, Ctrl +/−/0 zoom (egui's own), F12 frame-time overlay.

pub mod link;
mod persist;

pub use persist::{sanitize as sanitize_saved_state, sanitize_map};

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use web_time::Instant;

use egui::{ColorImage, Key, Rect, Ui};
use serde::{Deserialize, Serialize};

use crate::lessons::{AppRequest, Lesson, LessonContext, all_lessons};
use crate::widgets::export::{png_path, save_png_crop};

/// Presentation mode's zoom, on top of the user's: the window becomes
/// `widgets::layout::PRESENT_WIDTH` points wide (1.875 at 1920 pixels: body text of 26 px),
/// at least 1.25.
pub fn presentation_zoom(ctx: &egui::Context) -> f32 {
    // The window's width in points at zoom 1, whatever the zoom now.
    let native = ctx.content_rect().width() * ctx.zoom_factor();
    (native / crate::widgets::layout::PRESENT_WIDTH).clamp(1.25, 3.0)
}
/// How many frame times the F12 overlay keeps.
const FRAME_HISTORY: usize = 240;
/// Storage key of the app's own state.
const APP_KEY: &str = "attention-lab/app";

/// Light theme for projectors, dark theme for laptops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ThemeChoice {
    /// Light background: reads best on a projector.
    Light,
    /// Dark background.
    #[default]
    Dark,
}

/// What persists across restarts (besides each lesson's settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    /// Id of the selected lesson.
    pub lesson: String,
    /// Colour theme.
    pub theme: ThemeChoice,
    /// The user's zoom factor (presentation mode multiplies it by [`presentation_zoom`]).
    pub zoom: f32,
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            lesson: "overview".into(),
            theme: ThemeChoice::Dark,
            zoom: 1.0,
        }
    }
}

/// How the app starts (from the command line).
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Open at this lesson (overrides the persisted one).
    pub lesson: Option<String>,
    /// Start in presentation mode.
    pub present: bool,
    /// Use this theme (overrides the persisted one).
    pub theme: Option<ThemeChoice>,
    /// Start training in the first lesson that trains (retrain from scratch, then play).
    pub play: bool,
    /// `key=value` settings applied to the start lesson (`--lesson ID --set key=value`).
    pub sets: Vec<(String, String)>,
    /// What was repaired in the saved state before the window opened (shown in the status bar).
    pub notes: Vec<String>,
}

/// A screenshot requested by "Save PNG", waiting for the renderer.
struct PendingShot {
    slot: Arc<Mutex<Option<Arc<ColorImage>>>>,
    rect: Rect,
    pixels_per_point: f32,
    path: std::path::PathBuf,
}

/// The application.
pub struct LabApp {
    state: AppState,
    lessons: Vec<Box<dyn Lesson>>,
    present: bool,
    /// The zoom we last applied, to notice when egui's Ctrl +/− changed it.
    applied_zoom: Option<f32>,
    status: String,
    show_frame_times: bool,
    frame_times: VecDeque<f32>,
    lesson_rect: Rect,
    pending_shot: Option<PendingShot>,
    /// Where "Save PNG" writes (natively; `None`: the working directory at the time).
    save_dir: Option<std::path::PathBuf>,
    autoplay: bool,
    /// What was last written to storage (the app state and the open lesson's settings), and
    /// when: settings are saved when they change, not only at eframe's next auto-save.
    saved: Option<(String, Instant)>,
    /// Each lesson's default settings, read when a link first needs them.
    defaults: std::collections::HashMap<&'static str, serde_json::Value>,
}

impl LabApp {
    /// Create the app from eframe's creation context (restores persisted state).
    pub fn new(cc: &eframe::CreationContext<'_>, options: StartOptions) -> Self {
        crate::widgets::fonts::install(&cc.egui_ctx);
        Self::from_storage(cc.storage, options)
    }

    /// Create the app from optional storage (tests pass their own). Call
    /// [`crate::widgets::fonts::install`] on the context first.
    pub fn from_storage(storage: Option<&dyn eframe::Storage>, options: StartOptions) -> Self {
        // Nothing saved yet (a first start) is the defaults; what cannot be read is reported.
        let mut notes: Vec<String> = options.notes.clone();
        let mut state: AppState = match storage.and_then(|s| s.get_string(APP_KEY)) {
            None => AppState::default(),
            Some(text) => ron::from_str(&text).unwrap_or_else(|e| {
                notes.push(format!("the saved app state could not be read ({e})"));
                AppState::default()
            }),
        };
        let mut lessons = all_lessons();
        if let Some(storage) = storage {
            for lesson in &mut lessons {
                let id = lesson.info().id;
                let Some(text) = storage.get_string(&lesson_key(id)) else {
                    continue;
                };
                let restored = serde_json::from_str(&text)
                    .map_err(|e| e.to_string())
                    .and_then(|saved| lesson.settings().set_json(saved));
                if let Err(e) = restored {
                    notes.push(format!(
                        "the saved settings of \"{id}\" were not valid ({e})"
                    ));
                }
            }
        }
        if let Some(id) = options.lesson {
            if let Some(lesson) = lessons.iter_mut().find(|l| l.info().id == id)
                && let Err(e) = crate::lessons::apply_overrides(lesson.as_mut(), &options.sets)
            {
                // The command line checks these before the window opens; say so if one slips.
                notes.push(e);
            }
            state.lesson = id;
        }
        if let Some(theme) = options.theme {
            state.theme = theme;
        }
        if !lessons.iter().any(|l| l.info().id == state.lesson) {
            state.lesson = lessons
                .first()
                .map_or_else(|| "overview".to_owned(), |l| l.info().id.to_owned());
        }
        if !(state.zoom.is_finite() && (0.25..=5.0).contains(&state.zoom)) {
            state.zoom = 1.0;
        }
        let status = if notes.is_empty() {
            "Ready. F5: presentation mode · F11: fullscreen · Ctrl +/−/0: zoom · F12: frame times"
                .to_owned()
        } else {
            format!("Started with defaults where needed: {}.", notes.join("; "))
        };
        Self {
            state,
            lessons,
            present: options.present,
            applied_zoom: None,
            status,
            show_frame_times: false,
            frame_times: VecDeque::with_capacity(FRAME_HISTORY),
            lesson_rect: Rect::NOTHING,
            pending_shot: None,
            save_dir: None,
            autoplay: options.play,
            saved: None,
            defaults: std::collections::HashMap::new(),
        }
    }

    /// The settings of lesson `id` as JSON (what `data ID` and persistence see).
    pub fn lesson_settings(&mut self, id: &str) -> Option<serde_json::Value> {
        self.lessons
            .iter_mut()
            .find(|l| l.info().id == id)
            .map(|l| l.settings().to_json())
    }

    /// The persisted state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Id of the selected lesson.
    pub fn current_lesson_id(&self) -> &str {
        &self.state.lesson
    }

    /// Is presentation mode on?
    pub fn presenting(&self) -> bool {
        self.present
    }

    /// The text in the status bar.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The open lesson and its settings that differ from the defaults, as a URL fragment
    /// ([`link::format`]; the browser build keeps the address bar at it).
    pub fn link(&mut self) -> String {
        let idx = self.current_index();
        let Some(lesson) = self.lessons.get_mut(idx) else {
            return String::new();
        };
        let id = lesson.info().id;
        let settings = lesson.settings().to_json();
        let defaults = self
            .defaults
            .entry(id)
            .or_insert_with(|| default_settings(id));
        link::format(id, &settings, defaults)
    }

    /// Open the lesson a link names, with its default settings changed as the link says (so
    /// the link shows the same figure wherever it is opened). A bad link changes nothing but
    /// the status bar, which says what is wrong.
    pub fn follow_link(&mut self, fragment: &str) {
        let link = match link::parse(fragment) {
            Ok(l) => l,
            Err(e) => {
                self.status = format!("Link not followed: {e}.");
                return;
            }
        };
        let Some(lesson) = self.lessons.iter_mut().find(|l| l.info().id == link.lesson) else {
            self.status = format!(
                "Link not followed: there is no lesson \"{}\"; the lessons are {}.",
                crate::lessons::overrides::echo(&link.lesson),
                crate::lessons::lesson_ids().join(", ")
            );
            return;
        };
        let id = lesson.info().id;
        let defaults = self
            .defaults
            .entry(id)
            .or_insert_with(|| default_settings(id))
            .clone();
        let settings = lesson.settings();
        let before = settings.to_json();
        let result = settings
            .set_json(defaults)
            .and_then(|()| crate::lessons::apply_overrides(lesson.as_mut(), &link.sets));
        if let Err(e) = result {
            if lesson.settings().set_json(before).is_err() {
                // The settings came from `to_json` of a validated struct a moment ago.
                debug_assert!(false, "settings that round-trip were refused");
            }
            self.status = format!("Link not followed: {e}.");
            return;
        }
        self.state.lesson = id.to_owned();
        self.autoplay |= link.play;
        if let Some(present) = link.present {
            self.present = present;
        }
        match link.theme.as_deref() {
            Some("light") => self.state.theme = ThemeChoice::Light,
            Some("dark") => self.state.theme = ThemeChoice::Dark,
            _ => {}
        }
        self.status = format!("Opened the link to \"{}\".", lesson.info().title);
    }

    /// The page's title: the lesson, and the step while it trains ("· step 120").
    pub fn page_title(&self) -> String {
        let Some(lesson) = self.lessons.get(self.current_index()) else {
            return "attention-lab".to_owned();
        };
        match lesson.training_step() {
            Some(step) => format!("{} · step {step} · attention-lab", lesson.info().title),
            None => format!("{} · attention-lab", lesson.info().title),
        }
    }

    /// The longest of the last frames, in ms of the app's own code (what F12 shows).
    pub fn longest_recent_frame_ms(&self) -> f32 {
        self.frame_times.iter().copied().fold(0.0, f32::max)
    }

    /// Steps trained so far by the selected lesson's run, if it trains.
    pub fn training_step(&self) -> Option<usize> {
        self.lessons
            .get(self.current_index())
            .and_then(|l| l.training_step())
    }

    /// Training throughput (tokens/s) of the selected lesson, if it trains.
    pub fn training_rate(&self) -> Option<f32> {
        self.lessons
            .get(self.current_index())
            .and_then(|l| l.training_rate())
    }

    /// Select a lesson by id (ignored if there is none).
    pub fn open_lesson(&mut self, id: &str) {
        if self.lessons.iter().any(|l| l.info().id == id) {
            self.state.lesson = id.to_owned();
        }
    }

    fn current_index(&self) -> usize {
        self.lessons
            .iter()
            .position(|l| l.info().id == self.state.lesson)
            .unwrap_or(0)
    }

    /// Step `delta` lessons forward or back in lecture order (clamped at the ends).
    pub fn step_lesson(&mut self, delta: isize) {
        let n = self.lessons.len() as isize;
        if n == 0 {
            return;
        }
        let i = (self.current_index() as isize + delta).clamp(0, n - 1) as usize;
        self.state.lesson = self.lessons[i].info().id.to_owned();
    }

    /// Save everything that persists.
    pub fn save_to(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, APP_KEY, &self.state);
        for lesson in &mut self.lessons {
            let id = lesson.info().id;
            storage.set_string(&lesson_key(id), lesson.settings().to_json().to_string());
        }
    }

    /// Keyboard shortcuts that belong to the app, not to a lesson.
    fn handle_keys(&mut self, ctx: &egui::Context) {
        // Lesson stepping belongs to presentation mode, and never steals the arrows from a
        // focused widget (a slider, a text field).
        let focused = ctx.memory(|m| m.focused().is_some());
        let stepping = self.present;
        let (f5, f11, f12, next, prev) = ctx.input_mut(|i| {
            let mut take = |key| stepping && i.consume_key(egui::Modifiers::NONE, key);
            let next = take(Key::PageDown) || (!focused && take(Key::ArrowRight));
            let prev = take(Key::PageUp) || (!focused && take(Key::ArrowLeft));
            (
                i.consume_key(egui::Modifiers::NONE, Key::F5),
                i.consume_key(egui::Modifiers::NONE, Key::F11),
                i.consume_key(egui::Modifiers::NONE, Key::F12),
                next,
                prev,
            )
        });
        if f5 {
            self.present = !self.present;
            self.status = if self.present {
                "Presentation mode: PageDown/→ next lesson, PageUp/← previous, F5 to leave.".into()
            } else {
                "Presentation mode off.".into()
            };
        }
        if f11 {
            let fullscreen = ctx.input(|i| i.viewport().fullscreen.unwrap_or(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(!fullscreen));
        }
        if f12 {
            self.show_frame_times = !self.show_frame_times;
        }
        if next {
            self.step_lesson(1);
        }
        if prev {
            self.step_lesson(-1);
        }
    }

    /// Keep egui's zoom, the user's zoom and presentation mode in step.
    fn sync_zoom(&mut self, ctx: &egui::Context) {
        // Only on a frame's first pass: a pass that egui runs again (a grid measuring itself)
        // reuses the frame's input, whose window size is still in the old zoom's points.
        if ctx.current_pass_index() > 0 {
            return;
        }
        let factor = if self.present {
            presentation_zoom(ctx)
        } else {
            1.0
        };
        let current = ctx.zoom_factor();
        if let Some(applied) = self.applied_zoom
            && (current - applied).abs() > 1e-4
        {
            // Ctrl +/−/0 changed it: that is the user's new zoom.
            self.state.zoom = (current / factor).clamp(0.25, 5.0);
        }
        let wanted = self.state.zoom * factor;
        if (current - wanted).abs() > 1e-4 {
            ctx.set_zoom_factor(wanted);
        }
        self.applied_zoom = Some(wanted);
    }

    /// Apply the theme.
    fn sync_theme(&self, ctx: &egui::Context) {
        let theme = match self.state.theme {
            ThemeChoice::Light => egui::Theme::Light,
            ThemeChoice::Dark => egui::Theme::Dark,
        };
        if ctx.theme() != theme {
            ctx.set_theme(theme);
        }
    }

    /// Check whether a requested screenshot has arrived and write it.
    fn finish_screenshot(&mut self) {
        let Some(shot) = &self.pending_shot else {
            return;
        };
        let image = match shot.slot.lock() {
            Ok(mut slot) => slot.take(),
            Err(_) => None,
        };
        if let Some(image) = image {
            self.status = match save_png_crop(&image, shot.rect, shot.pixels_per_point, &shot.path)
            {
                Ok((w, h)) => format!("Saved {} ({w} × {h} px)", shot.path.display()),
                Err(e) => format!("Save PNG failed: {e}"),
            };
            self.pending_shot = None;
        }
    }

    /// Make "Save PNG" write into `dir` instead of the working directory (tests, and anyone
    /// embedding the app).
    pub fn set_save_dir(&mut self, dir: std::path::PathBuf) {
        self.save_dir = Some(dir);
    }

    /// The folder "Save PNG" writes into: natively the one set by [`Self::set_save_dir`] or
    /// the working directory, named whole in the status bar so that the file can be found; in a
    /// browser none (the file is a download).
    fn png_dir(&self) -> Result<Option<std::path::PathBuf>, String> {
        if cfg!(target_arch = "wasm32") {
            return Ok(None);
        }
        match &self.save_dir {
            Some(dir) => Ok(Some(dir.clone())),
            None => std::env::current_dir()
                .map(Some)
                .map_err(|e| format!("Save PNG failed: the working directory cannot be read: {e}")),
        }
    }

    fn request_screenshot(&mut self, ctx: &egui::Context) {
        let dir = match self.png_dir() {
            Ok(dir) => dir,
            Err(e) => {
                self.status = e;
                return;
            }
        };
        let slot: Arc<Mutex<Option<Arc<ColorImage>>>> = Arc::default();
        let writer = Arc::clone(&slot);
        let waker = ctx.clone();
        ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(
            egui::ScreenshotCallback::new(move |image| {
                if let Ok(mut s) = writer.lock() {
                    *s = Some(image);
                }
                waker.request_repaint();
            }),
        ));
        let path = png_path(dir.as_deref(), &self.state.lesson);
        self.status = format!("Saving {} …", path.display());
        self.pending_shot = Some(PendingShot {
            slot,
            rect: self.lesson_rect,
            pixels_per_point: ctx.pixels_per_point(),
            path,
        });
    }

    /// The whole UI. Used by [`eframe::App::ui`] and by the frame benchmark.
    pub fn show(&mut self, ui: &mut Ui) {
        let started = Instant::now();
        let ctx = ui.ctx().clone();
        self.handle_keys(&ctx);
        self.sync_zoom(&ctx);
        self.sync_theme(&ctx);
        self.finish_screenshot();

        self.top_bar(ui);
        self.status_bar(ui);
        if !self.present {
            self.side_panel(ui);
        }
        let requests = self.central(ui);
        for request in requests {
            match request {
                AppRequest::OpenLesson(id) => self.open_lesson(id),
                AppRequest::Status(s) => self.status = s,
            }
        }
        if self.show_frame_times {
            self.frame_overlay(&ctx);
        }
        self.push_frame_time(started.elapsed().as_secs_f32() * 1000.0);
    }

    fn push_frame_time(&mut self, ms: f32) {
        if self.frame_times.len() == FRAME_HISTORY {
            self.frame_times.pop_front();
        }
        self.frame_times.push_back(ms);
    }

    fn top_bar(&mut self, ui: &mut Ui) {
        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong("attention-lab");
                ui.separator();
                let mut theme = self.state.theme;
                ui.selectable_value(&mut theme, ThemeChoice::Light, "☀ Light")
                    .on_hover_text("Light theme: reads best on a projector");
                ui.selectable_value(&mut theme, ThemeChoice::Dark, "🌙 Dark")
                    .on_hover_text("Dark theme");
                self.state.theme = theme;
                ui.separator();
                if ui
                    .selectable_label(self.present, "Present (F5)")
                    .on_hover_text("Presentation mode: bigger zoom, no side panel, PageDown/PageUp step through lessons")
                    .clicked()
                {
                    self.present = !self.present;
                }
                ui.separator();
                let ctx = ui.ctx().clone();
                if ui
                    .button("Save PNG")
                    .on_hover_text("Save the lesson area as a PNG in the working directory")
                    .clicked()
                {
                    self.request_screenshot(&ctx);
                }
                if ui
                    .button("Copy data")
                    .on_hover_text("Copy the numbers behind the current figure as CSV")
                    .clicked()
                {
                    let idx = self.current_index();
                    if let Some(lesson) = self.lessons.get_mut(idx) {
                        let csv = lesson.csv();
                        let rows = csv.lines().count().saturating_sub(1);
                        ui.ctx().copy_text(csv);
                        self.status = format!("Copied {rows} rows of CSV from \"{}\" to the clipboard.", lesson.info().title);
                    }
                }
            });
        });
    }

    fn status_bar(&mut self, ui: &mut Ui) {
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            // Wrapped, not cut at the window's edge: a saved figure's whole path must show.
            ui.horizontal(|ui| {
                ui.add(egui::Label::new(self.status.as_str()).wrap());
            });
        });
    }

    fn side_panel(&mut self, ui: &mut Ui) {
        egui::Panel::left("lessons")
            .resizable(true)
            .default_size(240.0)
            .show(ui, |ui| {
                ui.add_space(4.0);
                ui.heading("Lessons");
                ui.add_space(4.0);
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let mut chosen = None;
                    for (i, lesson) in self.lessons.iter().enumerate() {
                        let info = lesson.info();
                        let selected = info.id == self.state.lesson;
                        let text = format!("{}. {}", i + 1, info.title);
                        if ui
                            .selectable_label(selected, text)
                            .on_hover_text(info.summary)
                            .clicked()
                        {
                            chosen = Some(info.id.to_owned());
                        }
                    }
                    if let Some(id) = chosen {
                        self.state.lesson = id;
                    }
                });
            });
    }

    fn central(&mut self, ui: &mut Ui) -> Vec<AppRequest> {
        let available = self.lessons.iter().map(|l| l.info().id).collect();
        let mut lesson_ctx = LessonContext {
            available,
            requests: Vec::new(),
            autoplay: self.autoplay,
        };
        self.autoplay = false;
        let idx = self.current_index();
        let panel = egui::CentralPanel::default().show(ui, |ui| {
            let Some(lesson) = self.lessons.get_mut(idx) else {
                ui.label("No lessons are registered.");
                return;
            };
            crate::widgets::figure::clear_log(ui.ctx());
            // Down, never sideways: every lesson lays itself out in the panel's width.
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    ui.set_max_width(ui.available_width());
                    let info = lesson.info();
                    ui.heading(egui::RichText::new(info.title).strong());
                    ui.label(info.summary);
                    ui.separator();
                    ui.push_id(info.id, |ui| lesson.ui(ui, &mut lesson_ctx));
                });
        });
        self.lesson_rect = panel.response.rect;
        lesson_ctx.requests
    }

    fn frame_overlay(&self, ctx: &egui::Context) {
        let mut sorted: Vec<f32> = self.frame_times.iter().copied().collect();
        sorted.sort_by(f32::total_cmp);
        let pick = |q: f32| {
            sorted
                .get(((sorted.len().saturating_sub(1)) as f32 * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        let last = self.frame_times.back().copied().unwrap_or(0.0);
        egui::Area::new(egui::Id::unique("frame_times"))
            .anchor(egui::Align2::RIGHT_TOP, egui::vec2(-8.0, 40.0))
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.monospace(format!(
                        "CPU ms per frame (UI code)\nlast   {last:6.2}\nmedian {:6.2}\np99    {:6.2}\nmax    {:6.2}\nframes {}",
                        pick(0.5),
                        pick(0.99),
                        pick(1.0),
                        sorted.len()
                    ));
                    let points: egui_plot::PlotPoints = self
                        .frame_times
                        .iter()
                        .enumerate()
                        .map(|(i, t)| [i as f64, *t as f64])
                        .collect();
                    egui_plot::Plot::new("frame_time_plot")
                        .width(220.0)
                        .height(70.0)
                        .show_axes([false, true])
                        .allow_drag(false)
                        .allow_zoom(false)
                        .allow_scroll(false)
                        .show(ui, |p| p.line(egui_plot::Line::new("ms", points)));
                });
            });
    }
}

/// The settings a fresh lesson `id` starts with.
fn default_settings(id: &str) -> serde_json::Value {
    all_lessons()
        .into_iter()
        .find(|l| l.info().id == id)
        .map_or(serde_json::Value::Null, |mut l| l.settings().to_json())
}

fn lesson_key(id: &str) -> String {
    format!("attention-lab/lesson/{id}")
}

/// Changed settings are written at most this often while they keep changing (dragging a
/// slider), and once more after they stop.
pub const SAVE_EVERY: std::time::Duration = std::time::Duration::from_millis(750);

impl LabApp {
    /// What persists, as text: the app state and the open lesson's settings (the other lessons'
    /// settings cannot change while they are not shown).
    fn signature(&mut self) -> String {
        let mut s = ron::to_string(&self.state).unwrap_or_else(|e| e.to_string());
        let idx = self.current_index();
        if let Some(lesson) = self.lessons.get_mut(idx) {
            s.push_str(&lesson.settings().to_json().to_string());
        }
        s
    }

    /// Save to `storage` if what persists changed since the last save (at most every
    /// [`SAVE_EVERY`]; a change that comes sooner is saved at a repaint asked for then).
    pub fn persist_now(&mut self, storage: &mut dyn eframe::Storage, ctx: &egui::Context) {
        let now = self.signature();
        let due = match &self.saved {
            None => true,
            Some((sig, _)) if *sig == now => false,
            Some((_, at)) => at.elapsed() >= SAVE_EVERY,
        };
        if due {
            self.save_to(storage);
            storage.flush();
            self.saved = Some((now, Instant::now()));
        } else if self.saved.as_ref().is_some_and(|(sig, _)| *sig != now) {
            // Changed too soon after the last save: come back for it.
            ctx.request_repaint_after(SAVE_EVERY);
        }
    }
}

impl eframe::App for LabApp {
    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        self.show(ui);
        if let Some(storage) = frame.storage_mut() {
            let ctx = ui.ctx().clone();
            self.persist_now(storage, &ctx);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.save_to(storage);
    }
}
