//! [`ChatAgentBuilder`]: an agent's name, instructions, tools, options, middleware, history
//! store and compaction.

use std::sync::Arc;

use super::{AgentInner, AgentRunContext, ChatAgent};
use crate::chat_middleware::MiddlewareChatClient;
use crate::client::{ChatClient, ChatRequest};
use crate::compaction::CompactionStrategy;
use crate::history::HistoryStore;
use crate::middleware::{FunctionInvocation, Middleware};
use crate::options::ChatOptions;
use crate::telemetry;
use crate::tool::{Tool, ToolSet};

/// Builds a [`ChatAgent`].
pub struct ChatAgentBuilder {
    pub(super) name: String,
    pub(super) id: Option<String>,
    pub(super) description: Option<String>,
    pub(super) instructions: Option<String>,
    pub(super) client: Arc<dyn ChatClient>,
    pub(super) tools: Vec<Arc<dyn Tool>>,
    pub(super) tool_sets: Vec<Arc<dyn ToolSet>>,
    pub(super) options: ChatOptions,
    pub(super) max_iterations: usize,
    pub(super) budget: Option<crate::budget::BudgetLimits>,
    pub(super) context_providers: Vec<Arc<dyn crate::context::ContextProvider>>,
    pub(super) capture_content: Option<bool>,
    pub(super) agent_layers: Vec<Arc<dyn Middleware<AgentRunContext>>>,
    pub(super) chat_layers: Vec<Arc<dyn Middleware<ChatRequest>>>,
    pub(super) function_layers: Vec<Arc<dyn Middleware<FunctionInvocation>>>,
    pub(super) history_store: Option<Arc<dyn HistoryStore>>,
    pub(super) history_window: u64,
    pub(super) compaction: Option<Arc<dyn CompactionStrategy>>,
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

    /// The most model calls one run may make (default [`DEFAULT_MAX_ITERATIONS`](super::DEFAULT_MAX_ITERATIONS)).
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

    /// Where the messages of stored sessions live ([`AgentSession::stored_in`](super::AgentSession::stored_in) with this
    /// store's id; [`ChatAgent::new_session`] makes one). A run on such a session loads only
    /// the newest messages ([`ChatAgentBuilder::history_window`]), compacted when the agent has
    /// a strategy, and appends its new messages to the store when it ends; a failed run
    /// appends nothing.
    pub fn history_store(mut self, store: Arc<dyn HistoryStore>) -> Self {
        self.history_store = Some(store);
        self
    }

    /// The most stored messages a run loads (default [`DEFAULT_HISTORY_WINDOW`](super::DEFAULT_HISTORY_WINDOW)); the window
    /// begins at a turn, so a few less may be sent. Older ones stay in the store.
    pub fn history_window(mut self, messages: u64) -> Self {
        self.history_window = messages.max(1);
        self
    }

    /// Compacts the history before each run (see [`crate::compaction`]): for example
    /// [`KeepLastTurns`](crate::compaction::KeepLastTurns),
    /// [`TokenBudget`](crate::compaction::TokenBudget) or
    /// [`Summarize`](crate::compaction::Summarize).
    pub fn compaction(mut self, strategy: impl CompactionStrategy) -> Self {
        self.compaction = Some(Arc::new(strategy));
        self
    }

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
                history_store: self.history_store,
                history_window: self.history_window,
                compaction: self.compaction,
            }),
        }
    }
}
