//! Items of the Responses protocol (`message`, `function_call`, `function_call_output`): given
//! ids and one shape when they enter a conversation, and turned into the agent's messages.

use std::collections::HashMap;

use serde_json::{Value, json};
use weft_core::{Content, FunctionCall, FunctionResult, Message, Role};

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
        other => Err(ApiError::invalid(format!("input items of type '{other}' are not supported"))),
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
