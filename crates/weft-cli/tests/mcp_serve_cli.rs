//! `weft mcp serve FILE…` (agents and workflows as an MCP server on stdio) and
//! `weft serve --mcp-server` (streamable HTTP at /mcp behind the token), driven by Weft's MCP
//! client.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use weft::ToolSet;
use weft_mcp::{HttpServer, McpSource, StdioServer};

fn declarative(name: &str) -> String {
    format!("{}/../../examples/declarative/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn names(source: &McpSource) -> Vec<String> {
    source.tools().iter().map(|t| t.definition().name.clone()).collect()
}

#[tokio::test]
async fn mcp_serve_serves_agent_and_workflow_files_over_stdio() {
    let server = StdioServer::new(env!("CARGO_BIN_EXE_weft"))
        .args(["mcp", "serve", &declarative("weather.yaml"), &declarative("sequential.workflow.yaml")])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    let source =
        McpSource::builder("weft", server).request_timeout(Duration::from_secs(30)).connect().await.unwrap();
    assert_eq!(names(&source), ["weather", "forecast_desk"]);
    let output =
        source.call_tool("weather", json!({"prompt": "What's the weather in Paris?"})).await.unwrap();
    let text = output.value.as_str().unwrap().to_owned();
    assert!(text.contains("Paris"), "{text}");
    let output =
        source.call_tool("forecast_desk", json!({"prompt": "What's the weather in Paris?"})).await.unwrap();
    assert!(!output.value.as_str().unwrap().is_empty(), "{output:?}");
    let pid = source.child_pid().await.unwrap();
    source.close().await;
    assert!(reaped(pid), "weft {pid} outlived close");
}

/// Whether the process has exited (gone, or a zombie).
fn reaped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

#[tokio::test]
async fn mcp_serve_without_a_file_serves_the_demo_agent() {
    let server = StdioServer::new(env!("CARGO_BIN_EXE_weft"))
        .args(["mcp", "serve"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    let source =
        McpSource::builder("weft", server).request_timeout(Duration::from_secs(30)).connect().await.unwrap();
    assert_eq!(names(&source), ["weft"]);
    let output = source.call_tool("weft", json!({"prompt": "add 2 and 3"})).await.unwrap();
    assert!(output.value.as_str().unwrap().contains('5'), "{output:?}");
    source.close().await;
}

#[tokio::test]
async fn serve_mounts_mcp_behind_the_token() {
    let mut child = common::weft()
        .args(["serve", "--port", "0", "--mcp-server", "--no-a2a", "--token", "s3cret"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().trim_end_matches("/v1").to_owned() + "/mcp";

    let refused = McpSource::builder("weft", HttpServer::new(&url)).connect().await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");

    let source =
        McpSource::builder("weft", HttpServer::new(&url).bearer_token("s3cret")).connect().await.unwrap();
    assert_eq!(names(&source), ["weft"]);
    let output = source.call_tool("weft", json!({"prompt": "What's the weather in Paris?"})).await.unwrap();
    assert!(output.value.as_str().unwrap().contains("Paris"), "{output:?}");
    source.close().await;

    // A browser page on another site is refused, even with the token.
    let status = reqwest::Client::new()
        .post(&url)
        .bearer_auth("s3cret")
        .header("origin", "http://evil.example.com")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);

    child.kill().unwrap();
    child.wait().unwrap();
}
