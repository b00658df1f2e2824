//! Chat Completions on the wire: the request body we send and the (lenient) answer shapes.

use std::borrow::Cow;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};
use weft_core::{
    ChatOptions, ChatResponse, Content, FinishReason, FunctionCall, Message, ResponseFormat, Role,
    ToolChoice, ToolDefinition,
};

use crate::wire::{
    ArgumentsText, BodyMap, WireUsage, arguments_text, content_text, f32_json, fresh_id, image_url,
    is_image_content, null_default,
};

/// The request body for `POST /chat/completions`, written straight from the messages and
/// options when serialized.
pub(crate) struct ChatBody<'a> {
    pub(crate) messages: &'a [Message],
    pub(crate) options: &'a ChatOptions,
    pub(crate) model: &'a str,
    pub(crate) stream: bool,
}

/// The request body for `POST /chat/completions`, as JSON bytes.
pub(crate) fn encode_body(
    messages: &[Message],
    options: &ChatOptions,
    model: &str,
    stream: bool,
) -> Result<Vec<u8>, serde_json::Error> {
    crate::wire::encode(&ChatBody { messages, options, model, stream })
}

/// The request body for `POST /chat/completions`, as a JSON value (for inspection).
pub(crate) fn request_body(
    messages: &[Message],
    options: &ChatOptions,
    model: &str,
    stream: bool,
) -> Result<Value, serde_json::Error> {
    serde_json::to_value(ChatBody { messages, options, model, stream })
}

impl Serialize for ChatBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let options = self.options;
        let mut body = BodyMap::new(serializer.serialize_map(None)?, &options.extra);
        body.entry("model", self.model)?;
        body.entry("messages", &Messages(self.messages))?;
        if let Some(temperature) = options.temperature {
            body.entry("temperature", &f32_json(temperature))?;
        }
        if let Some(top_p) = options.top_p {
            body.entry("top_p", &f32_json(top_p))?;
        }
        if let Some(max_tokens) = options.max_tokens {
            body.entry("max_tokens", &max_tokens)?;
        }
        if !options.stop.is_empty() {
            body.entry("stop", &options.stop)?;
        }
        if let Some(seed) = options.seed {
            body.entry("seed", &seed)?;
        }
        if !options.tools.is_empty() {
            body.entry("tools", &Tools(&options.tools))?;
        }
        if let Some(choice) = &options.tool_choice {
            let choice = match choice {
                ToolChoice::Auto => json!("auto"),
                ToolChoice::None => json!("none"),
                ToolChoice::Required => json!("required"),
                ToolChoice::Function(name) => json!({"type": "function", "function": {"name": name}}),
            };
            body.entry("tool_choice", &choice)?;
        }
        if let Some(parallel) = options.parallel_tool_calls {
            body.entry("parallel_tool_calls", &parallel)?;
        }
        if let Some(format) = &options.response_format {
            body.entry("response_format", &Format(format))?;
        }
        if self.stream {
            body.entry("stream", &true)?;
            body.entry("stream_options", &StreamOptions { include_usage: true })?;
        }
        body.end()
    }
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// `tools`: each as `{"type": "function", "function": {name, description, parameters}}`.
struct Tools<'a>(&'a [ToolDefinition]);

impl Serialize for Tools<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tool<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            function: Function<'a>,
        }
        #[derive(Serialize)]
        struct Function<'a> {
            name: &'a str,
            description: &'a str,
            parameters: &'a Value,
        }
        serializer.collect_seq(self.0.iter().map(|tool| Tool {
            kind: "function",
            function: Function {
                name: &tool.name,
                description: &tool.description,
                parameters: &tool.parameters,
            },
        }))
    }
}

/// `response_format`.
struct Format<'a>(&'a ResponseFormat);

impl Serialize for Format<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Schema<'a> {
            name: &'a str,
            schema: &'a Value,
            strict: bool,
        }
        let mut map = serializer.serialize_map(None)?;
        match self.0 {
            ResponseFormat::Text => map.serialize_entry("type", "text")?,
            ResponseFormat::JsonObject => map.serialize_entry("type", "json_object")?,
            ResponseFormat::JsonSchema { name, schema, strict } => {
                map.serialize_entry("type", "json_schema")?;
                map.serialize_entry("json_schema", &Schema { name, schema, strict: *strict })?;
            }
        }
        map.end()
    }
}

/// `messages`: each Weft message as Chat Completions messages (see [`write_message`]).
struct Messages<'a>(&'a [Message]);

impl Serialize for Messages<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for message in self.0 {
            write_message(&mut seq, message)?;
        }
        seq.end()
    }
}

/// Whether `content` goes into a message's parts as an image (only users send images).
fn is_image_part(content: &Content, role: Role) -> bool {
    role == Role::User && is_image_content(content)
}

/// One Weft message as Chat Completions messages: its text, images and calls as one message,
/// then its function results as `tool` messages (results answer calls of earlier messages, so
/// they follow this message's own parts). Reasoning, usage, approvals and errors are not sent
/// back to the model.
fn write_message<S: SerializeSeq>(seq: &mut S, message: &Message) -> Result<(), S::Error> {
    let mut text: Cow<'_, str> = Cow::Borrowed("");
    let mut has_image = false;
    let mut has_calls = false;
    for content in &message.contents {
        match content {
            Content::Text { text: piece } => {
                if text.is_empty() {
                    text = Cow::Borrowed(piece);
                } else {
                    text.to_mut().push_str(piece);
                }
            }
            Content::FunctionCall(_) => has_calls = true,
            Content::Data { .. } | Content::Uri { .. } => {
                if is_image_part(content, message.role) {
                    has_image = true;
                } else {
                    tracing::debug!(role = %message.role, "skipping a data/uri content Chat Completions cannot take here")
                }
            }
            _ => {}
        }
    }
    let role = match message.role {
        Role::System => Some("system"),
        Role::User => Some("user"),
        Role::Assistant => Some("assistant"),
        // Tool messages carry only results.
        Role::Tool => {
            if !text.is_empty() {
                tracing::debug!("skipping text in a tool message: Chat Completions needs a tool_call_id");
            }
            None
        }
    };
    if let Some(role) = role.filter(|_| !text.is_empty() || has_image || has_calls) {
        seq.serialize_element(&MessageOut { role, message, text: &text, has_image, has_calls })?;
    }
    for content in &message.contents {
        if let Content::FunctionResult(result) = content {
            seq.serialize_element(&ToolMessage {
                role: "tool",
                tool_call_id: &result.call_id,
                content: result.to_model_text(),
            })?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct ToolMessage<'a> {
    role: &'static str,
    tool_call_id: &'a str,
    content: String,
}

/// A message's own part: `{"role", "content", "tool_calls"?}`. The content is the parts when
/// there are images, else the text (`null` when there is none).
struct MessageOut<'a> {
    role: &'static str,
    message: &'a Message,
    text: &'a str,
    has_image: bool,
    has_calls: bool,
}

impl Serialize for MessageOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("role", self.role)?;
        if self.has_image {
            map.serialize_entry("content", &Parts(self.message))?;
        } else if self.text.is_empty() {
            map.serialize_entry("content", &())?;
        } else {
            map.serialize_entry("content", self.text)?;
        }
        if self.has_calls {
            map.serialize_entry("tool_calls", &ToolCalls(self.message))?;
        }
        map.end()
    }
}

/// A user message's text and image parts, in order.
struct Parts<'a>(&'a Message);

impl Serialize for Parts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for content in &self.0.contents {
            match content {
                Content::Text { text } => seq.serialize_element(&json!({"type": "text", "text": text}))?,
                Content::Data { .. } | Content::Uri { .. } if is_image_part(content, self.0.role) => {
                    if let Some(url) = image_url(content) {
                        seq.serialize_element(&json!({"type": "image_url", "image_url": {"url": url}}))?;
                    }
                }
                _ => {}
            }
        }
        seq.end()
    }
}

/// A message's function calls as `tool_calls`.
struct ToolCalls<'a>(&'a Message);

impl Serialize for ToolCalls<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Call<'a> {
            id: &'a str,
            #[serde(rename = "type")]
            kind: &'static str,
            function: Function<'a>,
        }
        #[derive(Serialize)]
        struct Function<'a> {
            name: &'a str,
            arguments: ArgumentsText<'a>,
        }
        serializer.collect_seq(self.0.contents.iter().filter_map(|content| match content {
            Content::FunctionCall(call) => Some(Call {
                id: &call.call_id,
                kind: "function",
                function: Function { name: &call.name, arguments: ArgumentsText(&call.arguments) },
            }),
            _ => None,
        }))
    }
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
    pub(crate) error: Option<Box<Value>>,
}

/// One choice; `message` in full answers, `delta` in chunks.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Choice {
    pub(crate) index: Option<u32>,
    /// Boxed: a streamed chunk has only `delta`, and each chunk's choice is moved a few times
    /// on its way out of the decoder.
    pub(crate) message: Option<Box<WireMessage>>,
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
                contents.push(Content::Reasoning { text: reasoning, signature: None });
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
        let body = request_body(&messages, &ChatOptions::default(), "m", false).unwrap();
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
