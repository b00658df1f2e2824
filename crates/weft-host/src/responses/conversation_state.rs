//! What an agent keeps beside a conversation's messages. An agent may keep state in its
//! session's `metadata` (a workflow served as an agent keeps there the checkpoint its paused run
//! waits at, and the requests it waits on). A stored response keeps its whole session; a
//! conversation is rebuilt from its items, so its agent's metadata is kept beside it, replaced by
//! each turn that ends, and given back to the next turn.
//!
//! A workflow's request for input (weft-workflow's `WorkflowAgent`) shows as a `function_call`
//! item named `request_info`, whose `call_id` is the request's id and whose `arguments` hold the
//! request (`executor_id`, `request_type`, `response_type`, `data`). The client answers with a
//! `function_call_output` item of that `call_id` (its `output` is the answer: text, or JSON text
//! for a structured answer), continuing by `previous_response_id` or `conversation`, and the
//! paused run goes on.

use serde_json::{Map, Value};
use weft_core::AgentSession;

use crate::HostState;
use crate::error::ApiError;
use crate::store::StoredResponse;

/// Where the state of conversation `id` is kept: a key no `/v1/responses/{id}` request can name.
fn key(id: &str) -> String {
    format!("conversation-state/{id}")
}

/// Keeps the metadata of `session` for conversation `id` (forgets it when empty); a failure is
/// logged: the turn's answer stands.
pub(crate) async fn keep(state: &HostState, id: &str, session: &AgentSession) {
    let key = key(id);
    let result = if session.metadata.is_empty() {
        state.store.delete_response(&key).await.map(|_| ())
    } else {
        let mut kept = AgentSession::new();
        kept.metadata = session.metadata.clone();
        let record = StoredResponse {
            agent: String::new(),
            response: serde_json::json!({"id": key, "object": "conversation.state", "status": "completed"}),
            input_items: Vec::new(),
            session: Some(kept),
        };
        state.store.put_response(&key, record).await
    };
    if let Err(error) = result {
        tracing::error!(conversation = id, "keeping the conversation's state: {error}");
    }
}

/// The metadata kept for conversation `id` (empty when none).
pub(crate) async fn load(state: &HostState, id: &str) -> Result<Map<String, Value>, ApiError> {
    let kept = state.store.get_response(&key(id)).await?;
    Ok(kept.and_then(|kept| kept.session).map(|session| session.metadata).unwrap_or_default())
}

/// Forgets what is kept for conversation `id` (when it is deleted); a failure is logged.
pub(crate) async fn forget(state: &HostState, id: &str) {
    if let Err(error) = state.store.delete_response(&key(id)).await {
        tracing::error!(conversation = id, "forgetting the conversation's state: {error}");
    }
}
