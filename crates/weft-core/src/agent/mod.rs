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
mod function_loop;
pub mod response;
pub mod session;
mod session_file;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::bridge::bridge;
use crate::chat_middleware::MiddlewareChatClient;
use crate::client::{ChatClient, ChatRequest, ClientInfo};
use crate::error::AgentError;
use crate::message::Message;
use crate::middleware::{Call, FunctionInvocation, Layers, Middleware, Next, Terminal};
use crate::options::{ChatOptions, ResponseFormat, ToolDefinition};
use crate::schema::{schema_for, strict_schema};
use crate::telemetry;
use crate::tool::{Tool, ToolSet};

pub use as_tool::{AgentTool, AgentToolExt, MAX_WAITING_RUNS};
pub use response::{AgentResponse, AgentResponseUpdate, TypedResponse};
pub use session::{AgentSession, SESSION_FORMAT_VERSION};

use function_loop::{RunLoop, SessionAppend};

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
}

impl AgentInner {
    /// The tools offered now, by name (tool sets are asked each time; a later tool of the same
    /// name replaces an earlier one).
    pub(crate) fn current_tools(&self) -> HashMap<String, Arc<dyn Tool>> {
        let mut tools = HashMap::with_capacity(self.tools.len());
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

    /// A new, empty session.
    pub fn new_session(&self) -> AgentSession {
        AgentSession::new()
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
    pub async fn run_with(
        &self,
        session: &mut AgentSession,
        input: impl Into<RunInput>,
        options: ChatOptions,
    ) -> Result<AgentResponse, AgentError> {
        let context = self.context(session, input.into().0, options, false);
        let append: SessionAppend = Arc::new(Mutex::new(None));
        let terminal = RunLoop {
            agent: self.inner.clone(),
            history: Arc::new(session.messages.clone()),
            sink: None,
            append: append.clone(),
        };
        let original_input = context.messages.clone();
        let span = self.run_span(session);
        let result = Next::new(self.inner.agent_layers.clone(), Arc::new(terminal) as Arc<dyn Terminal<_>>)
            .run(context)
            .instrument(span.clone())
            .await;
        record_run(&span, &result);
        let response = result?;
        apply_to_session(session, &append, original_input, &response);
        Ok(response)
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
        let context = self.context(session, input.into().0, options, true);
        let append: SessionAppend = Arc::new(Mutex::new(None));
        let history = Arc::new(session.messages.clone());
        let original_input = context.messages.clone();
        let span = self.run_span(session);
        let layers = self.inner.agent_layers.clone();
        let agent = self.inner.clone();
        let append_for_terminal = append.clone();
        let work_span = span.clone();
        bridge(
            move |sink| {
                let terminal = RunLoop { agent, history, sink: Some(sink), append: append_for_terminal };
                Next::new(layers, Arc::new(terminal) as Arc<dyn Terminal<_>>)
                    .run(context)
                    .instrument(work_span)
            },
            move |result: Result<AgentResponse, AgentError>| {
                record_run(&span, &result);
                match result {
                    Ok(response) => {
                        let reached = append.lock().map(|slot| slot.is_some()).unwrap_or(false);
                        apply_to_session(session, &append, original_input, &response);
                        if reached {
                            Vec::new()
                        } else {
                            // A middleware answered without running the loop: stream its answer.
                            response_to_updates(&response).into_iter().map(Ok).collect()
                        }
                    }
                    Err(error) => vec![Err(error)],
                }
            },
        )
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

    fn run_span(&self, session: &AgentSession) -> tracing::Span {
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

fn record_run(span: &tracing::Span, result: &Result<AgentResponse, AgentError>) {
    match result {
        Ok(response) => {
            telemetry::record_usage(span, &response.usage);
            if let Some(cost) = response.cost {
                span.record(telemetry::USAGE_COST, cost);
            }
        }
        Err(error) => {
            if let Some(partial) = error.partial_response() {
                telemetry::record_usage(span, &partial.usage);
                if let Some(cost) = partial.cost {
                    span.record(telemetry::USAGE_COST, cost);
                }
            }
            if let AgentError::BudgetExceeded { overrun, .. } = error {
                span.record(telemetry::BUDGET_EXCEEDED, overrun.limit_name());
            }
            span.record(telemetry::ERROR_TYPE, error_type(error));
            span.record("otel.status_code", "error");
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
        AgentError::Other { .. } => "other",
    }
}

/// Appends a finished run to the session: what the loop recorded, or (when a middleware answered
/// on its own) the input and the answer.
fn apply_to_session(
    session: &mut AgentSession,
    append: &SessionAppend,
    original_input: Vec<Message>,
    response: &AgentResponse,
) {
    let recorded = append.lock().ok().and_then(|mut slot| slot.take());
    match recorded {
        Some(messages) => session.messages.extend(messages),
        None => {
            session.messages.extend(original_input);
            session.messages.extend(response.messages.iter().cloned());
        }
    }
}

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

/// Builds a [`ChatAgent`].
pub struct ChatAgentBuilder {
    name: String,
    id: Option<String>,
    description: Option<String>,
    instructions: Option<String>,
    client: Arc<dyn ChatClient>,
    tools: Vec<Arc<dyn Tool>>,
    tool_sets: Vec<Arc<dyn ToolSet>>,
    options: ChatOptions,
    max_iterations: usize,
    budget: Option<crate::budget::BudgetLimits>,
    context_providers: Vec<Arc<dyn crate::context::ContextProvider>>,
    capture_content: Option<bool>,
    agent_layers: Vec<Arc<dyn Middleware<AgentRunContext>>>,
    chat_layers: Vec<Arc<dyn Middleware<ChatRequest>>>,
    function_layers: Vec<Arc<dyn Middleware<FunctionInvocation>>>,
}

impl std::fmt::Debug for ChatAgentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatAgentBuilder").field("name", &self.name).finish()
    }
}

impl ChatAgentBuilder {
    /// The agent's name (used in telemetry, errors and multi-agent conversations).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The agent's unique identifier (`gen_ai.agent.id` on its spans; none by default), e.g. the
    /// id a registry or a deployment gives it.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// What the agent does.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The system instructions sent before the conversation.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: impl Tool) -> Self {
        self.tools.push(Arc::new(tool));
        self
    }

    /// Adds a shared tool.
    pub fn shared_tool(mut self, tool: Arc<dyn Tool>) -> Self {
        self.tools.push(tool);
        self
    }

    /// Adds a set of tools that may change between model turns (e.g. an MCP server's).
    pub fn tool_set(mut self, tools: Arc<dyn ToolSet>) -> Self {
        self.tool_sets.push(tools);
        self
    }

    /// Default options for every run (model, temperature, …).
    pub fn options(mut self, options: ChatOptions) -> Self {
        self.options = options;
        self
    }

    /// The default model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.options.model = Some(model.into());
        self
    }

    /// The most model calls one run may make (default [`DEFAULT_MAX_ITERATIONS`]).
    pub fn max_iterations(mut self, max_iterations: usize) -> Self {
        self.max_iterations = max_iterations.max(1);
        self
    }

    /// Limits each run of the agent (tokens, cost, wall time, tool calls; see
    /// [`crate::budget`]): every run gets a fresh account with these limits. A run can also
    /// draw from a shared [`crate::RunBudget`] given in [`ChatOptions::budget`]; both are
    /// checked.
    pub fn budget(mut self, limits: crate::budget::BudgetLimits) -> Self {
        self.budget = Some(limits);
        self
    }

    /// Adds a context provider (see [`crate::context`]); several run in the order added.
    pub fn context_provider(mut self, provider: Arc<dyn crate::context::ContextProvider>) -> Self {
        self.context_providers.push(provider);
        self
    }

    /// Adds agent-run middleware (first added is outermost).
    pub fn middleware(mut self, middleware: impl Middleware<AgentRunContext>) -> Self {
        self.agent_layers.push(Arc::new(middleware));
        self
    }

    /// Adds chat-call middleware (first added is outermost).
    pub fn chat_middleware(mut self, middleware: impl Middleware<ChatRequest>) -> Self {
        self.chat_layers.push(Arc::new(middleware));
        self
    }

    /// Adds function-invocation middleware (first added is outermost).
    pub fn function_middleware(mut self, middleware: impl Middleware<FunctionInvocation>) -> Self {
        self.function_layers.push(Arc::new(middleware));
        self
    }

    /// Builds the agent.
    /// Whether the agent's spans record message content: the messages sent to and received
    /// from the model, system instructions, tool arguments and results (default: what
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` says when the agent is built;
    /// off otherwise). Content can hold personal data: turn it on only where that is allowed.
    pub fn capture_message_content(mut self, capture: bool) -> Self {
        self.capture_content = Some(capture);
        self
    }

    /// Builds the agent.
    pub fn build(self) -> ChatAgent {
        let info = self.client.info();
        let client: Arc<dyn ChatClient> = if self.chat_layers.is_empty() {
            self.client
        } else {
            Arc::new(MiddlewareChatClient::new(self.client, self.chat_layers))
        };
        ChatAgent {
            inner: Arc::new(AgentInner {
                name: self.name,
                id: self.id,
                description: self.description,
                instructions: self.instructions,
                client,
                info,
                tools: self.tools,
                tool_sets: self.tool_sets,
                options: self.options,
                max_iterations: self.max_iterations,
                budget: self.budget,
                context_providers: self.context_providers,
                capture_content: self
                    .capture_content
                    .unwrap_or_else(telemetry::capture_message_content_from_env),
                agent_layers: self.agent_layers.into(),
                function_layers: self.function_layers.into(),
            }),
        }
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
