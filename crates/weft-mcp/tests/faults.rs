//! Contract: faults mid-call (malformed JSON-RPC, a response for an unknown id, a server that
//! dies during the call) give a typed error for that call; the source stays usable or reports
//! itself lost and reconnects; nothing hangs. Also server-everything over stdio.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::bounded;
use serde_json::json;
use weft_core::ToolSet;
use weft_mcp::{McpSource, StdioServer};

async fn raw(python: &str) -> McpSource {
    bounded(
        20,
        McpSource::builder("raw", StdioServer::new(python).arg(common::raw_server()))
            .request_timeout(Duration::from_millis(800))
            .connect(),
    )
    .await
    .unwrap()
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn malformed_line_does_not_hang_the_call() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = raw(&python).await;
    let result = bounded(10, source.call_tool("garbage", json!({}))).await;
    match result {
        // rmcp skips the line and the real answer follows …
        Ok(out) => assert_eq!(out.value, json!("garbage ok")),
        // … or it gives up on the transport: a typed error, then a reconnect.
        Err(error) => assert!(error.is_connection_lost() || error.is_protocol(), "{error}"),
    }
    let out = bounded(20, source.call_tool("ok", json!({}))).await.unwrap();
    assert_eq!(out.value, json!("ok ok"));
    source.close().await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn response_for_an_unknown_id_times_out_that_call_only() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = raw(&python).await;
    let started = Instant::now();
    let error = bounded(10, source.call_tool("unknown_id", json!({}))).await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3));
    let out = bounded(10, source.call_tool("ok", json!({}))).await.unwrap();
    assert_eq!(out.value, json!("ok ok"));
    source.close().await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn server_exiting_during_a_call_is_a_typed_error_then_a_reconnect() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = raw(&python).await;
    let error = bounded(10, source.call_tool("die", json!({}))).await.unwrap_err();
    assert!(error.is_connection_lost() || error.is_timeout(), "{error}");
    let out = bounded(20, source.call_tool("ok", json!({}))).await.unwrap();
    assert_eq!(out.value, json!("ok ok"));
    source.close().await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn everything_over_stdio() {
    let (node, everything) = (common::peer("WEFT_MCP_NODE"), common::peer("WEFT_MCP_EVERYTHING"));
    let source = bounded(
        30,
        McpSource::builder("everything", StdioServer::new(node).arg(everything).arg("stdio")).connect(),
    )
    .await
    .unwrap();
    let names: Vec<String> = source.tools().iter().map(|t| t.definition().name.clone()).collect();
    assert!(names.contains(&"echo".to_string()), "{names:?}");
    let out = bounded(10, source.call_tool("echo", json!({"message": "hi"}))).await.unwrap();
    assert!(out.value.to_string().contains("hi"), "{:?}", out.value);
    let pid = source.child_pid().await.unwrap();
    bounded(15, source.close()).await;
    assert!(common::wait_gone(pid).await);
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn close_cancels_and_awaits_a_reload_still_running() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let tasks_before = common::alive_tasks();
    // A long request timeout: only close can end the reload in time.
    let source = bounded(
        20,
        McpSource::builder("raw", StdioServer::new(&python).arg(common::raw_server()))
            .request_timeout(Duration::from_secs(60))
            .connect(),
    )
    .await
    .unwrap();
    let pid = source.child_pid().await.unwrap();
    let mut events = source.subscribe();
    // The call answers, then the server sends list_changed and holds the tools/list of the reload.
    let out = bounded(10, source.call_tool("slow_reload", json!({}))).await.unwrap();
    assert_eq!(out.value, json!("slow_reload ok"));
    bounded(10, async {
        loop {
            if let weft_mcp::McpEvent::Log { data, .. } = events.recv().await.unwrap() {
                if data == json!("holding tools/list") {
                    return;
                }
            }
        }
    })
    .await;
    let started = Instant::now();
    bounded(10, source.close()).await;
    assert!(started.elapsed() < Duration::from_secs(3), "close took {:?}", started.elapsed());
    assert_eq!(source.tool_reloads(), 0, "the held reload must not have completed");
    assert!(source.tools().is_empty());
    assert!(common::wait_gone(pid).await, "child {pid} survived close");
    // Every task of the connection (actor, reloader, stderr reader, rmcp's own) has ended.
    assert!(common::tasks_settle(tasks_before).await, "tasks {tasks_before} -> {}", common::alive_tasks());
}
