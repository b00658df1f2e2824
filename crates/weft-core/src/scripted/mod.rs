//! The scripted model: a deterministic [`ChatClient`] that behaves like a real model through the
//! same trait, streaming included, with no network and no API key. It reads the whole
//! conversation, so sessions, follow-ups and structured output show what they do.
//!
//! How it answers, first rule that applies:
//! 1. **Tool results.** After tool results, it reports each one
//!    (`get_weather returned: weather in Paris: sunny, 21C`; `… failed: reason` for an error).
//! 2. **Questions about what the user said.** Asked about a fact the user stated earlier in the
//!    conversation (`What is my name?`, `Who am I?`, `Do you remember my city?`), it answers from
//!    it: `Your name is Ada.` Facts are `my <key> is <value>` (`My name is Ada.`, `my city is
//!    Lisbon`) and `I am <Name>` / `I'm <Name>` / `call me <Name>`; the latest one wins.
//! 3. **Tools the prompt names.** If offered tools whose name (or, failing that, description)
//!    shares a word with the user's last message, it calls them. Every tool whose *name* matches
//!    is called in the same turn; without a name match, the best description match is called.
//!    Words match by prefix (`add` ~ `adds`) and through a few synonyms (`add` ~ `sum`). A prompt
//!    stating facts (`my city is Lisbon`) only calls tools it names. A forced tool choice calls
//!    that tool; `required` calls the first tool when none matches.
//! 4. **Follow-ups.** A prompt that starts with `and`, `what about`, `how about`, `same for` or
//!    `also` (`and in Rome?`) repeats the tool calls of the model's previous tool-calling turn,
//!    with the arguments the new prompt gives (the city `Rome`) replacing the old ones.
//! 5. **Structured output.** Asked for a JSON-schema response format, it answers with a JSON value
//!    of that schema, filled as below.
//! 6. **Statements and unknown facts.** A prompt stating facts is acknowledged (`Nice to meet you,
//!    Ada.`, `Noted: your city is Lisbon.`); a question about a fact never stated says so (`You
//!    have not told me your name yet.`).
//! 7. **Anything else** is answered by quoting the prompt (`You said: hello`), or a greeting when
//!    there is no prompt.
//!
//! Filling a schema (tool arguments and structured answers) from the prompt, field by field in
//! schema order:
//! - a string field named in the prompt as `field: value`, `field = value` or `field is Value`
//!   takes that value;
//! - path-like fields (`path`, `file`, `url`, …) take a word with a `/` or a file extension, and
//!   id-like fields (`id`, `code`, `number`, …) a word mixing letters and digits (`A1234`);
//! - name-like fields (`name`, `city`, `country`, `person`, …) take the prompt's names in turn:
//!   runs of capitalized words (`Eiffel Tower`; a sentence's first word only before `is`/`has`/…
//!   or another capitalized word), so `Paris is the capital of France` gives `name: Paris`,
//!   `country: France`; once the names are used up, `unknown`;
//! - a field about a fact the user stated (`name` after `My name is Ada`) takes the fact;
//! - other strings take the prompt without the tool's own words (`echo hello` → `hello`);
//! - numbers and integers take the prompt's standalone numbers in order (`A1234` is not one),
//!   else the schema's minimum or 1;
//! - booleans are true when the prompt mentions the field (`capital` for `is_capital`), false
//!   when it negates it (`not a capital`) or does not mention it;
//! - enums take a value the prompt names, else the first; lists of strings take the remaining
//!   names, lists of numbers the remaining numbers; objects are filled field by field (only the
//!   required fields, when some are required).

mod filler;
mod memory;
mod words;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::client::{ChatClient, ChatRequest, ChatStream, ClientInfo};
use crate::error::ChatError;
use crate::message::{FunctionCall, Message, Role, Usage};
use crate::options::{ResponseFormat, ToolChoice, ToolDefinition};
use crate::replay::stream_updates;
use crate::response::ChatResponse;

use filler::Filler;

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
        crate::HostedTool::check(&request.options.hosted_tools, &[], "scripted")?;
        Ok(self.respond(&request))
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        // The scripted model hosts no tools.
        if let Err(error) = crate::HostedTool::check(&request.options.hosted_tools, &[], "scripted") {
            return Box::pin(futures::stream::iter([Err(error)]));
        }
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
    let facts = memory::facts(messages);
    let asked = memory::asked_key(&prompt);
    if let Some(key) = &asked {
        if let Some(fact) = memory::recall(&facts, key) {
            return ChatResponse::text(memory::answer_about(key, Some(fact)));
        }
    }
    let stated = memory::facts_in(&prompt);
    let tools = &request.options.tools;
    let tool_choice = request.options.tool_choice.as_ref();
    if tool_choice != Some(&ToolChoice::None) && !tools.is_empty() {
        // A statement (`my city is Lisbon`) calls a tool only when it names it.
        let chosen = words::choose_tools(&prompt, tools, tool_choice, !stated.is_empty());
        if !chosen.is_empty() {
            let calls = chosen.into_iter().map(|tool| {
                let arguments = filler::arguments_for(&tool.parameters, &prompt, &tool.name, &facts);
                (tool.name.clone(), arguments)
            });
            return function_calls(messages.len(), calls);
        }
        if memory::is_follow_up(&prompt) {
            if let Some(calls) = follow_up_calls(messages, tools, &prompt) {
                return function_calls(messages.len(), calls);
            }
        }
    }
    if let Some(ResponseFormat::JsonSchema { schema, .. }) = &request.options.response_format {
        let mut filler = Filler::new(&prompt, "", &facts);
        return ChatResponse::text(filler.value(schema, "").to_string());
    }
    if let Some(key) = &asked {
        return ChatResponse::text(memory::answer_about(key, None));
    }
    if !stated.is_empty() {
        return ChatResponse::text(memory::acknowledge(&stated));
    }
    if prompt.is_empty() {
        return ChatResponse::text("Hello! I am Weft's scripted model.");
    }
    ChatResponse::text(format!("You said: {prompt}"))
}

/// A response calling tools, with call ids unique within the conversation.
fn function_calls(turn: usize, calls: impl IntoIterator<Item = (String, Value)>) -> ChatResponse {
    ChatResponse::function_calls(calls.into_iter().enumerate().map(|(index, (name, arguments))| {
        FunctionCall::new(format!("call_scripted_{turn}_{index}"), name, arguments)
    }))
}

/// The calls of the model's previous tool-calling turn, with the arguments `prompt` gives in
/// place of the old ones; `None` when there was no such turn or the prompt changes nothing.
fn follow_up_calls(
    messages: &[Message],
    tools: &[ToolDefinition],
    prompt: &str,
) -> Option<Vec<(String, Value)>> {
    let previous =
        messages.iter().rev().find(|m| m.role == Role::Assistant && m.function_calls().next().is_some())?;
    let mut changed = false;
    let mut calls = Vec::new();
    for call in previous.function_calls() {
        let Some(tool) = tools.iter().find(|t| t.name == call.name) else { continue };
        let mut arguments = match &call.arguments {
            Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        let given = Filler::new(prompt, &tool.name, &[]).evident_properties(&tool.parameters);
        for (name, value) in given {
            changed |= arguments.get(&name) != Some(&value);
            arguments.insert(name, value);
        }
        calls.push((tool.name.clone(), Value::Object(arguments)));
    }
    (changed && !calls.is_empty()).then_some(calls)
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
        let arguments = filler::arguments_for(
            &schema,
            "Please refund order A1234 for 25 euros, log to notes/refunds.txt",
            "refund",
            &[],
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

    /// Runs a conversation through the model, answering tool calls with `weather in <city>`,
    /// and returns the text of each turn's final answer.
    fn converse(prompts: &[&str]) -> Vec<String> {
        let client = ScriptedClient::new();
        let mut messages = Vec::new();
        let mut answers = Vec::new();
        for prompt in prompts {
            messages.push(Message::user(*prompt));
            loop {
                let request =
                    ChatRequest::new(messages.clone(), ChatOptions { tools: tools(), ..Default::default() });
                let response = client.respond(&request);
                let calls: Vec<FunctionCall> = response.function_calls_requested().cloned().collect();
                messages.extend(response.messages.clone());
                if calls.is_empty() {
                    answers.push(response.text_content());
                    break;
                }
                let results = calls
                    .iter()
                    .map(|c| {
                        let text = format!("{} with {}", c.name, c.arguments);
                        Content::FunctionResult(crate::message::FunctionResult::ok(
                            c.call_id.clone(),
                            json!(text),
                        ))
                    })
                    .collect();
                messages.push(Message::new(Role::Tool, results));
            }
        }
        answers
    }

    #[test]
    fn remembers_what_the_user_said_earlier_in_the_conversation() {
        assert_eq!(
            converse(&["My name is Ada.", "What is my name?"]),
            vec!["Nice to meet you, Ada.", "Your name is Ada."]
        );
        assert_eq!(converse(&["What is my name?"]), vec!["You have not told me your name yet."]);
        assert_eq!(
            converse(&["I'm Ada", "my city is Lisbon", "Who am I?", "what's the weather in my city?"]),
            vec![
                "Nice to meet you, Ada.",
                "Noted: your city is Lisbon.",
                "Your name is Ada.",
                "get_weather returned: get_weather with {\"city\":\"Lisbon\"}",
            ]
        );
    }

    #[test]
    fn a_follow_up_repeats_the_last_tool_call_with_what_changed() {
        let answers =
            converse(&["What's the weather in Paris?", "and in Rome?", "add 2 and 3", "and 40 and 2?"]);
        assert_eq!(
            answers,
            vec![
                "get_weather returned: get_weather with {\"city\":\"Paris\"}",
                "get_weather returned: get_weather with {\"city\":\"Rome\"}",
                "get-sum returned: get-sum with {\"a\":2.0,\"b\":3.0}",
                "get-sum returned: get-sum with {\"a\":40.0,\"b\":2.0}",
            ]
        );
        // Nothing to repeat, or nothing that changes: a plain answer.
        assert_eq!(converse(&["and in Rome?"]), vec!["You said: and in Rome?"]);
    }

    #[test]
    fn structured_answers_are_filled_from_the_prompt() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string"}, "country": {"type": "string"}, "population_millions": {"type": "number"},
            "landmarks": {"type": "array", "items": {"type": "string"}}, "is_capital": {"type": "boolean"}},
            "required": ["name", "country", "population_millions", "landmarks", "is_capital"]});
        let options = ChatOptions {
            response_format: Some(ResponseFormat::JsonSchema {
                name: "CityFacts".into(),
                schema,
                strict: true,
            }),
            ..Default::default()
        };
        let prompt =
            "Paris is the capital of France, with 2.1 million people, the Eiffel Tower and the Louvre.";
        let response = ScriptedClient::new().respond(&ChatRequest::new(vec![Message::user(prompt)], options));
        let value: Value = serde_json::from_str(&response.text_content()).unwrap();
        assert_eq!(
            value,
            json!({"name": "Paris", "country": "France", "population_millions": 2.1,
                   "landmarks": ["Eiffel Tower", "Louvre"], "is_capital": true})
        );
    }
}
