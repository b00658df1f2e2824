//! Client features against the Python `mcp` server: elicitation (human-in-the-loop channel,
//! closures, SEP-1034 defaults, no capability without a handler), sampling answered by a Weft
//! chat client, progress and log events, and cancellation of dropped or timed-out calls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::bounded;
use serde_json::{Value, json};
use weft_core::{ChatResponse, FinishReason, Message, ReplayClient, ToolOutput};
use weft_mcp::{
    ElicitationRequest, ElicitationResponse, HttpServer, McpErrorKind, McpEvent, McpSource, McpSourceBuilder,
    StdioServer, elicitation_channel,
};

fn builder(python: &str) -> McpSourceBuilder {
    let server = StdioServer::new(python).arg(common::py_server()).arg("stdio");
    McpSource::builder("py", server).request_timeout(Duration::from_secs(10))
}

/// The text a tool answered (the Python tools answer JSON text).
fn json_text(output: &ToolOutput) -> Value {
    let text =
        output.value["result"].as_str().unwrap_or_else(|| panic!("not a text result: {}", output.value));
    serde_json::from_str(text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn elicitation_through_a_channel_and_sampling_by_a_chat_client() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let (handler, mut requests) = elicitation_channel(4);
    let mut answer = ChatResponse::text("A short summary.");
    answer.model = Some("replay-model".into());
    answer.finish_reason = Some(FinishReason::Length);
    let model = Arc::new(ReplayClient::new([answer]));
    let source =
        bounded(30, builder(&python).elicitation_handler(handler).sampling_client(model.clone()).connect())
            .await
            .unwrap();

    let capabilities =
        json_text(&bounded(10, source.call_tool("client_capabilities", json!({}))).await.unwrap());
    assert!(capabilities.get("elicitation").is_some(), "{capabilities}");
    assert!(capabilities.get("sampling").is_some(), "{capabilities}");

    // Elicitation, answered by the application side: a "user" who gives only the name and
    // accepts the rest as offered (SEP-1034: the schema's defaults are filled in).
    let user = tokio::spawn(async move {
        let pending = requests.recv().await.expect("an elicitation");
        let request = pending.request.clone();
        pending
            .respond(ElicitationResponse::Accept([("name".to_string(), json!("Ada"))].into_iter().collect()))
            .unwrap();
        request
    });
    let output =
        bounded(10, source.call_tool("ask_profile", json!({"question": "Who are you?"}))).await.unwrap();
    let request = bounded(5, user).await.unwrap();
    assert_eq!(request.server, "py");
    assert_eq!(request.message, "Who are you?");
    assert_eq!(request.defaults().get("age"), Some(&json!(30)));
    assert_eq!(
        request.schema_json()["properties"]["status"]["enum"],
        json!(["active", "inactive", "pending"])
    );
    assert_eq!(
        json_text(&output),
        json!({"action": "accept", "data": {"name": "Ada", "age": 30, "score": 95.5, "status": "active", "verified": true}})
    );

    // Sampling: the server's request goes to the chat client, the answer back to the server.
    let output = bounded(10, source.call_tool("summarize", json!({"text": "a long text"}))).await.unwrap();
    let result = json_text(&output);
    assert_eq!(result["model"], "replay-model", "{result}");
    assert_eq!(result["stopReason"], "maxTokens", "{result}");
    assert_eq!(result["role"], "assistant", "{result}");
    assert_eq!(result["content"], json!({"type": "text", "text": "A short summary."}), "{result}");
    let requests = model.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.messages,
        vec![Message::system("Summarize in one line."), Message::user("a long text")]
    );
    assert_eq!(request.options.max_tokens, Some(64));
    assert_eq!(request.options.temperature, Some(0.25));
    assert_eq!(request.options.stop, vec!["END".to_string()]);
    bounded(15, source.close()).await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn elicitation_by_a_closure_declines_and_cancels_over_http() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let server = common::start_py_http(&python).await;
    let answers =
        Arc::new(std::sync::Mutex::new(vec![ElicitationResponse::Cancel, ElicitationResponse::Decline]));
    let handler = {
        let answers = answers.clone();
        move |request: ElicitationRequest| {
            let answer = answers.lock().unwrap().pop().unwrap_or(ElicitationResponse::Cancel);
            async move {
                assert_eq!(request.message, "Name?");
                answer
            }
        }
    };
    let source = bounded(
        30,
        McpSource::builder("py-http", HttpServer::new(&server.url))
            .request_timeout(Duration::from_secs(10))
            .elicitation_handler(handler)
            .connect(),
    )
    .await
    .unwrap();
    let first = bounded(10, source.call_tool("ask_profile", json!({"question": "Name?"}))).await.unwrap();
    assert_eq!(json_text(&first), json!({"action": "decline"}));
    let second = bounded(10, source.call_tool("ask_profile", json!({"question": "Name?"}))).await.unwrap();
    assert_eq!(json_text(&second), json!({"action": "cancel"}));
    bounded(15, source.close()).await;
}

/// Polls `last_cancelled` until it names the tag (bounded).
async fn wait_cancelled(source: &McpSource, tag: &str) {
    bounded(5, async {
        loop {
            let output = source.call_tool("last_cancelled", json!({})).await.unwrap();
            let seen = output.value["result"].as_str().unwrap_or_default().to_owned();
            if seen.split(',').any(|t| t == tag) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn bare_client_progress_logs_and_cancellation() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source =
        bounded(30, builder(&python).request_timeout(Duration::from_secs(1)).connect()).await.unwrap();

    // Without handlers nothing is announced, and the server's requests are refused (method not
    // found): the tool fails, as an isError result or a JSON-RPC error depending on the server.
    let capabilities =
        json_text(&bounded(10, source.call_tool("client_capabilities", json!({}))).await.unwrap());
    assert!(capabilities.get("elicitation").is_none(), "{capabilities}");
    assert!(capabilities.get("sampling").is_none(), "{capabilities}");
    for (tool, arguments) in [("ask_profile", json!({"question": "x"})), ("summarize", json!({"text": "x"}))]
    {
        let error = bounded(10, source.call_tool(tool, arguments)).await.unwrap_err();
        assert!(matches!(error.kind(), McpErrorKind::ToolFailed | McpErrorKind::Server), "{error}");
    }

    // Progress and log notifications become events. rmcp delivers notifications from detached
    // tasks: they may come after the result, and unordered.
    let mut events = source.subscribe();
    let output = bounded(10, source.call_tool("progress", json!({"steps": 3}))).await.unwrap();
    assert_eq!(output.value, json!({"result": "done 3 steps"}));
    let mut progress = Vec::new();
    let mut logs = Vec::new();
    bounded(5, async {
        while progress.len() < 3 || logs.len() < 3 {
            match events.recv().await.unwrap() {
                McpEvent::Progress { server, token, progress: done, total, message } => {
                    assert_eq!(server, "py");
                    assert!(!token.is_empty());
                    assert_eq!(total, Some(3.0));
                    progress.push((done, message));
                }
                McpEvent::Log { server, level, data, .. } => {
                    assert_eq!(server, "py");
                    assert_eq!(level, "info");
                    logs.push(data);
                }
                _ => {}
            }
        }
    })
    .await;
    progress.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(
        progress,
        vec![(1.0, Some("step 1".into())), (2.0, Some("step 2".into())), (3.0, Some("step 3".into()))]
    );
    let mut logs: Vec<String> = logs.iter().map(|d| d.as_str().unwrap_or_default().to_owned()).collect();
    logs.sort();
    assert_eq!(logs, ["progress step 1", "progress step 2", "progress step 3"]);

    // Past the request timeout: a timeout error, and the server hears notifications/cancelled.
    let error = bounded(5, source.call_tool("sleep_tracked", json!({"seconds": 30, "tag": "timed-out"})))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::Timeout, "{error}");
    wait_cancelled(&source, "timed-out").await;

    // The caller gives up first: dropping the call's future cancels it too.
    let call = source.call_tool("sleep_tracked", json!({"seconds": 30, "tag": "dropped"}));
    assert!(tokio::time::timeout(Duration::from_millis(150), call).await.is_err());
    wait_cancelled(&source, "dropped").await;

    // The connection stays usable.
    bounded(5, source.ping()).await.unwrap();
    assert!(source.is_connected().await);
    bounded(15, source.close()).await;
}
