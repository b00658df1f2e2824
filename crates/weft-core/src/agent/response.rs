//! What an agent run returns.

use serde::{Deserialize, Serialize};

use crate::message::{ApprovalRequest, Content, Message, Usage};
use crate::response::{ChatResponseUpdate, FinishReason};

/// A streamed piece of an agent run: the model's deltas, its function calls, the tools'
/// results and approval requests, with `author_name` set to the agent's name.
pub type AgentResponseUpdate = ChatResponseUpdate;

/// The result of an agent run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentResponse {
    /// The messages the run added: the model's messages and the tools' results, in order.
    pub messages: Vec<Message>,
    /// The provider's id of the last model response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// Tokens used, summed over every model call of the run.
    pub usage: Usage,
    /// Why the last model call stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// How many model calls the run made.
    pub model_calls: usize,
    /// What the model calls cost, when a budget's price table prices the model (see
    /// [`crate::budget`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

impl AgentResponse {
    /// The text of the last assistant message: the agent's answer.
    pub fn text(&self) -> String {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == crate::message::Role::Assistant && !m.text().is_empty())
            .map(Message::text)
            .unwrap_or_default()
    }

    /// The tool calls waiting for the caller's approval. Answer each with
    /// [`ApprovalRequest::approve`] or [`ApprovalRequest::reject`] in the next run.
    pub fn approval_requests(&self) -> Vec<ApprovalRequest> {
        self.messages
            .iter()
            .flat_map(|m| m.contents.iter())
            .filter_map(|c| match c {
                Content::ApprovalRequest(request) => Some(request.clone()),
                _ => None,
            })
            .collect()
    }
}

/// The result of a structured-output run: the parsed value and the whole response.
#[derive(Debug, Clone)]
pub struct TypedResponse<T> {
    /// The answer, parsed.
    pub value: T,
    /// The run's response.
    pub response: AgentResponse,
}
