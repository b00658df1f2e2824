//! Weft's benchmark workloads (`../shared/bench/WORKLOADS.md`): the measurement and RESULT line,
//! and the workflows of W5, shared by the `weft-bench` binary and the Criterion benches.

pub mod measure;
pub mod w5;
