//! What a lesson is: the [`Lesson`] trait, what it sees of the app ([`LessonContext`]), and the
//! two helpers that spare each lesson the boilerplate — settings handled once for any serde
//! struct ([`LessonSettings`]), and a lesson made of sections ([`Sectioned`], one struct per
//! section, in its own file).

use egui::Ui;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::widgets::plots::section_tabs;

/// What a lesson may ask of the app while it draws (applied after the frame, as in egui's demo app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppRequest {
    /// Switch to the lesson with this id.
    OpenLesson(&'static str),
    /// Put a message in the status bar.
    Status(String),
}

/// Handed to [`Lesson::ui`]: what a lesson can see of the app and how it talks back.
#[derive(Debug, Default)]
pub struct LessonContext {
    /// Ids of the lessons that exist (so a lesson can say "coming" for one that does not).
    pub available: Vec<&'static str>,
    /// Requests the app applies once the frame is drawn.
    pub requests: Vec<AppRequest>,
    /// The user asked (`--play`) that the lesson start training as soon as it opens.
    pub autoplay: bool,
}

impl LessonContext {
    /// Is there a lesson with this id?
    pub fn has_lesson(&self, id: &str) -> bool {
        self.available.contains(&id)
    }
}

/// Who a lesson is: what the side panel, the command line and persistence know of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LessonInfo {
    /// Stable key: `--lesson ID`, `data ID`, persistence, tests.
    pub id: &'static str,
    /// The title shown in the side panel and above the lesson.
    pub title: &'static str,
    /// One or two sentences tying the lesson to the lecture.
    pub summary: &'static str,
}

/// One lesson: a page of the app that makes one claim of the lecture visible.
pub trait Lesson {
    /// Id, title and summary.
    fn info(&self) -> LessonInfo;
    /// The lesson's settings: what persists across restarts and what `--set key=value` changes.
    fn settings(&mut self) -> &mut dyn LessonSettings;
    /// Draw the lesson.
    fn ui(&mut self, ui: &mut Ui, ctx: &mut LessonContext);
    /// The numbers behind the lesson's figures at the current settings, as JSON
    /// (`attention-lab data ID`), computed by the same code the GUI draws from.
    fn data(&mut self) -> Value;
    /// The numbers behind the figure on screen, as CSV ("Copy data").
    fn csv(&mut self) -> String;
    /// Training throughput of the lesson's run in tokens/s, for lessons that train.
    fn training_rate(&self) -> Option<f32> {
        None
    }
    /// Steps trained so far by the lesson's run, for lessons that train.
    fn training_step(&self) -> Option<usize> {
        None
    }
}

/// A lesson's settings, as the app sees them: JSON in and out, checked on the way in.
/// Implemented once, for every serde struct with a [`Validate`] impl.
pub trait LessonSettings {
    /// The settings as a JSON object.
    fn to_json(&self) -> Value;
    /// Replace the settings from a JSON object; on error (the message names the setting) the
    /// settings are unchanged.
    fn set_json(&mut self, value: Value) -> Result<(), String>;
}

/// The check a lesson's settings pass before they are taken (ranges, consistency).
pub trait Validate {
    /// `Err` names the setting, its value and what it must be.
    fn validate(&self) -> Result<(), String>;
}

impl<S: Serialize + DeserializeOwned + Validate> LessonSettings for S {
    fn to_json(&self) -> Value {
        // A struct of numbers, strings and enums always serializes; `Null` would only mean a
        // settings type that cannot be JSON, which the registry test would catch.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    fn set_json(&mut self, value: Value) -> Result<(), String> {
        // serde's message quotes the bad value: a huge one is cut.
        let s: S = serde_json::from_value(value).map_err(|e| shorten(&e.to_string()))?;
        s.validate()?;
        *self = s;
        Ok(())
    }
}

/// One section (tab) of a [`Sectioned`] lesson: its own state (caches, background work) in its
/// own struct and file; the settings `S` are the lesson's, shared by all its sections.
pub trait Section<S> {
    /// The tab's label, e.g. "1. The lecture's demo".
    fn title(&self) -> &'static str;
    /// Draw the section.
    fn ui(&mut self, ui: &mut Ui, settings: &mut S, ctx: &mut LessonContext);
    /// The numbers behind this section's main figure, as CSV.
    fn csv(&mut self, settings: &S) -> String;
}

/// A lesson made of sections: tabs along the top, one section drawn at a time.
pub struct Sectioned<S> {
    info: LessonInfo,
    settings: WithSection<S>,
    sections: Vec<Box<dyn Section<S>>>,
    data: fn(&S) -> Value,
}

/// A sectioned lesson's settings: the open section and the lesson's own, one JSON object to the
/// app (so `--set section=2` and persistence treat "section" like any other key).
struct WithSection<S> {
    section: usize,
    count: usize,
    inner: S,
}

impl<S: LessonSettings> LessonSettings for WithSection<S> {
    fn to_json(&self) -> Value {
        let mut v = self.inner.to_json();
        if let Value::Object(map) = &mut v {
            map.insert("section".into(), Value::from(self.section));
        }
        v
    }

    fn set_json(&mut self, mut value: Value) -> Result<(), String> {
        let section = match value.as_object_mut().and_then(|m| m.remove("section")) {
            None => 0,
            Some(v) => {
                let n = v.as_u64().filter(|&n| (n as usize) < self.count);
                let last = self.count.saturating_sub(1);
                n.ok_or_else(|| format!("section must be between 0 and {last}, got {v}"))? as usize
            }
        };
        self.inner.set_json(value)?;
        self.section = section;
        Ok(())
    }
}

impl<S: LessonSettings + Default> Sectioned<S> {
    /// A lesson with default settings, opening on its first section; `data` computes
    /// `attention-lab data ID` from the settings.
    pub fn new(
        info: LessonInfo,
        sections: Vec<Box<dyn Section<S>>>,
        data: fn(&S) -> Value,
    ) -> Self {
        Self {
            info,
            settings: WithSection {
                section: 0,
                count: sections.len(),
                inner: S::default(),
            },
            sections,
            data,
        }
    }
}

impl<S: LessonSettings + Default> Lesson for Sectioned<S> {
    fn info(&self) -> LessonInfo {
        self.info
    }

    fn settings(&mut self) -> &mut dyn LessonSettings {
        &mut self.settings
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut LessonContext) {
        let titles: Vec<&str> = self.sections.iter().map(|s| s.title()).collect();
        section_tabs(ui, &mut self.settings.section, &titles);
        if let Some(section) = self.sections.get_mut(self.settings.section) {
            section.ui(ui, &mut self.settings.inner, ctx);
        }
    }

    fn data(&mut self) -> Value {
        let mut v = (self.data)(&self.settings.inner);
        // The settings the numbers were computed with, the open section included.
        if let Some(map) = v.as_object_mut() {
            map.insert("settings".into(), self.settings.to_json());
        }
        v
    }

    fn csv(&mut self) -> String {
        match self.sections.get_mut(self.settings.section) {
            Some(section) => section.csv(&self.settings.inner),
            None => String::new(),
        }
    }
}

/// A message with every run of more than 60 characters without a space cut to 60 (a value
/// quoted back from a 100 k-character input stays readable).
pub fn shorten(message: &str) -> String {
    message
        .split(' ')
        .map(|w| {
            if w.chars().count() > 60 {
                let head: String = w.chars().take(60).collect();
                format!("{head}…")
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `Err("{name} must be between {lo} and {hi}, got {value}")` unless lo ≤ value ≤ hi (and
/// finite).
pub fn range(name: &str, value: f64, lo: f64, hi: f64) -> Result<(), String> {
    use crate::model::config::number;
    let ok = value.is_finite() && (lo..=hi).contains(&value);
    check(
        name,
        ok,
        &format!("between {} and {}", number(lo), number(hi)),
        number(value),
    )
}

/// `Err("{name} must be {what}, got {value}")` unless `ok`: the one-line message every
/// settings check gives.
pub fn check(
    name: &str,
    ok: bool,
    what: &str,
    value: impl std::fmt::Display,
) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{name} must be {what}, got {value}"))
    }
}
