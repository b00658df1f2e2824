//! Context providers: code that adds context to each agent run and learns from its exchange.
//!
//! Before a run, each provider of the agent (in the order they were added) may add
//! instructions, messages and tools for this run only: they are sent to the model but not
//! kept in the session. After a successful run, each sees the run's input messages and its
//! response (to remember facts, index the conversation, …). [`crate::context::memory`] has an
//! example provider that remembers facts across sessions.

pub mod memory;

use std::sync::Arc;

use async_trait::async_trait;

use crate::agent::AgentResponse;
use crate::error::BoxError;
use crate::message::Message;
use crate::tool::Tool;

/// What a provider sees before a run.
#[derive(Debug, Clone, Copy)]
pub struct RunStart<'a> {
    /// The agent's name.
    pub agent_name: &'a str,
    /// The session's id.
    pub session_id: &'a str,
    /// The session's history before this run.
    pub history: &'a [Message],
    /// This run's input messages.
    pub input: &'a [Message],
}

/// What a provider sees after a successful run.
#[derive(Debug, Clone, Copy)]
pub struct RunEnd<'a> {
    /// The agent's name.
    pub agent_name: &'a str,
    /// The session's id.
    pub session_id: &'a str,
    /// This run's input messages.
    pub input: &'a [Message],
    /// The run's response.
    pub response: &'a AgentResponse,
}

/// What providers add to one run.
#[derive(Clone, Default)]
pub struct AddedContext {
    /// Instructions appended to the agent's own, in order.
    pub instructions: Vec<String>,
    /// Messages sent after the session's history and before this run's messages.
    pub messages: Vec<Message>,
    /// Tools offered for this run (one of the same name as an agent's tool replaces it).
    pub tools: Vec<Arc<dyn Tool>>,
}

impl std::fmt::Debug for AddedContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tools: Vec<&str> = self.tools.iter().map(|t| t.definition().name.as_str()).collect();
        f.debug_struct("AddedContext")
            .field("instructions", &self.instructions)
            .field("messages", &self.messages.len())
            .field("tools", &tools)
            .finish()
    }
}

impl AddedContext {
    /// Nothing added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds instructions.
    pub fn instruction(mut self, instructions: impl Into<String>) -> Self {
        self.instructions.push(instructions.into());
        self
    }

    /// Adds a message.
    pub fn message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: Arc<dyn Tool>) -> Self {
        self.tools.push(tool);
        self
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.instructions.is_empty() && self.messages.is_empty() && self.tools.is_empty()
    }

    fn extend(&mut self, other: AddedContext) {
        self.instructions.extend(other.instructions);
        self.messages.extend(other.messages);
        self.tools.extend(other.tools);
    }

    /// The agent's instructions with the added ones after them, one paragraph each.
    pub(crate) fn instructions_over(&self, agent: Option<&str>) -> Option<String> {
        let parts: Vec<&str> =
            agent.into_iter().chain(self.instructions.iter().map(String::as_str)).collect();
        (!parts.is_empty()).then(|| parts.join("\n\n"))
    }

    /// Adds this run's tools to the agent's.
    pub(crate) fn add_tools(&self, tools: &mut crate::agent::ToolsByName) {
        for tool in &self.tools {
            tools.insert(tool.definition().name.clone(), tool.clone());
        }
    }
}

/// Adds context to agent runs and sees their exchanges. Both hooks do nothing by default.
#[async_trait]
pub trait ContextProvider: Send + Sync + 'static {
    /// The provider's name, for errors and logs.
    fn name(&self) -> &str;

    /// Called before each run: what to add to it. An error fails the run
    /// ([`crate::AgentError::Other`] naming the provider).
    async fn before_run(&self, run: RunStart<'_>) -> Result<AddedContext, BoxError> {
        let _ = run;
        Ok(AddedContext::default())
    }

    /// Called after each successful run. An error is logged (a `warn` event naming the
    /// provider) and does not fail the run, whose answer is already made.
    async fn after_run(&self, run: RunEnd<'_>) -> Result<(), BoxError> {
        let _ = run;
        Ok(())
    }
}

/// A provider's failure before a run.
#[derive(Debug, thiserror::Error)]
#[error("context provider '{provider}' failed before the run: {source}")]
pub struct ContextProviderError {
    /// The provider's name.
    pub provider: String,
    /// Its error.
    #[source]
    pub source: BoxError,
}

/// Asks every provider, in order, what to add to the run.
pub(crate) async fn before_run(
    providers: &[Arc<dyn ContextProvider>],
    run: RunStart<'_>,
) -> Result<AddedContext, ContextProviderError> {
    let mut added = AddedContext::default();
    for provider in providers {
        let more = provider
            .before_run(run)
            .await
            .map_err(|source| ContextProviderError { provider: provider.name().to_string(), source })?;
        added.extend(more);
    }
    Ok(added)
}

/// Shows every provider, in order, the finished run.
pub(crate) async fn after_run(providers: &[Arc<dyn ContextProvider>], run: RunEnd<'_>) {
    for provider in providers {
        if let Err(error) = provider.after_run(run).await {
            tracing::warn!(provider = provider.name(), %error, "context provider failed after the run");
        }
    }
}
