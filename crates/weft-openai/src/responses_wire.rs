//! The Responses API on the wire: the request body we send and the (lenient) answer shapes.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};
use weft_core::{
    ChatOptions, ChatResponse, Content, FinishReason, FunctionCall, HostedTool, Message, ResponseFormat,
    Role, ToolChoice, ToolDefinition,
};

use crate::wire::{
    ArgumentsText, BodyMap, WireUsage, arguments_text, f32_json, fresh_id, image_url, is_image_content,
    null_default,
};

/// The request body for `POST /responses`, written straight from the messages and options when
/// serialized. The whole history goes in `input` and `store` is false: the server keeps no state
/// between calls. `stop` and `seed` have no Responses equivalent and are not sent (put them in
/// `extra` for servers that take them).
pub(crate) struct ResponsesBody<'a> {
    pub(crate) messages: &'a [Message],
    pub(crate) options: &'a ChatOptions,
    pub(crate) model: &'a str,
    pub(crate) stream: bool,
}

/// The request body for `POST /responses`, as JSON bytes.
pub(crate) fn encode_body(
    messages: &[Message],
    options: &ChatOptions,
    model: &str,
    stream: bool,
) -> Result<Vec<u8>, serde_json::Error> {
    crate::wire::encode(&ResponsesBody { messages, options, model, stream })
}

/// The request body for `POST /responses`, as a JSON value (for inspection).
pub(crate) fn request_body(
    messages: &[Message],
    options: &ChatOptions,
    model: &str,
    stream: bool,
) -> Result<Value, serde_json::Error> {
    serde_json::to_value(ResponsesBody { messages, options, model, stream })
}

/// The `max_output_tokens` the body for `options` asks for (an extra of that name wins, as in
/// the body).
pub(crate) fn max_output_tokens(options: &ChatOptions) -> Option<u64> {
    match options.extra.get("max_output_tokens") {
        Some(extra) => extra.as_u64(),
        None => options.max_tokens.map(u64::from),
    }
}

impl Serialize for ResponsesBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let options = self.options;
        let mut body = BodyMap::new(serializer.serialize_map(None)?, &options.extra);
        body.entry("model", self.model)?;
        body.entry("input", &Input(self.messages))?;
        body.entry("store", &false)?;
        if let Some(temperature) = options.temperature {
            body.entry("temperature", &f32_json(temperature))?;
        }
        if let Some(top_p) = options.top_p {
            body.entry("top_p", &f32_json(top_p))?;
        }
        if let Some(max_tokens) = options.max_tokens {
            body.entry("max_output_tokens", &max_tokens)?;
        }
        if !options.stop.is_empty() || options.seed.is_some() {
            tracing::debug!("the Responses API takes no stop sequences or seed; not sent");
        }
        if !options.tools.is_empty() || !options.hosted_tools.is_empty() {
            body.entry("tools", &Tools(&options.tools, &options.hosted_tools))?;
        }
        if let Some(choice) = &options.tool_choice {
            let choice = match choice {
                ToolChoice::Auto => json!("auto"),
                ToolChoice::None => json!("none"),
                ToolChoice::Required => json!("required"),
                ToolChoice::Function(name) => json!({"type": "function", "name": name}),
            };
            body.entry("tool_choice", &choice)?;
        }
        if let Some(parallel) = options.parallel_tool_calls {
            body.entry("parallel_tool_calls", &parallel)?;
        }
        if let Some(format) = &options.response_format {
            body.entry("text", &TextFormat(format))?;
        }
        if self.stream {
            body.entry("stream", &true)?;
        }
        body.end()
    }
}

/// `tools`: each function as `{"type": "function", name, description, parameters, "strict":
/// false}`, then each hosted tool in its documented form (see [`hosted_tool`]).
struct Tools<'a>(&'a [ToolDefinition], &'a [HostedTool]);

impl Serialize for Tools<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tool<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            name: &'a str,
            description: &'a str,
            parameters: &'a Value,
            strict: bool,
        }
        let mut seq = serializer.serialize_seq(Some(self.0.len() + self.1.len()))?;
        for tool in self.0 {
            seq.serialize_element(&Tool {
                kind: "function",
                name: &tool.name,
                description: &tool.description,
                parameters: &tool.parameters,
                strict: false,
            })?;
        }
        for tool in self.1 {
            seq.serialize_element(&hosted_tool(tool))?;
        }
        seq.end()
    }
}

/// A hosted tool as the Responses API takes it: `{"type": "web_search", …options}`,
/// `{"type": "file_search", "vector_store_ids", "max_num_results", "ranking_options": {"ranker",
/// "score_threshold"}, "filters"}` or `{"type": "code_interpreter", "container": {"type": "auto",
/// "file_ids"}}`.
pub(crate) fn hosted_tool(tool: &HostedTool) -> Value {
    match tool {
        HostedTool::WebSearch { options } => {
            let mut body = options.clone();
            body.insert("type".into(), json!("web_search"));
            Value::Object(body)
        }
        HostedTool::FileSearch { vector_store_ids, max_results, ranker, score_threshold, filters } => {
            let mut body = serde_json::Map::new();
            body.insert("type".into(), json!("file_search"));
            body.insert("vector_store_ids".into(), json!(vector_store_ids));
            if let Some(max) = max_results {
                body.insert("max_num_results".into(), json!(max));
            }
            let mut ranking = serde_json::Map::new();
            if let Some(ranker) = ranker {
                ranking.insert("ranker".into(), json!(ranker));
            }
            if let Some(threshold) = score_threshold {
                ranking.insert("score_threshold".into(), json!(threshold));
            }
            if !ranking.is_empty() {
                body.insert("ranking_options".into(), Value::Object(ranking));
            }
            if let Some(filters) = filters {
                body.insert("filters".into(), filters.clone());
            }
            Value::Object(body)
        }
        HostedTool::CodeInterpreter { file_ids } => {
            json!({"type": "code_interpreter", "container": {"type": "auto", "file_ids": file_ids}})
        }
    }
}

/// `text`: `{"format": …}`.
struct TextFormat<'a>(&'a ResponseFormat);

impl Serialize for TextFormat<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Format<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            name: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            schema: Option<&'a Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            strict: Option<bool>,
        }
        let format = match self.0 {
            ResponseFormat::Text => Format { kind: "text", name: None, schema: None, strict: None },
            ResponseFormat::JsonObject => {
                Format { kind: "json_object", name: None, schema: None, strict: None }
            }
            ResponseFormat::JsonSchema { name, schema, strict } => {
                Format { kind: "json_schema", name: Some(name), schema: Some(schema), strict: Some(*strict) }
            }
        };
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("format", &format)?;
        map.end()
    }
}

/// `input`: each Weft message as Responses input items (see [`write_items`]).
struct Input<'a>(&'a [Message]);

impl Serialize for Input<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for message in self.0 {
            write_items(&mut seq, message)?;
        }
        seq.end()
    }
}

/// Whether `content` is a part of a message item: text (except in tool messages, which carry
/// only results) and images (only users send them).
fn is_part(content: &Content, role: Role) -> bool {
    match content {
        Content::Text { .. } => role != Role::Tool,
        Content::Data { .. } | Content::Uri { .. } => role == Role::User && is_image_content(content),
        _ => false,
    }
}

/// One Weft message as Responses input items, in content order: runs of text and images become
/// message items, calls `function_call` items, results `function_call_output` items.
/// Reasoning, usage, approvals and errors are not sent back to the model.
fn write_items<S: SerializeSeq>(seq: &mut S, message: &Message) -> Result<(), S::Error> {
    let role = match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "user",
    };
    // The start of the run of parts not yet written.
    let mut run: Option<usize> = None;
    for (index, content) in message.contents.iter().enumerate() {
        match content {
            Content::FunctionCall(call) => {
                if let Some(start) = run.take() {
                    seq.serialize_element(&MessageItem { role, message, contents: start..index })?;
                }
                seq.serialize_element(&CallItem {
                    kind: "function_call",
                    call_id: &call.call_id,
                    name: &call.name,
                    arguments: ArgumentsText(&call.arguments),
                })?;
            }
            Content::FunctionResult(result) => {
                if let Some(start) = run.take() {
                    seq.serialize_element(&MessageItem { role, message, contents: start..index })?;
                }
                seq.serialize_element(&OutputItemOut {
                    kind: "function_call_output",
                    call_id: &result.call_id,
                    output: result.to_model_text(),
                })?;
            }
            _ if is_part(content, message.role) => {
                run.get_or_insert(index);
            }
            Content::Data { .. } | Content::Uri { .. } => {
                tracing::debug!(role = %message.role, "skipping a data/uri content the Responses API cannot take here")
            }
            _ => {}
        }
    }
    if let Some(start) = run {
        seq.serialize_element(&MessageItem { role, message, contents: start..message.contents.len() })?;
    }
    Ok(())
}

#[derive(Serialize)]
struct CallItem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    call_id: &'a str,
    name: &'a str,
    arguments: ArgumentsText<'a>,
}

#[derive(Serialize)]
struct OutputItemOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    call_id: &'a str,
    output: String,
}

/// A message item of the parts among `contents`: `{"type": "message", role, content}`, the
/// content being the parts when there are images, else their text.
struct MessageItem<'a> {
    role: &'static str,
    message: &'a Message,
    contents: std::ops::Range<usize>,
}

impl Serialize for MessageItem<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let role = self.message.role;
        let parts = || {
            self.message.contents[self.contents.clone()].iter().filter(move |content| is_part(content, role))
        };
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", "message")?;
        map.serialize_entry("role", self.role)?;
        if parts().any(|content| !matches!(content, Content::Text { .. })) {
            map.serialize_entry("content", &ImageParts(parts))?;
        } else {
            let mut texts = parts().filter_map(Content::as_text);
            let first = texts.next().unwrap_or_default();
            match texts.next() {
                None => map.serialize_entry("content", first)?,
                Some(second) => {
                    let mut text = format!("{first}{second}");
                    text.extend(texts);
                    map.serialize_entry("content", &text)?;
                }
            }
        }
        map.end()
    }
}

/// The parts of a message item with images, in order.
struct ImageParts<F>(F);

impl<'a, F, I> Serialize for ImageParts<F>
where
    F: Fn() -> I,
    I: Iterator<Item = &'a Content>,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for content in (self.0)() {
            match content {
                Content::Text { text } => {
                    seq.serialize_element(&json!({"type": "input_text", "text": text}))?
                }
                _ => {
                    if let Some(url) = image_url(content) {
                        seq.serialize_element(&json!({"type": "input_image", "image_url": url}))?;
                    }
                }
            }
        }
        seq.end()
    }
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
    // The fields of the rare events are boxed: this struct is decoded once per streamed token,
    // and serde's visitor keeps a slot for every field on the stack, so a large struct costs
    // cache misses on every token (W4 responses, BENCHMARKS.md).
    pub(crate) item: Option<Box<OutputItem>>,
    pub(crate) response: Option<Box<WireResponse>>,
    /// `error` events: the error object, or its fields at the top level.
    pub(crate) error: Option<Box<Value>>,
    /// `error` events: the message.
    pub(crate) message: Option<Box<Value>>,
    /// `error` events: the code.
    pub(crate) code: Option<Box<Value>>,
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

    /// Its contents: text, refusals (as errors), reasoning, or the function call. Every other
    /// item is skipped, by rule: the provider's own hosted tool calls (`web_search_call`,
    /// `file_search_call`, `code_interpreter_call`, …) were run by the provider, and the message
    /// item after them carries the answer.
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
                    contents.push(Content::Reasoning { text: part_text.clone(), signature: None });
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
        let body = request_body(&messages, &ChatOptions::default(), "m", false).unwrap();
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
