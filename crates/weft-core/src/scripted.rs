//! The scripted model: a deterministic [`ChatClient`] that behaves like a real model through the
//! same trait, streaming included, with no network and no API key.
//!
//! How it answers:
//! 1. After tool results, it answers with a text that reports each result
//!    (`get_weather returned: weather in Paris: sunny, 21C`).
//! 2. Otherwise, if offered tools whose name (or, failing that, description) shares a word with
//!    the user's last message, it calls them. Every tool whose *name* matches is called in the
//!    same turn; without a name match, the best description match is called. Words match by
//!    prefix (`add` ~ `adds`) and through a few synonyms (`add` ~ `sum`). Arguments are built
//!    from the tool's JSON schema: numbers from the numbers in the prompt (in order), enums from
//!    a value the prompt names, strings from a capitalized word of the prompt or its remaining
//!    words, booleans `true`.
//! 3. Asked for a JSON-schema response format, it answers with a JSON value of that schema.
//! 4. Otherwise it answers plainly, quoting the prompt.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::client::{ChatClient, ChatRequest, ChatStream, ClientInfo};
use crate::error::ChatError;
use crate::message::{FunctionCall, Message, Role, Usage};
use crate::options::{ResponseFormat, ToolChoice, ToolDefinition};
use crate::replay::stream_updates;
use crate::response::ChatResponse;

/// The deterministic built-in model. See the [module docs](self).
#[derive(Debug, Default, Clone)]
pub struct ScriptedClient {
    _private: (),
}

impl ScriptedClient {
    /// The scripted model.
    pub fn new() -> Self {
        Self::default()
    }

    /// The answer to a request (the same for streamed and non-streamed calls).
    pub fn respond(&self, request: &ChatRequest) -> ChatResponse {
        let mut response = answer(request);
        let input_chars: usize = request.messages.iter().map(|m| m.text().len()).sum();
        let output_words = response.text_content().split_whitespace().count()
            + response.function_calls_requested().count() * 8;
        response.usage = Some(Usage::new((input_chars / 4).max(1) as u64, output_words as u64));
        response.model = Some("scripted".into());
        response.response_id = Some(format!("scripted-{}", uuid::Uuid::new_v4().simple()));
        response
    }
}

#[async_trait]
impl ChatClient for ScriptedClient {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        Ok(self.respond(&request))
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        let updates = stream_updates(self.respond(&request));
        Box::pin(futures::stream::iter(updates.into_iter().map(Ok)))
    }

    fn info(&self) -> ClientInfo {
        ClientInfo { provider: "scripted".into(), default_model: Some("scripted".into()), endpoint: None }
    }
}

fn answer(request: &ChatRequest) -> ChatResponse {
    let messages = &request.messages;
    if let Some(last) = messages.last() {
        if last.role == Role::Tool {
            return ChatResponse::text(report_results(messages, last));
        }
    }
    let prompt = messages.iter().rev().find(|m| m.role == Role::User).map(Message::text).unwrap_or_default();
    let tool_choice = request.options.tool_choice.as_ref();
    if tool_choice != Some(&ToolChoice::None) && !request.options.tools.is_empty() {
        let chosen = choose_tools(&prompt, &request.options.tools, tool_choice);
        if !chosen.is_empty() {
            let calls = chosen.into_iter().enumerate().map(|(index, tool)| {
                FunctionCall::new(
                    format!("call_scripted_{}_{index}", messages.len()),
                    tool.name.clone(),
                    arguments_for(&tool.parameters, &prompt, &tool.name),
                )
            });
            return ChatResponse::function_calls(calls);
        }
    }
    if let Some(ResponseFormat::JsonSchema { schema, .. }) = &request.options.response_format {
        let mut filler = Filler::new(&prompt, "");
        return ChatResponse::text(filler.value(schema, "").to_string());
    }
    if prompt.is_empty() {
        return ChatResponse::text("Hello! I am Weft's scripted model.");
    }
    ChatResponse::text(format!("You said: {prompt}"))
}

fn report_results(messages: &[Message], tool_message: &Message) -> String {
    let name_of = |call_id: &str| {
        messages
            .iter()
            .flat_map(Message::function_calls)
            .find(|c| c.call_id == call_id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "the tool".into())
    };
    let lines: Vec<String> = tool_message
        .function_results()
        .map(|r| {
            let name = name_of(&r.call_id);
            match &r.error {
                Some(error) => format!("{name} failed: {error}"),
                None => format!("{name} returned: {}", r.to_model_text()),
            }
        })
        .collect();
    lines.join("\n")
}

/// Words that say nothing about which tool is meant.
const GENERIC_WORDS: &[&str] = &[
    "get", "set", "the", "and", "for", "tool", "run", "call", "make", "list", "fetch", "current", "info",
    "data", "with", "from", "into", "this", "that", "what", "how", "please", "can", "you", "give", "tell",
    "show", "about", "returns", "return", "given", "value", "values", "some", "one", "two", "use", "using",
    "its", "are", "is",
];

/// Small synonym groups so that common phrasings find the obvious tool.
const SYNONYMS: &[&[&str]] = &[
    &["add", "sum", "plus", "addition", "total"],
    &["multiply", "product", "times"],
    &["weather", "forecast", "temperature"],
    &["time", "clock", "date", "now"],
    &["echo", "repeat", "say"],
    &["search", "find", "lookup", "look"],
];

fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            // Split camelCase names too.
            if ch.is_uppercase() && previous_lower && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = ch.is_lowercase();
            current.extend(ch.to_lowercase());
        } else {
            previous_lower = false;
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn meaningful(word: &str) -> bool {
    word.len() >= 3 && !GENERIC_WORDS.contains(&word) && !word.chars().all(|c| c.is_ascii_digit())
}

fn related(a: &str, b: &str) -> bool {
    let prefix = |x: &str, y: &str| x.len() >= 3 && y.starts_with(x);
    if a == b || prefix(a, b) || prefix(b, a) {
        return true;
    }
    SYNONYMS.iter().any(|group| {
        group.iter().any(|s| prefix(s, a) || *s == a) && group.iter().any(|s| prefix(s, b) || *s == b)
    })
}

fn score(prompt_words: &[String], text: &str) -> usize {
    words(text)
        .iter()
        .filter(|w| meaningful(w))
        .filter(|w| prompt_words.iter().any(|p| related(p, w)))
        .count()
}

fn choose_tools<'a>(
    prompt: &str,
    tools: &'a [ToolDefinition],
    choice: Option<&ToolChoice>,
) -> Vec<&'a ToolDefinition> {
    if let Some(ToolChoice::Function(name)) = choice {
        return tools.iter().filter(|t| &t.name == name).collect();
    }
    let prompt_words: Vec<String> = words(prompt).into_iter().filter(|w| meaningful(w)).collect();
    let by_name: Vec<&ToolDefinition> = tools.iter().filter(|t| score(&prompt_words, &t.name) > 0).collect();
    if !by_name.is_empty() {
        return by_name;
    }
    let best = tools
        .iter()
        .map(|t| (score(&prompt_words, &t.description), t))
        .filter(|(s, _)| *s > 0)
        .max_by_key(|(s, t)| (*s, std::cmp::Reverse(t.name.clone())));
    match (best, choice) {
        (Some((_, tool)), _) => vec![tool],
        (None, Some(ToolChoice::Required)) => tools.iter().take(1).collect(),
        (None, _) => Vec::new(),
    }
}

fn arguments_for(schema: &Value, prompt: &str, tool_name: &str) -> Value {
    let mut filler = Filler::new(prompt, tool_name);
    let value = filler.value(schema, "");
    if value.is_object() { value } else { Value::Object(Map::new()) }
}

/// A prompt word without surrounding punctuation (keeping `-`, `/` and `_` that identifiers use).
fn trim_token(word: &str) -> &str {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '/' && c != '_')
}

/// Builds JSON values of a schema from the words and numbers of a prompt.
struct Filler {
    numbers: Vec<f64>,
    next_number: usize,
    prompt: String,
    free_text: String,
    proper_noun: Option<String>,
    identifier: Option<String>,
    path: Option<String>,
}

impl Filler {
    fn new(prompt: &str, tool_name: &str) -> Self {
        let raw_words: Vec<&str> = prompt.split_whitespace().collect();
        // Standalone numbers only: `A1234` is an identifier, not the number 1234.
        let numbers = raw_words.iter().filter_map(|w| trim_token(w).parse::<f64>().ok()).collect();
        let identifier = raw_words
            .iter()
            .map(|w| trim_token(w))
            .find(|w| w.chars().any(|c| c.is_ascii_digit()) && w.chars().any(char::is_alphabetic))
            .map(String::from);
        let path = raw_words
            .iter()
            .map(|w| w.trim_matches(|c: char| matches!(c, ',' | ';' | '?' | '!' | '"' | '\'') || c == ')'))
            .find(|w| {
                w.contains('/')
                    || (w.contains('.') && !w.ends_with('.') && w.chars().any(char::is_alphabetic))
            })
            .map(String::from);
        let tool_words = words(tool_name);
        let proper_noun = raw_words
            .iter()
            .skip(1)
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
            .find(|w| w.chars().next().is_some_and(char::is_uppercase))
            .map(String::from);
        let free: Vec<&str> = raw_words
            .iter()
            .copied()
            .filter(|w| {
                let lower = w.to_lowercase();
                let clean = lower.trim_matches(|c: char| !c.is_alphanumeric());
                !tool_words.iter().any(|t| related(t, clean))
            })
            .collect();
        let free_text = free.join(" ");
        Self { numbers, next_number: 0, prompt: prompt.to_string(), free_text, proper_noun, identifier, path }
    }

    fn number(&mut self) -> Option<f64> {
        let n = self.numbers.get(self.next_number).copied();
        self.next_number += 1;
        n
    }

    fn value(&mut self, schema: &Value, property: &str) -> Value {
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            let lower = self.prompt.to_lowercase();
            return options
                .iter()
                .find(|o| o.as_str().is_some_and(|s| lower.contains(&s.to_lowercase())))
                .or_else(|| options.first())
                .cloned()
                .unwrap_or(Value::Null);
        }
        if let Some(constant) = schema.get("const") {
            return constant.clone();
        }
        if let Some(first) = ["anyOf", "oneOf"].iter().find_map(|k| schema.get(*k).and_then(Value::as_array))
        {
            let non_null = first.iter().find(|s| s.get("type") != Some(&Value::String("null".into())));
            return non_null.map(|s| self.value(s, property)).unwrap_or(Value::Null);
        }
        let kind = match schema.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(types)) => {
                types.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null")
            }
            _ if schema.get("properties").is_some() => "object",
            _ => "string",
        };
        match kind {
            "object" => {
                let mut object = Map::new();
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if let Some(Value::Object(properties)) = schema.get("properties") {
                    for (name, property_schema) in properties {
                        if required.is_empty() || required.contains(&name.as_str()) {
                            object.insert(name.clone(), self.value(property_schema, name));
                        }
                    }
                }
                Value::Object(object)
            }
            "array" => {
                let item = schema.get("items").cloned().unwrap_or(Value::Null);
                Value::Array(vec![self.value(&item, property)])
            }
            "integer" => {
                let minimum = schema.get("minimum").and_then(Value::as_i64).unwrap_or(0);
                Value::from(self.number().map(|n| n as i64).unwrap_or(minimum.max(1)))
            }
            "number" => {
                let minimum = schema.get("minimum").and_then(Value::as_f64).unwrap_or(1.0);
                serde_json::Number::from_f64(self.number().unwrap_or(minimum))
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
            "boolean" => Value::Bool(true),
            "null" => Value::Null,
            _ => Value::String(self.text_for(property)),
        }
    }

    fn text_for(&self, property: &str) -> String {
        let parts = words(property);
        let has_part = |names: &[&str]| parts.iter().any(|p| names.contains(&p.as_str()));
        if has_part(&["path", "file", "filename", "url", "uri", "dir", "directory"]) {
            if let Some(path) = &self.path {
                return path.clone();
            }
        }
        if has_part(&["id", "code", "number", "key", "ref", "reference", "sku"]) {
            if let Some(identifier) = &self.identifier {
                return identifier.clone();
            }
        }
        let wants_name = ["city", "location", "name", "country", "place", "person", "user"]
            .iter()
            .any(|k| property.to_lowercase().contains(k));
        if wants_name {
            if let Some(noun) = &self.proper_noun {
                return noun.clone();
            }
        }
        if !self.free_text.is_empty() {
            return self.free_text.clone();
        }
        if self.prompt.is_empty() { "text".into() } else { self.prompt.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Content;
    use crate::options::ChatOptions;
    use crate::response::FinishReason;
    use serde_json::json;

    fn tools() -> Vec<ToolDefinition> {
        vec![
            ToolDefinition::new(
                "get_weather",
                "Get the weather for a city",
                json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
            ),
            ToolDefinition::new(
                "get-sum",
                "Returns the sum of two numbers",
                json!({"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}),
            ),
            ToolDefinition::new(
                "echo",
                "Echoes back the input",
                json!({"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}),
            ),
        ]
    }

    fn ask(prompt: &str) -> ChatResponse {
        let request = ChatRequest::new(
            vec![Message::user(prompt)],
            ChatOptions { tools: tools(), ..Default::default() },
        );
        ScriptedClient::new().respond(&request)
    }

    #[test]
    fn calls_the_tool_the_prompt_names_with_arguments_from_it() {
        let response = ask("What's the weather in Paris?");
        let calls: Vec<_> = response.function_calls_requested().collect();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].name, "get_weather");
        assert_eq!(calls[0].arguments, json!({"city": "Paris"}));
    }

    #[test]
    fn finds_a_tool_through_synonyms_and_fills_numbers() {
        let response = ask("add 2 and 3");
        let calls: Vec<_> = response.function_calls_requested().collect();
        assert_eq!(calls.len(), 1, "{response:?}");
        assert_eq!(calls[0].name, "get-sum");
        assert_eq!(calls[0].arguments, json!({"a": 2.0, "b": 3.0}));
    }

    #[test]
    fn echo_gets_the_remaining_words() {
        let response = ask("echo hello world");
        let calls: Vec<_> = response.function_calls_requested().collect();
        assert_eq!(calls[0].name, "echo");
        assert_eq!(calls[0].arguments, json!({"message": "hello world"}));
    }

    #[test]
    fn identifiers_paths_and_standalone_numbers_are_told_apart() {
        let schema = json!({"type":"object","properties":{
            "order_id":{"type":"string"},"amount":{"type":"number"},"file_path":{"type":"string"}},
            "required":["order_id","amount","file_path"]});
        let arguments = arguments_for(
            &schema,
            "Please refund order A1234 for 25 euros, log to notes/refunds.txt",
            "refund",
        );
        assert_eq!(arguments, json!({"order_id": "A1234", "amount": 25.0, "file_path": "notes/refunds.txt"}));
    }

    #[test]
    fn answers_plainly_without_a_matching_tool() {
        let response = ask("hello there");
        assert_eq!(response.function_calls_requested().count(), 0);
        assert_eq!(response.text_content(), "You said: hello there");
        assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    }

    #[test]
    fn reports_tool_results() {
        let call = FunctionCall::new("c1", "get_weather", json!({"city": "Paris"}));
        let messages = vec![
            Message::user("weather in Paris"),
            Message::new(Role::Assistant, vec![Content::FunctionCall(call)]),
            Message::new(
                Role::Tool,
                vec![Content::FunctionResult(crate::message::FunctionResult::ok("c1", json!("sunny")))],
            ),
        ];
        let response = ScriptedClient::new().respond(&ChatRequest::new(messages, ChatOptions::default()));
        assert_eq!(response.text_content(), "get_weather returned: sunny");
    }
}
