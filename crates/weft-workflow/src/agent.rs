//! Any Weft agent as an executor.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use weft_core::{Agent, AgentSession, ChatOptions, Message};

use crate::context::WorkflowContext;
use crate::error::BoxError;
use crate::executor::Executor;

/// Runs an [`Agent`] on each conversation it receives and sends the conversation on with the
/// agent's messages appended, so agents chain with plain edges. Every streamed update becomes a
/// [`crate::WorkflowEvent::AgentUpdate`]; an agent error fails the run with the
/// [`weft_core::AgentError`] as its source.
///
/// Each message is one independent agent run over a fresh session holding the conversation
/// received (the executor keeps no state between messages, so checkpoints need none).
pub struct AgentExecutor {
    id: String,
    agent: Arc<dyn Agent>,
    options: ChatOptions,
    yield_messages: bool,
}

impl std::fmt::Debug for AgentExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentExecutor").field("id", &self.id).field("agent", &self.agent.name()).finish()
    }
}

impl AgentExecutor {
    /// An executor named after the agent.
    pub fn new(agent: Arc<dyn Agent>) -> Self {
        Self { id: agent.name().to_string(), agent, options: ChatOptions::default(), yield_messages: false }
    }

    /// Uses another executor id than the agent's name.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Options for every run, layered over the agent's defaults.
    pub fn with_options(mut self, options: ChatOptions) -> Self {
        self.options = options;
        self
    }

    /// Also yields the messages the agent added (a `Vec<Message>`) as a workflow output.
    pub fn yield_messages(mut self, yield_messages: bool) -> Self {
        self.yield_messages = yield_messages;
        self
    }
}

#[async_trait]
impl Executor for AgentExecutor {
    type Input = Vec<Message>;
    type Output = Vec<Message>;

    fn id(&self) -> &str {
        &self.id
    }

    async fn handle(
        &self,
        conversation: Vec<Message>,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        let mut session = AgentSession::new();
        let received = conversation.len();
        {
            let mut stream = self.agent.run_messages_stream(&mut session, conversation, self.options.clone());
            while let Some(update) = stream.next().await {
                ctx.emit_agent_update(update?);
            }
        }
        let conversation = session.messages;
        if self.yield_messages {
            ctx.yield_output(conversation.get(received..).unwrap_or_default().to_vec());
        }
        ctx.send_message(conversation);
        Ok(())
    }
}
