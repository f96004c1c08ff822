//! What several lessons share at run time: values computed only when their inputs change, on
//! the UI thread or in the background ([`background`]), and runs trained side by side
//! ([`compare_runs`]).

pub mod background;
pub mod chunked;
pub mod compare_runs;
