//! Weft's benchmark workloads (`../shared/bench/WORKLOADS.md`): the measurement and RESULT line,
//! the workflows of W5, the MCP workloads W6/W7 and the scale workloads (`S-*`: many sessions,
//! many runs at once, a long conversation) and, with the `restate` feature, W9 (W5's workflows on
//! Restate), shared by the `weft-bench` binary, its tests and the
//! Criterion benches.

pub mod bench_agent;
pub mod long_conversation;
pub mod mcp;
pub mod measure;
pub mod scale;
pub mod w4_llama;
pub mod w5;
pub mod w6;
pub mod w7;
pub mod w8;
#[cfg(feature = "restate")]
pub mod w9;
