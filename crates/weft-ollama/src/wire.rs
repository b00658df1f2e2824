//! `/api/chat`'s JSON: request bodies from Weft's messages and options, and answers (whole, or
//! one NDJSON line of a stream) back into Weft's contents.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use weft_core::{
    ChatOptions, Content, FinishReason, FunctionCall, Message, ResponseFormat, Role, ToolChoice, Usage,
};

/// What a request body is made of besides the messages and options: the endpoint's defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyDefaults<'a> {
    pub(crate) model: &'a str,
    pub(crate) keep_alive: Option<&'a Value>,
    pub(crate) think: Option<&'a Value>,
    pub(crate) options: &'a Map<String, Value>,
}

/// The request body of `POST /api/chat`.
///
/// `stream` is always sent (Ollama streams unless told `false`). The model options go in
/// `options` (`temperature`, `top_p`, `num_predict`, `stop`, `seed` over the endpoint's own);
/// a JSON-schema response format is `format: {schema}`, a JSON object `format: "json"`. Extras
/// are merged into the body, an `options` extra into `options`.
pub(crate) fn request_body(
    messages: &[Message],
    options: &ChatOptions,
    defaults: BodyDefaults<'_>,
    stream: bool,
) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(defaults.model));
    body.insert("messages".into(), Value::Array(wire_messages(messages)));
    let offer_tools = !options.tools.is_empty() && options.tool_choice != Some(ToolChoice::None);
    if offer_tools {
        let tools = options
            .tools
            .iter()
            .map(|tool| {
                json!({"type": "function", "function": {
                    "name": tool.name, "description": tool.description, "parameters": tool.parameters
                }})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
        if matches!(options.tool_choice, Some(ToolChoice::Required | ToolChoice::Function(_))) {
            tracing::debug!("Ollama's /api/chat cannot force a tool call; tool_choice is left out");
        }
    }
    match &options.response_format {
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            body.insert("format".into(), schema.clone());
        }
        Some(ResponseFormat::JsonObject) => {
            body.insert("format".into(), json!("json"));
        }
        Some(ResponseFormat::Text) | None => {}
    }
    let mut model_options = defaults.options.clone();
    if let Some(temperature) = options.temperature {
        model_options.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = options.top_p {
        model_options.insert("top_p".into(), json!(top_p));
    }
    if let Some(max_tokens) = options.max_tokens {
        model_options.insert("num_predict".into(), json!(max_tokens));
    }
    if !options.stop.is_empty() {
        model_options.insert("stop".into(), json!(options.stop));
    }
    if let Some(seed) = options.seed {
        model_options.insert("seed".into(), json!(seed));
    }
    if let Some(Value::Object(extra)) = options.extra.get("options") {
        model_options.extend(extra.clone());
    }
    if !model_options.is_empty() {
        body.insert("options".into(), Value::Object(model_options));
    }
    body.insert("stream".into(), json!(stream));
    if let Some(keep_alive) = defaults.keep_alive {
        body.insert("keep_alive".into(), keep_alive.clone());
    }
    if let Some(think) = defaults.think {
        body.insert("think".into(), think.clone());
    }
    for (key, value) in &options.extra {
        if key != "options" {
            body.insert(key.clone(), value.clone());
        }
    }
    Value::Object(body)
}

/// The conversation as `/api/chat`'s `messages`: one per Weft message (a message holding
/// several tool results becomes one `tool` message each).
fn wire_messages(messages: &[Message]) -> Vec<Value> {
    // Ollama names a tool result by its tool (`tool_name`), Weft by its call's id.
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut out = Vec::new();
    for message in messages {
        let role = match message.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        };
        let mut text = String::new();
        let mut thinking = String::new();
        let mut images = Vec::new();
        let mut calls = Vec::new();
        for content in &message.contents {
            match content {
                Content::Text { text: part } => text.push_str(part),
                Content::Reasoning { text: part, .. } if message.role == Role::Assistant => {
                    thinking.push_str(part);
                }
                Content::FunctionCall(call) => {
                    names.insert(&call.call_id, &call.name);
                    let arguments = match &call.arguments {
                        Value::Object(_) => call.arguments.clone(),
                        other => json!({"arguments": other}),
                    };
                    calls.push(json!({"function": {"name": call.name, "arguments": arguments}}));
                }
                Content::FunctionResult(result) => {
                    let mut tool = Map::new();
                    tool.insert("role".into(), json!("tool"));
                    tool.insert("content".into(), json!(result.to_model_text()));
                    if let Some(name) = names.get(result.call_id.as_str()) {
                        tool.insert("tool_name".into(), json!(name));
                    }
                    out.push(Value::Object(tool));
                }
                Content::Data { media_type, base64 } if media_type.starts_with("image/") => {
                    images.push(json!(base64));
                }
                Content::Uri { uri, .. } => match data_url_base64(uri) {
                    Some(base64) => images.push(json!(base64)),
                    None => tracing::warn!(
                        "Ollama takes images as base64 only; an image by URL is left out (download it into Content::Data)"
                    ),
                },
                Content::Data { media_type, .. } => {
                    tracing::warn!(media_type, "Ollama takes images only; content left out");
                }
                _ => {}
            }
        }
        if text.is_empty() && thinking.is_empty() && images.is_empty() && calls.is_empty() {
            continue;
        }
        let mut wire = Map::new();
        wire.insert("role".into(), json!(role));
        wire.insert("content".into(), json!(text));
        if !thinking.is_empty() {
            wire.insert("thinking".into(), json!(thinking));
        }
        if !images.is_empty() {
            wire.insert("images".into(), Value::Array(images));
        }
        if !calls.is_empty() {
            wire.insert("tool_calls".into(), Value::Array(calls));
        }
        out.push(Value::Object(wire));
    }
    out
}

/// The base64 of an image `data:` URL.
fn data_url_base64(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("data:image/")?;
    let (header, data) = rest.split_once(',')?;
    header.ends_with(";base64").then_some(data)
}

/// One answer object: a whole answer, or one line of a stream (`done` on the last).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireChat {
    #[serde(default)]
    pub(crate) model: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<WireMessage>,
    #[serde(default)]
    pub(crate) done: bool,
    #[serde(default)]
    pub(crate) done_reason: Option<String>,
    #[serde(default)]
    pub(crate) prompt_eval_count: Option<u64>,
    #[serde(default)]
    pub(crate) eval_count: Option<u64>,
    /// An error reported in the body (a whole answer, or a line mid-stream).
    #[serde(default)]
    pub(crate) error: Option<Value>,
}

/// The answer's `message`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireMessage {
    #[serde(default)]
    pub(crate) content: Option<String>,
    #[serde(default)]
    pub(crate) thinking: Option<String>,
    #[serde(default)]
    pub(crate) tool_calls: Option<Vec<WireToolCall>>,
}

/// `{"function": {"name", "arguments": {...}}}` (recent servers add an `id`).
#[derive(Debug, Deserialize)]
pub(crate) struct WireToolCall {
    #[serde(default)]
    pub(crate) id: Option<String>,
    pub(crate) function: WireFunction,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireFunction {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) arguments: Value,
}

impl WireChat {
    /// The contents of its message: thinking, text and tool calls (ids made up where the
    /// server gave none), in that order.
    pub(crate) fn contents(&mut self) -> Vec<Content> {
        let Some(message) = self.message.take() else { return Vec::new() };
        let mut contents = Vec::new();
        if let Some(thinking) = message.thinking.filter(|thinking| !thinking.is_empty()) {
            contents.push(Content::Reasoning { text: thinking, signature: None });
        }
        if let Some(text) = message.content.filter(|text| !text.is_empty()) {
            contents.push(Content::text(text));
        }
        for call in message.tool_calls.unwrap_or_default() {
            let id = call.id.filter(|id| !id.is_empty()).unwrap_or_else(fresh_call_id);
            let arguments = match call.function.arguments {
                Value::Null => json!({}),
                // Some servers send the arguments as JSON text.
                Value::String(raw) => {
                    contents.push(Content::FunctionCall(FunctionCall::from_raw_arguments(
                        id,
                        call.function.name,
                        &raw,
                    )));
                    continue;
                }
                arguments => arguments,
            };
            contents.push(Content::FunctionCall(FunctionCall::new(id, call.function.name, arguments)));
        }
        contents
    }

    /// Its token counts (on the last object), when it has any.
    pub(crate) fn usage(&self) -> Option<Usage> {
        if self.prompt_eval_count.is_none() && self.eval_count.is_none() {
            return None;
        }
        Some(Usage::new(self.prompt_eval_count.unwrap_or(0), self.eval_count.unwrap_or(0)))
    }
}

/// A `done_reason` as a finish reason. Ollama says `stop` after tool calls too, so an answer
/// that called tools finishes with [`FinishReason::ToolCalls`]; `length` is the token limit;
/// others (`load`, `unload`) keep their name.
pub(crate) fn finish_reason(done_reason: Option<&str>, called: bool) -> FinishReason {
    match done_reason {
        Some("length") => FinishReason::Length,
        _ if called => FinishReason::ToolCalls,
        None | Some("stop" | "") => FinishReason::Stop,
        Some(other) => FinishReason::Other(other.to_string()),
    }
}

/// An id for a tool call the server named none for (Weft matches results to calls by id).
pub(crate) fn fresh_call_id() -> String {
    format!("call_{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use weft_core::{FunctionResult, ToolDefinition};

    use super::*;

    fn defaults<'a>(options: &'a Map<String, Value>) -> BodyDefaults<'a> {
        BodyDefaults { model: "llama3.2", keep_alive: None, think: None, options }
    }

    #[test]
    fn a_tool_round_trip_with_images_and_thinking() {
        let messages = vec![
            Message::system("Be brief."),
            Message::new(
                Role::User,
                vec![
                    Content::text("what is in this image?"),
                    Content::Data { media_type: "image/png".into(), base64: "iVBORw0KGgo".into() },
                    Content::Uri { uri: "data:image/jpeg;base64,/9j/4AAQ".into(), media_type: None },
                    Content::Uri { uri: "https://example.com/cat.png".into(), media_type: None },
                ],
            ),
            Message::new(
                Role::Assistant,
                vec![
                    Content::Reasoning { text: "Two cities.".into(), signature: None },
                    Content::FunctionCall(FunctionCall::new("c1", "get_weather", json!({"city": "Paris"}))),
                    Content::FunctionCall(FunctionCall::new("c2", "get_weather", json!({"city": "Rome"}))),
                ],
            ),
            Message::new(
                Role::Tool,
                vec![
                    Content::FunctionResult(FunctionResult::ok("c1", json!("sunny"))),
                    Content::FunctionResult(FunctionResult::ok("c2", json!("rain"))),
                ],
            ),
        ];
        let options = ChatOptions {
            tools: vec![ToolDefinition::new("get_weather", "Weather", json!({"type": "object"}))],
            ..ChatOptions::default()
        };
        let body = request_body(&messages, &options, defaults(&Map::new()), true);
        assert_eq!(
            body,
            json!({
                "model": "llama3.2",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "what is in this image?", "images": ["iVBORw0KGgo", "/9j/4AAQ"]},
                    {"role": "assistant", "content": "", "thinking": "Two cities.", "tool_calls": [
                        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                        {"function": {"name": "get_weather", "arguments": {"city": "Rome"}}},
                    ]},
                    {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
                    {"role": "tool", "content": "rain", "tool_name": "get_weather"},
                ],
                "tools": [{"type": "function", "function": {
                    "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}
                }}],
                "stream": true,
            })
        );
        // tool_choice none offers no tools.
        let none = ChatOptions { tool_choice: Some(ToolChoice::None), ..options };
        assert!(request_body(&messages, &none, defaults(&Map::new()), false).get("tools").is_none());
    }

    #[test]
    fn options_format_keep_alive_and_think() {
        let mut endpoint = Map::new();
        endpoint.insert("num_ctx".into(), json!(8192));
        endpoint.insert("temperature".into(), json!(0.9));
        let keep_alive = json!("10m");
        let think = json!(true);
        let mut options = ChatOptions {
            temperature: Some(0.0),
            top_p: Some(0.5),
            max_tokens: Some(100),
            stop: vec!["\n".into(), "user:".into()],
            seed: Some(42),
            response_format: Some(ResponseFormat::JsonSchema {
                name: "x".into(),
                schema: json!({"type": "object", "properties": {"age": {"type": "integer"}}}),
                strict: true,
            }),
            ..ChatOptions::default()
        };
        options.extra.insert("options".into(), json!({"top_k": 20}));
        options.extra.insert("keep_alive".into(), json!(0));
        let body = request_body(
            &[Message::user("hi")],
            &options,
            BodyDefaults {
                model: "llama3.2",
                keep_alive: Some(&keep_alive),
                think: Some(&think),
                options: &endpoint,
            },
            false,
        );
        assert_eq!(
            body["options"],
            json!({"num_ctx": 8192, "temperature": 0.0, "top_p": 0.5, "num_predict": 100,
                   "stop": ["\n", "user:"], "seed": 42, "top_k": 20})
        );
        assert_eq!(body["format"], json!({"type": "object", "properties": {"age": {"type": "integer"}}}));
        assert_eq!((body["stream"].clone(), body["think"].clone()), (json!(false), json!(true)));
        // The request's keep_alive wins over the endpoint's.
        assert_eq!(body["keep_alive"], json!(0));
        let json_mode =
            ChatOptions { response_format: Some(ResponseFormat::JsonObject), ..ChatOptions::default() };
        let body = request_body(&[Message::user("hi")], &json_mode, defaults(&Map::new()), false);
        assert_eq!(body["format"], json!("json"));
        assert!(body.get("options").is_none() && body.get("keep_alive").is_none());
    }

    #[test]
    fn done_reasons() {
        assert_eq!(finish_reason(Some("stop"), false), FinishReason::Stop);
        assert_eq!(finish_reason(Some("stop"), true), FinishReason::ToolCalls);
        assert_eq!(finish_reason(None, false), FinishReason::Stop);
        assert_eq!(finish_reason(Some("length"), true), FinishReason::Length);
        assert_eq!(finish_reason(Some("unload"), false), FinishReason::Other("unload".into()));
    }
}
