//! Shared test support: a Weft host on 127.0.0.1:0 serving A2A for the scripted agent `helper`,
//! an agent that never ends (`hang`) and one that fails (`fail`); JSON-RPC and SSE helpers; the
//! `a2a-sdk` peer.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use weft_a2a::{A2aConfig, A2aServer};
use weft_core::{
    Agent, AgentError, AgentResponse, AgentResponseUpdate, AgentSession, ApprovalMode, ChatAgent,
    ChatOptions, FunctionTool, Message, ScriptedClient,
};
use weft_host::{Host, HostConfig};

/// The python of the `a2a-sdk` venv. Tests that call this are `#[ignore]`d in plain
/// `cargo nextest run`; `scripts/test` installs the peer, and a missing peer fails the test.
pub fn peer(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() && std::path::Path::new(&value).exists() => value,
        _ => panic!(
            "{var} is not set (or does not exist): this test needs the a2a-sdk Python package; run scripts/test, \
             or `source scripts/peers/a2a-sdk.sh` first"
        ),
    }
}

/// An agent that answers "thinking" then never ends; counts the runs dropped.
#[derive(Default)]
pub struct HangingAgent {
    pub dropped: Arc<AtomicUsize>,
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
        let guard = DropCounter(self.dropped.clone());
        Box::pin(async_stream::stream! {
            let _guard = guard;
            yield Ok(AgentResponseUpdate::text("thinking"));
            futures::future::pending::<()>().await;
            yield Ok(AgentResponseUpdate::text(" done"));
        })
    }
}

/// An agent that answers "slow answer" after `delay`.
pub struct SlowAgent {
    pub delay: Duration,
}

#[async_trait]
impl Agent for SlowAgent {
    fn name(&self) -> &str {
        "slow"
    }
    async fn run_messages(
        &self,
        _session: &mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        tokio::time::sleep(self.delay).await;
        // A2A runs read the stream; this path is not taken.
        Err(AgentError::Cancelled)
    }
    fn run_messages_stream<'a>(
        &'a self,
        _session: &'a mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        let delay = self.delay;
        Box::pin(async_stream::stream! {
            tokio::time::sleep(delay).await;
            yield Ok(AgentResponseUpdate::text("slow answer"));
        })
    }
}

/// An agent whose runs fail with an error naming a secret (which must not reach clients).
pub struct FailingAgent;

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
        Err(AgentError::InvalidInput { agent: "fail".into(), message: "sk-secret-123".into() })
    }
    fn run_messages_stream<'a>(
        &'a self,
        _session: &'a mut AgentSession,
        _messages: Vec<Message>,
        _options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        Box::pin(futures::stream::iter([
            Ok(AgentResponseUpdate::text("partial")),
            Err(AgentError::InvalidInput { agent: "fail".into(), message: "sk-secret-123".into() }),
        ]))
    }
}

/// Arguments of `delete_file`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct DeleteArgs {
    /// The file.
    pub path: String,
}

/// The scripted agent with a `delete_file` tool whose calls need approval.
pub fn guarded_agent() -> Arc<dyn Agent> {
    let tool = FunctionTool::new("delete_file", "Delete a file", |args: DeleteArgs| async move {
        Ok::<_, std::convert::Infallible>(format!("deleted {}", args.path))
    })
    .with_approval(ApprovalMode::Always);
    Arc::new(ChatAgent::builder(Arc::new(ScriptedClient::new())).name("guarded").tool(tool).build())
}

/// A host serving A2A on 127.0.0.1:0; stopped when dropped.
pub struct TestHost {
    pub url: String,
    pub stop: CancellationToken,
    pub dropped: Arc<AtomicUsize>,
    pub a2a: Arc<A2aServer>,
    task: Option<tokio::task::JoinHandle<Result<(), weft_host::HostError>>>,
}

impl TestHost {
    /// `helper`, `hang` and `fail` under `config` (its token and body limit guard A2A too).
    pub async fn start(config: HostConfig) -> Self {
        let hang = HangingAgent::default();
        let dropped = hang.dropped.clone();
        let helper: Arc<dyn Agent> = Arc::new(
            ChatAgent::builder(Arc::new(ScriptedClient::new()))
                .name("helper")
                .description("Answers from a script")
                .build(),
        );
        let a2a_config = A2aConfig { body_limit: config.body_limit, ..A2aConfig::default() };
        let a2a = A2aServer::new()
            .config(a2a_config)
            .agent("helper", helper.clone())
            .agent("hang", Arc::new(hang))
            .agent("fail", Arc::new(FailingAgent))
            .agent("guarded", guarded_agent());
        let mut host = Self::start_with(config, a2a).await;
        host.dropped = dropped;
        host
    }

    /// `a2a`'s agents behind a host with `config`.
    pub async fn start_with(config: HostConfig, a2a: A2aServer) -> Self {
        let a2a = Arc::new(a2a);
        let host = Host::new().config(config).routes(a2a.router());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let signal = stop.clone();
        let task = tokio::spawn(host.serve(listener, async move { signal.cancelled().await }));
        Self { url, stop, dropped: Arc::default(), a2a, task: Some(task) }
    }

    /// The URL of an agent's A2A endpoint.
    pub fn agent_url(&self, agent: &str) -> String {
        format!("{}/a2a/{agent}", self.url)
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

/// A JSON-RPC call to `url` with `A2A-Version: version` (none when `None`); the HTTP status and
/// the body.
pub async fn rpc(url: &str, version: Option<&str>, method: &str, params: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}));
    if let Some(version) = version {
        request = request.header("A2A-Version", version);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// A 1.0 user message.
pub fn user_message(text: &str, context_id: Option<&str>) -> Value {
    let mut message = json!({"messageId": uuid(), "role": "ROLE_USER", "parts": [{"text": text}]});
    if let Some(context) = context_id {
        message["contextId"] = json!(context);
    }
    message
}

/// A 0.3 user message.
pub fn user_message_v03(text: &str) -> Value {
    json!({"kind": "message", "messageId": uuid(), "role": "user", "parts": [{"kind": "text", "text": text}]})
}

fn uuid() -> String {
    format!("m-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

/// The `data:` payloads of an SSE body, as JSON.
pub fn sse_data(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter_map(|block| {
            let data: Vec<&str> = block.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .map(|data| serde_json::from_str(&data).unwrap())
        .collect()
}

/// Waits (up to 10 s) until `condition` holds.
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (up to 10 s) until the async `condition` holds.
pub async fn eventually_async<F, Fut>(what: &str, condition: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
