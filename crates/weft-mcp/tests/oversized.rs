//! An answer larger than the transport's per-message limit (rmcp: 16 MiB per stdio line, per
//! HTTP JSON body, per SSE event) ends the call at once with a typed error naming the limit,
//! instead of waiting for the request timeout; the connection stays usable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::bounded;
use serde_json::json;
use weft_mcp::{HttpServer, McpErrorKind, McpSource, ServerConfig, StdioServer};

const LIMIT: usize = 16 * 1024 * 1024;
/// Far above what the call needs when the error is reported at once (under 2 s here).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

async fn connect(server: impl Into<ServerConfig>) -> McpSource {
    let builder = McpSource::builder("py", server).request_timeout(REQUEST_TIMEOUT);
    bounded(30, builder.connect()).await.unwrap()
}

/// Calls `big_reply` for 17 MiB: a typed error naming the limit, well before the timeout; then
/// the same connection answers the next call.
async fn assert_fails_fast_and_stays_usable(source: &McpSource) {
    let started = Instant::now();
    let error = bounded(40, source.call_tool("big_reply", json!({"mib": 17}))).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.kind(), McpErrorKind::MessageTooLarge { limit: LIMIT }, "{error}");
    assert!(error.is_message_too_large());
    let text = error.to_string();
    assert!(text.contains("16 MiB") && text.contains("16777216 bytes"), "{text}");
    assert!(text.contains("tool 'big_reply'"), "{text}");
    assert!(took < REQUEST_TIMEOUT / 3, "the call took {took:?}: it waited for the timeout");
    let tool_error = weft_core::ToolError::from(error);
    assert_eq!(tool_error.kind(), weft_core::ToolErrorKind::Failed);

    let output = bounded(10, source.call_tool("echo", json!({"text": "after"}))).await.unwrap();
    assert_eq!(output.value, json!({"result": "echo: after"}));
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn an_oversized_answer_over_stdio_fails_the_call_at_once() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = connect(StdioServer::new(&python).arg(common::py_server()).arg("stdio")).await;
    let pid = source.child_pid().await.unwrap();
    assert_fails_fast_and_stays_usable(&source).await;
    assert_eq!(source.child_pid().await, Some(pid), "the child was replaced");
    bounded(15, source.close()).await;
}

async fn over_http(mode: &str) {
    let python = common::peer("WEFT_MCP_PYTHON");
    let server = common::start_py_http_mode(&python, mode).await;
    let source = connect(HttpServer::new(&server.url)).await;
    let session = source.session_id().await.unwrap();
    assert_fails_fast_and_stays_usable(&source).await;
    assert_eq!(source.session_id().await, Some(session), "the session was replaced");
    bounded(15, source.close()).await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn an_oversized_sse_answer_over_http_fails_the_call_at_once() {
    over_http("http").await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn an_oversized_json_answer_over_http_fails_the_call_at_once() {
    over_http("http-json").await;
}
