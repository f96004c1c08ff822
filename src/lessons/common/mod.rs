//! What several lessons share at run time: values computed only when their inputs change, on
//! the UI thread or in the background ([`background`]), and runs trained side by side
//! ([`compare_runs`]).

pub mod background;
pub mod chunked;
pub mod compare_runs;

/// What a training run calls to wake the UI when it has news: one repaint. (`request_repaint`
/// asks egui for two frames, the second "to let things settle", which a new loss point does not
/// need: with a wake every 100 ms, half the frames drawn while training were the same picture
/// again — in a browser with software WebGL, about 125 ms of the renderer's work each at
/// 1280 × 800, taken from the training on a 2-core machine.)
pub fn waker(ctx: &egui::Context) -> impl Fn() + Send + 'static {
    let ctx = ctx.clone();
    move || ctx.request_repaint_after(std::time::Duration::from_millis(1))
}
