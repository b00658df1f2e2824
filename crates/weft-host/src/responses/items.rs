//! Items of the Responses protocol (`message`, `function_call`, `function_call_output`,
//! `mcp_approval_request`, `mcp_approval_response`): given ids and one shape when they enter a
//! conversation, and turned into the agent's messages.

use std::collections::HashMap;

use serde_json::{Value, json};
use weft_core::{ApprovalRequest, Content, FunctionCall, FunctionResult, Message, Role};

use crate::error::ApiError;
use crate::run::new_id;
use crate::store::{ItemQuery, Order};

/// The items of an `input`: a text is one user message.
pub(crate) fn text_item(text: &str) -> Value {
    json!({"id": new_id("msg"), "type": "message", "status": "completed", "role": "user",
           "content": [{"type": "input_text", "text": text}]})
}

/// `item` in the shape a conversation keeps, with a new id: a client often sends back items it
/// got (with their ids), and an item id is unique within a conversation.
pub(crate) fn normalize(item: &Value) -> Result<Value, ApiError> {
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("message");
    let id = new_id;
    let field = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    match kind {
        "message" => {
            let role = role(item)?;
            let part = if role == Role::Assistant { "output_text" } else { "input_text" };
            let text = content_text(item.get("content"))?;
            let mut content = json!({"type": part, "text": text});
            if role == Role::Assistant {
                content["annotations"] = json!([]);
            }
            Ok(json!({"id": id("msg"), "type": "message", "status": "completed",
                      "role": field("role"), "content": [content]}))
        }
        "function_call" => Ok(json!({"id": id("fc"), "type": "function_call", "status": "completed",
                                     "call_id": field("call_id"), "name": field("name"),
                                     "arguments": field("arguments")})),
        "function_call_output" => {
            let output = content_text(item.get("output"))?;
            Ok(json!({"id": id("fco"), "type": "function_call_output", "status": "completed",
                      "call_id": field("call_id"), "output": output}))
        }
        // The request's id is what answers name: it is kept.
        "mcp_approval_request" => {
            let request_id = field("id");
            if request_id.is_empty() {
                return Err(ApiError::invalid_param(
                    "an `mcp_approval_request` item needs its `id`",
                    "input",
                ));
            }
            Ok(json!({"id": request_id, "type": "mcp_approval_request", "name": field("name"),
                      "arguments": field("arguments"), "server_label": field("server_label")}))
        }
        "mcp_approval_response" => {
            let request_id = field("approval_request_id");
            let Some(approve) = item.get("approve").and_then(Value::as_bool) else {
                return Err(ApiError::invalid_param(
                    "an `mcp_approval_response` item needs `approve`: true or false",
                    "input",
                ));
            };
            if request_id.is_empty() {
                return Err(ApiError::invalid_param(
                    "an `mcp_approval_response` item needs the `approval_request_id` it answers",
                    "input",
                ));
            }
            let mut answer = json!({"id": id("mcpr"), "type": "mcp_approval_response",
                                    "approval_request_id": request_id, "approve": approve});
            if let Some(reason) = item.get("reason").and_then(Value::as_str) {
                answer["reason"] = reason.into();
            }
            Ok(answer)
        }
        other => Err(ApiError::invalid(format!("input items of type '{other}' are not supported"))),
    }
}

/// The ids of the approval requests the `mcp_approval_response` items of `items` answer.
pub(crate) fn answered_requests(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter(|item| item["type"] == "mcp_approval_response")
        .filter_map(|item| item["approval_request_id"].as_str().map(str::to_owned))
        .collect()
}

/// Whether `item` is the assistant's: its message, a call it made, a request for approval.
fn is_assistants(item: &Value) -> bool {
    match item.get("type").and_then(Value::as_str).unwrap_or("message") {
        "message" => item.get("role").and_then(Value::as_str) == Some("assistant"),
        "function_call" | "mcp_approval_request" => true,
        _ => false,
    }
}

/// `items` as the agent's messages. A run of consecutive items of the assistant (text, calls,
/// approval requests) is one message, as the model produced it: an approval request is held with
/// the calls of its turn. An `mcp_approval_response` answers one of `pending` (the requests the
/// conversation waits on) or of an `mcp_approval_request` earlier in `items`; answering anything
/// else is a 409, unless `items` is history kept already (then such an answer, whose request was
/// deleted, is left out).
pub(crate) fn to_messages(
    items: &[Value],
    pending: &[ApprovalRequest],
    history: bool,
) -> Result<Vec<Message>, ApiError> {
    let mut requests: Vec<ApprovalRequest> = pending.to_vec();
    let mut messages: Vec<Message> = Vec::new();
    let mut previous_was_assistants = false;
    for item in items {
        let assistants = is_assistants(item);
        let message = match item.get("type").and_then(Value::as_str) {
            Some("mcp_approval_request") => {
                let turn = messages.last().filter(|_| previous_was_assistants);
                let (request, made) = approval_request(item, turn);
                requests.push(request.clone());
                let mut contents = Vec::with_capacity(2);
                if made {
                    // No call of the turn is the one held: the request's own call stands for it.
                    contents.push(Content::FunctionCall(request.call.clone()));
                }
                contents.push(Content::ApprovalRequest(request));
                Message::new(Role::Assistant, contents)
            }
            Some("mcp_approval_response") => {
                let id = item["approval_request_id"].as_str().unwrap_or_default();
                let approve = item["approve"].as_bool().unwrap_or(false);
                let Some(request) = requests.iter().find(|r| r.id == id) else {
                    if history {
                        previous_was_assistants = false;
                        continue;
                    }
                    return Err(ApiError::conflict(
                        format!(
                            "The approval request '{id}' is not waiting for an answer (it was answered \
                             already, or is not one of this conversation's)"
                        ),
                        "input",
                    ));
                };
                Message::new(Role::User, vec![Content::ApprovalResponse(request.response(approve))])
            }
            _ => to_message(item)?,
        };
        match messages.last_mut() {
            Some(last) if assistants && previous_was_assistants => last.contents.extend(message.contents),
            _ => messages.push(message),
        }
        previous_was_assistants = assistants;
    }
    Ok(messages)
}

/// An `mcp_approval_request` item as the agent's request, for the call of `turn` (the
/// assistant's message it belongs to) it holds: the call whose id the request's names
/// (`approval_{call_id}`, as Weft's agents name them), else the first call with its name and
/// arguments, else a call made of the item itself (then `true`).
fn approval_request(item: &Value, turn: Option<&Message>) -> (ApprovalRequest, bool) {
    let field = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    let (id, name, arguments) = (field("id"), field("name"), field("arguments"));
    let calls: Vec<&FunctionCall> = turn.map(|m| m.function_calls().collect()).unwrap_or_default();
    let by_id = id.strip_prefix("approval_").and_then(|call_id| calls.iter().find(|c| c.call_id == call_id));
    let by_content = || {
        calls.iter().find(|c| {
            c.name == name && c.arguments == FunctionCall::from_raw_arguments("", "", &arguments).arguments
        })
    };
    match by_id.or_else(by_content) {
        Some(call) => (ApprovalRequest { id, call: (*call).clone() }, false),
        None => {
            let call = FunctionCall::from_raw_arguments(id.clone(), name, &arguments);
            (ApprovalRequest { id, call }, true)
        }
    }
}

/// The role of a message item.
fn role(item: &Value) -> Result<Role, ApiError> {
    match item.get("role").and_then(Value::as_str) {
        Some("user") => Ok(Role::User),
        Some("assistant") => Ok(Role::Assistant),
        Some("system" | "developer") => Ok(Role::System),
        other => Err(ApiError::invalid(format!(
            "input message role {other:?} is not one of user, assistant, system, developer"
        ))),
    }
}

/// One item as the agent's message.
pub(crate) fn to_message(item: &Value) -> Result<Message, ApiError> {
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("message");
    match kind {
        "message" => Ok(Message::new(role(item)?, vec![Content::text(content_text(item.get("content"))?)])),
        "function_call" => {
            let field = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
            let call = FunctionCall::from_raw_arguments(field("call_id"), field("name"), &field("arguments"));
            Ok(Message::new(Role::Assistant, vec![Content::FunctionCall(call)]))
        }
        "function_call_output" => {
            let call_id = item.get("call_id").and_then(Value::as_str).unwrap_or_default();
            let output = content_text(item.get("output"))?;
            let result = FunctionResult::ok(call_id, Value::String(output));
            Ok(Message::new(Role::Tool, vec![Content::FunctionResult(result)]))
        }
        other => Err(ApiError::invalid(format!("input items of type '{other}' are not supported"))),
    }
}

/// The text of a `content` (a string, or parts with `text`).
fn content_text(content: Option<&Value>) -> Result<String, ApiError> {
    match content {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                match part.get("text").and_then(Value::as_str) {
                    Some(piece) => text.push_str(piece),
                    None => {
                        let kind = part.get("type").and_then(Value::as_str).unwrap_or("unknown");
                        return Err(ApiError::invalid(format!(
                            "content parts of type '{kind}' are not supported"
                        )));
                    }
                }
            }
            Ok(text)
        }
        _ => Err(ApiError::invalid("a message's `content` must be text or a list of text parts")),
    }
}

/// A list object of `items` (`first_id`, `last_id`, `has_more`), as OpenAI pages them.
pub(crate) fn list(items: Vec<Value>, has_more: bool) -> Value {
    let first = items.first().map(|item| crate::store::item_id(item).to_string());
    let last = items.last().map(|item| crate::store::item_id(item).to_string());
    json!({"object": "list", "data": items, "first_id": first, "last_id": last, "has_more": has_more})
}

/// The largest page a listing returns.
const MAX_LIMIT: usize = 100;
/// The page size when `limit` is not given.
const DEFAULT_LIMIT: usize = 20;

/// A listing's query string (`after`, `limit` 1..=100, default 20, `order` asc|desc, default
/// desc) as an [`ItemQuery`].
pub(crate) fn list_query(query: &HashMap<String, String>) -> Result<ItemQuery, ApiError> {
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(limit) => match limit.parse::<usize>() {
            Ok(limit @ 1..=MAX_LIMIT) => limit,
            _ => return Err(ApiError::invalid_param(format!("`limit` must be 1 to {MAX_LIMIT}"), "limit")),
        },
    };
    let order = match query.get("order").map(String::as_str) {
        None | Some("desc") => Order::Desc,
        Some("asc") => Order::Asc,
        Some(_) => return Err(ApiError::invalid_param("`order` must be asc or desc", "order")),
    };
    Ok(ItemQuery { after: query.get("after").cloned(), limit: Some(limit), order })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn normalized_items_get_a_new_id_and_convert_back() {
        let given = json!({"type": "message", "role": "assistant", "content": "hi", "id": "msg_1"});
        let item = normalize(&given).unwrap();
        assert_ne!(item["id"], "msg_1");
        assert!(item["id"].as_str().unwrap().starts_with("msg_"));
        assert_eq!(item["content"][0]["type"], "output_text");
        assert_eq!(to_message(&item).unwrap().text(), "hi");
        let fresh =
            normalize(&json!({"role": "user", "content": [{"type": "input_text", "text": "yo"}]})).unwrap();
        assert!(fresh["id"].as_str().unwrap().starts_with("msg_"));
        assert!(normalize(&json!({"type": "image"})).is_err());
    }
}
