//! The lessons, in lecture order, behind ONE registry: [`all_lessons`].
//!
//! Adding a lesson is one file in this folder plus one line in [`all_lessons`]. Each lesson owns
//! its settings (a serde struct with `#[serde(default)]`); those settings are what the app
//! persists across restarts and what `attention-lab data ID --set key=value` overrides.

pub mod background;
pub mod compare_runs;
pub mod live;
pub mod norms;
pub mod overview;
pub mod positions;
pub mod rnn;
pub mod softmax;

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

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

/// One lesson: a page of the app that makes one claim of the lecture visible.
pub trait Lesson {
    /// Stable key: `--lesson ID`, persistence, tests.
    fn id(&self) -> &'static str;
    /// The title shown in the side panel and above the lesson.
    fn title(&self) -> &'static str;
    /// One or two sentences tying the lesson to the lecture.
    fn summary(&self) -> &'static str;
    /// Draw the lesson.
    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut LessonContext);
    /// The lesson's settings (its serde state) as a JSON object.
    fn settings(&self) -> Value;
    /// Replace the settings from a JSON object; on error the lesson is unchanged.
    fn set_settings(&mut self, settings: Value) -> Result<(), String>;
    /// The numbers behind the lesson's figures at the current settings, as JSON
    /// (`attention-lab data ID`). Computed by the same code the GUI draws from.
    fn data(&self) -> Value;
    /// The numbers behind the figure currently shown, as CSV ("Copy data").
    fn csv(&self) -> String;
    /// Training throughput of the lesson's run in tokens/s, for lessons that train.
    fn training_rate(&self) -> Option<f32> {
        None
    }
}

/// Every lesson, in lecture order. THE registry: the side panel, the CLI, the persistence and
/// the tests all loop over this list.
pub fn all_lessons() -> Vec<Box<dyn Lesson>> {
    vec![
        Box::new(overview::Overview::default()),
        Box::new(live::Live::default()),
        Box::new(softmax::SoftmaxLesson::default()),
        Box::new(positions::PositionsLesson::default()),
        Box::new(norms::NormsLesson::default()),
        Box::new(rnn::RnnLesson::default()),
    ]
}

/// The ids of all registered lessons, in lecture order.
pub fn lesson_ids() -> Vec<&'static str> {
    all_lessons().iter().map(|l| l.id()).collect()
}

/// Serialize a settings struct to a JSON object (helper for [`Lesson::settings`]).
pub fn settings_to_json<S: Serialize>(settings: &S) -> Value {
    serde_json::to_value(settings).unwrap_or(Value::Null)
}

/// Parse a settings struct from JSON (helper for [`Lesson::set_settings`]).
pub fn settings_from_json<S: DeserializeOwned>(value: Value) -> Result<S, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Apply `key=value` overrides to a lesson's settings, typed by the current value of each key.
///
/// Errors (one line each) name the problem and the valid choices: an unknown key lists the
/// lesson's keys, a value of the wrong type says which type was expected.
pub fn apply_overrides(
    lesson: &mut dyn Lesson,
    overrides: &[(String, String)],
) -> Result<(), String> {
    let mut settings = lesson.settings();
    let original = settings.clone();
    let Value::Object(map) = &mut settings else {
        if overrides.is_empty() {
            return Ok(());
        }
        return Err(format!("lesson \"{}\" has no settings to set", lesson.id()));
    };
    for (key, raw) in overrides {
        let Some(current) = map.get(key) else {
            let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
            keys.sort_unstable();
            return Err(format!(
                "lesson \"{}\" has no setting \"{key}\"; valid keys: {}",
                lesson.id(),
                keys.join(", ")
            ));
        };
        let parsed = parse_like(current, raw).map_err(|expected| {
            format!(
                "setting \"{key}\" of lesson \"{}\" expects {expected}, got \"{raw}\"",
                lesson.id()
            )
        })?;
        map.insert(key.clone(), parsed);
        // Check each key as it is applied, so that the error names the setting that is wrong.
        if let Err(e) = lesson.set_settings(Value::Object(map.clone())) {
            let _ = lesson.set_settings(original);
            return Err(format!(
                "setting \"{key}\" of lesson \"{}\" cannot be \"{raw}\": {e}",
                lesson.id()
            ));
        }
    }
    Ok(())
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
        _ => serde_json::from_str(raw).map_err(|_| "a JSON value".into()),
    }
}
