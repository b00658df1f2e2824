#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Weft agents served over streamable HTTP (`weft_mcp::server`), driven by Weft's own MCP client:
//! tools listed, the agent tool run with progress and sessions, cancellation reaching the
//! agent's tool, approvals asked through elicitation, `Origin`/`Host` checks, bad input.

mod server_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;
use weft_core::ToolSet;
use weft_mcp::server::{HttpOptions, McpServer};
use weft_mcp::{ElicitationResponse, HttpServer, McpErrorKind, McpEvent, McpSource};

use server_support::{Probe, TestServer, agent_with_tools, wait_until};

async fn client(server: &TestServer) -> McpSource {
    McpSource::builder("weft-served", HttpServer::new(&server.url))
        .request_timeout(Duration::from_secs(20))
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_agent_is_a_tool_that_answers_with_progress() {
    let probe = Probe::default();
    let server = TestServer::start(McpServer::builder("weft").agent(agent_with_tools(&probe)).build()).await;
    let source = client(&server).await;
    let names: Vec<String> = source.tools().iter().map(|t| t.definition().name.clone()).collect();
    assert_eq!(names, ["helper"]);
    let schema = source.tools()[0].definition().parameters.clone();
    assert_eq!(schema["required"], json!(["prompt"]), "{schema}");

    let mut events = source.subscribe();
    let output = source.call_tool("helper", json!({"prompt": "What's the weather in Paris?"})).await.unwrap();
    assert_eq!(output.value, json!("get_weather returned: weather in Paris: sunny"));
    let mut messages = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let McpEvent::Progress { message: Some(message), .. } = event {
            messages.push(message);
        }
    }
    assert!(messages.iter().any(|m| m == "calling get_weather"), "{messages:?}");
    assert!(messages.iter().any(|m| m == "answering"), "{messages:?}");
    source.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_session_id_keeps_the_conversation_for_this_connection() {
    let probe = Probe::default();
    let server = TestServer::start(McpServer::builder("weft").agent(agent_with_tools(&probe)).build()).await;
    let source = client(&server).await;
    source.call_tool("helper", json!({"prompt": "My name is Ada.", "session": "s1"})).await.unwrap();
    let remembered =
        source.call_tool("helper", json!({"prompt": "What is my name?", "session": "s1"})).await.unwrap();
    assert_eq!(remembered.value, json!("Your name is Ada."));
    let fresh = source.call_tool("helper", json!({"prompt": "What is my name?"})).await.unwrap();
    assert_eq!(fresh.value, json!("You have not told me your name yet."));
    source.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_cancelled_call_cancels_the_agents_tool() {
    let probe = Probe::default();
    let server = TestServer::start(McpServer::builder("weft").agent(agent_with_tools(&probe)).build()).await;
    let source = McpSource::builder("weft-served", HttpServer::new(&server.url))
        .request_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap();
    // The client's deadline drops the call, which sends notifications/cancelled.
    let error = source.call_tool("helper", json!({"prompt": "start the slow job"})).await.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::Timeout, "{error}");
    assert!(probe.slow_started.load(Ordering::SeqCst), "the slow tool never started");
    wait_until("the slow tool to see its cancellation", || probe.slow_dropped.load(Ordering::SeqCst)).await;
    assert!(!probe.slow_finished.load(Ordering::SeqCst));
    // The connection stays usable.
    let output = source.call_tool("helper", json!({"prompt": "hello"})).await.unwrap();
    assert_eq!(output.value, json!("You said: hello"));
    source.close().await;
    server.stop().await;
}

async fn approval_call(
    answer: Option<ElicitationResponse>,
) -> (Result<weft_core::ToolOutput, weft_mcp::McpError>, Probe) {
    let probe = Probe::default();
    let server = TestServer::start(McpServer::builder("weft").agent(agent_with_tools(&probe)).build()).await;
    let mut builder = McpSource::builder("weft-served", HttpServer::new(&server.url));
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    if let Some(answer) = answer {
        let asked = asked.clone();
        builder = builder.elicitation_handler(move |request: weft_mcp::ElicitationRequest| {
            asked.lock().unwrap().push(request.message.clone());
            let answer = answer.clone();
            async move { answer }
        });
    }
    let source = builder.connect().await.unwrap();
    let result = source.call_tool("helper", json!({"prompt": "wipe the cache"})).await;
    if let Ok(messages) = asked.lock() {
        for message in messages.iter() {
            assert!(message.contains("`wipe_cache`"), "{message}");
        }
        probe.asked.store(messages.len(), Ordering::SeqCst);
    }
    source.close().await;
    server.stop().await;
    (result, probe)
}

#[tokio::test]
async fn an_approval_accepted_through_elicitation_runs_the_tool() {
    let (result, probe) = approval_call(Some(ElicitationResponse::Accept(Default::default()))).await;
    assert_eq!(result.unwrap().value, json!("wipe_cache returned: cache wiped"));
    assert_eq!(probe.asked.load(Ordering::SeqCst), 1);
    assert!(probe.wiped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn an_approval_declined_or_cancelled_does_not_run_the_tool() {
    for answer in [ElicitationResponse::Decline, ElicitationResponse::Cancel] {
        let (result, probe) = approval_call(Some(answer.clone())).await;
        let output = result.unwrap();
        assert!(output.value.as_str().unwrap().contains("wipe_cache"), "{answer:?}: {:?}", output.value);
        assert_eq!(probe.asked.load(Ordering::SeqCst), 1);
        assert!(!probe.wiped.load(Ordering::SeqCst), "{answer:?} ran the tool");
    }
}

#[tokio::test]
async fn a_client_without_elicitation_gets_a_clear_tool_error() {
    let (result, probe) = approval_call(None).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::ToolFailed, "{error}");
    assert!(error.to_string().contains("needs approval"), "{error}");
    assert!(error.to_string().contains("elicitation capability"), "{error}");
    assert!(!probe.wiped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn bad_input_is_a_tool_error_and_an_unknown_tool_a_protocol_error() {
    let probe = Probe::default();
    let server = TestServer::start(McpServer::builder("weft").agent(agent_with_tools(&probe)).build()).await;
    let source = client(&server).await;
    let error = source.call_tool("helper", json!({"question": "hi"})).await.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::ToolFailed, "{error}");
    assert!(error.to_string().contains("`prompt` is missing"), "{error}");
    let error = source.call_tool("helper", json!({"prompt": 42})).await.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::ToolFailed, "{error}");
    let error = source.call_tool("nope", json!({})).await.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::Server, "{error}");
    assert!(error.to_string().contains("unknown tool: nope"), "{error}");
    source.close().await;
    server.stop().await;
}

#[tokio::test]
async fn weft_tools_are_served_with_their_schemas() {
    let probe = Probe::default();
    let server = TestServer::start(
        McpServer::builder("weft")
            .tool(server_support::weather_tool())
            .tool(server_support::wipe_tool(&probe))
            .build(),
    )
    .await;
    let source = client(&server).await;
    let tools = source.tools();
    let weather = tools.iter().find(|t| t.definition().name == "get_weather").unwrap();
    assert_eq!(weather.definition().parameters["properties"]["city"]["type"], json!("string"));
    let output = source.call_tool("get_weather", json!({"city": "Oslo"})).await.unwrap();
    assert_eq!(output.value, json!("weather in Oslo: sunny"));
    // A Weft tool needing approval asks the client too; this one has no elicitation.
    let error = source.call_tool("wipe_cache", json!({})).await.unwrap_err();
    assert!(error.to_string().contains("elicitation capability"), "{error}");
    assert!(!probe.wiped.load(Ordering::SeqCst));
    source.close().await;
    server.stop().await;
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

async fn post(url: &str, headers: &[(&str, &str)], body: String) -> reqwest::StatusCode {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body).send().await.unwrap().status()
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused_and_bodies_are_bounded() {
    let probe = Probe::default();
    let server = TestServer::start_with(
        McpServer::builder("weft").agent(agent_with_tools(&probe)).build(),
        HttpOptions::default().max_body_bytes(64 * 1024).allow_origin("https://app.example.com:443"),
    )
    .await;
    let port = server.port;
    let local = format!("http://localhost:{port}");
    assert_eq!(post(&server.url, &[("origin", "http://evil.example.com")], INITIALIZE.into()).await, 403);
    assert_eq!(post(&server.url, &[("host", "evil.example.com")], INITIALIZE.into()).await.as_u16() / 100, 4);
    assert!(post(&server.url, &[("origin", &local)], INITIALIZE.into()).await.is_success());
    assert!(
        post(&server.url, &[("origin", "https://app.example.com")], INITIALIZE.into()).await.is_success()
    );
    assert!(post(&server.url, &[], INITIALIZE.into()).await.is_success(), "no Origin: not a browser");
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"padding":"{}"}}}}"#,
        "x".repeat(100 * 1024)
    );
    assert_eq!(post(&server.url, &[], big).await, 413);
    server.stop().await;
}

#[tokio::test]
async fn a_connection_keeps_a_bounded_number_of_sessions() {
    let probe = Probe::default();
    let server = TestServer::start(McpServer::builder("weft").agent(agent_with_tools(&probe)).build()).await;
    let source = client(&server).await;
    for i in 0..64 {
        source.call_tool("helper", json!({"prompt": "hi", "session": format!("s{i}")})).await.unwrap();
    }
    let error =
        source.call_tool("helper", json!({"prompt": "hi", "session": "one too many"})).await.unwrap_err();
    assert!(error.to_string().contains("already keeps 64 sessions"), "{error}");
    // A kept session still works.
    source.call_tool("helper", json!({"prompt": "hi", "session": "s0"})).await.unwrap();
    source.close().await;
    server.stop().await;
}
