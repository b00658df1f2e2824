//! Agents: a chat client, instructions and tools, run over a session that keeps the
//! conversation.
//!
//! ```
//! # async fn demo() -> Result<(), weft_core::AgentError> {
//! use std::sync::Arc;
//! use weft_core::agent::{AgentSession, ChatAgent};
//! use weft_core::scripted::ScriptedClient;
//!
//! let agent = ChatAgent::builder(Arc::new(ScriptedClient::new()))
//!     .name("helper")
//!     .instructions("Answer briefly.")
//!     .build();
//! let mut session = AgentSession::new();
//! let response = agent.run(&mut session, "hello").await?;
//! println!("{}", response.text());
//! # Ok(()) }
//! ```

mod as_tool;
mod builder;
mod function_loop;
mod history;
pub mod response;
pub mod session;
mod session_file;

use std::sync::{Arc, Mutex};

use crate::telemetry::InGenAiSpan as _;
use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::bridge::bridge;
use crate::client::{ChatClient, ClientInfo};
use crate::compaction::CompactionStrategy;
use crate::error::AgentError;
use crate::history::HistoryStore;
use crate::message::Message;
use crate::middleware::{Call, FunctionInvocation, Layers, Next, Terminal};
use crate::options::{ChatOptions, ResponseFormat, ToolDefinition};
use crate::schema::{schema_for, strict_schema};
use crate::telemetry;
use crate::tool::{Tool, ToolSet};

pub use as_tool::{AgentTool, AgentToolExt, MAX_WAITING_RUNS};
pub use builder::ChatAgentBuilder;
pub use history::DEFAULT_HISTORY_WINDOW;
pub use response::{AgentResponse, AgentResponseUpdate, TypedResponse};
pub use session::{AgentSession, HistoryRef, SESSION_FORMAT_VERSION};

use function_loop::{RunLoop, SessionAppend};

/// The value out of its box, the box freed now (moving out of a box in place frees it only
/// when the box's variable goes out of scope: in a future, when the future ends).
#[allow(clippy::boxed_local)] // the box is the point: it is freed here.
pub(crate) fn unboxed<T>(boxed: Box<T>) -> T {
    *boxed
}

/// The default limit on model calls in one run.
pub const DEFAULT_MAX_ITERATIONS: usize = 16;

/// An agent run as agent middleware sees it.
#[derive(Debug, Clone)]
pub struct AgentRunContext {
    /// The agent's name.
    pub agent_name: String,
    /// The session's id.
    pub session_id: String,
    /// The new input messages of this run (a middleware may change them).
    pub messages: Vec<Message>,
    /// Options for this run, layered over the agent's defaults.
    pub options: ChatOptions,
    /// Whether the caller streams the run.
    pub streaming: bool,
}

impl Call for AgentRunContext {
    type Output = Result<AgentResponse, AgentError>;
}

/// The input of a run: one or more messages. Text becomes a user message.
#[derive(Debug, Clone, Default)]
pub struct RunInput(pub Vec<Message>);

impl From<&str> for RunInput {
    fn from(text: &str) -> Self {
        RunInput(vec![Message::user(text)])
    }
}
impl From<String> for RunInput {
    fn from(text: String) -> Self {
        RunInput(vec![Message::user(text)])
    }
}
impl From<Message> for RunInput {
    fn from(message: Message) -> Self {
        RunInput(vec![message])
    }
}
impl From<Vec<Message>> for RunInput {
    fn from(messages: Vec<Message>) -> Self {
        RunInput(messages)
    }
}

/// Any agent: a named thing that answers messages over a session. Object safe, so that workflows
/// and hosts can hold `Arc<dyn Agent>`.
#[async_trait]
pub trait Agent: Send + Sync + 'static {
    /// The agent's name.
    fn name(&self) -> &str;

    /// What the agent does, for other agents and humans.
    fn description(&self) -> Option<&str> {
        None
    }

    /// The tools the agent offers its model now, by name, for clients that list them (a
    /// host's entity list, an A2A card's skills). None by default.
    fn tool_definitions(&self) -> Vec<ToolDefinition> {
        Vec::new()
    }

    /// Runs the agent to completion on `messages`, adding the exchange to `session`.
    async fn run_messages(
        &self,
        session: &mut AgentSession,
        messages: Vec<Message>,
        options: ChatOptions,
    ) -> Result<AgentResponse, AgentError>;

    /// Runs the agent streaming; `session` is updated when the stream ends.
    fn run_messages_stream<'a>(
        &'a self,
        session: &'a mut AgentSession,
        messages: Vec<Message>,
        options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>>;
}

/// State shared by all runs of one agent.
pub(crate) struct AgentInner {
    pub(crate) name: String,
    pub(crate) id: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) instructions: Option<String>,
    pub(crate) client: Arc<dyn ChatClient>,
    pub(crate) info: ClientInfo,
    pub(crate) tools: Vec<Arc<dyn Tool>>,
    pub(crate) tool_sets: Vec<Arc<dyn ToolSet>>,
    pub(crate) options: ChatOptions,
    pub(crate) max_iterations: usize,
    /// The limits of each run (a fresh account per run).
    pub(crate) budget: Option<crate::budget::BudgetLimits>,
    /// The context providers, in order.
    pub(crate) context_providers: Vec<Arc<dyn crate::context::ContextProvider>>,
    /// Whether spans record message content (see [`telemetry`]).
    pub(crate) capture_content: bool,
    pub(crate) agent_layers: Layers<AgentRunContext>,
    pub(crate) function_layers: Layers<FunctionInvocation>,
    /// Where stored sessions' messages live.
    pub(crate) history_store: Option<Arc<dyn HistoryStore>>,
    /// How many stored messages a run loads at most.
    pub(crate) history_window: u64,
    /// What of the history is sent.
    pub(crate) compaction: Option<Arc<dyn CompactionStrategy>>,
}

/// Tools by name, in the order the agent lists them to the model: requests stay byte-identical
/// from run to run (prompt caches hit, recorded cassettes replay).
pub(crate) type ToolsByName = indexmap::IndexMap<String, Arc<dyn Tool>>;

impl AgentInner {
    /// The tools offered now, by name, in the order they were given (tool sets are asked each
    /// time; a later tool of the same name replaces an earlier one in its place).
    pub(crate) fn current_tools(&self) -> ToolsByName {
        let mut tools = ToolsByName::with_capacity(self.tools.len());
        for tool in self.tools.iter().cloned().chain(self.tool_sets.iter().flat_map(|set| set.tools())) {
            tools.insert(tool.definition().name.clone(), tool);
        }
        tools
    }
}

/// An agent over a chat client: instructions, tools, default options and middleware. Cheap to
/// clone; one agent serves many concurrent runs, each over its own session.
#[derive(Clone)]
pub struct ChatAgent {
    inner: Arc<AgentInner>,
}

impl std::fmt::Debug for ChatAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatAgent")
            .field("name", &self.inner.name)
            .field("provider", &self.inner.info.provider)
            .field("tools", &self.inner.tools.len())
            .finish()
    }
}

impl ChatAgent {
    /// Starts building an agent over `client`.
    pub fn builder(client: Arc<dyn ChatClient>) -> ChatAgentBuilder {
        ChatAgentBuilder {
            name: "agent".into(),
            id: None,
            description: None,
            instructions: None,
            client,
            tools: Vec::new(),
            tool_sets: Vec::new(),
            options: ChatOptions::default(),
            max_iterations: DEFAULT_MAX_ITERATIONS,
            budget: None,
            context_providers: Vec::new(),
            capture_content: None,
            agent_layers: Vec::new(),
            chat_layers: Vec::new(),
            function_layers: Vec::new(),
            history_store: None,
            history_window: DEFAULT_HISTORY_WINDOW,
            compaction: None,
        }
    }

    /// The agent's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The agent's unique identifier, when one was given ([`ChatAgentBuilder::id`]).
    pub fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }

    /// The client's provider, default model and endpoint.
    pub fn client_info(&self) -> &ClientInfo {
        &self.inner.info
    }

    /// A new, empty session: kept in the agent's history store when it has one
    /// ([`ChatAgentBuilder::history_store`]), carrying its messages otherwise.
    pub fn new_session(&self) -> AgentSession {
        match &self.inner.history_store {
            Some(store) => AgentSession::stored_in(store.id()),
            None => AgentSession::new(),
        }
    }

    /// The approval requests the session's conversation ends with (loaded from the history
    /// store for a stored session).
    pub async fn pending_approvals(
        &self,
        session: &AgentSession,
    ) -> Result<Vec<crate::message::ApprovalRequest>, AgentError> {
        self.inner.pending_approvals(session).await
    }

    /// Runs the agent on `input` (text or messages), adding the exchange to `session`.
    pub async fn run(
        &self,
        session: &mut AgentSession,
        input: impl Into<RunInput>,
    ) -> Result<AgentResponse, AgentError> {
        self.run_with(session, input, ChatOptions::default()).await
    }

    /// [`ChatAgent::run`] with options for this run, layered over the agent's defaults.
    ///
    /// Tool definitions in `options.tools` that no tool of the agent stands behind are
    /// declarations: when the model calls one, the run ends with that call in the response
    /// (it is not invoked), for the caller to handle: the caller sends its result (a
    /// [`crate::message::Role::Tool`] message) in the next run, or drops the call. The agent's
    /// own calls of the same model turn run first and their results are in the response, so
    /// that no call is left without a result. When such a turn also waits for an approval, the
    /// run that brings the answers runs the approved calls and ends again, without asking the
    /// model, unless its input also holds the results of the caller's calls.
    ///
    /// Not an `async fn`: the input and the options move into the run's context before the
    /// future is made, so that a run in flight holds them once (an `async fn` keeps its
    /// arguments apart from what they are moved into).
    pub fn run_with<'a>(
        &'a self,
        session: &'a mut AgentSession,
        input: impl Into<RunInput>,
        options: ChatOptions,
    ) -> impl Future<Output = Result<AgentResponse, AgentError>> + Send + 'a {
        // Boxed until the chain takes it: the future keeps room for what it captures.
        let context = Box::new(self.context(session, input.into().0, options, false));
        async move {
            // Boxed here and below: the run's future holds neither while the model is called.
            let prepared =
                Box::pin(self.inner.prepare_history(session, &context.messages, &context.options)).await?;
            let append: SessionAppend = Arc::new(Mutex::new(None));
            let terminal = RunLoop {
                agent: self.inner.clone(),
                history: prepared.history.clone(),
                sink: None,
                append: append.clone(),
            };
            let original_input = context.messages.clone();
            let span = self.run_span(session);
            let result =
                Next::new(self.inner.agent_layers.clone(), Arc::new(terminal) as Arc<dyn Terminal<_>>)
                    .run(unboxed(context))
                    .in_span(span.clone())
                    .await;
            record_run(&span, &result);
            let response = result?;
            Box::pin(self.inner.finish_run(session, prepared, &append, original_input, &response)).await?;
            Ok(response)
        }
    }

    /// Runs the agent streaming: text deltas, function calls, tool results and approval requests
    /// as they happen. `session` is updated when the stream ends; dropping the stream cancels the
    /// run (its model call and tool calls) and leaves the session as it was.
    pub fn run_stream<'a>(
        &'a self,
        session: &'a mut AgentSession,
        input: impl Into<RunInput>,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        self.run_stream_with(session, input, ChatOptions::default())
    }

    /// [`ChatAgent::run_stream`] with options for this run.
    pub fn run_stream_with<'a>(
        &'a self,
        session: &'a mut AgentSession,
        input: impl Into<RunInput>,
        options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        let input = input.into().0;
        // The run's span is made now, in the caller's span (a host's request span), not when
        // the stream is first polled, which may be elsewhere.
        let span = self.run_span(session);
        Box::pin(async_stream::stream! {
            let prepared = match self.inner.prepare_history(session, &input, &options).await {
                Ok(prepared) => prepared,
                Err(error) => {
                    yield Err(error);
                    return;
                }
            };
            let context = self.context(session, input, options, true);
            let append: SessionAppend = Arc::new(Mutex::new(None));
            let original_input = context.messages.clone();
            let outcome: RunOutcome = Arc::new(Mutex::new(None));
            {
                let layers = self.inner.agent_layers.clone();
                let agent = self.inner.clone();
                let history = prepared.history.clone();
                let append = append.clone();
                let work_span = span.clone();
                let outcome = outcome.clone();
                let mut updates = bridge(
                    move |sink| {
                        let terminal = RunLoop { agent, history, sink: Some(sink), append };
                        Next::new(layers, Arc::new(terminal) as Arc<dyn Terminal<_>>)
                            .run(context)
                            .in_span(work_span)
                    },
                    move |result: Result<AgentResponse, AgentError>| {
                        record_run(&span, &result);
                        if let Ok(mut slot) = outcome.lock() {
                            *slot = Some(result);
                        }
                        Vec::new()
                    },
                );
                while let Some(update) = updates.next().await {
                    yield update;
                }
            }
            let result = outcome.lock().ok().and_then(|mut slot| slot.take());
            match result {
                Some(Ok(response)) => {
                    let reached = append.lock().map(|slot| slot.is_some()).unwrap_or(false);
                    match self.inner.finish_run(session, prepared, &append, original_input, &response).await {
                        Err(error) => yield Err(error),
                        // A middleware answered without running the loop: stream its answer.
                        Ok(()) if !reached => {
                            for update in response_to_updates(&response) {
                                yield Ok(update);
                            }
                        }
                        Ok(()) => {}
                    }
                }
                Some(Err(error)) => yield Err(error),
                None => {}
            }
        })
    }

    /// Runs the agent asking for a JSON answer that matches `T`'s schema (strict structured
    /// output), and parses it.
    pub async fn run_typed<T: DeserializeOwned + JsonSchema>(
        &self,
        session: &mut AgentSession,
        input: impl Into<RunInput>,
    ) -> Result<TypedResponse<T>, AgentError> {
        let options = ChatOptions { response_format: Some(response_format_for::<T>()), ..Default::default() };
        let response = self.run_with(session, input, options).await?;
        let text = response.text();
        let value = parse_structured::<T>(&self.inner.name, &text)?;
        Ok(TypedResponse { value, response })
    }

    fn context(
        &self,
        session: &AgentSession,
        messages: Vec<Message>,
        options: ChatOptions,
        streaming: bool,
    ) -> AgentRunContext {
        AgentRunContext {
            agent_name: self.inner.name.clone(),
            session_id: session.id.clone(),
            messages,
            options,
            streaming,
        }
    }

    fn run_span(&self, session: &AgentSession) -> telemetry::GenAiSpan {
        let model =
            self.inner.options.model.as_deref().or(self.inner.info.default_model.as_deref()).unwrap_or("");
        telemetry::agent_span(
            &self.inner.name,
            self.inner.id.as_deref(),
            self.inner.description.as_deref(),
            &session.id,
            &self.inner.info.provider,
            model,
        )
    }
}

/// The response format asking for `T` as strict JSON.
pub fn response_format_for<T: JsonSchema>() -> ResponseFormat {
    let name: String = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("response")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .collect();
    ResponseFormat::JsonSchema { name, schema: strict_schema(&schema_for::<T>()), strict: true }
}

/// Parses a model's JSON answer as `T`, tolerating a Markdown code fence around it.
pub fn parse_structured<T: DeserializeOwned>(agent: &str, text: &str) -> Result<T, AgentError> {
    let trimmed = text.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .map(str::trim)
        .unwrap_or(trimmed);
    serde_json::from_str(unfenced).map_err(|e| AgentError::StructuredOutput {
        agent: agent.to_string(),
        type_name: std::any::type_name::<T>().to_string(),
        message: e.to_string(),
        text: text.to_string(),
    })
}

fn record_run(span: &telemetry::GenAiSpan, result: &Result<AgentResponse, AgentError>) {
    match result {
        Ok(response) => telemetry::record_usage(span, &response.usage, response.cost),
        Err(error) => {
            if let Some(partial) = error.partial_response() {
                telemetry::record_usage(span, &partial.usage, partial.cost);
            }
            if let AgentError::BudgetExceeded { overrun, .. } = error {
                span.record(telemetry::BUDGET_EXCEEDED, overrun.limit_name());
            }
            span.record_error(error_type(error));
        }
    }
}

fn error_type(error: &AgentError) -> &'static str {
    match error {
        AgentError::Chat { .. } => "chat",
        AgentError::MaxIterations { .. } => "max_iterations",
        AgentError::BudgetExceeded { .. } => "budget_exceeded",
        AgentError::StructuredOutput { .. } => "structured_output",
        AgentError::InvalidInput { .. } => "invalid_input",
        AgentError::Middleware { .. } => "middleware",
        AgentError::Cancelled => "cancelled",
        AgentError::History { .. } => "history",
        AgentError::Compaction { .. } => "compaction",
        AgentError::Other { .. } => "other",
    }
}

/// Where a streamed run leaves its result for the stream to finish with.
type RunOutcome = Arc<Mutex<Option<Result<AgentResponse, AgentError>>>>;

fn response_to_updates(response: &AgentResponse) -> Vec<AgentResponseUpdate> {
    response
        .messages
        .iter()
        .enumerate()
        .map(|(index, message)| AgentResponseUpdate {
            role: Some(message.role),
            author_name: message.author_name.clone(),
            contents: message.contents.clone(),
            message_id: Some(format!("msg_{index}")),
            finish_reason: if index + 1 == response.messages.len() {
                response.finish_reason.clone()
            } else {
                None
            },
            ..Default::default()
        })
        .collect()
}

#[async_trait]
impl Agent for ChatAgent {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }

    fn tool_definitions(&self) -> Vec<ToolDefinition> {
        let mut definitions: Vec<ToolDefinition> =
            self.inner.current_tools().values().map(|tool| tool.definition().clone()).collect();
        definitions.sort_by(|a, b| a.name.cmp(&b.name));
        definitions
    }

    async fn run_messages(
        &self,
        session: &mut AgentSession,
        messages: Vec<Message>,
        options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        self.run_with(session, messages, options).await
    }

    fn run_messages_stream<'a>(
        &'a self,
        session: &'a mut AgentSession,
        messages: Vec<Message>,
        options: ChatOptions,
    ) -> BoxStream<'a, Result<AgentResponseUpdate, AgentError>> {
        self.run_stream_with(session, messages, options)
    }
}

/// Collects a streamed run into its text, for callers that only want the answer.
pub async fn collect_text(
    mut stream: BoxStream<'_, Result<AgentResponseUpdate, AgentError>>,
) -> Result<String, AgentError> {
    let mut text = String::new();
    while let Some(update) = stream.next().await {
        let update = update?;
        if update.role != Some(crate::message::Role::Tool) {
            text.push_str(&update.text_content());
        }
    }
    Ok(text)
}
