//! Support for the AG-UI tests: a host serving the scripted agent (a weather tool, and a
//! `delete_file` tool that needs approval), agents that hang and fail, and a client for the SSE
//! events of `POST /ag-ui/{entity}`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use weft_core::{Agent, ApprovalMode, ChatAgent, FunctionTool, ScriptedClient};
use weft_host::{Host, HostConfig};

use crate::common::{FailingAgent, HangingAgent, TestHost, WeatherArgs, sse_data};

/// Arguments of `delete_file`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct DeleteArgs {
    /// The file to delete.
    pub path: String,
}

/// The scripted agent with `get_weather` and `delete_file` (which needs approval).
pub fn agent() -> Arc<dyn Agent> {
    agent_counting(Arc::default(), Duration::ZERO)
}

/// The scripted agent, whose `delete_file` counts its runs in `deletes` and takes `slow`.
pub fn agent_counting(deletes: Arc<AtomicUsize>, slow: Duration) -> Arc<dyn Agent> {
    let weather =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: WeatherArgs| async move {
            Ok::<_, Infallible>(format!("weather in {}: sunny, 21C", args.city))
        });
    let delete = FunctionTool::new("delete_file", "Delete a file", move |args: DeleteArgs| {
        let deletes = deletes.clone();
        async move {
            deletes.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(slow).await;
            Ok::<_, Infallible>(format!("deleted {}", args.path))
        }
    })
    .with_approval(ApprovalMode::Always);
    Arc::new(
        ChatAgent::builder(Arc::new(ScriptedClient::new())).name("helper").tool(weather).tool(delete).build(),
    )
}

/// A host serving `helper` (above), `hang` and `fail`, with `config`.
pub async fn host(config: HostConfig, hang: HangingAgent) -> TestHost {
    TestHost::start(
        Host::new()
            .config(config)
            .agent("helper", agent())
            .agent("hang", Arc::new(hang))
            .agent("fail", Arc::new(FailingAgent)),
    )
    .await
}

/// Posts `body` to `/ag-ui/{entity}`.
pub async fn post(url: &str, entity: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new().post(format!("{url}/ag-ui/{entity}")).json(body).send().await.unwrap()
}

/// Runs `body` on `entity` and returns the events (the answer must be an SSE stream).
pub async fn events(url: &str, entity: &str, body: &Value) -> Vec<Value> {
    let response = post(url, entity, body).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    sse_data(&response.text().await.unwrap())
}

/// The events' types.
pub fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// The text of the events' `TEXT_MESSAGE_CONTENT` deltas.
pub fn text(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "TEXT_MESSAGE_CONTENT")
        .map(|e| e["delta"].as_str().unwrap())
        .collect()
}

/// The event of type `kind` (the first).
pub fn find<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    events.iter().find(|e| e["type"] == kind).unwrap_or_else(|| panic!("no {kind} in {events:#?}"))
}
