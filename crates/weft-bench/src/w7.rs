//! W7: 200 × (construct an MCP source, connect — `initialize` and the tool list —, close) in
//! one process, over streamable HTTP (the running server) or stdio (each cycle launches the
//! server). After all cycles and a 0.2 s settle, open fds and child processes are compared with
//! their counts before: more after is a leak.

use std::time::Duration;

use weft_core::ToolSet;
use weft_mcp::McpSource;

use crate::mcp::{EchoServer, SERVER_NAME, TOOL, Transport, child_processes, open_fds};
use crate::measure::{Measure, Outcome};

/// Connect/close cycles per process.
pub const CYCLES: usize = 200;
/// How long closed transports may settle before fds and children are counted again.
const SETTLE: Duration = Duration::from_millis(200);

/// Runs W7 over `transport` and prints its RESULT line (with `fd_before`, `fd_after`,
/// `children_before`, `children_after`); `Ok(true)` when every cycle validated and nothing
/// leaked.
pub async fn run(transport: Transport, server: &EchoServer, mock_url: &str) -> Result<bool, String> {
    let workload = format!("W7-{}", transport.as_str());
    if transport == Transport::Stdio {
        server.check_stdio()?;
    }
    let n = CYCLES;
    let mut ok = 0;
    let mut first_failure = None;
    let (fd_before, children_before) = (open_fds(), child_processes());
    let measure = Measure::start(mock_url).await;
    for i in 0..n {
        let source = McpSource::builder(SERVER_NAME, server.config(transport)).build();
        match source.connect().await {
            Ok(()) if source.tools().iter().any(|tool| tool.definition().name == TOOL) => ok += 1,
            Ok(()) => {
                first_failure.get_or_insert_with(|| format!("cycle {i}: no '{TOOL}' tool listed"));
            }
            Err(error) => {
                first_failure.get_or_insert_with(|| format!("cycle {i}: {error}"));
            }
        }
        source.close().await;
    }
    let measured = measure.stop().await;
    tokio::time::sleep(SETTLE).await;
    let (fd_after, children_after) = (open_fds(), child_processes());
    let extra = format!(
        " fd_before={fd_before} fd_after={fd_after} children_before={children_before} \
         children_after={children_after}"
    );
    let valid =
        measured.report(Outcome { workload: &workload, api: "mcp", n, ok, unit: "connect_close", extra });
    if let Some(failure) = first_failure {
        eprintln!("{workload}: first failure: {failure}");
    }
    let leaked = fd_after > fd_before || children_after > children_before;
    if leaked {
        eprintln!(
            "{workload}: LEAK: fds {fd_before} -> {fd_after}, children {children_before} -> {children_after}"
        );
    }
    Ok(valid && !leaked)
}
