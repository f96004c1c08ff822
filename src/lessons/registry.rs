//! THE registry: every lesson, in lecture order. The side panel, `attention-lab lessons` and
//! `data`, persistence, the frame benchmark and the UI tests all loop over this list; adding a
//! lesson is a folder beside this file and one line here.

use super::lesson::Lesson;
use super::{
    attention, decoding, experts, live, norms, overview, positions, residuals, rnn, softmax,
};

/// Every lesson, in lecture order.
pub fn all_lessons() -> Vec<Box<dyn Lesson>> {
    vec![
        overview::lesson(),
        attention::lesson(),
        live::lesson(),
        softmax::lesson(),
        norms::lesson(),
        residuals::lesson(),
        positions::lesson(),
        rnn::lesson(),
        decoding::lesson(),
        experts::lesson(),
    ]
}

/// The ids of all registered lessons, in lecture order.
pub fn lesson_ids() -> Vec<&'static str> {
    all_lessons().iter().map(|l| l.info().id).collect()
}
