//! Weft's benchmark workloads (`../shared/bench/WORKLOADS.md`): the measurement and RESULT line,
//! the workflows of W5 and the MCP workloads W6/W7, shared by the `weft-bench` binary, its tests
//! and the Criterion benches.

pub mod mcp;
pub mod measure;
pub mod w4_llama;
pub mod w5;
pub mod w6;
pub mod w7;
pub mod w8;
