//! The Messages API's JSON: request bodies from Weft's messages and options, and answers back
//! into Weft's contents.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use weft_core::{
    ChatOptions, ChatResponse, Content, FinishReason, FunctionCall, FunctionResult, HostedTool, Message,
    ResponseFormat, Role, ToolChoice, Usage,
};

/// What a request body is made of besides the messages and options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyDefaults<'a> {
    pub(crate) model: &'a str,
    pub(crate) max_tokens: u32,
    pub(crate) thinking_budget: Option<u32>,
}

/// The request body of `POST /v1/messages`.
///
/// System messages become `system`; tool results (role `tool`, or inside a user message)
/// become `tool_result` blocks of a user message; consecutive messages of one role are merged
/// (the API wants a tool use's results in the very next user message, all of them). Reasoning
/// goes back as `thinking` blocks only with its signature (the API rejects unsigned ones).
pub(crate) fn request_body(
    messages: &[Message],
    options: &ChatOptions,
    defaults: BodyDefaults<'_>,
    stream: bool,
) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(defaults.model));
    let system: Vec<String> = messages
        .iter()
        .filter(|message| message.role == Role::System)
        .map(Message::text)
        .filter(|text| !text.is_empty())
        .collect();
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert("messages".into(), Value::Array(weft_provider::wire::merged_turns(messages, block)));
    let mut max_tokens = options.max_tokens.unwrap_or(defaults.max_tokens);
    if !options.extra.contains_key("thinking") {
        if let Some(budget) = defaults.thinking_budget {
            body.insert("thinking".into(), json!({"type": "enabled", "budget_tokens": budget}));
            if max_tokens <= budget {
                max_tokens = budget.saturating_add(max_tokens);
            }
        }
    }
    body.insert("max_tokens".into(), json!(max_tokens));
    if let Some(temperature) = options.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = options.top_p {
        body.insert("top_p".into(), json!(top_p));
    }
    if !options.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(options.stop));
    }
    if !options.tools.is_empty() || !options.hosted_tools.is_empty() {
        let tools: Vec<Value> = options
            .tools
            .iter()
            .map(|tool| json!({"name": tool.name, "description": tool.description, "input_schema": tool.parameters}))
            .chain(options.hosted_tools.iter().filter_map(server_tool))
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    let no_parallel = options.parallel_tool_calls == Some(false);
    let mut choice = match &options.tool_choice {
        Some(ToolChoice::Auto) => Some(json!({"type": "auto"})),
        Some(ToolChoice::None) => Some(json!({"type": "none"})),
        Some(ToolChoice::Required) => Some(json!({"type": "any"})),
        Some(ToolChoice::Function(name)) => Some(json!({"type": "tool", "name": name})),
        None if no_parallel && !options.tools.is_empty() => Some(json!({"type": "auto"})),
        None => None,
    };
    if let Some(Value::Object(choice)) = &mut choice {
        if no_parallel && choice.get("type") != Some(&json!("none")) {
            choice.insert("disable_parallel_tool_use".into(), json!(true));
        }
    }
    if let Some(choice) = choice {
        body.insert("tool_choice".into(), choice);
    }
    if let Some(ResponseFormat::JsonSchema { schema, .. }) = &options.response_format {
        body.insert("output_config".into(), json!({"format": {"type": "json_schema", "schema": schema}}));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    for (key, value) in &options.extra {
        body.insert(key.clone(), value.clone());
    }
    Value::Object(body)
}

/// One content as a content block, or `None` for what the API has no block for.
fn block(role: Role, content: &Content) -> Option<Value> {
    Some(match content {
        Content::Text { text } if text.is_empty() => return None,
        Content::Text { text } => json!({"type": "text", "text": text}),
        Content::Reasoning { text, signature: Some(signature) } if role == Role::Assistant => {
            json!({"type": "thinking", "thinking": text, "signature": signature})
        }
        Content::FunctionCall(call) if role == Role::Assistant => {
            let input = match &call.arguments {
                Value::Object(_) => call.arguments.clone(),
                // Arguments that were not a JSON object: the API takes objects only.
                other => json!({"arguments": other}),
            };
            json!({"type": "tool_use", "id": call.call_id, "name": call.name, "input": input})
        }
        Content::FunctionResult(result) => tool_result(result),
        Content::Data { media_type, base64 } => {
            media_block(media_type, json!({"type": "base64", "media_type": media_type, "data": base64}))?
        }
        Content::Uri { uri, media_type } => {
            media_block(media_type.as_deref().unwrap_or("image/*"), json!({"type": "url", "url": uri}))?
        }
        _ => return None,
    })
}

/// An image or a PDF document block with its source.
fn media_block(media_type: &str, source: Value) -> Option<Value> {
    if media_type.starts_with("image/") {
        Some(json!({"type": "image", "source": source}))
    } else if media_type == "application/pdf" {
        Some(json!({"type": "document", "source": source}))
    } else {
        tracing::warn!(media_type, "the Messages API takes images and PDF documents; content left out");
        None
    }
}

/// A function result as a `tool_result` block: its text, and its images.
fn tool_result(result: &FunctionResult) -> Value {
    let text = result.to_model_text();
    let media: Vec<Value> = result
        .contents
        .iter()
        .filter_map(|content| match content {
            Content::Data { .. } | Content::Uri { .. } => block(Role::User, content),
            _ => None,
        })
        .collect();
    let content = if media.is_empty() {
        json!(text)
    } else {
        let mut blocks = vec![json!({"type": "text", "text": text})];
        blocks.extend(media);
        Value::Array(blocks)
    };
    let mut block = json!({"type": "tool_result", "tool_use_id": result.call_id, "content": content});
    if result.is_error() {
        block["is_error"] = json!(true);
    }
    block
}

/// A whole answer: `{"type": "message", "content": [...], "stop_reason", "usage"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireMessage {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) model: Option<String>,
    #[serde(default)]
    pub(crate) content: Vec<Value>,
    #[serde(default)]
    pub(crate) stop_reason: Option<String>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
}

/// The API's token counts. `input_tokens` leaves out the cached ones.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub(crate) input_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) output_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Later counts over earlier ones (a stream's `message_delta` over its `message_start`).
    pub(crate) fn update(&mut self, later: &WireUsage) {
        self.input_tokens = later.input_tokens.or(self.input_tokens);
        self.output_tokens = later.output_tokens.or(self.output_tokens);
        self.cache_creation_input_tokens =
            later.cache_creation_input_tokens.or(self.cache_creation_input_tokens);
        self.cache_read_input_tokens = later.cache_read_input_tokens.or(self.cache_read_input_tokens);
    }

    /// As a Weft usage, whose input tokens count the cached ones too.
    pub(crate) fn to_usage(self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let created = self.cache_creation_input_tokens.unwrap_or(0);
        // Saturating: the counts are the server's, and no count it sends may panic the client.
        let input = self.input_tokens.unwrap_or(0).saturating_add(read).saturating_add(created);
        let output = self.output_tokens.unwrap_or(0);
        Usage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: input.saturating_add(output),
            cache_read_input_tokens: read,
            cache_creation_input_tokens: created,
        }
    }
}

/// A stop reason as a finish reason: `end_turn` and `stop_sequence` stop, `max_tokens` (and
/// `model_context_window_exceeded`) is the length, `tool_use` asks for tools, `refusal` is a
/// content filter; others (`pause_turn`) keep their name.
pub(crate) fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_string()),
    }
}

/// One content block of an answer as Weft content (`None` for blocks Weft has no use for).
pub(crate) fn content(block: &Value) -> Option<Content> {
    let text = |field: &str| block.get(field).and_then(Value::as_str).unwrap_or("").to_string();
    match block.get("type").and_then(Value::as_str)? {
        "text" => Some(Content::text(text("text"))),
        "thinking" => {
            let signature = Some(text("signature")).filter(|signature| !signature.is_empty());
            Some(Content::Reasoning { text: text("thinking"), signature })
        }
        "tool_use" => {
            let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
            Some(Content::FunctionCall(FunctionCall::new(text("id"), text("name"), input)))
        }
        other => {
            tracing::debug!(block = other, "ignoring a content block Weft does not use");
            None
        }
    }
}

/// A whole answer as a response.
pub(crate) fn to_response(message: WireMessage) -> ChatResponse {
    let contents: Vec<Content> = message.content.iter().filter_map(content).collect();
    let usage = message.usage.map(WireUsage::to_usage);
    let has_calls = contents.iter().any(|content| matches!(content, Content::FunctionCall(_)));
    let finish_reason = match message.stop_reason.as_deref() {
        Some(reason) => finish_reason(reason),
        None if has_calls => FinishReason::ToolCalls,
        None => FinishReason::Stop,
    };
    ChatResponse {
        messages: vec![Message::new(Role::Assistant, contents)],
        response_id: message.id,
        model: message.model,
        finish_reason: Some(finish_reason),
        usage,
    }
}

/// The hosted tools Anthropic runs as server tools (see [`server_tool`]).
pub(crate) const SERVER_TOOLS: [&str; 1] = ["web_search"];

/// A hosted tool as Anthropic's server tool: web search is `{"type": "web_search_20250305",
/// "name": "web_search", …options}` (e.g. `max_uses`, `allowed_domains`); the others are not
/// server tools (the client refuses them before building the body, see [`SERVER_TOOLS`]).
/// The response's `server_tool_use` and `web_search_tool_result` blocks are not Weft contents:
/// they are skipped, and the model's text that follows them is the answer.
pub(crate) fn server_tool(tool: &HostedTool) -> Option<Value> {
    match tool {
        HostedTool::WebSearch { options } => {
            let mut body = Map::new();
            body.insert("type".into(), json!("web_search_20250305"));
            body.insert("name".into(), json!("web_search"));
            body.extend(options.clone());
            Some(Value::Object(body))
        }
        HostedTool::FileSearch { .. } | HostedTool::CodeInterpreter { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use weft_core::ToolDefinition;

    use super::*;

    #[test]
    fn huge_token_counts_saturate_instead_of_overflowing() {
        let wire = WireUsage {
            input_tokens: Some(u64::MAX),
            output_tokens: Some(u64::MAX - 1),
            cache_creation_input_tokens: Some(u64::MAX),
            cache_read_input_tokens: Some(2),
        };
        let usage = wire.to_usage();
        assert_eq!((usage.input_tokens, usage.total_tokens), (u64::MAX, u64::MAX));
        assert_eq!((usage.output_tokens, usage.cache_read_input_tokens), (u64::MAX - 1, 2));
    }

    fn defaults() -> BodyDefaults<'static> {
        BodyDefaults { model: "claude", max_tokens: 1024, thinking_budget: None }
    }

    #[test]
    fn a_tool_round_trip_with_parallel_calls_and_thinking() {
        let messages = vec![
            Message::system("Be brief."),
            Message::user("Weather in Paris and Rome?"),
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
            parallel_tool_calls: Some(false),
            stop: vec!["END".into()],
            ..ChatOptions::default()
        };
        let body = request_body(&messages, &options, defaults(), true);
        assert_eq!(
            body,
            json!({
                "model": "claude",
                "system": "Be brief.",
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
                    {"role": "assistant", "content": [
                        {"type": "thinking", "thinking": "Two cities.", "signature": "sig"},
                        {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Paris"}},
                        {"type": "tool_use", "id": "t2", "name": "get_weather", "input": {"city": "Rome"}},
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "t1", "content": "sunny"},
                        {"type": "tool_result", "tool_use_id": "t2", "content": "Error: down", "is_error": true},
                    ]},
                ],
                "max_tokens": 1024,
                "stop_sequences": ["END"],
                "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
                "stream": true,
            })
        );
    }

    #[test]
    fn images_thinking_budget_structured_output_and_extras() {
        let messages = vec![Message::new(
            Role::User,
            vec![
                Content::text("What is this?"),
                Content::Data { media_type: "image/png".into(), base64: "iVBOR".into() },
                Content::Uri { uri: "https://x.test/a.jpg".into(), media_type: Some("image/jpeg".into()) },
            ],
        )];
        let mut options = ChatOptions {
            response_format: Some(ResponseFormat::JsonSchema {
                name: "answer".into(),
                schema: json!({"type": "object"}),
                strict: true,
            }),
            max_tokens: Some(100),
            ..ChatOptions::default()
        };
        let body = request_body(
            &messages,
            &options,
            BodyDefaults { thinking_budget: Some(2000), ..defaults() },
            false,
        );
        assert_eq!(
            body["messages"][0]["content"][1],
            json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}})
        );
        assert_eq!(
            body["messages"][0]["content"][2],
            json!({"type": "image", "source": {"type": "url", "url": "https://x.test/a.jpg"}})
        );
        assert_eq!(body["thinking"], json!({"type": "enabled", "budget_tokens": 2000}));
        assert_eq!(body["max_tokens"], json!(2100));
        assert_eq!(
            body["output_config"],
            json!({"format": {"type": "json_schema", "schema": {"type": "object"}}})
        );
        assert!(body.get("stream").is_none());
        // A request's own thinking wins over the builder's budget.
        options.extra.insert("thinking".into(), json!({"type": "disabled"}));
        let body = request_body(
            &messages,
            &options,
            BodyDefaults { thinking_budget: Some(2000), ..defaults() },
            false,
        );
        assert_eq!(
            (body["thinking"].clone(), body["max_tokens"].clone()),
            (json!({"type": "disabled"}), json!(100))
        );
    }

    #[test]
    fn an_answer_with_thinking_tools_and_cached_usage() {
        let message: WireMessage = serde_json::from_value(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
            "content": [
                {"type": "thinking", "thinking": "Hmm.", "signature": "EqQB"},
                {"type": "redacted_thinking", "data": "xyz"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 10, "cache_creation_input_tokens": 20, "cache_read_input_tokens": 30, "output_tokens": 5},
        }))
        .unwrap();
        let response = to_response(message);
        assert_eq!(
            response.messages[0].contents,
            vec![
                Content::Reasoning { text: "Hmm.".into(), signature: Some("EqQB".into()) },
                Content::text("Checking."),
                Content::FunctionCall(FunctionCall::new("toolu_1", "get_weather", json!({"city": "Paris"}))),
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
        assert_eq!(finish_reason("max_tokens"), FinishReason::Length);
        assert_eq!(finish_reason("refusal"), FinishReason::ContentFilter);
        assert_eq!(finish_reason("stop_sequence"), FinishReason::Stop);
        assert_eq!(finish_reason("pause_turn"), FinishReason::Other("pause_turn".into()));
    }

    #[test]
    fn web_search_is_a_server_tool_and_its_blocks_are_skipped() {
        let options = ChatOptions {
            tools: vec![ToolDefinition::new("get_weather", "Weather", json!({"type": "object"}))],
            hosted_tools: vec![HostedTool::WebSearch {
                options: serde_json::from_value(json!({"max_uses": 5})).unwrap(),
            }],
            ..ChatOptions::default()
        };
        let body =
            request_body(&[Message::user("When was Claude Shannon born?")], &options, defaults(), false);
        assert_eq!(
            body["tools"],
            json!([
                {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}},
                {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
            ])
        );
        assert_eq!(server_tool(&HostedTool::CodeInterpreter { file_ids: vec![] }), None);
        // The answer from Anthropic's web search tool documentation (citations left out).
        let message: WireMessage = serde_json::from_value(json!({
            "role": "assistant",
            "content": [
                {"type": "text", "text": "I'll search for when Claude Shannon was born."},
                {"type": "server_tool_use", "id": "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE", "name": "web_search",
                 "input": {"query": "claude shannon birth date"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE",
                 "content": [{"type": "web_search_result", "url": "https://en.wikipedia.org/wiki/Claude_Shannon",
                              "title": "Claude Shannon - Wikipedia",
                              "encrypted_content": "EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y2E...",
                              "page_age": "April 30, 2025"}]},
                {"text": "Based on the search results, ", "type": "text"},
                {"text": "Claude Shannon was born on April 30, 1916, in Petoskey, Michigan", "type": "text"},
            ],
            "id": "msg_a930390d3a",
            "usage": {"input_tokens": 6039, "output_tokens": 931, "server_tool_use": {"web_search_requests": 1}},
            "stop_reason": "end_turn",
        }))
        .unwrap();
        let response = to_response(message);
        assert_eq!(
            response.messages[0].contents,
            vec![
                Content::text("I'll search for when Claude Shannon was born."),
                Content::text("Based on the search results, "),
                Content::text("Claude Shannon was born on April 30, 1916, in Petoskey, Michigan"),
            ]
        );
        assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    }
}
