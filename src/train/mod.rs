//! Training: the synchronous `Trainer` and the `worker` thread that runs it for the GUI.

pub mod trainer;

pub use trainer::{StepStats, TrainConfig, Trainer};
