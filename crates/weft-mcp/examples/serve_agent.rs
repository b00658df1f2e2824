//! A Weft agent served as an MCP server: `serve_agent` serves it on stdio, `serve_agent --http`
//! on streamable HTTP at `http://127.0.0.1:PORT/mcp` (it prints the URL; Ctrl-C stops it).
//!
//! The agent, `helper`, runs on the scripted model (no API key) with three tools:
//! `get_weather`, `wipe_cache` (which needs approval: the server asks the MCP client through
//! elicitation) and `slow_job` (which runs until cancelled). When `WEFT_SERVE_AGENT_MARKS` names
//! a directory, the tools leave files there (`wiped`, `slow_started`, `slow_cancelled`) for the
//! tests to see what ran.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use weft_core::{ApprovalMode, ChatAgent, FunctionTool, ScriptedClient};
use weft_mcp::server::{HttpOptions, McpServer};

#[derive(Deserialize, JsonSchema)]
struct City {
    /// The city.
    city: String,
}

#[derive(Deserialize, JsonSchema)]
struct NoArguments {}

/// Leaves the file `name` in the marks directory, if there is one.
fn mark(name: &str) {
    if let Some(dir) = std::env::var_os("WEFT_SERVE_AGENT_MARKS") {
        let _ = std::fs::write(PathBuf::from(dir).join(name), name);
    }
}

/// Marks `slow_cancelled` when dropped before the job finished.
struct CancelMark {
    finished: bool,
}

impl Drop for CancelMark {
    fn drop(&mut self) {
        if !self.finished {
            mark("slow_cancelled");
        }
    }
}

fn server() -> McpServer {
    let weather = FunctionTool::new("get_weather", "Get the weather for a city", |args: City| async move {
        Ok::<_, String>(format!("weather in {}: sunny", args.city))
    });
    let wipe = FunctionTool::new("wipe_cache", "Wipe the cache", |_: NoArguments| async {
        mark("wiped");
        Ok::<_, String>("cache wiped")
    })
    .with_approval(ApprovalMode::Always);
    let slow = FunctionTool::new("slow_job", "Start the slow job", |_: NoArguments| async {
        let mut guard = CancelMark { finished: false };
        mark("slow_started");
        tokio::time::sleep(Duration::from_secs(3600)).await;
        guard.finished = true;
        Ok::<_, String>("done")
    });
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("helper")
        .description("Answers questions; can look up the weather.")
        .tool(weather)
        .tool(wipe)
        .tool(slow)
        .build();
    McpServer::builder("weft-example").agent(Arc::new(agent)).build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if !std::env::args().any(|a| a == "--http") {
        server().serve_stdio().await?;
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let router = server().router("/mcp", HttpOptions::default().cancellation(shutdown.child_token()));
    println!("listening on http://{address}/mcp");
    let stop = shutdown.clone();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.cancel();
        })
        .await?;
    Ok(())
}
