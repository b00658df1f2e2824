//! Shared test support: a host on 127.0.0.1:0 serving the scripted agent (with a weather tool)
//! and agents that hang, SSE parsing, and the real peers (`peer`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use weft_core::{
    Agent, AgentError, AgentResponse, AgentResponseUpdate, AgentSession, ChatAgent, ChatOptions,
    FunctionTool, Message, ScriptedClient,
};
use weft_host::{Host, HostConfig};

/// The value of a peer variable (a path that exists). Tests that call this are `#[ignore]`d in
/// plain `cargo nextest run`; `scripts/test` installs the peers and runs them, and a missing peer
/// fails the test: it never passes without running.
pub fn peer(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() && std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "{var} is not set (or does not exist): this test needs the openai Python SDK; run scripts/test, \
             or `source scripts/peers/openai-sdk.sh` first"
        ),
    }
}

/// Arguments of `get_weather`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct WeatherArgs {
    /// The city.
    pub city: String,
}

/// The scripted agent with a `get_weather` tool.
pub fn scripted_agent() -> Arc<dyn Agent> {
    let tool =
        FunctionTool::new("get_weather", "Get the weather for a city", |args: WeatherArgs| async move {
            Ok::<_, Infallible>(format!("weather in {}: sunny, 21C", args.city))
        });
    Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name("helper").tool(tool).build())
}

/// An agent that answers "thinking" then never ends (or ends with "done" after `finish_after`);
/// counts its runs started and dropped.
#[derive(Default)]
pub struct HangingAgent {
    pub started: Arc<AtomicUsize>,
    pub dropped: Arc<AtomicUsize>,
    pub finish_after: Option<Duration>,
}

struct DropCounter(Arc<AtomicUsize>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Agent for HangingAgent {
    fn name(&self) -> &str {
        "hang"
    }
    async fn run_messages(
        &self,
        _session: &mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        futures::future::pending().await
    }
    fn run_messages_stream<'a>(
        &'a self,
        _session: &'a mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let guard = DropCounter(self.dropped.clone());
        let finish_after = self.finish_after;
        Box::pin(async_stream::stream! {
            let _guard = guard;
            yield Ok(AgentResponseUpdate::text("thinking"));
            match finish_after {
                Some(delay) => tokio::time::sleep(delay).await,
                None => futures::future::pending::<()>().await,
            }
            yield Ok(AgentResponseUpdate::text(" done"));
        })
    }
}

/// A host running on 127.0.0.1:0; stopped when dropped.
pub struct TestHost {
    pub url: String,
    pub stop: CancellationToken,
    pub task: Option<tokio::task::JoinHandle<Result<(), weft_host::HostError>>>,
}

impl TestHost {
    /// Starts `host`.
    pub async fn start(host: Host) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let signal = stop.clone();
        let task = tokio::spawn(host.serve(listener, async move { signal.cancelled().await }));
        Self { url, stop, task: Some(task) }
    }

    /// The scripted agent as `helper` and a hanging agent as `hang`, with `config`.
    pub async fn standard(config: HostConfig, hang: HangingAgent) -> Self {
        Self::start(
            Host::new().config(config).agent("helper", scripted_agent()).agent("hang", Arc::new(hang)),
        )
        .await
    }

    /// Stops the server and waits for it (within 20 s).
    pub async fn shutdown(mut self) -> Result<(), weft_host::HostError> {
        self.stop.cancel();
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(20), task).await.expect("server did not stop").unwrap()
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The `data:` payloads of an SSE body, as JSON (`[DONE]` as a string).
pub fn sse_data(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter_map(|block| {
            let data: Vec<&str> = block.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .map(|data| serde_json::from_str(&data).unwrap_or(Value::String(data)))
        .collect()
}

/// An agent whose runs fail with an error naming a path and a key (which must not reach clients).
pub struct FailingAgent;

/// The error [`FailingAgent`] fails with.
pub fn secret_error() -> AgentError {
    AgentError::InvalidInput {
        agent: "fail".into(),
        message: "could not read /home/alice/.config/key.txt (sk-secret-123)".into(),
    }
}

#[async_trait]
impl Agent for FailingAgent {
    fn name(&self) -> &str {
        "fail"
    }
    async fn run_messages(
        &self,
        _session: &mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        Err(secret_error())
    }
    fn run_messages_stream<'a>(
        &'a self,
        _session: &'a mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        Box::pin(futures::stream::iter([Ok(AgentResponseUpdate::text("partial")), Err(secret_error())]))
    }
}

/// An agent whose answers are cut short: by the model's output limit (`finish_reason: length`),
/// or, with `iterations`, by its `max_iterations` after one tool call and its result.
pub struct CutShortAgent {
    pub iterations: bool,
}

#[async_trait]
impl Agent for CutShortAgent {
    fn name(&self) -> &str {
        "cut"
    }
    async fn run_messages(
        &self,
        _session: &mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        Err(secret_error())
    }
    fn run_messages_stream<'a>(
        &'a self,
        session: &'a mut AgentSession,
        messages: Vec<Message>,
        _options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        if self.iterations {
            let call =
                weft_core::FunctionCall::new("call_1", "get_weather", serde_json::json!({"city": "Paris"}));
            let result = weft_core::FunctionResult::ok("call_1", Value::String("sunny".into()));
            let partial = AgentResponse {
                messages: vec![
                    Message::new(
                        weft_core::Role::Assistant,
                        vec![weft_core::Content::FunctionCall(call.clone())],
                    ),
                    Message::new(
                        weft_core::Role::Tool,
                        vec![weft_core::Content::FunctionResult(result.clone())],
                    ),
                ],
                ..AgentResponse::default()
            };
            let error =
                AgentError::MaxIterations { agent: "cut".into(), limit: 1, response: Box::new(partial) };
            return Box::pin(futures::stream::iter([
                Ok(update(weft_core::Role::Assistant, weft_core::Content::FunctionCall(call))),
                Ok(update(weft_core::Role::Tool, weft_core::Content::FunctionResult(result))),
                Err(error),
            ]));
        }
        session.messages.extend(messages);
        session.messages.push(Message::assistant("The answer is cut"));
        let mut last = AgentResponseUpdate::text(" is cut");
        last.finish_reason = Some(weft_core::FinishReason::Length);
        Box::pin(futures::stream::iter([Ok(AgentResponseUpdate::text("The answer")), Ok(last)]))
    }
}

fn update(role: weft_core::Role, content: weft_core::Content) -> AgentResponseUpdate {
    AgentResponseUpdate { role: Some(role), contents: vec![content], ..AgentResponseUpdate::default() }
}

/// A JSON POST.
pub async fn post(url: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new().post(url).json(&body).send().await.unwrap()
}

/// A GET, answered with JSON: the status and the body.
pub async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// A DELETE, answered with JSON: the status and the body.
pub async fn delete_json(url: &str) -> (u16, Value) {
    let response = reqwest::Client::new().delete(url).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// A JSON POST answered with JSON: the status and the body.
pub async fn post_json(url: &str, body: Value) -> (u16, Value) {
    let response = post(url, body).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Waits (up to 10 s) until `check` holds.
pub async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
