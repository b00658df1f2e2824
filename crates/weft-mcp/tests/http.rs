//! Streamable HTTP against the Python `mcp` server and server-everything: sessions, ownership
//! of the HTTP client, terminate-on-close, a stale session after a server restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::bounded;
use serde_json::json;
use weft_core::ToolSet;
use weft_mcp::{HttpServer, McpSource};

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

#[tokio::test]
async fn sessions_are_new_per_connect_and_deleted_on_close() {
    let Some(python) = common::peer("WEFT_MCP_PYTHON") else { return };
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

#[tokio::test]
async fn terminate_on_close_off_leaves_the_session_and_a_supplied_client_stays_usable() {
    let Some(python) = common::peer("WEFT_MCP_PYTHON") else { return };
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

#[tokio::test]
async fn stale_session_after_a_server_restart_reconnects_at_the_next_call() {
    let Some(python) = common::peer("WEFT_MCP_PYTHON") else { return };
    let mut server = common::start_py_http(&python).await;
    let source = McpSource::builder("py-http", HttpServer::new(&server.url))
        .request_timeout(Duration::from_secs(10))
        .build();
    bounded(20, source.connect()).await.unwrap();
    let old = source.session_id().await.unwrap();
    // Restart the server on the same port: the old session id is unknown there (HTTP 404).
    let _ = server.child.kill();
    let _ = server.child.wait();
    let port = server.port;
    let restarted = std::process::Command::new(&python)
        .arg(common::py_server())
        .args(["http", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    server.child = restarted;
    common::wait_listening(port).await;
    let mut result = bounded(30, source.call_tool("echo", json!({"text": "1"}))).await;
    if let Err(error) = &result {
        // The call that met the stale session fails with a typed error; the next reconnects.
        assert!(error.is_connection_lost(), "{error}");
        result = bounded(30, source.call_tool("echo", json!({"text": "1"}))).await;
    }
    assert_eq!(result.unwrap().value["result"], "echo: 1");
    assert_ne!(source.session_id().await.unwrap(), old);
    bounded(10, source.close()).await;
}

#[tokio::test]
async fn everything_over_http() {
    let (Some(node), Some(everything)) = (common::peer("WEFT_MCP_NODE"), common::peer("WEFT_MCP_EVERYTHING"))
    else {
        return;
    };
    let server = common::start_everything_http(&node, &everything).await;
    let source =
        bounded(20, McpSource::builder("everything", HttpServer::new(&server.url)).connect()).await.unwrap();
    let names: Vec<String> = source.tools().iter().map(|t| t.definition().name.clone()).collect();
    assert!(names.contains(&"echo".to_string()), "{names:?}");
    let out = bounded(10, source.call_tool("echo", json!({"message": "hi"}))).await.unwrap();
    assert!(out.value.to_string().contains("hi"), "{:?}", out.value);
    bounded(10, source.close()).await;
}
