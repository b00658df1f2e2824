//! Any Weft agent as an executor.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use weft_core::{
    Agent, AgentSession, ApprovalRequest, ApprovalResponse, ChatOptions, Content, Message, Role,
};

use crate::context::WorkflowContext;
use crate::error::BoxError;
use crate::executor::Executor;
use crate::message::AnyMessage;
use crate::request::PendingRequest;

/// The stable name of [`AgentApprovalRequest`] in checkpoints and pending requests.
pub(crate) const AGENT_APPROVAL_REQUEST: &str = "weft.AgentApprovalRequest";

/// Asked (with [`WorkflowContext::request_info`]) when an agent inside a workflow wants to call
/// tools that need approval: the run pauses until the caller answers with a
/// `Vec<ApprovalResponse>` (see [`AgentApprovalRequest::approve_all`]), in this process or
/// after a restart from a checkpoint; then the agent's run continues where it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentApprovalRequest {
    /// The executor (agent) that asks.
    pub agent: String,
    /// The calls waiting for approval.
    pub requests: Vec<ApprovalRequest>,
    /// The agent's conversation, up to and including the message that asks.
    pub conversation: Vec<Message>,
    /// How many messages of `conversation` the executor received (the rest are the agent's).
    pub received: usize,
    /// The asking agent's session metadata, given back to it with the answers (a remote agent
    /// keeps there what it needs to resume: `weft_a2a::A2AAgent` the remote task that waits).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub session_metadata: serde_json::Map<String, serde_json::Value>,
}

impl AgentApprovalRequest {
    /// Approves every call.
    pub fn approve_all(&self) -> Vec<ApprovalResponse> {
        self.requests.iter().map(|r| r.response(true)).collect()
    }

    /// Rejects every call.
    pub fn reject_all(&self) -> Vec<ApprovalResponse> {
        self.requests.iter().map(|r| r.response(false)).collect()
    }

    /// A session holding the asking agent's conversation, the message that carries `response`
    /// (the caller's answers) to the agent, and how many messages the executor had received.
    pub(crate) fn answered(
        request: &PendingRequest,
        response: AnyMessage,
    ) -> Result<(AgentSession, Message, usize), BoxError> {
        let asked: AgentApprovalRequest = request.data_as()?;
        let answers = response.take::<Vec<ApprovalResponse>>().map_err(|m| {
            format!(
                "agent '{}' waits for tool approvals: answer request '{}' with a Vec<ApprovalResponse> \
                 (e.g. AgentApprovalRequest::approve_all), not a {}",
                asked.agent,
                request.request_id,
                m.type_name()
            )
        })?;
        let mut session = AgentSession::new();
        session.messages = asked.conversation;
        session.metadata = asked.session_metadata;
        let input = Message::new(Role::User, answers.into_iter().map(Content::ApprovalResponse).collect());
        Ok((session, input, asked.received))
    }

    /// Answers each call with `decide`.
    pub fn answer_each(&self, mut decide: impl FnMut(&ApprovalRequest) -> bool) -> Vec<ApprovalResponse> {
        self.requests.iter().map(|r| r.response(decide(r))).collect()
    }
}

/// Runs an [`Agent`] on each conversation it receives and sends the conversation on with the
/// agent's messages appended, so agents chain with plain edges. Every streamed update becomes a
/// [`crate::WorkflowEvent::AgentUpdate`]; an agent error fails the run with the
/// [`weft_core::AgentError`] as its source.
///
/// Each message is one independent agent run over a fresh session holding the conversation
/// received (the executor keeps no state between messages, so checkpoints need none). When the
/// run stops because tools need approval, the executor asks the caller with an
/// [`AgentApprovalRequest`] and continues the run with the answers.
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

impl AgentExecutor {
    /// Runs the agent over `session` with `input`, then asks for approvals or sends the
    /// conversation on.
    async fn run(
        &self,
        mut session: AgentSession,
        input: Vec<Message>,
        received: usize,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        {
            let mut options = self.options.clone();
            if options.budget.is_none() {
                options.budget = ctx.budget().cloned();
            }
            let mut stream = self.agent.run_messages_stream(&mut session, input, options);
            while let Some(update) = stream.next().await {
                ctx.emit_agent_update(update?);
            }
        }
        let pending = session.pending_approvals();
        if !pending.is_empty() {
            ctx.request_info::<AgentApprovalRequest, Vec<ApprovalResponse>>(AgentApprovalRequest {
                agent: self.id.clone(),
                requests: pending,
                conversation: session.messages,
                received,
                session_metadata: session.metadata,
            })?;
            return Ok(());
        }
        let conversation = session.messages;
        if self.yield_messages {
            ctx.yield_output(conversation.get(received..).unwrap_or_default().to_vec());
        }
        ctx.send_message(conversation);
        Ok(())
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
        let received = conversation.len();
        self.run(AgentSession::new(), conversation, received, ctx).await
    }

    async fn handle_response(
        &self,
        request: PendingRequest,
        response: AnyMessage,
        ctx: &WorkflowContext<Vec<Message>>,
    ) -> Result<(), BoxError> {
        let (session, input, received) = AgentApprovalRequest::answered(&request, response)?;
        self.run(session, vec![input], received, ctx).await
    }
}
