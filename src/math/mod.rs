//! The lessons' own math, apart from the transformer: recurrent networks and BPTT, softmax
//! sharpness, statistics, projections. Pure functions on numbers; never imports egui (the
//! lessons draw what these compute, and `attention-lab data` prints it).

pub mod attention;
pub mod block;
pub mod decoding;
pub mod experts;
pub mod norms;
pub mod pca;
pub mod positions;
pub mod readout;
pub mod recall;
pub mod rnn;
pub mod sharpness;
pub mod stats;
