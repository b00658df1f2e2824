//! `weft run --otlp` against a real OpenTelemetry backend, Arize Phoenix: the spans are read
//! back through Phoenix's REST API and checked (names, GenAI attributes, parent links, token
//! counts, message content only when opted in).
//!
//! Phoenix is installed by `scripts/peers/phoenix.sh` (`WEFT_PHOENIX`); each test starts its own
//! on free loopback ports with a temporary working directory, and stops it.

// A test helper that fails is a failed test: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../../weft-restate/tests/support/restate_server.rs"]
mod restate_server;

/// The `phoenix` command, or a panic saying how to install it.
fn phoenix_command() -> String {
    match std::env::var("WEFT_PHOENIX") {
        Ok(value) if !value.is_empty() && std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "WEFT_PHOENIX is not set (or does not exist): this test needs Arize Phoenix; run \
             scripts/test, or `source scripts/peers/phoenix.sh` first"
        ),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A Phoenix server on loopback, stopped (and its working directory removed) on drop.
struct Phoenix {
    child: Child,
    port: u16,
    grpc_port: u16,
    _dir: tempfile::TempDir,
}

impl Phoenix {
    async fn start() -> Phoenix {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let grpc_port = free_port();
        let child = Command::new(phoenix_command())
            .arg("serve")
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", port.to_string())
            .env("PHOENIX_GRPC_PORT", grpc_port.to_string())
            .env("PHOENIX_WORKING_DIR", dir.path())
            .env("PHOENIX_TELEMETRY_ENABLED", "false")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("phoenix.log")).unwrap())
            .spawn()
            .expect("phoenix starts");
        let mut phoenix = Phoenix { child, port, grpc_port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(response) = reqwest::get(phoenix.url("/healthz")).await
                && response.status().is_success()
            {
                return phoenix;
            }
            if let Some(status) = phoenix.child.try_wait().unwrap() {
                let log =
                    std::fs::read_to_string(phoenix._dir.path().join("phoenix.log")).unwrap_or_default();
                panic!("phoenix exited ({status}) before it was ready:\n{log}");
            }
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
            let response =
                reqwest::get(self.url(&format!("/v1/projects/{project}/spans?limit=100"))).await.unwrap();
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

/// Runs `weft run --otlp … "What's the weather in Paris?"` on the scripted model (it calls the
/// demo tool get_weather, then answers), exporting to `phoenix` under `project`.
fn weft_run(phoenix: &Phoenix, project: &str, capture_content: bool) {
    weft_run_with(phoenix, project, capture_content, false);
}

/// [`weft_run`], over OTLP/gRPC when `grpc`.
fn weft_run_with(phoenix: &Phoenix, project: &str, capture_content: bool, grpc: bool) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("OPENAI_") || name_text.starts_with("OTEL_") {
            command.env_remove(&name);
        }
    }
    command
        .env_remove("RUST_LOG")
        .env("OTEL_RESOURCE_ATTRIBUTES", format!("openinference.project.name={project}"))
        .stdin(Stdio::null());
    if grpc {
        let endpoint = format!("http://127.0.0.1:{}", phoenix.grpc_port);
        command.env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc").args(["run", "--otlp", &endpoint]);
    } else {
        command.args(["run", "--otlp", &phoenix.url("/v1/traces")]);
    }
    command.arg("What's the weather in Paris?");
    if capture_content {
        command.env("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true");
    }
    let output = command.output().expect("the weft binary runs");
    assert!(output.status.success(), "weft run failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Paris"));
}

fn by_name(spans: &[Value]) -> HashMap<String, Vec<&Value>> {
    let mut map: HashMap<String, Vec<&Value>> = HashMap::new();
    for span in spans {
        map.entry(span["name"].as_str().unwrap().to_string()).or_default().push(span);
    }
    map
}

fn int(span: &Value, key: &str) -> i64 {
    span["attributes"][key].as_i64().unwrap_or_else(|| panic!("{key} is not an integer: {span:#}"))
}

// One test, one Phoenix (it takes ~10 s to start, ~450 MB): a run without content capture, one
// with it, one over OTLP/gRPC, each into its own Phoenix project.
#[tokio::test]
#[ignore = "needs Arize Phoenix: scripts/test installs it"]
async fn a_run_exports_genai_spans_that_phoenix_reads_back_with_content_only_when_opted_in() {
    let phoenix = Phoenix::start().await;
    spans_have_the_genai_shape(&phoenix).await;
    content_is_exported_when_opted_in(&phoenix).await;
    grpc_exports_too(&phoenix).await;
    a_durable_run_joins_the_callers_trace(&phoenix).await;
}

/// `weft --otlp … worker`: a message sent to Restate's ingress with a `traceparent` runs on the
/// worker in the caller's trace: the invocation's server span continues it, and the agent's
/// spans are its children.
async fn a_durable_run_joins_the_callers_trace(phoenix: &Phoenix) {
    let server = restate_server::RestateServer::start("a durable run joins the caller's trace").await;
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("OPENAI_") || name_text.starts_with("OTEL_") {
            command.env_remove(&name);
        }
    }
    let mut worker = command
        .env_remove("RUST_LOG")
        .env("OTEL_RESOURCE_ATTRIBUTES", "openinference.project.name=weft-restate")
        .args(["--otlp", &phoenix.url("/v1/traces"), "worker", "--listen", &format!("127.0.0.1:{port}")])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/declarative/weather.yaml"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/declarative/sequential.workflow.yaml"))
        .args(["--register", &server.admin])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(worker.stdout.take().unwrap()), &mut line)
        .unwrap();
    assert!(
        line.contains("serving the agent (object WeftAgent) and the workflow"),
        "the worker said: {line:?}"
    );

    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let response = reqwest::Client::new()
        .post(format!("{}/WeftAgent/traced/send", server.ingress))
        .header("traceparent", format!("00-{trace}-{caller_span}-01"))
        .json(&json!({ "message": "weather in Paris" }))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.text().await.unwrap());
    // A workflow run started with another trace: its run, supersteps and executors join it.
    let workflow_trace = "5ce03a4688c45eb7b4df030e1f1f5847";
    let response = reqwest::Client::new()
        .post(format!("{}/WeftWorkflow/traced-run/run", server.ingress))
        .header("traceparent", format!("00-{workflow_trace}-{caller_span}-01"))
        .json(&json!([{ "role": "user", "contents": [{ "type": "text", "text": "weather in Paris" }] }]))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.text().await.unwrap());
    // SIGTERM: the worker stops and flushes its spans.
    let status = Command::new("kill").args(["-TERM", &worker.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(worker.wait().unwrap().success());

    let spans = phoenix.spans("weft-restate", 12).await;
    let named = by_name(&spans);
    let invocation =
        named.get("WeftAgent/send").and_then(|s| s.first()).unwrap_or_else(|| panic!("{spans:#?}"));
    // The served agent (the weather file's) in the caller's trace; the workflow runs it too.
    let agent = named["invoke_agent weather"]
        .iter()
        .find(|s| s["context"]["trace_id"] == trace)
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(invocation["context"]["trace_id"], trace, "the caller's trace: {invocation:#}");
    assert_eq!(invocation["attributes"]["rpc.system"], "restate");
    assert_eq!(agent["context"]["trace_id"], trace);
    assert_eq!(agent["parent_id"], invocation["context"]["span_id"], "{agent:#}");
    assert_eq!(named["chat scripted"].len(), 2 + 3, "the agent's two model calls and the workflow's three");

    let run = named.get("WeftWorkflow/run").and_then(|s| s.first()).unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(run["context"]["trace_id"], workflow_trace, "the starter's trace: {run:#}");
    assert_eq!(run["attributes"]["weft.workflow.run_id"], "traced-run", "{run:#}");
    // (An orchestration's run span carries its builder's name, `sequential`.)
    let workflow = spans
        .iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with("workflow.run ")))
        .unwrap_or_else(|| panic!("no workflow.run span: {:?}", named.keys().collect::<Vec<_>>()));
    assert_eq!(workflow["parent_id"], run["context"]["span_id"], "{workflow:#}");
    let executors: Vec<&Value> = spans
        .iter()
        .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("executor.process ")))
        .collect();
    assert!(!executors.is_empty(), "{spans:#?}");
    for executor in executors {
        assert_eq!(executor["context"]["trace_id"], workflow_trace, "{executor:#}");
    }
}

/// `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`: the same spans over OTLP/gRPC.
async fn grpc_exports_too(phoenix: &Phoenix) {
    weft_run_with(phoenix, "weft-grpc", false, true);
    let spans = phoenix.spans("weft-grpc", 4).await;
    let named = by_name(&spans);
    assert_eq!(named["chat scripted"].len(), 2, "{spans:#?}");
    assert_eq!(named["execute_tool get_weather"].len(), 1);
    assert_eq!(named["invoke_agent weft"].len(), 1);
}

/// Names, attributes, parent links and token counts; no content by default.
async fn spans_have_the_genai_shape(phoenix: &Phoenix) {
    weft_run(phoenix, "weft-spans", false);
    let spans = phoenix.spans("weft-spans", 4).await;
    assert_eq!(spans.len(), 4, "{spans:#?}");
    let named = by_name(&spans);
    let agent = named["invoke_agent weft"][0];
    let chats = &named["chat scripted"];
    let tool = named["execute_tool get_weather"][0];
    assert_eq!(chats.len(), 2);

    // One trace: the agent span is the root, the model and tool calls its children.
    let trace = agent["context"]["trace_id"].as_str().unwrap();
    let agent_id = agent["context"]["span_id"].as_str().unwrap();
    assert!(agent["parent_id"].is_null());
    for child in chats.iter().chain([&tool]) {
        assert_eq!(child["context"]["trace_id"], trace);
        assert_eq!(child["parent_id"], agent_id, "{child:#}");
    }

    // GenAI attributes.
    let attrs = &agent["attributes"];
    assert_eq!(attrs["gen_ai.operation.name"], "invoke_agent");
    assert_eq!(attrs["gen_ai.agent.name"], "weft");
    assert_eq!(attrs["gen_ai.provider.name"], "scripted");
    assert!(attrs["gen_ai.conversation.id"].as_str().is_some_and(|id| !id.is_empty()));
    for chat in chats {
        let attrs = &chat["attributes"];
        assert_eq!(attrs["gen_ai.operation.name"], "chat");
        assert_eq!(attrs["gen_ai.request.model"], "scripted");
        assert_eq!(attrs["gen_ai.response.model"], "scripted");
        assert!(attrs["gen_ai.response.id"].as_str().is_some_and(|id| id.starts_with("scripted-")));
    }
    // A string array, as the conventions type it: a tool call, then the answer.
    let mut reasons: Vec<&Value> =
        chats.iter().map(|chat| &chat["attributes"]["gen_ai.response.finish_reasons"]).collect();
    reasons.sort_by_key(|reasons| reasons.to_string());
    assert_eq!(reasons, [&json!(["stop"]), &json!(["tool_calls"])], "{chats:#?}");
    let attrs = &tool["attributes"];
    assert_eq!(attrs["gen_ai.operation.name"], "execute_tool");
    assert_eq!(attrs["gen_ai.tool.name"], "get_weather");
    assert_eq!(attrs["gen_ai.tool.type"], "function");
    assert!(attrs["gen_ai.tool.call.id"].as_str().is_some_and(|id| !id.is_empty()));

    // Token counts are integers, and the agent's are the sum of its model calls'.
    let input: i64 = chats.iter().map(|chat| int(chat, "gen_ai.usage.input_tokens")).sum();
    let output: i64 = chats.iter().map(|chat| int(chat, "gen_ai.usage.output_tokens")).sum();
    assert!(input > 0 && output > 0);
    assert_eq!(int(agent, "gen_ai.usage.input_tokens"), input);
    assert_eq!(int(agent, "gen_ai.usage.output_tokens"), output);

    // No message content unless opted in.
    for span in &spans {
        let attrs = span["attributes"].as_object().unwrap();
        for key in CONTENT_KEYS {
            assert!(!attrs.contains_key(*key), "{key} was exported without opt-in: {span:#}");
        }
        assert!(!span.to_string().contains("sunny"), "tool output was exported without opt-in: {span:#}");
    }
}

/// The attributes that carry message content.
const CONTENT_KEYS: &[&str] = &[
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
];

/// With `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`: the messages, tool arguments
/// and results, in the conventions' JSON shapes.
async fn content_is_exported_when_opted_in(phoenix: &Phoenix) {
    weft_run(phoenix, "weft-content", true);
    let spans = phoenix.spans("weft-content", 4).await;
    let named = by_name(&spans);
    let chats = &named["chat scripted"];
    let tool = named["execute_tool get_weather"][0];

    let inputs: Vec<Value> = chats
        .iter()
        .map(|chat| {
            let text = chat["attributes"]["gen_ai.input.messages"].as_str().expect("input messages captured");
            serde_json::from_str(text).expect("gen_ai.input.messages is JSON")
        })
        .collect();
    // The first call sees the user's question; the second also the tool call and its result.
    let first = &inputs.iter().find(|messages| messages.as_array().unwrap().len() == 1).unwrap()[0];
    assert_eq!(first["role"], "user");
    assert_eq!(first["parts"][0]["type"], "text");
    assert_eq!(first["parts"][0]["content"], "What's the weather in Paris?");
    let second = inputs.iter().find(|messages| messages.as_array().unwrap().len() == 3).unwrap();
    assert_eq!(second[1]["parts"][0]["type"], "tool_call");
    assert_eq!(second[1]["parts"][0]["name"], "get_weather");
    assert_eq!(second[2]["role"], "tool");
    assert_eq!(second[2]["parts"][0]["type"], "tool_call_response");

    let outputs: Vec<String> = chats
        .iter()
        .map(|chat| {
            chat["attributes"]["gen_ai.output.messages"].as_str().expect("output captured").to_string()
        })
        .collect();
    assert!(outputs.iter().any(|output| output.contains("sunny")), "{outputs:?}");

    let attrs = &tool["attributes"];
    let arguments: Value =
        serde_json::from_str(attrs["gen_ai.tool.call.arguments"].as_str().expect("arguments captured"))
            .unwrap();
    assert_eq!(arguments["city"], "Paris");
    assert!(attrs["gen_ai.tool.call.result"].as_str().expect("result captured").contains("sunny"));
}
