//! The demo agent of the `weft-restate-demo-worker` binary and of the fault tests: Weft's
//! offline scripted model and three tools, each call counted in a file so that a test can see
//! which calls a crash made again. Prompts name the tools they call: `note …` calls
//! `note_fact`, `lookup …` calls `slow_lookup` (which takes a while), `backend …` calls
//! `flaky_backend` (whose backend is always unavailable).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use weft_core::agent::ChatAgent;
use weft_core::{
    ChatClient, ChatError, ChatRequest, ChatResponse, ChatStream, ClientInfo, ScriptedClient, Tool,
    ToolContext, ToolDefinition, ToolError, ToolErrorKind, ToolOutput,
};

use crate::{DurableChatClient, DurableTool, current_step};

/// The file (in the counts directory) that gets a line per model call.
pub const MODEL_COUNT_FILE: &str = "model.count";

/// The demo agent's settings.
#[derive(Debug, Clone, Default)]
pub struct DemoSettings {
    /// Where calls are counted: `model.count` and `tool-NAME.count` get a line per call (the
    /// step key, or `local` outside a durable run). Nothing is counted when `None`.
    pub counts: Option<PathBuf>,
    /// How long `slow_lookup` takes.
    pub lookup_delay: Duration,
    /// Make the calls durable with the [`crate::DurableCalls`] middleware instead of wrapping the
    /// client and each tool in [`DurableChatClient`] and [`DurableTool`].
    pub as_middleware: bool,
}

/// The number of calls counted in `file` of the counts directory `dir` (0 when none).
pub fn count_calls(dir: &Path, file: &str) -> usize {
    std::fs::read_to_string(dir.join(file)).map(|text| text.lines().count()).unwrap_or(0)
}

/// The file counting the calls of tool `name`.
pub fn tool_count_file(name: &str) -> String {
    format!("tool-{name}.count")
}

pub(crate) fn count(dir: Option<&Path>, file: &str) -> std::io::Result<()> {
    let Some(dir) = dir else { return Ok(()) };
    let label = current_step().map_or_else(|| "local".to_owned(), |key| key.idempotency_key());
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(file))?;
    writeln!(out, "{label}")
}

/// The scripted model, counting its calls.
struct CountingModel {
    inner: ScriptedClient,
    counts: Option<PathBuf>,
}

#[async_trait]
impl ChatClient for CountingModel {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        count(self.counts.as_deref(), MODEL_COUNT_FILE).map_err(|e| {
            ChatError::new(weft_core::ChatErrorKind::Other, format!("cannot count the model call: {e}"))
        })?;
        self.inner.get_response(request).await
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        self.inner.get_streaming_response(request)
    }

    fn info(&self) -> ClientInfo {
        self.inner.info()
    }
}

#[derive(Debug, Clone, Copy)]
enum Behavior {
    Note,
    SlowLookup(Duration),
    Unavailable,
}

/// A demo tool that counts its invocations.
struct CountingTool {
    definition: ToolDefinition,
    behavior: Behavior,
    counts: Option<PathBuf>,
}

impl CountingTool {
    fn new(name: &str, description: &str, behavior: Behavior, counts: Option<PathBuf>) -> Self {
        let parameters = json!({
            "type": "object",
            "properties": { "query": { "type": "string", "description": "What to work on." } },
            "required": ["query"],
        });
        Self { definition: ToolDefinition::new(name, description, parameters), behavior, counts }
    }
}

#[async_trait]
impl Tool for CountingTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    async fn invoke(&self, arguments: Value, _context: &ToolContext) -> Result<ToolOutput, ToolError> {
        count(self.counts.as_deref(), &tool_count_file(&self.definition.name))
            .map_err(|e| ToolError::failed(format!("cannot count the call: {e}")))?;
        let query = arguments.get("query").and_then(Value::as_str).unwrap_or_default().to_owned();
        match self.behavior {
            Behavior::Note => Ok(ToolOutput::value(format!("noted: {query}"))),
            Behavior::SlowLookup(delay) => {
                tokio::time::sleep(delay).await;
                Ok(ToolOutput::value(format!("found: {query}")))
            }
            Behavior::Unavailable => {
                Err(ToolError::new(ToolErrorKind::Unavailable, "the backend is unavailable"))
            }
        }
    }
}

/// The demo agent, its model and tools wrapped in the durable decorators, or made durable by
/// the [`crate::DurableCalls`] middleware (so it runs durably in a worker, and locally as it is).
pub fn agent(settings: &DemoSettings) -> ChatAgent {
    let counts = settings.counts.clone();
    let model = CountingModel { inner: ScriptedClient::new(), counts: counts.clone() };
    let tools = [
        CountingTool::new("note_fact", "Note a fact", Behavior::Note, counts.clone()),
        CountingTool::new(
            "slow_lookup",
            "Look something up",
            Behavior::SlowLookup(settings.lookup_delay),
            counts.clone(),
        ),
        CountingTool::new("flaky_backend", "Ask the backend", Behavior::Unavailable, counts),
    ];
    if settings.as_middleware {
        let mut builder = ChatAgent::builder(Arc::new(model))
            .name("demo")
            .instructions("You note facts and look things up.");
        for tool in tools {
            builder = builder.tool(tool);
        }
        return crate::durable_calls(builder).build();
    }
    let mut builder = ChatAgent::builder(DurableChatClient::shared(Arc::new(model)))
        .name("demo")
        .instructions("You note facts and look things up.");
    for tool in tools {
        builder = builder.tool(DurableTool::new(tool));
    }
    builder.build()
}
