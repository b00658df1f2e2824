//! An agent whose tools come from a local MCP server.
//!
//! `cargo run -p weft-mcp --example mcp_agent -- <command> [args…]`, for example
//! `cargo run -p weft-mcp --example mcp_agent -- python3 crates/weft-mcp/tests/servers/py_server.py stdio`
//! (needs the PyPI `mcp` package; `source .ci/mcp-peers.sh` installs one and the example then
//! finds it through `WEFT_MCP_PYTHON`). Without arguments it starts that test server.

use std::sync::Arc;
use std::time::Duration;

use weft_core::{AgentSession, ChatAgent, ScriptedClient, ToolSet};
use weft_mcp::{McpSource, StdioServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        let python = std::env::var("WEFT_MCP_PYTHON").unwrap_or_else(|_| "python3".into());
        let server = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/servers/py_server.py");
        args = vec![python, server.into(), "stdio".into()];
    }
    let server = StdioServer::new(&args[0]).args(args[1..].iter().cloned());
    let source =
        McpSource::builder("local", server).connect_timeout(Duration::from_secs(30)).connect().await?;
    let names: Vec<String> = source.tools().iter().map(|t| t.definition().name.clone()).collect();
    println!("tools offered by the server: {}", names.join(", "));

    // The scripted model runs offline and calls the tool whose name matches the prompt; any
    // other `ChatClient` plugs in here.
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .instructions("Use the tools to answer.")
        .tool_set(Arc::new(source.clone()))
        .build();
    let mut session = AgentSession::new();
    let answer = agent.run(&mut session, "echo Hello from Weft").await?;
    println!("{}", answer.text());
    source.close().await;
    Ok(())
}
