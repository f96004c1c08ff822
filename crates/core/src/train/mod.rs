//! Training: the synchronous [`Trainer`] (one step, deterministic from its seed), the
//! data-parallel step it takes on the process's thread pool, a run as a state machine
//! ([`runner::Runner`]) and the [`Worker`] thread that drives runs for the GUI.

pub mod data_parallel;
pub mod runner;
pub mod saved;
pub mod trainer;
pub mod worker;

pub use runner::{Command, LossPoint, ProbeFrame, Update};
pub use trainer::{Divergence, StepStats, TrainConfig, Trainer};
pub use worker::{Snapshot, Worker};
