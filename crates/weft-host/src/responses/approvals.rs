//! Approvals in the Responses protocol, with OpenAI's own item types (those of its MCP tools):
//!
//! - A run that calls a tool needing approval shows the call as a `function_call` item (with no
//!   `function_call_output` yet), then an `mcp_approval_request` item
//!   (`{"id", "type": "mcp_approval_request", "name", "arguments", "server_label"}`; `server_label`
//!   is the served agent's name, the request's `model`), and ends with status `completed`.
//! - The client answers in its next request (continuing by `previous_response_id` or
//!   `conversation`, or sending the whole history as `input`) with `mcp_approval_response` items
//!   (`{"type": "mcp_approval_response", "approval_request_id", "approve", "reason"?}`); the same
//!   run goes on: approved calls run, rejected ones (and requests left unanswered) are reported to
//!   the model as not approved. `reason` is kept with the item and not sent to the model.
//! - Each request is answered once: a run ending with requests leaves a ticket per request in the
//!   store (for its response, and for its conversation), and an answer takes the ticket out. A
//!   second answer (at the same time, or a retry after the answering run failed) finds none and
//!   is refused with 409, so an approved call never runs twice. History sent whole as `input` has
//!   no ticket: like Chat Completions, it is the client's to keep.

use serde_json::{Value, json};
use weft_core::ApprovalRequest;

use crate::HostState;
use crate::error::ApiError;
use crate::store::StoredResponse;

/// The `mcp_approval_request` item of `request`, from the agent served as `server_label`.
pub(crate) fn request_item(request: &ApprovalRequest, server_label: &str) -> Value {
    json!({"id": request.id, "type": "mcp_approval_request", "name": request.call.name,
           "arguments": request.call.arguments_text(), "server_label": server_label})
}

/// Where the ticket of approval request `id`, continued from `origin` (a response or
/// conversation id), is kept: a key no `/v1/responses/{id}` request can name (it holds slashes).
fn ticket_key(origin: &str, id: &str) -> String {
    format!("approval/{origin}/{id}")
}

/// Leaves a ticket for each of `requests`, continued from `origin` (a failure is logged: the
/// request then cannot be answered, which is safe).
pub(crate) async fn put_tickets(state: &HostState, origin: &str, agent: &str, requests: &[ApprovalRequest]) {
    for request in requests {
        let key = ticket_key(origin, &request.id);
        let ticket = StoredResponse {
            agent: agent.to_string(),
            response: json!({"id": key, "object": "approval.ticket", "status": "completed"}),
            input_items: Vec::new(),
            session: None,
        };
        if let Err(error) = state.store.put_response(&key, ticket).await {
            tracing::error!(ticket = key, "keeping an approval ticket: {error}");
        }
    }
}

/// Takes the tickets of the requests `answered` continued from `origin`; a 409 when one is gone
/// (answered already).
pub(crate) async fn take_tickets(
    state: &HostState,
    origin: &str,
    answered: &[String],
) -> Result<(), ApiError> {
    for id in answered {
        if !state.store.delete_response(&ticket_key(origin, id)).await? {
            return Err(ApiError::conflict(
                format!("The approval request '{id}' was answered already: a request is answered once"),
                "input",
            ));
        }
    }
    Ok(())
}
