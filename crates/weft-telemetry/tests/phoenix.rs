//! Export to a real OpenTelemetry backend, Arize Phoenix, read back through its REST API: an
//! agent that calls a function tool and an MCP tool (the Python `mcp` test server over stdio),
//! and a workflow with a fan-out and a fan-in, in one trace under a caller's span. Checks names,
//! attributes, parent/child links and token counts.
//!
//! Needs Phoenix (`WEFT_PHOENIX`, scripts/peers/phoenix.sh) and the Python MCP server
//! (`WEFT_MCP_PYTHON`, scripts/peers/mcp.sh).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_core::{ChatResponse, Content, FinishReason, FunctionCall, Message, ReplayClient, Role, Usage};
use weft_telemetry::{Telemetry, TelemetryConfig};
use weft_workflow::{FnExecutor, WorkflowBuilder, WorkflowContext};

fn peer(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() && std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "{var} is not set (or does not exist): this test needs Phoenix and the MCP peers; run \
             scripts/test, or source scripts/peers/phoenix.sh and scripts/peers/mcp.sh first"
        ),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A Phoenix server on loopback, stopped on drop.
struct Phoenix {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Phoenix {
    async fn start() -> Phoenix {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(peer("WEFT_PHOENIX"))
            .arg("serve")
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", port.to_string())
            .env("PHOENIX_GRPC_PORT", free_port().to_string())
            .env("PHOENIX_WORKING_DIR", dir.path())
            .env("PHOENIX_TELEMETRY_ENABLED", "false")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("phoenix starts");
        let mut phoenix = Phoenix { child, port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(response) = reqwest::get(phoenix.url("/healthz")).await
                && response.status().is_success()
            {
                return phoenix;
            }
            assert!(phoenix.child.try_wait().unwrap().is_none(), "phoenix exited before it was ready");
            assert!(Instant::now() < deadline, "phoenix was not ready after 90 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The spans of `project`, once there are at least `count` of them.
    async fn spans(&self, project: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let url = self.url(&format!("/v1/projects/{project}/spans?limit=100"));
            let response = reqwest::get(url).await.unwrap();
            if response.status().is_success() {
                let body: Value = response.json().await.unwrap();
                let spans = body["data"].as_array().cloned().unwrap_or_default();
                if spans.len() >= count {
                    return spans;
                }
            }
            assert!(Instant::now() < deadline, "phoenix did not get {count} spans of {project} in 30 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Phoenix {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Deserialize, JsonSchema)]
struct WeatherArgs {
    /// The city.
    city: String,
}

/// A model that calls both tools at once, then answers.
fn model() -> ReplayClient {
    let calls = Message::new(
        Role::Assistant,
        vec![
            Content::FunctionCall(FunctionCall::new("call-1", "get_weather", json!({"city": "Paris"}))),
            Content::FunctionCall(FunctionCall::new("call-2", "echo", json!({"text": "hi"}))),
        ],
    );
    let first = ChatResponse {
        messages: vec![calls],
        finish_reason: Some(FinishReason::ToolCalls),
        model: Some("replay".into()),
        usage: Some(Usage::new(20, 5)),
        ..Default::default()
    };
    let second = ChatResponse {
        model: Some("replay".into()),
        usage: Some(Usage::new(40, 7)),
        ..ChatResponse::text("sunny")
    };
    ReplayClient::new([first, second])
}

fn relay(id: &'static str) -> impl weft_workflow::Executor<Input = String, Output = String> {
    FnExecutor::new(id, move |text: String, ctx: WorkflowContext<String>| async move {
        ctx.send_message(format!("{text}>{id}"));
        Ok(())
    })
}

fn by_name(spans: &[Value]) -> HashMap<String, Vec<&Value>> {
    let mut map: HashMap<String, Vec<&Value>> = HashMap::new();
    for span in spans {
        map.entry(span["name"].as_str().unwrap().to_string()).or_default().push(span);
    }
    map
}

fn id(span: &Value) -> &str {
    span["context"]["span_id"].as_str().unwrap()
}

#[tokio::test]
#[ignore = "needs Arize Phoenix and the MCP peers: scripts/test installs them"]
async fn an_agent_with_function_and_mcp_tools_and_a_fan_out_workflow_reach_phoenix() {
    let python = peer("WEFT_MCP_PYTHON");
    let phoenix = Phoenix::start().await;
    let project = "weft-telemetry";
    let telemetry = Telemetry::new(
        &TelemetryConfig::default()
            .endpoint(phoenix.url("/v1/traces"))
            .metrics(false)
            .resource_attribute("openinference.project.name", project),
    )
    .unwrap();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(telemetry.layer()));

    let server = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../weft-mcp/tests/servers/py_server.py");
    let mcp = weft_mcp::McpSource::builder(
        "py",
        weft_mcp::StdioServer::new(&python).arg(server.display().to_string()).arg("stdio"),
    )
    .allow_tools(["echo"]);
    let mcp = tokio::time::timeout(Duration::from_secs(30), mcp.connect()).await.unwrap().unwrap();
    let weather = weft_core::FunctionTool::new("get_weather", "Weather", |args: WeatherArgs| async move {
        Ok::<_, std::convert::Infallible>(format!("sunny in {}", args.city))
    });
    let agent = ChatAgent::builder(Arc::new(model()))
        .name("planner")
        .tool(weather)
        .tool_set(Arc::new(mcp.clone()))
        .build();
    let workflow = WorkflowBuilder::new()
        .name("fan")
        .start_with(relay("split"))
        .add_executor(relay("left"))
        .add_executor(relay("right"))
        .add_executor(FnExecutor::new("join", |parts: Vec<String>, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(parts.join("+"));
            Ok(())
        }))
        .add_fan_out("split", ["left", "right"])
        .add_fan_in(["left", "right"], "join")
        .build()
        .unwrap();
    let root = tracing::info_span!("request");
    async {
        let answer = agent.run(&mut AgentSession::new(), "weather?").await.unwrap();
        assert_eq!(answer.text(), "sunny");
        workflow.run("x".to_string()).await.unwrap();
    }
    .instrument(root.clone())
    .await;
    drop(root);
    mcp.close().await;
    drop(guard);
    tokio::task::spawn_blocking(move || telemetry.shutdown().unwrap()).await.unwrap();

    // request, invoke_agent, 2 chat, 2 execute_tool, tools/call; workflow.run, 3 supersteps,
    // 4 executors.
    let spans = phoenix.spans(project, 15).await;
    let named = by_name(&spans);
    let one = |name: &str| -> &Value {
        let found = named.get(name).unwrap_or_else(|| panic!("no span {name}: {:?}", named.keys()));
        assert_eq!(found.len(), 1, "{name}");
        found[0]
    };
    let request = one("request");
    let trace = request["context"]["trace_id"].as_str().unwrap();
    let outside: Vec<&str> = spans
        .iter()
        .filter(|span| span["context"]["trace_id"] != trace)
        .map(|span| span["name"].as_str().unwrap())
        .collect();
    assert!(outside.is_empty(), "spans outside the request's trace: {outside:?}");

    let agent = one("invoke_agent planner");
    assert_eq!(agent["parent_id"], id(request));
    let chats = &named["chat replay"];
    assert_eq!(chats.len(), 2);
    assert!(chats.iter().all(|chat| chat["parent_id"] == id(agent)));
    // Finish reasons are a string array, as the conventions type them.
    let mut reasons: Vec<&Value> =
        chats.iter().map(|chat| &chat["attributes"]["gen_ai.response.finish_reasons"]).collect();
    reasons.sort_by_key(|reasons| reasons.to_string());
    assert_eq!(reasons, [&json!(["stop"]), &json!(["tool_calls"])], "{chats:#?}");
    assert_eq!(agent["attributes"]["gen_ai.usage.input_tokens"], 60);
    assert_eq!(agent["attributes"]["gen_ai.usage.output_tokens"], 12);
    let function = one("execute_tool get_weather");
    assert_eq!(function["parent_id"], id(agent));
    let mcp_tool = one("execute_tool echo");
    assert_eq!(mcp_tool["parent_id"], id(agent));
    let call = one("tools/call echo");
    assert_eq!(call["parent_id"], id(mcp_tool));
    // (Phoenix shows its own span kinds, not OpenTelemetry's: the kind is checked in weft-mcp.)
    assert!(call["attributes"]["mcp.protocol.version"].is_string(), "{call:#}");
    assert_eq!(call["attributes"]["mcp.method.name"], "tools/call");
    assert_eq!(call["attributes"]["gen_ai.tool.name"], "echo");
    assert_eq!(call["attributes"]["network.transport"], "pipe");

    let run = one("workflow.run fan");
    assert_eq!(run["parent_id"], id(request));
    assert_eq!(run["attributes"]["weft.workflow.status"], "idle");
    let step2 = one("workflow.superstep 2");
    assert_eq!(step2["parent_id"], id(run));
    for branch in ["executor.process left", "executor.process right"] {
        assert_eq!(one(branch)["parent_id"], id(step2));
    }
    let join = one("executor.process join");
    assert_eq!(join["attributes"]["weft.workflow.fan_in.sources"], "left,right");
}
