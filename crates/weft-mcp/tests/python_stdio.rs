//! The Python `mcp` server over stdio: tools as Weft tools, result mapping, list_changed
//! without deadlock, faults mid-call and reconnect, close ends the child.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::bounded;
use serde_json::json;
use weft_core::{ApprovalMode, FunctionCall, ToolContext, ToolErrorKind, ToolSet};
use weft_mcp::{McpErrorKind, McpEvent, McpSource, StdioServer};

fn py(python: &str) -> StdioServer {
    StdioServer::new(python).arg(common::py_server()).arg("stdio")
}

async fn connect(python: &str) -> McpSource {
    bounded(30, McpSource::builder("py", py(python)).request_timeout(Duration::from_secs(10)).connect())
        .await
        .unwrap()
}

fn names(source: &McpSource) -> Vec<String> {
    let mut names: Vec<String> = source.tools().iter().map(|t| t.definition().name.clone()).collect();
    names.sort();
    names
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn tools_calls_and_result_mapping() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = connect(&python).await;
    assert!(names(&source).contains(&"echo".to_string()), "{:?}", names(&source));
    let tools = source.tools();
    let echo = tools.iter().find(|t| t.definition().name == "echo").unwrap();
    // The server's schema, unchanged.
    assert_eq!(echo.definition().parameters["properties"]["text"]["type"], "string");
    assert_eq!(echo.definition().parameters["title"], "echoArguments");

    let output = bounded(10, echo.invoke(json!({"text": "hi"}), &ToolContext::default())).await.unwrap();
    assert_eq!(output.value, json!({"result": "echo: hi"}));

    let output = bounded(10, source.call_tool("add_numbers", json!({"a": 2, "b": 3.5}))).await.unwrap();
    assert_eq!(output.value, json!({"total": 5.5, "count": 2}));

    // isError → a tool error whose text the model reads.
    let fail = tools.iter().find(|t| t.definition().name == "fail").unwrap();
    let error =
        bounded(10, fail.invoke(json!({"message": "oops"}), &ToolContext::default())).await.unwrap_err();
    assert_eq!(error.kind(), ToolErrorKind::Failed);
    assert!(error.message().contains("failure requested: oops"), "{}", error.message());
    let error = source.call_tool("fail", json!({"message": "x"})).await.unwrap_err();
    assert_eq!(error.kind(), McpErrorKind::ToolFailed);

    // Unknown tool → the server's JSON-RPC error (or isError), typed, and the source stays usable.
    let error = source.call_tool("no_such_tool", json!({})).await.unwrap_err();
    assert!(matches!(error.kind(), McpErrorKind::Server | McpErrorKind::ToolFailed), "{error}");
    bounded(5, source.ping()).await.unwrap();

    let pid = source.child_pid().await.unwrap();
    bounded(15, source.close()).await;
    assert!(common::wait_gone(pid).await, "child {pid} survived close");
    assert!(source.tools().is_empty());
    assert!(source.call_tool("echo", json!({"text": "x"})).await.unwrap_err().is_closed());
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn allow_list_prefix_and_approval() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = bounded(
        30,
        McpSource::builder("py", py(&python))
            .allow_tools(["echo", "sleep"])
            .prefix("py_")
            .approval("sleep", ApprovalMode::Always)
            .connect(),
    )
    .await
    .unwrap();
    assert_eq!(names(&source), vec!["py_echo".to_string(), "py_sleep".to_string()]);
    let tools = source.tools();
    let call = FunctionCall::new("c1", "py_sleep", json!({"seconds": 0}));
    let sleep = tools.iter().find(|t| t.definition().name == "py_sleep").unwrap();
    let echo = tools.iter().find(|t| t.definition().name == "py_echo").unwrap();
    assert!(sleep.requires_approval(&call));
    assert!(!echo.requires_approval(&call));
    let output = bounded(10, echo.invoke(json!({"text": "p"}), &ToolContext::default())).await.unwrap();
    assert_eq!(output.value["result"], "echo: p");
    source.close().await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn list_changed_during_a_call_and_bursts_coalesce() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = connect(&python).await;
    let mut events = source.subscribe();
    // A notification while the call is in flight: the call completes, the list reloads.
    let out = bounded(10, source.call_tool("slow_with_change", json!({"seconds": 0.5}))).await.unwrap();
    assert_eq!(out.value["result"], "finished");
    // A burst of 100 notifications, sent from inside a call.
    let before = source.tool_reloads();
    let started = Instant::now();
    let out = bounded(10, source.call_tool("change_tools", json!({"count": 100}))).await.unwrap();
    assert!(out.value["result"].as_str().unwrap().contains("notified 100 times"));
    assert!(started.elapsed() < Duration::from_secs(5));
    // The new tool appears through ToolSet::tools() without anyone asking.
    bounded(10, async {
        while !names(&source).contains(&"extra_0".to_string()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reloads = source.tool_reloads() - before;
    assert!((1..=10).contains(&reloads), "100 notifications gave {reloads} reloads");
    let mut saw_reload = false;
    while let Ok(event) = events.try_recv() {
        saw_reload |= matches!(event, McpEvent::ToolsReloaded { .. });
    }
    assert!(saw_reload);
    // The new tool works.
    let out = bounded(10, source.call_tool("extra_0", json!({}))).await.unwrap();
    assert_eq!(out.value["result"], "extra_0 ran");
    // A reload running while closing is cancelled and awaited.
    let _ = source.call_tool("change_tools", json!({"count": 3})).await;
    bounded(15, source.close()).await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn prompts_list_changed_bursts_do_not_block_calls() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = connect(&python).await;
    let tool_reloads = source.tool_reloads();
    // A burst of 100 prompts/list_changed sent from inside a call: the call completes at once.
    let started = Instant::now();
    let out = bounded(10, source.call_tool("change_prompts", json!({"count": 100}))).await.unwrap();
    assert!(out.value["result"].as_str().unwrap().contains("notified 100 times"));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Prompts are listed fresh each time, so the new one is there; the tools were not reloaded.
    let prompts = bounded(10, source.list_prompts()).await.unwrap();
    assert!(
        prompts.iter().any(|p| p.name == "extra_prompt_0"),
        "{:?}",
        prompts.iter().map(|p| &p.name).collect::<Vec<_>>()
    );
    let out = bounded(5, source.call_tool("echo", json!({"text": "still here"}))).await.unwrap();
    assert_eq!(out.value["result"], "echo: still here");
    assert_eq!(source.tool_reloads(), tool_reloads);
    bounded(15, source.close()).await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn slow_tool_times_out_and_the_source_stays_usable() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = bounded(
        30,
        McpSource::builder("py", py(&python)).request_timeout(Duration::from_millis(500)).connect(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    let error = source.call_tool("sleep", json!({"seconds": 5})).await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
    let tool_error: weft_core::ToolError = error.into();
    assert_eq!(tool_error.kind(), ToolErrorKind::Timeout);
    let out = bounded(5, source.call_tool("echo", json!({"text": "after"}))).await.unwrap();
    assert_eq!(out.value["result"], "echo: after");
    source.close().await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn dropping_a_call_cancels_it_and_the_source_stays_usable() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = connect(&python).await;
    let dropped =
        tokio::time::timeout(Duration::from_millis(200), source.call_tool("sleep", json!({"seconds": 5})))
            .await;
    assert!(dropped.is_err());
    let out = bounded(5, source.call_tool("echo", json!({"text": "still here"}))).await.unwrap();
    assert_eq!(out.value["result"], "echo: still here");
    source.close().await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn server_killed_mid_call_gives_a_typed_error_then_reconnects_once() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = connect(&python).await;
    let mut events = source.subscribe();
    let pid = source.child_pid().await.unwrap();
    let call = {
        let source = source.clone();
        tokio::spawn(async move { source.call_tool("sleep", json!({"seconds": 5})).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    let error = bounded(10, call).await.unwrap().unwrap_err();
    assert!(error.is_connection_lost(), "{error}");
    // The next call reconnects (a new child) and succeeds.
    let out = bounded(30, source.call_tool("echo", json!({"text": "again"}))).await.unwrap();
    assert_eq!(out.value["result"], "echo: again");
    assert_ne!(source.child_pid().await, Some(pid));
    let mut reconnected = false;
    while let Ok(event) = events.try_recv() {
        reconnected |= matches!(event, McpEvent::Reconnected { .. });
    }
    assert!(reconnected);
    source.close().await;
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn agent_end_to_end_on_the_scripted_model() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let source = connect(&python).await;
    let agent = weft_core::ChatAgent::builder(Arc::new(weft_core::ScriptedClient::new()))
        .tool_set(Arc::new(source.clone()))
        .build();
    let mut session = weft_core::AgentSession::new();
    let answer = bounded(20, agent.run(&mut session, "echo Hello")).await.unwrap();
    // The scripted model called the MCP tool and reports its result.
    assert!(answer.text().contains("echo returned"), "{}", answer.text());
    assert!(answer.text().contains("echo: Hello"), "{}", answer.text());
    source.close().await;
}
