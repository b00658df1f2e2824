//! W6: 1,000 sequential calls of the MCP tool `echo(text)` through weft-mcp's tool object (the
//! same `Arc<dyn Tool>` an agent invokes), over stdio (the framework launches the server) or
//! streamable HTTP (the server already runs). Connecting is not timed.

use weft_core::{ToolContext, ToolSet};
use weft_mcp::McpSource;

use crate::mcp::{EchoServer, SERVER_NAME, TOOL, Transport, echo_arguments, echo_ok};
use crate::measure::{Measure, Outcome};

/// Calls per process.
pub const CALLS: usize = 1000;

/// Runs W6 over `transport` and prints its RESULT line; `Ok(true)` when every call validated.
/// `Err` when the server cannot be reached or offers no `echo` tool (before the timed region).
pub async fn run(transport: Transport, server: &EchoServer, mock_url: &str) -> Result<bool, String> {
    let workload = format!("W6-{}", transport.as_str());
    if transport == Transport::Stdio {
        server.check_stdio()?;
    }
    let source = McpSource::builder(SERVER_NAME, server.config(transport))
        .connect()
        .await
        .map_err(|error| format!("{workload}: connect: {error}"))?;
    let Some(tool) = source.tools().into_iter().find(|tool| tool.definition().name == TOOL) else {
        source.close().await;
        return Err(format!("{workload}: the server offers no '{TOOL}' tool"));
    };
    let context = ToolContext::default();
    let n = CALLS;
    let mut ok = 0;
    let mut first_failure = None;
    let measure = Measure::start(mock_url).await;
    for i in 0..n {
        let (text, arguments) = echo_arguments(i);
        match tool.invoke(arguments, &context).await {
            Ok(output) if echo_ok(&output, &text) => ok += 1,
            Ok(output) => {
                first_failure
                    .get_or_insert_with(|| format!("call {i}: unexpected result {:?}", output.value));
            }
            Err(error) => {
                first_failure.get_or_insert_with(|| format!("call {i}: {error}"));
            }
        }
    }
    let valid = measure
        .report(Outcome { workload: &workload, api: "mcp", n, ok, unit: "tool_calls", extra: String::new() })
        .await;
    if let Some(failure) = first_failure {
        eprintln!("{workload}: first failure: {failure}");
    }
    drop(tool);
    source.close().await;
    Ok(valid)
}
