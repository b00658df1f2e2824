//! Secrets given for an MCP server (a user name, password or token in the URL's userinfo or query string,
//! header values, the bearer token) never appear in errors (`Display`, `Debug`, their causes)
//! nor in what `tracing` records, at any level and from any crate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::bounded;
use serde_json::json;
use weft_mcp::{HttpServer, McpSource};

const SECRETS: [&str; 5] = ["user-secret", "pw-secret", "q-secret", "hdr-secret", "bearer-secret"];

/// The server's URL with a user name, a password and a token in it.
fn secret_url(port: u16) -> String {
    format!("http://user-secret:pw-secret@127.0.0.1:{port}/mcp?token=q-secret&v=1")
}

fn server(url: &str) -> HttpServer {
    HttpServer::new(url).header("X-Api-Key", "hdr-secret").bearer_token("bearer-secret")
}

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in {what}: {text}");
    }
}

/// The error, its `Debug`, and every cause.
fn everything_about(error: &weft_mcp::McpError) -> String {
    let mut text = format!("{error}\n{error:?}");
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text.push_str(&format!("\n{e}"));
        cause = e.source();
    }
    text
}

#[tokio::test]
async fn errors_and_debug_output_hide_url_secrets_headers_and_the_token() {
    // Nothing listens there: connection refused, with reqwest's error naming the URL.
    let url = secret_url(common::free_port());
    let builder = McpSource::builder(url.clone(), server(&url)).connect_timeout(Duration::from_secs(5));
    assert_clean("the builder's Debug", &format!("{builder:?}"));
    let error = bounded(15, builder.connect()).await.unwrap_err();
    assert!(error.is_unreachable(), "{error}");
    let text = everything_about(&error);
    assert_clean("the connect error", &text);
    // Still useful: the host and the names of what was hidden.
    assert!(error.to_string().contains("http://***@127.0.0.1"), "{error}");
    assert!(error.to_string().contains("token=***"), "{error}");
    assert_clean("the server's Debug", &format!("{:?}", server(&url)));
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test(flavor = "current_thread")]
async fn tracing_output_hides_url_secrets_headers_and_the_token() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let running = common::start_py_http(&python).await;
    let (guard, captured) = common::capture_tracing_with("trace");

    // A server that answers: the whole life of a session, a failing call, an unknown tool.
    let url = secret_url(running.port);
    let source = bounded(20, McpSource::builder(url.clone(), server(&url)).connect()).await.unwrap();
    bounded(10, source.call_tool("echo", json!({"text": "hi"}))).await.unwrap();
    let failed = bounded(10, source.call_tool("fail", json!({"message": "x"}))).await.unwrap_err();
    assert_clean("a tool error", &everything_about(&failed));
    let unknown = bounded(10, source.call_tool("no_such_tool", json!({}))).await.unwrap_err();
    assert_clean("a server error", &everything_about(&unknown));
    bounded(15, source.close()).await;

    // A server that is not there.
    let refused = secret_url(common::free_port());
    let error = bounded(
        15,
        McpSource::builder(refused.clone(), server(&refused))
            .connect_timeout(Duration::from_secs(5))
            .connect(),
    )
    .await
    .unwrap_err();
    assert_clean("the connect error", &everything_about(&error));
    drop(guard);

    let logs = common::captured(&captured);
    assert!(logs.contains("127.0.0.1"), "nothing was captured: {logs}");
    assert!(logs.contains("http://***@127.0.0.1"), "the server name is not in the logs: {logs}");
    assert_clean("the logs", &logs);
}
