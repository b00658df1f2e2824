//! The body of `generateContent` and `streamGenerateContent` from Weft's messages and options.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use weft_core::{
    ChatOptions, Content, FunctionResult, HostedTool, Message, ResponseFormat, Role, ToolChoice,
};

use crate::response::is_generated_id;
use crate::schema::to_gemini;

/// The hosted tools Gemini runs itself (see [`hosted_tool`]).
pub(crate) const HOSTED_TOOLS: [&str; 2] = ["web_search", "code_interpreter"];

/// What a request body is made of besides the messages and options.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BodyDefaults {
    pub(crate) thinking_budget: Option<i32>,
    pub(crate) include_thoughts: Option<bool>,
}

/// The request body (the model is in the URL).
///
/// System messages become `systemInstruction`; tool results become `functionResponse` parts
/// of a user turn (all of a turn's results together, for parallel calls); consecutive
/// messages of one role are merged. Reasoning goes back as `thought` parts, and a signature as
/// the `thoughtSignature` of the part that follows it (where Gemini put it).
///
/// [`ChatOptions::extra`]: a `generationConfig` object is merged into the one built here
/// (e.g. `{"generationConfig": {"thinkingConfig": {"thinkingLevel": "low"}}}`); other keys
/// (`safetySettings`, `cachedContent`, `labels` …) go at the top level.
pub(crate) fn request_body(messages: &[Message], options: &ChatOptions, defaults: BodyDefaults) -> Value {
    let mut body = Map::new();
    let system: Vec<String> = messages
        .iter()
        .filter(|message| message.role == Role::System)
        .map(Message::text)
        .filter(|text| !text.is_empty())
        .collect();
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({"parts": [{"text": system.join("\n\n")}]}));
    }
    body.insert("contents".into(), Value::Array(contents(messages)));
    let mut tools: Vec<Value> = Vec::new();
    if !options.tools.is_empty() {
        let declarations: Vec<Value> = options
            .tools
            .iter()
            .map(|tool| {
                let mut declaration = json!({"name": tool.name, "description": tool.description});
                if has_properties(&tool.parameters) {
                    declaration["parameters"] = to_gemini(&tool.parameters);
                }
                declaration
            })
            .collect();
        tools.push(json!({"functionDeclarations": declarations}));
    }
    tools.extend(options.hosted_tools.iter().filter_map(hosted_tool));
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    let mode = match &options.tool_choice {
        Some(ToolChoice::Auto) => Some(json!({"mode": "AUTO"})),
        Some(ToolChoice::None) => Some(json!({"mode": "NONE"})),
        Some(ToolChoice::Required) => Some(json!({"mode": "ANY"})),
        Some(ToolChoice::Function(name)) => Some(json!({"mode": "ANY", "allowedFunctionNames": [name]})),
        None => None,
    };
    if let Some(mode) = mode {
        body.insert("toolConfig".into(), json!({"functionCallingConfig": mode}));
    }
    let mut config = generation_config(options, defaults);
    for (key, value) in &options.extra {
        match (key.as_str(), value) {
            ("generationConfig", Value::Object(extra)) => {
                for (key, value) in extra {
                    config.insert(key.clone(), value.clone());
                }
            }
            _ => {
                body.insert(key.clone(), value.clone());
            }
        }
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    Value::Object(body)
}

/// `generationConfig`: sampling, length, stops, structured output and thinking.
fn generation_config(options: &ChatOptions, defaults: BodyDefaults) -> Map<String, Value> {
    let mut config = Map::new();
    if let Some(temperature) = options.temperature {
        config.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = options.top_p {
        config.insert("topP".into(), json!(top_p));
    }
    if let Some(max_tokens) = options.max_tokens {
        config.insert("maxOutputTokens".into(), json!(max_tokens));
    }
    if !options.stop.is_empty() {
        config.insert("stopSequences".into(), json!(options.stop));
    }
    if let Some(seed) = options.seed {
        config.insert("seed".into(), json!(seed));
    }
    match &options.response_format {
        Some(ResponseFormat::JsonObject) => {
            config.insert("responseMimeType".into(), json!("application/json"));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            config.insert("responseMimeType".into(), json!("application/json"));
            config.insert("responseSchema".into(), to_gemini(schema));
        }
        Some(ResponseFormat::Text) | None => {}
    }
    let mut thinking = Map::new();
    if let Some(budget) = defaults.thinking_budget {
        thinking.insert("thinkingBudget".into(), json!(budget));
    }
    if let Some(include) = defaults.include_thoughts {
        thinking.insert("includeThoughts".into(), json!(include));
    }
    if !thinking.is_empty() {
        config.insert("thinkingConfig".into(), Value::Object(thinking));
    }
    config
}

/// Whether a tool's parameter schema declares any parameter (Gemini refuses an object
/// schema without properties; a tool without parameters sends none).
fn has_properties(schema: &Value) -> bool {
    schema.get("properties").and_then(Value::as_object).is_some_and(|properties| !properties.is_empty())
        || schema.get("$ref").is_some()
        || schema.get("anyOf").is_some()
}

/// A hosted tool as Gemini's own: web search is `{"googleSearch": {}}`, the code interpreter
/// `{"codeExecution": {}}`; file search is refused before the body is built.
pub(crate) fn hosted_tool(tool: &HostedTool) -> Option<Value> {
    match tool {
        HostedTool::WebSearch { options } => Some(json!({"googleSearch": options})),
        HostedTool::CodeInterpreter { .. } => Some(json!({"codeExecution": {}})),
        HostedTool::FileSearch { .. } => None,
    }
}

/// The conversation as `contents`: `user` and `model` turns, merged by role.
fn contents(messages: &[Message]) -> Vec<Value> {
    // A function response names its function: found from the call it answers.
    let names: HashMap<&str, &str> = messages
        .iter()
        .flat_map(|message| &message.contents)
        .filter_map(|content| match content {
            Content::FunctionCall(call) => Some((call.call_id.as_str(), call.name.as_str())),
            _ => None,
        })
        .collect();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in messages {
        let role = match message.role {
            Role::System => continue,
            Role::Assistant => "model",
            Role::User | Role::Tool => "user",
        };
        let parts = if message.role == Role::Assistant {
            model_parts(&message.contents)
        } else {
            message.contents.iter().filter_map(|content| user_part(content, &names)).collect()
        };
        if parts.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, last_parts)) if *last == role => last_parts.extend(parts),
            _ => turns.push((role, parts)),
        }
    }
    turns.into_iter().map(|(role, parts)| json!({"role": role, "parts": parts})).collect()
}

/// The parts of a model turn. A signature travels on the part after its reasoning (a text or
/// a function call, as Gemini sent it), or on the thought itself when nothing follows.
fn model_parts(contents: &[Content]) -> Vec<Value> {
    let mut parts = Vec::new();
    let mut signature: Option<&str> = None;
    for content in contents {
        let mut part = match content {
            Content::Reasoning { text, signature: signed } => {
                if let Some(pending) = signature.take() {
                    // Two signatures in a row: the first stays with its thought.
                    parts.push(json!({"text": "", "thoughtSignature": pending}));
                }
                if !text.is_empty() {
                    parts.push(json!({"text": text, "thought": true}));
                }
                signature = signed.as_deref();
                continue;
            }
            Content::Text { text } if text.is_empty() => continue,
            Content::Text { text } => json!({"text": text}),
            Content::FunctionCall(call) => {
                let args = match &call.arguments {
                    Value::Object(_) => call.arguments.clone(),
                    // Arguments that were not a JSON object: the API takes objects only.
                    other => json!({"arguments": other}),
                };
                let mut function_call = json!({"name": call.name, "args": args});
                if !is_generated_id(&call.call_id) {
                    function_call["id"] = json!(call.call_id);
                }
                json!({"functionCall": function_call})
            }
            other => match media_part(other) {
                Some(part) => part,
                None => continue,
            },
        };
        if let Some(signature) = signature.take() {
            part["thoughtSignature"] = json!(signature);
        }
        parts.push(part);
    }
    if let Some(signature) = signature {
        match parts.last_mut() {
            Some(last) if last.get("thought").is_some() && last.get("thoughtSignature").is_none() => {
                last["thoughtSignature"] = json!(signature);
            }
            _ => parts.push(json!({"text": "", "thoughtSignature": signature})),
        }
    }
    parts
}

/// One content of a user turn as a part, or `None` for what has no part.
fn user_part(content: &Content, names: &HashMap<&str, &str>) -> Option<Value> {
    match content {
        Content::Text { text } if text.is_empty() => None,
        Content::Text { text } => Some(json!({"text": text})),
        Content::FunctionResult(result) => Some(function_response(result, names)),
        other => media_part(other),
    }
}

/// An image, audio, video or document: `inlineData` (base64) or `fileData` (a URI).
fn media_part(content: &Content) -> Option<Value> {
    match content {
        Content::Data { media_type, base64 } => {
            Some(json!({"inlineData": {"mimeType": media_type, "data": base64}}))
        }
        Content::Uri { uri, media_type } => {
            let mut data = json!({"fileUri": uri});
            if let Some(media_type) = media_type {
                data["mimeType"] = json!(media_type);
            }
            Some(json!({"fileData": data}))
        }
        _ => None,
    }
}

/// A function result as a `functionResponse` part: an object result as it is, another value
/// as `{"result": value}`, a failure as `{"error": text}`. Images it returned follow as parts.
fn function_response(result: &FunctionResult, names: &HashMap<&str, &str>) -> Value {
    let name = names.get(result.call_id.as_str()).copied().unwrap_or(result.call_id.as_str());
    let response = match (&result.error, &result.result) {
        (Some(_), _) => json!({"error": result.to_model_text()}),
        (None, Value::Object(_)) => result.result.clone(),
        (None, Value::Null) => json!({"result": result.to_model_text()}),
        (None, value) => json!({"result": value}),
    };
    let mut function_response = json!({"name": name, "response": response});
    if !is_generated_id(&result.call_id) {
        function_response["id"] = json!(result.call_id);
    }
    let media: Vec<Value> = result.contents.iter().filter_map(media_part).collect();
    if !media.is_empty() {
        function_response["parts"] = Value::Array(media);
    }
    json!({"functionResponse": function_response})
}

#[cfg(test)]
mod tests {
    use weft_core::{FunctionCall, ToolDefinition};

    use super::*;
    use crate::response::generated_id;

    #[test]
    fn a_parallel_tool_round_trip_with_signed_thoughts() {
        let paris = generated_id();
        let messages = vec![
            Message::system("Be brief."),
            Message::user("Weather in Paris and Rome?"),
            Message::new(
                Role::Assistant,
                vec![
                    Content::Reasoning { text: "Two cities.".into(), signature: Some("sig-1".into()) },
                    Content::FunctionCall(FunctionCall::new(
                        paris.clone(),
                        "get_weather",
                        json!({"city": "Paris"}),
                    )),
                    Content::FunctionCall(FunctionCall::new("srv-2", "get_weather", json!({"city": "Rome"}))),
                ],
            ),
            Message::new(
                Role::Tool,
                vec![Content::FunctionResult(FunctionResult::ok(paris, json!("sunny")))],
            ),
            Message::new(Role::Tool, vec![Content::FunctionResult(FunctionResult::error("srv-2", "down"))]),
            Message::new(
                Role::Assistant,
                vec![
                    Content::Reasoning { text: String::new(), signature: Some("sig-2".into()) },
                    Content::text("Done."),
                ],
            ),
        ];
        let options = ChatOptions {
            tools: vec![ToolDefinition::new(
                "get_weather",
                "Weather",
                json!({"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": false}),
            )],
            tool_choice: Some(ToolChoice::Function("get_weather".into())),
            ..ChatOptions::default()
        };
        let body = request_body(&messages, &options, BodyDefaults::default());
        assert_eq!(body["systemInstruction"], json!({"parts": [{"text": "Be brief."}]}));
        assert_eq!(
            body["contents"],
            json!([
                {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
                {"role": "model", "parts": [
                    {"text": "Two cities.", "thought": true},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "sig-1"},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}, "id": "srv-2"}},
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}},
                    {"functionResponse": {"name": "get_weather", "response": {"error": "Error: down"}, "id": "srv-2"}},
                ]},
                {"role": "model", "parts": [{"text": "Done.", "thoughtSignature": "sig-2"}]},
            ])
        );
        assert_eq!(
            body["tools"],
            json!([{"functionDeclarations": [{
                "name": "get_weather", "description": "Weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            }]}])
        );
        assert_eq!(
            body["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}})
        );
        assert!(body.get("generationConfig").is_none());
    }

    #[test]
    fn generation_config_structured_output_thinking_and_extra() {
        let mut options = ChatOptions {
            temperature: Some(0.5),
            top_p: Some(0.9),
            max_tokens: Some(100),
            stop: vec!["END".into()],
            seed: Some(7),
            response_format: Some(ResponseFormat::JsonSchema {
                name: "answer".into(),
                schema: json!({"type": "object", "properties": {"n": {"type": "integer"}}, "additionalProperties": false}),
                strict: true,
            }),
            tool_choice: Some(ToolChoice::None),
            ..ChatOptions::default()
        };
        options.extra.insert(
            "safetySettings".into(),
            json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]),
        );
        let defaults = BodyDefaults { thinking_budget: Some(1024), include_thoughts: Some(true) };
        let body = request_body(&[Message::user("Hi")], &options, defaults);
        assert_eq!(
            body["generationConfig"],
            json!({
                "temperature": 0.5, "topP": 0.8999999761581421, "maxOutputTokens": 100, "stopSequences": ["END"], "seed": 7,
                "responseMimeType": "application/json",
                "responseSchema": {"type": "object", "properties": {"n": {"type": "integer"}}},
                "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true},
            })
        );
        assert_eq!(body["toolConfig"], json!({"functionCallingConfig": {"mode": "NONE"}}));
        assert_eq!(body["safetySettings"][0]["threshold"], json!("BLOCK_NONE"));
        // A request's own thinkingConfig wins.
        options.extra.insert("generationConfig".into(), json!({"thinkingConfig": {"thinkingBudget": 0}}));
        let body = request_body(&[Message::user("Hi")], &options, defaults);
        assert_eq!(body["generationConfig"]["thinkingConfig"], json!({"thinkingBudget": 0}));
        assert_eq!(body["generationConfig"]["maxOutputTokens"], json!(100));
    }

    #[test]
    fn images_hosted_tools_and_tools_without_parameters() {
        let messages = vec![Message::new(
            Role::User,
            vec![
                Content::text("What is this?"),
                Content::Data { media_type: "image/png".into(), base64: "iVBORw0KGgo=".into() },
                Content::Uri { uri: "gs://bucket/cat.jpg".into(), media_type: Some("image/jpeg".into()) },
            ],
        )];
        let options = ChatOptions {
            tools: vec![ToolDefinition::new("now", "The time", json!({"type": "object", "properties": {}}))],
            hosted_tools: vec![
                HostedTool::WebSearch { options: Map::new() },
                HostedTool::CodeInterpreter { file_ids: vec![] },
            ],
            ..ChatOptions::default()
        };
        let body = request_body(&messages, &options, BodyDefaults::default());
        assert_eq!(
            body["contents"][0]["parts"],
            json!([
                {"text": "What is this?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                {"fileData": {"fileUri": "gs://bucket/cat.jpg", "mimeType": "image/jpeg"}},
            ])
        );
        assert_eq!(
            body["tools"],
            json!([
                {"functionDeclarations": [{"name": "now", "description": "The time"}]},
                {"googleSearch": {}},
                {"codeExecution": {}},
            ])
        );
    }
}
