//! The browser build (wasm32, `web/build.sh`): the same app in a page's canvas.
//!
//! Only what a browser does differently lives here; everything else is the native code path:
//! - [`start`]: eframe's `WebRunner` in the `<canvas id="attention_lab_canvas">` of
//!   `web/index.html`; a panic shows its message in the page (and eframe logs it to the console).
//! - The URL fragment carries a lesson and its settings (`#lesson=softmax&scale=100`, the format
//!   of `app::link`): following it on load and when it changes, and writing the open lesson's
//!   link back as its settings change, so the address bar is always a link to the figure shown.
//! - The page title carries the lesson and, while a lesson trains, its step; the canvas carries
//!   them as `data-lesson`, `data-step`, `data-rate` (tokens/s), `data-frame-max-ms` (the
//!   longest of the last 240 frames' own work) and `data-first-frame-ms` (when the first frame
//!   was drawn, from the page's start), and `window.attentionLabLessons` lists
//!   the lesson ids: what `web/test.mjs` reads in headless Chromium. It also calls
//!   `window.attentionLabCheckKernels()` (this build's vector loops against their references)
//!   and `window.attentionLabTrainingRate(ms)` (steps per second with nothing drawn).
//! - Files: `browser::download` (Save PNG, Save… of a checkpoint) and `browser::pick_file`
//!   (Load…), used through `files.rs` and `widgets/file_dialog.rs`.
//!
//! Training has no thread here: `train::worker` runs its steps in slices inside the frame loop,
//! `lessons::common` computes on the UI thread (a job of seconds a piece per frame:
//! `Background::get_in_steps`); neither knows it is in a browser.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::app::{LabApp, StartOptions};
use crate::browser::{document, js_text, log};

thread_local! {
    /// How long the app's own part of the last frame took, in ms.
    static FRAME_COST_MS: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// The page's clock, in ms.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// The id of the canvas in `web/index.html`.
const CANVAS_ID: &str = "attention_lab_canvas";

/// Start the app in the page (called by `main` on wasm32).
pub fn start() {
    install_crash_note();
    let runner = eframe::WebRunner::new();
    wasm_bindgen_futures::spawn_local(async move {
        let result = match canvas() {
            Ok(canvas) => {
                without_multisampling(&canvas);
                runner
                    .start(
                        canvas,
                        eframe::WebOptions::default(),
                        Box::new(|cc| Ok(Box::new(WebApp::new(cc)))),
                    )
                    .await
                    .map_err(|e| js_text(&e))
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                set_loading(None);
                start_training_driver();
            }
            Err(e) => set_loading(Some(&format!("The app could not start: {e}"))),
        }
    });
}

/// Train between frames: a task runs one slice of every training run (`train::worker::SLICE`,
/// 8 ms), and as long again of the lessons' computations taken in pieces
/// (`lessons::common::background::drive_pieces`), and comes back at once while any trains (every 50 ms while none does, for commands), so
/// input and frames wait at most one slice (parts of steps while they fit in 8 ms, at least one;
/// a part is one shard of the batch, `Trainer::step_part`). "At
/// once" is a message to ourselves on a `MessageChannel`: a `setTimeout(0)` set from inside a
/// timer is delayed to 4 ms after five levels of nesting (the HTML standard's timer clamping),
/// which left up to a third of the main thread idle. The page repaints for training at most every
/// 100 ms, or every two frame times when frames take longer, so that a slow renderer (software
/// WebGL) still leaves half of the main thread to training.
fn start_training_driver() {
    type Tick = Rc<RefCell<Option<Closure<dyn FnMut()>>>>;
    let tick: Tick = Rc::default();
    let again = Rc::clone(&tick);
    let channel = match web_sys::MessageChannel::new() {
        Ok(c) => Some(c),
        Err(_) => {
            log("attention-lab: no MessageChannel; training waits for timers between slices");
            None
        }
    };
    let port = channel.as_ref().map(web_sys::MessageChannel::port2);
    let schedule = move |tick: &Tick, delay: i32| {
        if delay == 0
            && let Some(port) = &port
            && port.post_message(&JsValue::NULL).is_ok()
        {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(cb) = tick.borrow().as_ref()
            && window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    cb.as_ref().unchecked_ref(),
                    delay,
                )
                .is_err()
        {
            log("attention-lab: cannot set a timer; training runs only while frames are drawn");
        }
    };
    // When the last tick ended: a tick that comes much later than asked means the main thread
    // was drawing meanwhile (the browser's part of a frame, which the app cannot time otherwise).
    let mut last_end: Option<f64> = None;
    let mut draw_ms = 0.0_f64;
    *tick.borrow_mut() = Some(Closure::new(move || {
        let now = now_ms();
        if let Some(end) = last_end
            && now - end > 20.0
        {
            draw_ms = 0.7 * draw_ms + 0.3 * (now - end);
        }
        let busy = crate::train::worker::drive_slices(crate::train::worker::SLICE)
            | crate::lessons::common::background::drive_pieces(crate::train::worker::SLICE);
        // Wake the page for training at most every 100 ms (10 frames a second for the loss
        // curve and the maps; input still repaints at once), or every two frame times when
        // frames are slower, so that training gets at least half of the main thread.
        let frame = FRAME_COST_MS.with(std::cell::Cell::get) + draw_ms;
        crate::train::worker::set_repaint_interval(std::time::Duration::from_secs_f64(
            (2.0 * frame).clamp(100.0, 1000.0) / 1000.0,
        ));
        last_end = Some(now_ms());
        schedule(&again, if busy { 0 } else { 50 });
    }));
    // The port's messages run the tick; the closure holds itself (through `again`) and the
    // channel lives in it, for as long as the page lives.
    if let (Some(channel), Some(cb)) = (&channel, tick.borrow().as_ref()) {
        channel
            .port1()
            .set_onmessage(Some(cb.as_ref().unchecked_ref()));
    }
    if let Some(window) = web_sys::window()
        && let Some(cb) = tick.borrow().as_ref()
        && window
            .set_timeout_with_callback_and_timeout_and_arguments_0(cb.as_ref().unchecked_ref(), 0)
            .is_err()
    {
        log("attention-lab: cannot set a timer; training runs only while frames are drawn");
    }
    std::mem::forget(channel);
}

/// The page's checks, which `web/test.mjs` calls. `window.attentionLabTrainingRate(ms)`: training
/// steps per second of the live lesson's default run (the bears model) trained alone for about
/// `ms` milliseconds after 500 ms of warming up, nothing drawn meanwhile: the browser's side of
/// `attention-lab train` on one core (the same run; the README says how it was timed), or a
/// string when the run cannot be made.
fn expose_checks(window: &web_sys::Window) {
    let rate = Closure::<dyn Fn(f64) -> JsValue>::new(|ms: f64| {
        let config = crate::lessons::live::LiveSettings::default().train_config();
        let mut trainer = match crate::train::Trainer::new(config) {
            Ok(t) => t,
            Err(e) => return JsValue::from_str(&e),
        };
        // Time the steady state. The first steps allocate the run's buffers, and while they
        // run V8 compiles the hot functions again with its optimising tier (it starts every
        // WebAssembly function on its baseline compiler); so, as the native timing leaves out
        // its first 100 steps, this leaves out the steps of the first 500 ms (at least one).
        let warm = now_ms();
        trainer.step();
        while now_ms() - warm < 500.0 {
            trainer.step();
        }
        let start = now_ms();
        let mut steps = 0_u32;
        while steps == 0 || now_ms() - start < ms {
            trainer.step();
            steps += 1;
        }
        JsValue::from_f64(f64::from(steps) * 1000.0 / (now_ms() - start))
    });
    if js_sys::Reflect::set(window, &"attentionLabTrainingRate".into(), rate.as_ref()).is_err() {
        log("attention-lab: cannot set window.attentionLabTrainingRate");
    }
    // The page may call it at any time.
    rate.forget();
    // `window.attentionLabCheckKernels()`: this build's vector loops, which no native test
    // runs: the matrix product (its simd128 packing and stores, its kernel as LLVM vectorized
    // it) against the triple loop, GELU's and AdamW's rows (vectorized by the compiler) against
    // their scalar remainders; "ok: …" or the first error.
    let check = Closure::<dyn Fn() -> JsValue>::new(|| {
        let product = crate::engine::gemm::check_against_reference();
        let gelu = crate::model::mlp::check_rows_against_single_entries();
        let adamw = crate::model::optim::check_rows_against_single_entries();
        JsValue::from_str(&match (product, gelu, adamw) {
            (Ok(p), Ok(g), Ok(a)) => {
                format!("ok: {p} products, {g} GELU entries, {a} AdamW entries")
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => e,
        })
    });
    if js_sys::Reflect::set(window, &"attentionLabCheckKernels".into(), check.as_ref()).is_err() {
        log("attention-lab: cannot set window.attentionLabCheckKernels");
    }
    check.forget();
}

fn canvas() -> Result<web_sys::HtmlCanvasElement, String> {
    document()?
        .get_element_by_id(CANVAS_ID)
        .ok_or_else(|| format!("the page has no element #{CANVAS_ID}"))?
        .dyn_into::<web_sys::HtmlCanvasElement>()
        .map_err(|_| format!("#{CANVAS_ID} is not a canvas"))
}

/// Create the canvas's WebGL2 context without multisampling, before eframe asks for it (a
/// canvas has one context: eframe's `getContext("webgl2")` then gets this one). The default,
/// `antialias: true`, renders every frame at 4 samples a pixel and resolves them; egui already
/// smooths its edges itself (feathering), so the samples add nothing a student sees, and with
/// software WebGL (SwiftShader) they are about half of a frame's cost: measured in headless
/// Chromium at 1280 × 800 while the live lesson trained, the GPU process used about a core
/// either way (`perf`: 80 % of it in SwiftShader's compiled shaders) and the page's frames came
/// 4.6–4.8 times a second with the samples, 8.9 without. If the options cannot be set, eframe
/// makes the default context.
fn without_multisampling(canvas: &web_sys::HtmlCanvasElement) {
    let options = js_sys::Object::new();
    let set = js_sys::Reflect::set(&options, &"antialias".into(), &JsValue::FALSE);
    if set.is_err()
        || canvas
            .get_context_with_context_options("webgl2", &options)
            .is_err()
    {
        log("attention-lab: WebGL2 without multisampling is not available; eframe chooses");
    }
}

/// Replace the page's "Loading…" note with `message`, or remove it (`None`).
fn set_loading(message: Option<&str>) {
    let Ok(doc) = document() else { return };
    if let Some(note) = doc.get_element_by_id("loading") {
        match message {
            Some(m) => note.set_text_content(Some(m)),
            None => note.remove(),
        }
    }
}

/// On a panic, show its message in the page (`#crash`), as well as in the console.
fn install_crash_note() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(doc) = document()
            && let Some(note) = doc.get_element_by_id("crash")
        {
            note.set_text_content(Some(&format!(
                "attention-lab stopped after an internal error: {info}. Reload the page to start again."
            )));
            if note.remove_attribute("hidden").is_err() {
                // The text is set; the note stays hidden only if the page's script forbids it.
            }
        }
        previous(info);
    }));
}

/// The app, plus what the page shows of it: the URL fragment, the title, the canvas's data.
struct WebApp {
    app: LabApp,
    /// The fragment as we last saw or wrote it (without '#').
    fragment: String,
    title: String,
    /// What the canvas's `data-*` attributes say now.
    shown: Vec<(&'static str, String)>,
    frames: u64,
}

impl WebApp {
    fn new(cc: &eframe::CreationContext<'_>) -> Self {
        // A new fragment (a link opened in this tab, Back, an edit of the address) draws a frame,
        // which follows it.
        let ctx = cc.egui_ctx.clone();
        let on_hash = Closure::<dyn Fn()>::new(move || ctx.request_repaint());
        if let Some(window) = web_sys::window() {
            if window
                .add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref())
                .is_err()
            {
                log(
                    "attention-lab: cannot listen for hashchange; a changed link is followed at the next input",
                );
            }
            let ids = js_sys::Array::new();
            for id in crate::lessons::lesson_ids() {
                ids.push(&JsValue::from_str(id));
            }
            if js_sys::Reflect::set(&window, &"attentionLabLessons".into(), &ids).is_err() {
                log("attention-lab: cannot set window.attentionLabLessons");
            }
            expose_checks(&window);
        }
        // The listener lives as long as the page.
        on_hash.forget();
        Self {
            app: LabApp::new(cc, StartOptions::default()),
            fragment: String::new(),
            title: String::new(),
            shown: Vec::new(),
            frames: 0,
        }
    }

    /// The canvas's `data-*` attributes: the lesson, its training step and rate, and (once)
    /// when the first frame was drawn.
    fn sync_data(&mut self) {
        self.frames += 1;
        let mut data = vec![("lesson", self.app.current_lesson_id().to_owned())];
        if let Some(step) = self.app.training_step() {
            data.push(("step", step.to_string()));
        }
        if let Some(rate) = self.app.training_rate() {
            data.push(("rate", format!("{rate:.0}")));
        }
        data.push((
            "frame-max-ms",
            format!("{:.0}", self.app.longest_recent_frame_ms()),
        ));
        if self.frames == 1
            && let Some(ms) = web_sys::window()
                .and_then(|w| w.performance())
                .map(|p| p.now())
        {
            data.push(("first-frame-ms", format!("{ms:.0}")));
        }
        let Ok(canvas) = canvas() else { return };
        for (key, value) in &data {
            if self.shown.iter().any(|(k, v)| k == key && v == value) {
                continue;
            }
            if canvas.set_attribute(&format!("data-{key}"), value).is_err() {
                log("attention-lab: cannot set the canvas's data attributes");
                return;
            }
        }
        for (key, _) in &self.shown {
            if *key != "first-frame-ms"
                && !data.iter().any(|(k, _)| k == key)
                && canvas.remove_attribute(&format!("data-{key}")).is_err()
            {
                log("attention-lab: cannot remove a data attribute");
            }
        }
        self.shown.retain(|(k, _)| *k == "first-frame-ms");
        self.shown.extend(data);
    }

    /// Follow a fragment the user typed or opened; write the open lesson's link back.
    fn sync_fragment(&mut self, before_frame: bool) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        // Reading `location.hash` fails only on an opaque origin: then there is no link to follow.
        let now = location
            .hash()
            .map(|h| h.trim_start_matches('#').to_owned())
            .unwrap_or_else(|_| String::new());
        if before_frame {
            if now != self.fragment && !now.is_empty() {
                self.app.follow_link(&now);
            }
            self.fragment = now;
            return;
        }
        let link = self.app.link();
        if link != now
            && let Ok(history) = window.history()
            && history
                .replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{link}")))
                .is_ok()
        {
            self.fragment = link;
        }
    }

    fn sync_title(&mut self) {
        let title = self.app.page_title();
        if title != self.title
            && let Ok(doc) = document()
        {
            doc.set_title(&title);
            self.title = title;
        }
    }
}

impl eframe::App for WebApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        // The app's own part of a frame, for the training driver's repaint interval.
        if let Some(seconds) = frame.info().cpu_usage {
            FRAME_COST_MS.with(|c| c.set(1000.0 * f64::from(seconds)));
        }
        self.sync_fragment(true);
        eframe::App::ui(&mut self.app, ui, frame);
        self.sync_fragment(false);
        self.sync_title();
        self.sync_data();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::App::save(&mut self.app, storage);
    }
}
