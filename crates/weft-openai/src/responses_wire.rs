//! The Responses API on the wire: the request body we send and the (lenient) answer shapes.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use weft_core::{
    ChatOptions, ChatResponse, Content, FinishReason, FunctionCall, Message, ResponseFormat, Role, ToolChoice,
};

use crate::wire::{WireUsage, arguments_text, f32_json, fresh_id, image_url, merge_extra, null_default};

/// The request body for `POST /responses`. The whole history goes in `input` and `store` is
/// false: the server keeps no state between calls. `stop` and `seed` have no Responses
/// equivalent and are not sent (put them in `extra` for servers that take them).
pub(crate) fn request_body(messages: &[Message], options: &ChatOptions, model: &str, stream: bool) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("input".into(), Value::Array(messages.iter().flat_map(map_message).collect()));
    body.insert("store".into(), json!(false));
    if let Some(temperature) = options.temperature {
        body.insert("temperature".into(), f32_json(temperature));
    }
    if let Some(top_p) = options.top_p {
        body.insert("top_p".into(), f32_json(top_p));
    }
    if let Some(max_tokens) = options.max_tokens {
        body.insert("max_output_tokens".into(), json!(max_tokens));
    }
    if !options.stop.is_empty() || options.seed.is_some() {
        tracing::debug!("the Responses API takes no stop sequences or seed; not sent");
    }
    if !options.tools.is_empty() {
        let tools = options
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                    "strict": false,
                })
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = &options.tool_choice {
        let choice = match choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Function(name) => json!({"type": "function", "name": name}),
        };
        body.insert("tool_choice".into(), choice);
    }
    if let Some(parallel) = options.parallel_tool_calls {
        body.insert("parallel_tool_calls".into(), json!(parallel));
    }
    if let Some(format) = &options.response_format {
        let format = match format {
            ResponseFormat::Text => json!({"type": "text"}),
            ResponseFormat::JsonObject => json!({"type": "json_object"}),
            ResponseFormat::JsonSchema { name, schema, strict } => {
                json!({"type": "json_schema", "name": name, "schema": schema, "strict": strict})
            }
        };
        body.insert("text".into(), json!({ "format": format }));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    merge_extra(&mut body, &options.extra);
    Value::Object(body)
}

/// One Weft message as Responses input items, in content order: text and images become
/// message items, calls `function_call` items, results `function_call_output` items.
fn map_message(message: &Message) -> Vec<Value> {
    let role = match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "user",
    };
    let mut items = Vec::new();
    let mut parts: Vec<Value> = Vec::new();
    let mut has_image = false;
    let flush = |items: &mut Vec<Value>, parts: &mut Vec<Value>, has_image: &mut bool| {
        if parts.is_empty() {
            return;
        }
        let content = if *has_image {
            Value::Array(std::mem::take(parts))
        } else {
            let text: String = parts
                .drain(..)
                .filter_map(|part| part.get("text").and_then(Value::as_str).map(str::to_string))
                .collect();
            json!(text)
        };
        *has_image = false;
        items.push(json!({"type": "message", "role": role, "content": content}));
    };
    for content in &message.contents {
        match content {
            Content::Text { text } if message.role != Role::Tool => {
                parts.push(json!({"type": "input_text", "text": text}));
            }
            Content::Data { .. } | Content::Uri { .. } => match image_url(content) {
                Some(url) if message.role == Role::User => {
                    has_image = true;
                    parts.push(json!({"type": "input_image", "image_url": url}));
                }
                _ => {
                    tracing::debug!(role = %message.role, "skipping a data/uri content the Responses API cannot take here")
                }
            },
            Content::FunctionCall(call) => {
                flush(&mut items, &mut parts, &mut has_image);
                items.push(json!({
                    "type": "function_call",
                    "call_id": call.call_id,
                    "name": call.name,
                    "arguments": call.arguments_text(),
                }));
            }
            Content::FunctionResult(result) => {
                flush(&mut items, &mut parts, &mut has_image);
                items.push(json!({
                    "type": "function_call_output",
                    "call_id": result.call_id,
                    "output": result.to_model_text(),
                }));
            }
            // Reasoning, usage, approvals and errors are not sent back to the model.
            _ => {}
        }
    }
    flush(&mut items, &mut parts, &mut has_image);
    items
}

/// A response object (also inside `response.*` stream events).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WireResponse {
    pub(crate) id: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) status: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub(crate) output: Vec<OutputItem>,
    pub(crate) usage: Option<WireUsage>,
    pub(crate) incomplete_details: Option<Value>,
    pub(crate) error: Option<Value>,
}

/// An output item: `message`, `function_call`, `reasoning`, or a kind we ignore.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct OutputItem {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) id: Option<String>,
    pub(crate) call_id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) arguments: Option<Value>,
    #[serde(deserialize_with = "null_default")]
    pub(crate) content: Vec<Part>,
    #[serde(deserialize_with = "null_default")]
    pub(crate) summary: Vec<Part>,
}

/// A content part of a message or reasoning item.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Part {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) text: Option<String>,
    pub(crate) refusal: Option<String>,
}

/// One streamed event; which fields are set depends on its type.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StreamEvent {
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    pub(crate) item_id: Option<String>,
    pub(crate) output_index: Option<u64>,
    pub(crate) delta: Option<Value>,
    pub(crate) text: Option<String>,
    pub(crate) arguments: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) item: Option<OutputItem>,
    pub(crate) response: Option<WireResponse>,
    /// `error` events: the error object, or its fields at the top level.
    pub(crate) error: Option<Value>,
    /// `error` events: the message.
    pub(crate) message: Option<Value>,
    /// `error` events: the code.
    pub(crate) code: Option<Value>,
}

impl OutputItem {
    /// The call this item is, when it is a complete function call.
    pub(crate) fn to_call(&self) -> Option<FunctionCall> {
        if self.kind != "function_call" {
            return None;
        }
        let name = self.name.clone().filter(|name| !name.is_empty())?;
        let id = self.call_id.clone().or_else(|| self.id.clone()).unwrap_or_else(|| fresh_id("call_"));
        Some(FunctionCall::from_raw_arguments(id, name, &arguments_text(self.arguments.as_ref())))
    }

    /// Its contents: text, refusals (as errors), reasoning, or the function call.
    pub(crate) fn to_contents(&self, text: bool) -> Vec<Content> {
        let mut contents = Vec::new();
        match self.kind.as_str() {
            "message" => {
                for part in &self.content {
                    match (part.kind.as_str(), &part.text, &part.refusal) {
                        ("refusal", _, Some(refusal)) => contents
                            .push(Content::Error { message: refusal.clone(), code: Some("refusal".into()) }),
                        (_, Some(part_text), _) if text && !part_text.is_empty() => {
                            contents.push(Content::text(part_text.clone()))
                        }
                        _ => {}
                    }
                }
            }
            "reasoning" if text => {
                let parts = self.summary.iter().chain(self.content.iter());
                for part_text in parts.filter_map(|part| part.text.as_ref()).filter(|t| !t.is_empty()) {
                    contents.push(Content::Reasoning { text: part_text.clone() });
                }
            }
            "function_call" => contents.extend(self.to_call().map(Content::FunctionCall)),
            _ => {}
        }
        contents
    }
}

/// The finish reason of a response with this status.
pub(crate) fn finish_reason(
    status: Option<&str>,
    incomplete: Option<&Value>,
    has_calls: bool,
) -> FinishReason {
    match status {
        None | Some("completed") if has_calls => FinishReason::ToolCalls,
        None | Some("completed") => FinishReason::Stop,
        Some("incomplete") => {
            match incomplete.and_then(|details| details.get("reason")).and_then(Value::as_str) {
                Some(reason) => FinishReason::parse(reason),
                None => FinishReason::Other("incomplete".into()),
            }
        }
        Some(other) => FinishReason::Other(other.to_string()),
    }
}

/// The finish reason of `response` to a request that allowed `max_output_tokens` (as sent).
///
/// Some servers (llama.cpp's `llama-server`) report a response cut off at the limit as
/// `completed`; one whose output used the whole allowance is reported as
/// [`Length`](FinishReason::Length), as OpenAI's `incomplete` with reason `max_output_tokens`
/// would be (OpenAI itself never says `completed` then).
pub(crate) fn response_finish_reason(
    response: &WireResponse,
    max_output_tokens: Option<u64>,
    has_calls: bool,
) -> FinishReason {
    let finish = finish_reason(response.status.as_deref(), response.incomplete_details.as_ref(), has_calls);
    let used = response.usage.as_ref().and_then(|usage| usage.completion_tokens);
    let used_all = matches!((max_output_tokens, used), (Some(max), Some(used)) if max > 0 && used >= max);
    if used_all && matches!(finish, FinishReason::Stop | FinishReason::ToolCalls) {
        FinishReason::Length
    } else {
        finish
    }
}

/// A full (non-streamed) response as a Weft response; `max_output_tokens` as sent.
pub(crate) fn to_response(response: WireResponse, max_output_tokens: Option<u64>) -> ChatResponse {
    let contents: Vec<Content> = response.output.iter().flat_map(|item| item.to_contents(true)).collect();
    let has_calls = contents.iter().any(|content| matches!(content, Content::FunctionCall(_)));
    let finish = response_finish_reason(&response, max_output_tokens, has_calls);
    ChatResponse {
        messages: vec![Message::new(Role::Assistant, contents)],
        response_id: response.id,
        model: response.model,
        finish_reason: Some(finish),
        usage: response.usage.as_ref().map(WireUsage::to_usage),
    }
}

#[cfg(test)]
mod tests {
    use weft_core::FunctionResult;

    use super::*;

    #[test]
    fn history_maps_to_input_items_in_order() {
        let messages = vec![
            Message::system("be brief"),
            Message::user("weather?"),
            Message::new(
                Role::Assistant,
                vec![
                    Content::text("checking"),
                    Content::FunctionCall(FunctionCall::new("call_1", "f", json!({"a": 1}))),
                ],
            ),
            Message::new(Role::Tool, vec![Content::FunctionResult(FunctionResult::error("call_1", "down"))]),
        ];
        let body = request_body(&messages, &ChatOptions::default(), "m", false);
        assert_eq!(
            body["input"],
            json!([
                {"type": "message", "role": "system", "content": "be brief"},
                {"type": "message", "role": "user", "content": "weather?"},
                {"type": "message", "role": "assistant", "content": "checking"},
                {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{\"a\":1}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "Error: down"}
            ])
        );
        assert_eq!(body["store"], json!(false));
    }

    #[test]
    fn incomplete_for_max_output_tokens_is_length() {
        let details = json!({"reason": "max_output_tokens"});
        assert_eq!(finish_reason(Some("incomplete"), Some(&details), false), FinishReason::Length);
        assert_eq!(finish_reason(Some("completed"), None, true), FinishReason::ToolCalls);
    }

    #[test]
    fn completed_with_the_whole_allowance_used_is_length() {
        // llama-server's answer to `max_output_tokens: 2`.
        let response: WireResponse = serde_json::from_value(json!({
            "id": "resp_1", "status": "completed",
            "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": "Howdy,", "annotations": []}]}],
            "usage": {"input_tokens": 9, "output_tokens": 2, "total_tokens": 11}
        }))
        .unwrap();
        assert_eq!(response_finish_reason(&response, Some(2), false), FinishReason::Length);
        assert_eq!(response_finish_reason(&response, Some(3), false), FinishReason::Stop);
        assert_eq!(response_finish_reason(&response, None, false), FinishReason::Stop);
        assert_eq!(to_response(response, Some(2)).finish_reason, Some(FinishReason::Length));
    }
}
