//! Converse's JSON: request bodies from Weft's messages and options, and answers back into
//! Weft's contents.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use weft_core::{
    ChatError, ChatErrorKind, ChatOptions, ChatResponse, Content, FinishReason, FunctionCall, FunctionResult,
    Message, ResponseFormat, Role, ToolChoice, Usage,
};

/// The request body of `POST /model/{modelId}/converse` (and `/converse-stream`, the same).
///
/// System messages become `system`; tool results (role `tool`, or inside a user message)
/// become `toolResult` blocks of a user message; consecutive messages of one role are merged
/// (Converse wants strictly alternating turns, and a turn's tool results together). Reasoning
/// goes back as `reasoningContent` only with its signature (models reject unsigned ones).
pub(crate) fn request_body(messages: &[Message], options: &ChatOptions) -> Value {
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(weft_provider::wire::merged_turns(messages, block)));
    let system: Vec<Value> = messages
        .iter()
        .filter(|message| message.role == Role::System)
        .map(Message::text)
        .filter(|text| !text.is_empty())
        .map(|text| json!({"text": text}))
        .collect();
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    let mut inference = Map::new();
    if let Some(max_tokens) = options.max_tokens {
        inference.insert("maxTokens".into(), json!(max_tokens));
    }
    if let Some(temperature) = options.temperature {
        inference.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = options.top_p {
        inference.insert("topP".into(), json!(top_p));
    }
    if !options.stop.is_empty() {
        inference.insert("stopSequences".into(), json!(options.stop));
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    // Converse has no "none" choice: the tools are still described (a history with tool
    // calls needs them), and the model is left to choose.
    if !options.tools.is_empty() {
        let tools: Vec<Value> = options
            .tools
            .iter()
            .map(|tool| {
                json!({"toolSpec": {
                    "name": tool.name,
                    "description": tool.description,
                    "inputSchema": {"json": tool.parameters},
                }})
            })
            .collect();
        let mut config = Map::new();
        config.insert("tools".into(), Value::Array(tools));
        let choice = match &options.tool_choice {
            Some(ToolChoice::Auto) => Some(json!({"auto": {}})),
            Some(ToolChoice::Required) => Some(json!({"any": {}})),
            Some(ToolChoice::Function(name)) => Some(json!({"tool": {"name": name}})),
            Some(ToolChoice::None) | None => None,
        };
        if let Some(choice) = choice {
            config.insert("toolChoice".into(), choice);
        }
        body.insert("toolConfig".into(), Value::Object(config));
    }
    if let Some(format) = output_config(options.response_format.as_ref()) {
        body.insert("outputConfig".into(), format);
    }
    for (key, value) in &options.extra {
        body.insert(key.clone(), value.clone());
    }
    Value::Object(body)
}

/// Structured output as Converse's `outputConfig.textFormat` (type `json_schema`, the schema
/// as a JSON string in `structure.jsonSchema.schema`). Converse has no schema-less JSON
/// mode: [`ResponseFormat::JsonObject`] asks for any object through the same field.
fn output_config(format: Option<&ResponseFormat>) -> Option<Value> {
    let (name, schema) = match format? {
        ResponseFormat::Text => return None,
        ResponseFormat::JsonObject => ("json_object", json!({"type": "object"})),
        ResponseFormat::JsonSchema { name, schema, .. } => (name.as_str(), schema.clone()),
    };
    Some(json!({"textFormat": {
        "type": "json_schema",
        "structure": {"jsonSchema": {"schema": schema.to_string(), "name": name}}
    }}))
}

/// One content as a content block, or `None` for what Converse has no block for.
fn block(role: Role, content: &Content) -> Option<Value> {
    Some(match content {
        Content::Text { text } if text.is_empty() => return None,
        Content::Text { text } => json!({"text": text}),
        Content::Reasoning { text, signature: Some(signature) } if role == Role::Assistant => {
            json!({"reasoningContent": {"reasoningText": {"text": text, "signature": signature}}})
        }
        Content::FunctionCall(call) if role == Role::Assistant => {
            let input = match &call.arguments {
                Value::Object(_) => call.arguments.clone(),
                other => json!({"arguments": other}),
            };
            json!({"toolUse": {"toolUseId": call.call_id, "name": call.name, "input": input}})
        }
        Content::FunctionResult(result) => tool_result(result),
        Content::Data { media_type, base64 } => media_block(media_type, json!({"bytes": base64}))?,
        Content::Uri { uri, media_type } if uri.starts_with("s3://") => {
            media_block(media_type.as_deref().unwrap_or("image/png"), json!({"s3Location": {"uri": uri}}))?
        }
        Content::Uri { .. } => {
            tracing::warn!("Converse takes images by their bytes or an s3:// location; a URL is left out");
            return None;
        }
        _ => return None,
    })
}

/// An image, document or video block (`{"image": {"format": "png", "source": …}}`).
fn media_block(media_type: &str, source: Value) -> Option<Value> {
    let (kind, subtype) = media_type.split_once('/')?;
    let format = match subtype {
        "jpg" => "jpeg",
        "pdf" => "pdf",
        "plain" => "txt",
        "vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "quicktime" => "mov",
        other => other,
    };
    match (kind, format) {
        ("image", "png" | "jpeg" | "gif" | "webp") => {
            Some(json!({"image": {"format": format, "source": source}}))
        }
        ("video", _) => Some(json!({"video": {"format": format, "source": source}})),
        ("application" | "text", "pdf" | "csv" | "docx" | "xlsx" | "html" | "txt" | "md" | "markdown") => {
            Some(json!({"document": {"format": format, "name": "document", "source": source}}))
        }
        _ => {
            tracing::warn!(media_type, "Converse does not take this media type; content left out");
            None
        }
    }
}

/// A function result as a `toolResult` block: its text, and its images.
fn tool_result(result: &FunctionResult) -> Value {
    let mut content = vec![json!({"text": result.to_model_text()})];
    content.extend(result.contents.iter().filter_map(|content| match content {
        Content::Data { .. } | Content::Uri { .. } => block(Role::User, content),
        _ => None,
    }));
    let status = if result.is_error() { "error" } else { "success" };
    json!({"toolResult": {"toolUseId": result.call_id, "content": content, "status": status}})
}

/// A whole answer: `{"output": {"message": …}, "stopReason", "usage", "metrics"}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireAnswer {
    #[serde(default)]
    output: Option<WireOutput>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct WireOutput {
    #[serde(default)]
    message: Option<WireMessage>,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Vec<Value>,
}

/// Converse's token counts. `inputTokens` leaves out the cached ones.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_write_input_tokens: u64,
}

impl WireUsage {
    /// As a Weft usage, whose input tokens count the cached ones too.
    pub(crate) fn to_usage(self) -> Usage {
        let read = self.cache_read_input_tokens;
        let written = self.cache_write_input_tokens;
        let input = self.input_tokens.saturating_add(read).saturating_add(written);
        Usage {
            input_tokens: input,
            output_tokens: self.output_tokens,
            total_tokens: input.saturating_add(self.output_tokens),
            cache_read_input_tokens: read,
            cache_creation_input_tokens: written,
        }
    }
}

/// A stop reason as a finish reason: `end_turn` and `stop_sequence` stop, `max_tokens` (and
/// `model_context_window_exceeded`) is the length, `tool_use` asks for tools,
/// `guardrail_intervened` and `content_filtered` are content filters; others keep their name.
pub(crate) fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_string()),
    }
}

/// One content block of an answer as Weft content (`None` for blocks Weft has no use for).
fn content(block: &Value) -> Option<Content> {
    if let Some(text) = block.get("text").and_then(Value::as_str) {
        return Some(Content::text(text));
    }
    if let Some(tool) = block.get("toolUse") {
        let text = |field: &str| tool.get(field).and_then(Value::as_str).unwrap_or("").to_string();
        let input = tool.get("input").cloned().unwrap_or_else(|| json!({}));
        return Some(Content::FunctionCall(FunctionCall::new(text("toolUseId"), text("name"), input)));
    }
    if let Some(reasoning) = block.get("reasoningContent").and_then(|r| r.get("reasoningText")) {
        let text = reasoning.get("text").and_then(Value::as_str).unwrap_or("").to_string();
        let signature = reasoning.get("signature").and_then(Value::as_str).map(str::to_string);
        return Some(Content::Reasoning { text, signature });
    }
    tracing::debug!(?block, "ignoring a content block Weft does not use");
    None
}

/// A whole answer as a response.
pub(crate) fn to_response(answer: WireAnswer, model: &str) -> ChatResponse {
    let contents: Vec<Content> = answer
        .output
        .and_then(|output| output.message)
        .map(|message| message.content.iter().filter_map(content).collect())
        .unwrap_or_default();
    let has_calls = contents.iter().any(|content| matches!(content, Content::FunctionCall(_)));
    let finish_reason = match answer.stop_reason.as_deref() {
        Some(reason) => finish_reason(reason),
        None if has_calls => FinishReason::ToolCalls,
        None => FinishReason::Stop,
    };
    ChatResponse {
        messages: vec![Message::new(Role::Assistant, contents)],
        response_id: None,
        model: Some(model.to_string()),
        finish_reason: Some(finish_reason),
        usage: answer.usage.map(WireUsage::to_usage),
    }
}

/// An exception Bedrock names (`ThrottlingException`, or `throttlingException` inside a
/// stream) as an error: throttling and a model not ready are rate limits (retried before a
/// stream starts), validation and missing resources bad requests, access denied an
/// authentication failure, a model timeout a timeout, the rest server errors.
pub(crate) fn exception_error(label: &str, exception: &str, message: Option<String>) -> ChatError {
    let mut name = exception.to_string();
    if let Some(first) = name.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    let kind = match name.as_str() {
        "ThrottlingException" | "ModelNotReadyException" | "ServiceQuotaExceededException" => {
            ChatErrorKind::RateLimit
        }
        "ValidationException" | "ResourceNotFoundException" | "ModelErrorException" | "ConflictException" => {
            ChatErrorKind::BadRequest
        }
        "AccessDeniedException" | "UnrecognizedClientException" | "ExpiredTokenException" => {
            ChatErrorKind::Authentication
        }
        "ModelTimeoutException" => ChatErrorKind::Timeout,
        _ => ChatErrorKind::Server,
    };
    let message = message.unwrap_or_else(|| format!("Bedrock reported {name}"));
    let error = ChatError::new(kind, message).with_code(Some(name.clone())).with_provider(label);
    match name.as_str() {
        "ServiceQuotaExceededException" => error.with_retryable(false),
        "ModelTimeoutException" => error.with_retryable(true),
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use weft_core::ToolDefinition;

    use super::*;

    #[test]
    fn a_tool_round_trip_with_reasoning_images_and_options() {
        let messages = vec![
            Message::system("Be brief."),
            Message::new(
                Role::User,
                vec![
                    Content::text("Weather in Paris and Rome? And this:"),
                    Content::Data { media_type: "image/png".into(), base64: "iVBOR".into() },
                    Content::Uri {
                        uri: "https://x.test/a.jpg".into(),
                        media_type: Some("image/jpeg".into()),
                    },
                ],
            ),
            Message::new(
                Role::Assistant,
                vec![
                    Content::Reasoning { text: "Two cities.".into(), signature: Some("sig".into()) },
                    Content::Reasoning { text: "unsigned".into(), signature: None },
                    Content::FunctionCall(FunctionCall::new("t1", "get_weather", json!({"city": "Paris"}))),
                    Content::FunctionCall(FunctionCall::new("t2", "get_weather", json!({"city": "Rome"}))),
                ],
            ),
            Message::new(Role::Tool, vec![Content::FunctionResult(FunctionResult::ok("t1", json!("sunny")))]),
            Message::new(Role::Tool, vec![Content::FunctionResult(FunctionResult::error("t2", "down"))]),
        ];
        let options = ChatOptions {
            tools: vec![ToolDefinition::new("get_weather", "Weather", json!({"type": "object"}))],
            tool_choice: Some(ToolChoice::Required),
            max_tokens: Some(512),
            temperature: Some(0.5),
            stop: vec!["END".into()],
            ..ChatOptions::default()
        };
        let body = request_body(&messages, &options);
        assert_eq!(body["system"], json!([{"text": "Be brief."}]));
        assert_eq!(
            body["messages"][0]["content"],
            json!([
                {"text": "Weather in Paris and Rome? And this:"},
                {"image": {"format": "png", "source": {"bytes": "iVBOR"}}},
            ])
        );
        assert_eq!(
            body["messages"][1],
            json!({"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "Two cities.", "signature": "sig"}}},
                {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "t2", "name": "get_weather", "input": {"city": "Rome"}}},
            ]})
        );
        assert_eq!(
            body["messages"][2],
            json!({"role": "user", "content": [
                {"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}], "status": "success"}},
                {"toolResult": {"toolUseId": "t2", "content": [{"text": FunctionResult::error("t2", "down").to_model_text()}], "status": "error"}},
            ]})
        );
        assert_eq!(
            body["inferenceConfig"],
            json!({"maxTokens": 512, "temperature": 0.5, "stopSequences": ["END"]})
        );
        assert_eq!(
            body["toolConfig"],
            json!({
                "tools": [{"toolSpec": {"name": "get_weather", "description": "Weather", "inputSchema": {"json": {"type": "object"}}}}],
                "toolChoice": {"any": {}},
            })
        );
        let named = ChatOptions { tool_choice: Some(ToolChoice::Function("get_weather".into())), ..options };
        assert_eq!(
            request_body(&messages, &named)["toolConfig"]["toolChoice"],
            json!({"tool": {"name": "get_weather"}})
        );
        let plain = request_body(&[Message::user("hi")], &ChatOptions::default());
        assert_eq!(plain, json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}));
    }

    #[test]
    fn an_answer_with_reasoning_tools_and_cached_usage() {
        // The shape of the Converse API reference's response.
        let answer: WireAnswer = serde_json::from_value(json!({
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "Hmm.", "signature": "EqQB"}}},
                {"text": "Checking."},
                {"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "top_song", "input": {"sign": "WZPZ"}}},
            ]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 65, "cacheReadInputTokens": 30, "cacheWriteInputTokens": 20},
            "metrics": {"latencyMs": 1234},
        }))
        .unwrap();
        let response = to_response(answer, "anthropic.claude");
        assert_eq!(
            response.messages[0].contents,
            vec![
                Content::Reasoning { text: "Hmm.".into(), signature: Some("EqQB".into()) },
                Content::text("Checking."),
                Content::FunctionCall(FunctionCall::new(
                    "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
                    "top_song",
                    json!({"sign": "WZPZ"})
                )),
            ]
        );
        assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(
            response.usage,
            Some(Usage {
                input_tokens: 60,
                output_tokens: 5,
                total_tokens: 65,
                cache_read_input_tokens: 30,
                cache_creation_input_tokens: 20,
            })
        );
        assert_eq!(finish_reason("guardrail_intervened"), FinishReason::ContentFilter);
        assert_eq!(finish_reason("max_tokens"), FinishReason::Length);
        assert_eq!(finish_reason("stop_sequence"), FinishReason::Stop);
    }

    #[test]
    fn exceptions_map_to_kinds() {
        let err = exception_error("b", "throttlingException", Some("slow down".into()));
        assert_eq!(
            (err.kind(), err.code(), err.message()),
            (ChatErrorKind::RateLimit, Some("ThrottlingException"), "slow down")
        );
        assert!(err.is_retryable());
        assert_eq!(exception_error("b", "validationException", None).kind(), ChatErrorKind::BadRequest);
        assert_eq!(exception_error("b", "AccessDeniedException", None).kind(), ChatErrorKind::Authentication);
        let err = exception_error("b", "modelStreamErrorException", None);
        assert_eq!(
            (err.kind(), err.message()),
            (ChatErrorKind::Server, "Bedrock reported ModelStreamErrorException")
        );
        assert!(exception_error("b", "ModelTimeoutException", None).is_retryable());
        assert!(!exception_error("b", "ServiceQuotaExceededException", None).is_retryable());
    }

    /// AWS's `OutputConfig` → `OutputFormat` (`type: json_schema`) → `OutputFormatStructure`
    /// (`jsonSchema`) → `JsonSchemaDefinition` (`schema` a string, `name`).
    #[test]
    fn structured_output_is_output_config_with_the_schema_as_a_string() {
        let schema =
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
        let options = ChatOptions {
            response_format: Some(ResponseFormat::JsonSchema {
                name: "forecast".into(),
                schema: schema.clone(),
                strict: true,
            }),
            ..ChatOptions::default()
        };
        let body = request_body(&[Message::user("hi")], &options);
        let definition = &body["outputConfig"]["textFormat"];
        assert_eq!(definition["type"], "json_schema");
        assert_eq!(definition["structure"]["jsonSchema"]["name"], "forecast");
        let sent: Value =
            serde_json::from_str(definition["structure"]["jsonSchema"]["schema"].as_str().unwrap()).unwrap();
        assert_eq!(sent, schema);
        let text = ChatOptions { response_format: Some(ResponseFormat::Text), ..ChatOptions::default() };
        assert!(request_body(&[Message::user("hi")], &text).get("outputConfig").is_none());
    }
}
