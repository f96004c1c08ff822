//! Training: the synchronous `Trainer` and the `worker` thread that runs it for the GUI.

pub mod trainer;
pub mod worker;

pub use trainer::{StepStats, TrainConfig, Trainer};
pub use worker::{Command, Snapshot, Worker};
