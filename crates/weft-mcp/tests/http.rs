//! Streamable HTTP against the Python `mcp` server and server-everything: sessions, ownership
//! of the HTTP client, terminate-on-close, a stale session after a server restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::bounded;
use serde_json::json;
use weft_core::ToolSet;
use weft_mcp::{HttpServer, McpEvent, McpSource};

/// A raw `ping` POST on an existing session: the HTTP status the server answers with.
async fn raw_ping(url: &str, session: &str) -> u16 {
    let response = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25")
        .body(r#"{"jsonrpc":"2.0","id":99,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn sessions_are_new_per_connect_and_deleted_on_close() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let server = common::start_py_http(&python).await;
    let a = McpSource::builder("py-http", HttpServer::new(&server.url)).build();
    let b = McpSource::builder("py-http", HttpServer::new(&server.url)).build();
    bounded(20, a.connect()).await.unwrap();
    bounded(20, b.connect()).await.unwrap();
    let first = a.session_id().await.expect("a session id");
    // Two sources never share a session.
    assert_ne!(Some(first.clone()), b.session_id().await);
    let out = bounded(10, a.call_tool("echo", json!({"text": "over http"}))).await.unwrap();
    assert_eq!(out.value["result"], "echo: over http");
    assert!(!a.tools().is_empty());
    assert_eq!(raw_ping(&server.url, &first).await, 200);

    bounded(10, a.close()).await;
    // DELETE ended the session on the server.
    assert_eq!(raw_ping(&server.url, &first).await, 404);
    // connect → close → connect gives a new session.
    bounded(20, a.connect()).await.unwrap();
    let second = a.session_id().await.unwrap();
    assert_ne!(first, second);
    bounded(10, a.close()).await;
    bounded(10, b.close()).await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn terminate_on_close_off_leaves_the_session_and_a_supplied_client_stays_usable() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let server = common::start_py_http(&python).await;
    let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build().unwrap();
    let source = McpSource::builder(
        "py-http",
        HttpServer::new(&server.url).terminate_on_close(false).client(client.clone()).header("x-test", "1"),
    )
    .build();
    bounded(20, source.connect()).await.unwrap();
    let session = source.session_id().await.unwrap();
    bounded(10, source.close()).await;
    assert_eq!(raw_ping(&server.url, &session).await, 200, "the session should still be open");
    // The caller's client was used, not closed.
    let response = bounded(10, client.get(format!("http://127.0.0.1:{}/", server.port)).send()).await;
    assert!(response.is_ok(), "{response:?}");
}

/// How many `Reconnected` events are waiting.
fn reconnects(events: &mut tokio::sync::broadcast::Receiver<McpEvent>) -> usize {
    let mut count = 0;
    while let Ok(event) = events.try_recv() {
        count += usize::from(matches!(event, McpEvent::Reconnected { .. }));
    }
    count
}

/// A call after the server lost the session: transparent (one re-initialization), a new
/// session id, a `Reconnected` event, and both visible in `tracing`.
async fn assert_stale_session_recovers(
    server: &mut common::ServerProcess,
    restart: impl FnOnce(u16) -> std::process::Child,
    tool_args: serde_json::Value,
) {
    let (_guard, logs) = common::capture_tracing();
    let source = McpSource::builder("stale", HttpServer::new(&server.url))
        .request_timeout(Duration::from_secs(10))
        .build();
    bounded(20, source.connect()).await.unwrap();
    let old = source.session_id().await.unwrap();
    bounded(10, source.call_tool("echo", tool_args.clone())).await.unwrap();
    let mut events = source.subscribe();
    // Restart the server on the same port: the old session id is unknown there.
    server.replace(restart).await;
    let out = bounded(30, source.call_tool("echo", tool_args.clone())).await.unwrap();
    assert!(out.value.to_string().contains("stale-check"), "{:?}", out.value);
    let new = source.session_id().await.unwrap();
    assert_ne!(new, old);
    assert_eq!(reconnects(&mut events), 1);
    let text = common::captured(&logs);
    assert!(text.contains("MCP HTTP session lost"), "{text}");
    assert!(text.contains("MCP HTTP session re-established"), "{text}");
    // Once: the next calls use the new session as they are.
    bounded(10, source.call_tool("echo", tool_args)).await.unwrap();
    assert_eq!(source.session_id().await.unwrap(), new);
    assert_eq!(reconnects(&mut events), 0);
    bounded(10, source.close()).await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn stale_session_404_after_a_server_restart_is_recovered_transparently() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let mut server = common::start_py_http(&python).await;
    let restart = |port| common::spawn_py_http(&python, port);
    assert_stale_session_recovers(&mut server, restart, json!({"text": "stale-check"})).await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn stale_session_400_from_server_everything_is_recovered_transparently() {
    let (node, everything) = (common::peer("WEFT_MCP_NODE"), common::peer("WEFT_MCP_EVERYTHING"));
    let mut server = common::start_everything_http(&node, &everything).await;
    let restart = |port| common::spawn_everything_http(&node, &everything, port);
    assert_stale_session_recovers(&mut server, restart, json!({"message": "stale-check"})).await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn everything_over_http() {
    let (node, everything) = (common::peer("WEFT_MCP_NODE"), common::peer("WEFT_MCP_EVERYTHING"));
    let server = common::start_everything_http(&node, &everything).await;
    let source =
        bounded(20, McpSource::builder("everything", HttpServer::new(&server.url)).connect()).await.unwrap();
    let names: Vec<String> = source.tools().iter().map(|t| t.definition().name.clone()).collect();
    assert!(names.contains(&"echo".to_string()), "{names:?}");
    let out = bounded(10, source.call_tool("echo", json!({"message": "hi"}))).await.unwrap();
    assert!(out.value.to_string().contains("hi"), "{:?}", out.value);
    bounded(10, source.close()).await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn server_killed_during_an_http_call_is_a_typed_error_then_a_reconnect() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let mut server = common::start_py_http(&python).await;
    let source = McpSource::builder("py-http", HttpServer::new(&server.url))
        .request_timeout(Duration::from_secs(30))
        .build();
    bounded(20, source.connect()).await.unwrap();
    let mut events = source.subscribe();
    let call = {
        let source = source.clone();
        tokio::spawn(async move { source.call_tool("sleep_announced", json!({"seconds": 20})).await })
    };
    // The call is in flight once the server says so.
    bounded(10, async {
        loop {
            if let McpEvent::Log { data, .. } = events.recv().await.unwrap() {
                if data == json!("sleeping") {
                    return;
                }
            }
        }
    })
    .await;
    let _ = server.child.kill();
    let _ = server.child.wait();
    // A typed error for that call, long before the request timeout.
    let error = bounded(10, call).await.unwrap().unwrap_err();
    assert!(error.is_connection_lost(), "{error}");
    // The server comes back: the next call reconnects and succeeds.
    server.replace(|port| common::spawn_py_http(&python, port)).await;
    let out = bounded(30, source.call_tool("echo", json!({"text": "back"}))).await.unwrap();
    assert_eq!(out.value["result"], "echo: back");
    bounded(10, source.close()).await;
}
