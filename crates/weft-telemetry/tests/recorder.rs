//! The in-memory trace recorder (DevUI's trace view): what it keeps of a run, what it never
//! keeps, its bounds, and a host serving it at `/v1/traces` with the trace id on each answer.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::task::AbortOnDropHandle;
use tracing_subscriber::layer::SubscriberExt as _;
use weft_core::{AgentSession, ChatAgent, FunctionTool, ScriptedClient};
use weft_telemetry::TraceRecorder;

#[derive(Deserialize, JsonSchema)]
struct WeatherArgs {
    city: String,
}

fn agent(capture: bool) -> ChatAgent {
    let weather =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: WeatherArgs| async move {
            Ok::<_, std::convert::Infallible>(format!("weather in {}: sunny, 21C", args.city))
        });
    ChatAgent::builder(Arc::new(ScriptedClient::new()))
        .name("forecaster")
        .instructions("You are a weather assistant.")
        .tool(weather)
        .capture_message_content(capture)
        .build()
}

/// Runs one weather question under a subscriber with `recorder`'s layer.
async fn run(recorder: &TraceRecorder, capture: bool) {
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.layer()));
    let mut session = AgentSession::new();
    agent(capture).run(&mut session, "What's the weather in Paris?").await.unwrap();
}

fn only_trace(recorder: &TraceRecorder) -> Value {
    let list = recorder.recent();
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    recorder.trace(data[0]["id"].as_str().unwrap()).unwrap()
}

fn spans_named<'a>(trace: &'a Value, span: &str) -> Vec<&'a Value> {
    trace["spans"].as_array().unwrap().iter().filter(|s| s["span"] == span).collect()
}

#[tokio::test]
async fn a_run_is_kept_as_a_tree_with_durations_tokens_model_and_finish_reasons() {
    let recorder = TraceRecorder::new();
    run(&recorder, false).await;
    let trace = only_trace(&recorder);
    assert_eq!(trace["entity"], "forecaster");
    assert_eq!(trace["name"], "invoke_agent forecaster");
    assert_eq!(trace["status"], "ok");
    assert_eq!(trace["models"], json!(["scripted"]));
    assert_eq!(trace["id"].as_str().unwrap().len(), 32);
    assert!(trace["duration_ms"].as_f64().unwrap() >= 0.0);

    let agent = &trace["spans"][0];
    assert_eq!(agent["parent"], Value::Null);
    assert_eq!(agent["kind"], "internal");
    let chats = spans_named(&trace, "chat");
    let tools = spans_named(&trace, "execute_tool");
    assert_eq!(chats.len(), 2, "{trace}");
    assert_eq!(tools.len(), 1, "{trace}");
    for span in chats.iter().chain(&tools) {
        assert_eq!(span["parent"], 0, "{span}");
        assert!(span["duration_ms"].is_number(), "{span}");
        assert!(span["start_ms"].as_f64().unwrap() >= 0.0, "{span}");
    }
    assert_eq!(chats[0]["name"], "chat scripted");
    assert_eq!(chats[0]["kind"], "client");
    assert_eq!(chats[0]["attributes"]["gen_ai.response.finish_reasons"], "tool_calls");
    assert_eq!(chats[1]["attributes"]["gen_ai.response.finish_reasons"], "stop");
    assert_eq!(tools[0]["name"], "execute_tool get_weather");
    assert_eq!(tools[0]["attributes"]["gen_ai.tool.name"], "get_weather");

    // Usage per run: the sum of the model calls', as the agent span has it.
    let input: i64 =
        chats.iter().map(|s| s["attributes"]["gen_ai.usage.input_tokens"].as_i64().unwrap()).sum();
    let output: i64 =
        chats.iter().map(|s| s["attributes"]["gen_ai.usage.output_tokens"].as_i64().unwrap()).sum();
    assert!(input > 0 && output > 0);
    assert_eq!(trace["usage"], json!({"input_tokens": input, "output_tokens": output}));
    assert_eq!(agent["attributes"]["gen_ai.usage.input_tokens"], input);
}

#[tokio::test]
async fn message_content_is_kept_only_when_opted_in() {
    let recorder = TraceRecorder::new();
    run(&recorder, false).await;
    let text = only_trace(&recorder).to_string();
    for absent in ["gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions", "Paris"] {
        assert!(!text.contains(absent), "{absent} was kept without opting in: {text}");
    }

    let recorder = TraceRecorder::new();
    run(&recorder, true).await;
    let text = only_trace(&recorder).to_string();
    for present in
        ["gen_ai.input.messages", "gen_ai.system_instructions", "You are a weather assistant.", "Paris"]
    {
        assert!(text.contains(present), "{present} was not kept once opted in: {text}");
    }
}

#[tokio::test]
async fn the_recorder_keeps_the_last_traces_and_caps_spans_per_trace() {
    let recorder = TraceRecorder::with_limits(2, 3);
    for _ in 0..3 {
        run(&recorder, false).await;
    }
    let list = recorder.recent();
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{list}");
    let trace = recorder.trace(data[0]["id"].as_str().unwrap()).unwrap();
    assert_eq!(trace["spans"].as_array().unwrap().len(), 3);
    assert_eq!(trace["dropped_spans"], 1, "agent + 2 chats + 1 tool = 4 spans, 3 kept");
    assert!(recorder.trace("00000000000000000000000000000000").is_none());
}

#[test]
fn traces_without_a_run_are_not_kept_and_secrets_in_urls_are_masked() {
    let recorder = TraceRecorder::new();
    let subscriber = tracing_subscriber::registry().with(recorder.layer());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("http.server", otel.name = "GET /v1/models").in_scope(|| {});
        let run = tracing::info_span!("invoke_agent", gen_ai.agent.name = "a");
        run.in_scope(|| {
            let mcp = tracing::info_span!(
                "mcp",
                mcp.resource.uri = "https://ada:hunter2@example.com/x?key=sk-secret",
                password = "not kept: not an attribute Weft records",
                error.type = "Timeout",
            );
            mcp.in_scope(|| {});
        });
    });
    let trace = only_trace(&recorder);
    let text = trace.to_string();
    assert!(!text.contains("hunter2") && !text.contains("sk-secret") && !text.contains("not kept"), "{text}");
    assert_eq!(trace["status"], "error");
    assert_eq!(trace["spans"][1]["status"], "error");
}

#[tokio::test]
async fn a_host_serves_the_traces_and_names_each_runs_trace() {
    let recorder = TraceRecorder::new();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.layer()));
    let router = weft_host::Host::new()
        .agent("forecaster", Arc::new(agent(false)))
        .config(weft_host::HostConfig { token: Some("t0ken".into()), ..Default::default() })
        .traces(Arc::new(recorder.clone()))
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let _server = AbortOnDropHandle::new(tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    }));
    let client = reqwest::Client::new();
    let base = format!("http://{address}/v1");

    let response = client
        .post(format!("{base}/responses"))
        .bearer_auth("t0ken")
        .json(&json!({"model": "forecaster", "input": "What's the weather in Paris?", "stream": true}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let trace_id = response.headers()[weft_host::TRACE_ID_HEADER].to_str().unwrap().to_string();
    response.bytes().await.unwrap();

    // Behind the token.
    let refused = client.get(format!("{base}/traces")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let list: Value =
        client.get(format!("{base}/traces")).bearer_auth("t0ken").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"][0]["id"], trace_id.as_str(), "{list}");
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "reading traces makes none: {list}");
    let trace: Value = client
        .get(format!("{base}/traces/{trace_id}"))
        .bearer_auth("t0ken")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(trace["name"], "POST /v1/responses");
    assert_eq!(trace["entity"], "forecaster");
    assert_eq!(spans_named(&trace, "invoke_agent")[0]["parent"], 0);
    assert_eq!(spans_named(&trace, "execute_tool").len(), 1);
    let missing = client.get(format!("{base}/traces/nope")).bearer_auth("t0ken").send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_workflow_run_is_kept_with_its_supersteps_and_executors() {
    use weft_workflow::{FnExecutor, WorkflowBuilder, WorkflowContext};
    let relay = |id: &'static str| {
        FnExecutor::new(id, move |text: String, ctx: WorkflowContext<String>| async move {
            ctx.send_message(format!("{text}>{id}"));
            Ok(())
        })
    };
    let workflow = WorkflowBuilder::new()
        .name("review")
        .start_with(relay("draft"))
        .add_executor(FnExecutor::new("publish", |text: String, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(text);
            Ok(())
        }))
        .add_edge("draft", "publish")
        .build()
        .unwrap();
    let recorder = TraceRecorder::new();
    {
        let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.layer()));
        workflow.run("x".to_string()).await.unwrap();
    }
    let trace = only_trace(&recorder);
    assert_eq!(trace["entity"], "review");
    assert_eq!(trace["name"], "workflow.run review");
    let supersteps = spans_named(&trace, "workflow.superstep");
    assert!(supersteps.len() >= 2, "{trace}");
    assert!(supersteps.iter().all(|step| step["parent"] == 0), "{trace}");
    let executors: Vec<&str> =
        spans_named(&trace, "executor.process").iter().map(|span| span["name"].as_str().unwrap()).collect();
    assert_eq!(executors, ["executor.process draft", "executor.process publish"], "{trace}");
}
