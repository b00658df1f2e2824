//! Chat Completions on the wire: the request body we send and the (lenient) answer shapes.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use weft_core::{
    ChatOptions, ChatResponse, Content, FinishReason, FunctionCall, Message, ResponseFormat, Role, ToolChoice,
};

use crate::wire::{
    WireUsage, arguments_text, content_text, f32_json, fresh_id, image_url, merge_extra, null_default,
};

/// The request body for `POST /chat/completions`.
pub(crate) fn request_body(messages: &[Message], options: &ChatOptions, model: &str, stream: bool) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages.iter().flat_map(map_message).collect()));
    if let Some(temperature) = options.temperature {
        body.insert("temperature".into(), f32_json(temperature));
    }
    if let Some(top_p) = options.top_p {
        body.insert("top_p".into(), f32_json(top_p));
    }
    if let Some(max_tokens) = options.max_tokens {
        body.insert("max_tokens".into(), json!(max_tokens));
    }
    if !options.stop.is_empty() {
        body.insert("stop".into(), json!(options.stop));
    }
    if let Some(seed) = options.seed {
        body.insert("seed".into(), json!(seed));
    }
    if !options.tools.is_empty() {
        let tools = options
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    }
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
            ToolChoice::Function(name) => json!({"type": "function", "function": {"name": name}}),
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
            ResponseFormat::JsonSchema { name, schema, strict } => json!({
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": strict}
            }),
        };
        body.insert("response_format".into(), format);
    }
    if stream {
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    merge_extra(&mut body, &options.extra);
    Value::Object(body)
}

/// One Weft message as Chat Completions messages: function results become `tool` messages.
fn map_message(message: &Message) -> Vec<Value> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut parts = Vec::new();
    let mut has_image = false;
    let mut tool_calls = Vec::new();
    for content in &message.contents {
        match content {
            Content::Text { text: piece } => {
                text.push_str(piece);
                parts.push(json!({"type": "text", "text": piece}));
            }
            Content::FunctionCall(call) => tool_calls.push(json!({
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_text()},
            })),
            Content::FunctionResult(result) => out.push(json!({
                "role": "tool",
                "tool_call_id": result.call_id,
                "content": result.to_model_text(),
            })),
            Content::Data { .. } | Content::Uri { .. } => match image_url(content) {
                Some(url) if message.role == Role::User => {
                    has_image = true;
                    parts.push(json!({"type": "image_url", "image_url": {"url": url}}));
                }
                _ => {
                    tracing::debug!(role = %message.role, "skipping a data/uri content Chat Completions cannot take here")
                }
            },
            // Reasoning, usage, approvals and errors are not sent back to the model.
            _ => {}
        }
    }
    let role = match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        // Tool messages carry only results, mapped above.
        Role::Tool => {
            if !text.is_empty() {
                tracing::debug!("skipping text in a tool message: Chat Completions needs a tool_call_id");
            }
            return out;
        }
    };
    if text.is_empty() && !has_image && tool_calls.is_empty() {
        return out;
    }
    let content = if has_image {
        Value::Array(parts)
    } else if text.is_empty() {
        Value::Null
    } else {
        json!(text)
    };
    let mut wire = json!({"role": role, "content": content});
    if !tool_calls.is_empty() {
        wire["tool_calls"] = Value::Array(tool_calls);
    }
    // Results answer calls of earlier messages, so they follow this message's own parts.
    let mut all = vec![wire];
    all.extend(out);
    all
}

/// A `chat.completion` (or, streamed, a `chat.completion.chunk`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Completion {
    pub(crate) id: Option<String>,
    pub(crate) model: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub(crate) choices: Vec<Choice>,
    pub(crate) usage: Option<WireUsage>,
    /// Some servers report failures inside a 200 answer or a stream.
    pub(crate) error: Option<Value>,
}

/// One choice; `message` in full answers, `delta` in chunks.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Choice {
    pub(crate) index: Option<u32>,
    pub(crate) message: Option<WireMessage>,
    pub(crate) delta: Option<WireMessage>,
    pub(crate) finish_reason: Option<String>,
}

/// An assistant message or a delta of one.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WireMessage {
    pub(crate) content: Option<Value>,
    /// llama.cpp, vLLM, DeepSeek.
    pub(crate) reasoning_content: Option<String>,
    /// OpenRouter, newer vLLM.
    pub(crate) reasoning: Option<Value>,
    pub(crate) refusal: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub(crate) tool_calls: Vec<WireToolCall>,
}

impl WireMessage {
    /// The text, if any.
    pub(crate) fn text(&self) -> Option<String> {
        self.content.as_ref().and_then(content_text).filter(|text| !text.is_empty())
    }

    /// The reasoning text, if any.
    pub(crate) fn reasoning_text(&self) -> Option<String> {
        let reasoning = self.reasoning.as_ref().and_then(Value::as_str).map(str::to_string);
        self.reasoning_content.clone().or(reasoning).filter(|text| !text.is_empty())
    }
}

/// A tool call or a delta of one.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WireToolCall {
    pub(crate) index: Option<u32>,
    pub(crate) id: Option<String>,
    pub(crate) function: Option<WireFunction>,
}

/// The function part of a tool call.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WireFunction {
    pub(crate) name: Option<String>,
    pub(crate) arguments: Option<Value>,
}

/// The first choice (index 0, or the first listed); other choices are ignored.
pub(crate) fn first_choice(choices: Vec<Choice>) -> Option<Choice> {
    let position = choices.iter().position(|choice| choice.index.unwrap_or(0) == 0).unwrap_or(0);
    choices.into_iter().nth(position)
}

/// A full (non-streamed) answer as a Weft response.
pub(crate) fn to_response(completion: Completion) -> ChatResponse {
    let mut contents = Vec::new();
    let mut finish_reason = None;
    if let Some(choice) = first_choice(completion.choices) {
        finish_reason = choice.finish_reason.as_deref().map(FinishReason::parse);
        if let Some(message) = choice.message {
            if let Some(reasoning) = message.reasoning_text() {
                contents.push(Content::Reasoning { text: reasoning });
            }
            if let Some(text) = message.text() {
                contents.push(Content::text(text));
            }
            if let Some(refusal) = message.refusal.filter(|refusal| !refusal.is_empty()) {
                contents.push(Content::Error { message: refusal, code: Some("refusal".into()) });
            }
            for call in message.tool_calls {
                let function = call.function.unwrap_or_default();
                let Some(name) = function.name.filter(|name| !name.is_empty()) else {
                    tracing::warn!("ignoring a tool call without a function name");
                    continue;
                };
                let id = call.id.filter(|id| !id.is_empty()).unwrap_or_else(|| fresh_id("call_"));
                let raw = arguments_text(function.arguments.as_ref());
                contents.push(Content::FunctionCall(FunctionCall::from_raw_arguments(id, name, &raw)));
            }
        }
    }
    let has_calls = contents.iter().any(|content| matches!(content, Content::FunctionCall(_)));
    if finish_reason.is_none() && has_calls {
        finish_reason = Some(FinishReason::ToolCalls);
    }
    ChatResponse {
        messages: vec![Message::new(Role::Assistant, contents)],
        response_id: completion.id,
        model: completion.model,
        finish_reason,
        usage: completion.usage.as_ref().map(WireUsage::to_usage),
    }
}

#[cfg(test)]
mod tests {
    use weft_core::FunctionResult;

    use super::*;

    #[test]
    fn tool_results_follow_the_assistant_calls() {
        let messages = vec![
            Message::new(
                Role::Assistant,
                vec![
                    Content::text("checking"),
                    Content::FunctionCall(FunctionCall::new("call_1", "f", json!({"a": 1}))),
                ],
            ),
            Message::new(
                Role::Tool,
                vec![Content::FunctionResult(FunctionResult::ok("call_1", json!("sunny")))],
            ),
        ];
        let body = request_body(&messages, &ChatOptions::default(), "m", false);
        assert_eq!(
            body["messages"],
            json!([
                {"role": "assistant", "content": "checking", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
            ])
        );
    }

    #[test]
    fn null_fields_are_tolerated() {
        let completion: Completion = serde_json::from_value(json!({
            "choices": [{"index": 0, "message": {"content": null, "tool_calls": null}, "finish_reason": null}],
            "usage": null
        }))
        .unwrap();
        let response = to_response(completion);
        assert_eq!(response.messages[0].contents, vec![]);
        assert_eq!(response.usage, None);
    }
}
