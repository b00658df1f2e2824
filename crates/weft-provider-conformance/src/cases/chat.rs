//! The cases of a working conversation: text, streaming, tools, structured output, usage and
//! finish reasons.

use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use weft_core::{
    AgentSession, ChatAgent, ChatOptions, ChatRequest, Content, FinishReason, FunctionTool, Message,
    ResponseFormat, Role, ToolChoice, ToolDefinition, from_fn,
};

use super::{ask, call, how, options, stream_items};
use crate::harness::Harness;
use crate::mock::Answer;
use crate::script::{Finish, Reply, ScriptedCall};

/// The deltas of the scripted text answer.
const HELLO: [&str; 3] = ["Hello", " from the", " conformance mock."];

/// A whole answer: its text, role, finish reason, id and model.
pub async fn text(harness: &Harness) {
    harness.script(vec![Answer::Reply(Reply::text(HELLO))]);
    let response = harness.client().get_response(ask("Say hello.", options())).await;
    let response = response.unwrap_or_else(|err| panic!("text: the call failed: {err}"));
    assert_eq!(response.messages.len(), 1, "text: one message: {response:?}");
    assert_eq!(response.messages[0].role, Role::Assistant, "text: {response:?}");
    if harness.is_live() {
        assert!(!response.text_content().is_empty(), "text: an empty answer: {response:?}");
        let finish = response.finish_reason.clone();
        assert!(matches!(finish, Some(FinishReason::Stop | FinishReason::Length)), "text: {finish:?}");
        return;
    }
    assert_eq!(response.text_content(), HELLO.concat(), "text: {response:?}");
    assert_eq!(response.finish_reason, Some(FinishReason::Stop), "text: the finish reason");
    let received = harness.received();
    assert_eq!(received.len(), 1, "text: one request");
    assert!(!received[0].stream, "text: get_response asked for a stream: {}", received[0].body);
}

/// A streamed answer: its text arrives in several deltas, in order, then the finish reason.
pub async fn streaming(harness: &Harness) {
    harness.script(vec![Answer::Reply(Reply::text(HELLO))]);
    let client = harness.client();
    let (updates, error) = stream_items(client.as_ref(), ask("Say hello.", options())).await;
    if let Some(err) = error {
        panic!("streaming: the stream failed: {err}");
    }
    let texts: Vec<String> =
        updates.iter().map(|update| update.text_content()).filter(|text| !text.is_empty()).collect();
    let finishes: Vec<_> = updates.iter().filter_map(|update| update.finish_reason.clone()).collect();
    assert_eq!(finishes.len(), 1, "streaming: one finish reason: {updates:?}");
    // The last text may come in the update that finishes (Gemini sends its last parts and
    // the finishReason in one chunk), never after it.
    let last_text = updates.iter().rposition(|update| !update.text_content().is_empty());
    let finish_at = updates.iter().position(|update| update.finish_reason.is_some());
    assert!(last_text <= finish_at, "streaming: text after the finish reason: {updates:?}");
    if harness.is_live() {
        assert!(!texts.is_empty(), "streaming: no text: {updates:?}");
        return;
    }
    assert_eq!(texts, HELLO, "streaming: each delta as it came");
    assert_eq!(finishes[0], FinishReason::Stop, "streaming: the finish reason");
    let received = harness.received();
    assert!(received.len() == 1 && received[0].stream, "streaming: one request asking for a stream");
}

/// The city of the weather tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
enum City {
    Paris,
    London,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct WeatherArgs {
    /// The city.
    city: City,
}

/// The weather tool; each call's city goes to `seen`.
fn weather_tool(seen: Arc<Mutex<Vec<City>>>) -> FunctionTool<WeatherArgs> {
    FunctionTool::new("get_weather", "Get the weather for a city", move |args: WeatherArgs| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap_or_else(PoisonError::into_inner).push(args.city);
            Ok::<_, std::convert::Infallible>(format!("sunny, 21C in {:?}", args.city))
        }
    })
}

/// The weather tool as a definition. Its shape is the one the tiny model of the llama-server
/// peer answers in full when a call is forced (see `scripts/peers/make_tiny_gguf.py`): with
/// others it may pad its JSON until the token limit.
fn weather_definition() -> ToolDefinition {
    ToolDefinition::new(
        "get_weather",
        "Get the weather forecast for a city",
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "enum": ["Paris", "London"]},
                "note": {"type": "string"},
                "days": {"type": "integer"},
                "metric": {"type": "boolean"}
            },
            "required": ["city", "note", "days", "metric"],
            "additionalProperties": false
        }),
    )
}

/// A tool round trip through [`ChatAgent`], whole and streamed: the model calls the tool, the
/// tool's result goes back in the next request, matched to the call, and the model answers.
pub async fn tool_round_trip(harness: &Harness) {
    for stream in [false, true] {
        let what = format!("tool_round_trip ({})", how(stream));
        harness.script(vec![
            Answer::Reply(Reply::calls([ScriptedCall::new(
                "call_paris",
                "get_weather",
                json!({"city": "Paris"}),
            )])),
            Answer::Reply(Reply::text(["It is sunny", " in Paris."])),
        ]);
        let seen = Arc::new(Mutex::new(Vec::new()));
        // A real model calls a tool when it must: forced until a result is in the history.
        let force_first_call = from_fn(|mut request: ChatRequest, next| async move {
            let answered = request.messages.iter().any(|message| message.function_results().next().is_some());
            request.options.tool_choice =
                Some(if answered { ToolChoice::Auto } else { ToolChoice::Required });
            next.run(request).await
        });
        let agent = ChatAgent::builder(harness.client())
            .instructions("You are a weather assistant.")
            .tool(weather_tool(seen.clone()))
            .options(options())
            .chat_middleware(force_first_call)
            .max_iterations(4)
            .build();
        let mut session = AgentSession::new();
        let answer = if stream {
            let mut updates = agent.run_stream(&mut session, "What's the weather in Paris?");
            let mut text = String::new();
            while let Some(update) = updates.next().await {
                text.push_str(&update.unwrap_or_else(|err| panic!("{what}: {err}")).text_content());
            }
            text
        } else {
            agent
                .run(&mut session, "What's the weather in Paris?")
                .await
                .unwrap_or_else(|err| panic!("{what}: {err}"))
                .text()
        };
        let seen = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(seen.len(), 1, "{what}: the tool ran once: {seen:?}");
        let messages = &session.messages;
        let calls: Vec<_> = messages.iter().flat_map(Message::function_calls).collect();
        let results: Vec<_> = messages.iter().flat_map(Message::function_results).collect();
        assert_eq!(calls.len(), 1, "{what}: one call in the history: {messages:?}");
        assert!(!calls[0].call_id.is_empty(), "{what}: the call has an id");
        assert_eq!(results.len(), 1, "{what}: one result: {messages:?}");
        assert_eq!(results[0].call_id, calls[0].call_id, "{what}: the result answers the call");
        if harness.is_live() {
            assert!(!answer.is_empty(), "{what}: no answer after the tool");
            continue;
        }
        assert_eq!(seen, [City::Paris], "{what}");
        assert!(answer.ends_with("It is sunny in Paris."), "{what}: {answer:?}");
        let received = harness.received();
        assert_eq!(received.len(), 2, "{what}: two model calls");
        let second = received[1].body.to_string();
        assert!(
            second.contains("sunny, 21C in Paris"),
            "{what}: the tool's result was not sent back: {second}"
        );
        assert!(second.contains("get_weather"), "{what}: the call was not sent back: {second}");
    }
}

/// Two tool calls in one answer, whole and streamed: both come back, in order, parsed, with
/// distinct ids.
pub async fn parallel_tools(harness: &Harness) {
    let reply = Reply::calls([
        ScriptedCall::new("call_paris", "get_weather", json!({"city": "Paris"})),
        ScriptedCall::new("call_london", "get_weather", json!({"city": "London"})),
    ]);
    for stream in [false, true] {
        let what = format!("parallel_tools ({})", how(stream));
        harness.script(vec![Answer::Reply(reply.clone())]);
        let both = ChatOptions {
            tools: vec![weather_definition()],
            tool_choice: Some(ToolChoice::Required),
            parallel_tool_calls: Some(true),
            ..options()
        };
        let response = call(harness.client().as_ref(), ask("Weather in Paris and in London?", both), stream)
            .await
            .unwrap_or_else(|err| panic!("{what}: {err}"));
        let calls: Vec<_> = response.function_calls_requested().cloned().collect();
        assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls), "{what}: {response:?}");
        if harness.is_live() {
            assert!(!calls.is_empty(), "{what}: no call: {response:?}");
            continue;
        }
        let got: Vec<(&str, &Value)> =
            calls.iter().map(|call| (call.name.as_str(), &call.arguments)).collect();
        assert_eq!(
            got,
            [("get_weather", &json!({"city": "Paris"})), ("get_weather", &json!({"city": "London"}))],
            "{what}"
        );
        assert!(calls.iter().all(|call| !call.call_id.is_empty()), "{what}: an empty call id: {calls:?}");
        assert_ne!(calls[0].call_id, calls[1].call_id, "{what}: the ids must tell the calls apart");
    }
}

/// The answer's schema.
fn forecast_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "temperature_c": {"type": "integer"}
        },
        "required": ["city", "temperature_c"],
        "additionalProperties": false
    })
}

/// A JSON-schema response format, whole and streamed: the schema is sent, and the answer
/// parses.
pub async fn structured_output(harness: &Harness) {
    for stream in [false, true] {
        let what = format!("structured_output ({})", how(stream));
        harness
            .script(vec![Answer::Reply(Reply::text(["{\"city\": \"Paris\", ", "\"temperature_c\": 21}"]))]);
        let schema = ChatOptions {
            response_format: Some(ResponseFormat::JsonSchema {
                name: "forecast".into(),
                schema: forecast_schema(),
                strict: true,
            }),
            ..options()
        };
        let response = call(harness.client().as_ref(), ask("The weather in Paris, as JSON.", schema), stream)
            .await
            .unwrap_or_else(|err| panic!("{what}: {err}"));
        let text = response.text_content();
        let answer: Value =
            serde_json::from_str(&text).unwrap_or_else(|err| panic!("{what}: not JSON ({err}): {text:?}"));
        if harness.is_live() {
            assert!(answer.get("city").is_some_and(Value::is_string), "{what}: {answer}");
            assert!(answer.get("temperature_c").is_some_and(Value::is_i64), "{what}: {answer}");
            continue;
        }
        assert_eq!(answer, json!({"city": "Paris", "temperature_c": 21}), "{what}");
        let sent = harness.received()[0].body.to_string();
        assert!(sent.contains("temperature_c"), "{what}: the schema was not sent: {sent}");
    }
}

/// Token usage, whole and streamed.
pub async fn usage(harness: &Harness) {
    for stream in [false, true] {
        let what = format!("usage ({})", how(stream));
        harness.script(vec![Answer::Reply(Reply::text(HELLO).usage(23, 5))]);
        let response = call(harness.client().as_ref(), ask("Say hello.", options()), stream)
            .await
            .unwrap_or_else(|err| panic!("{what}: {err}"));
        let usage = response.usage.unwrap_or_else(|| panic!("{what}: no usage: {response:?}"));
        if harness.is_live() {
            assert!(usage.input_tokens > 0 && usage.output_tokens > 0, "{what}: {usage:?}");
            assert_eq!(usage.total_tokens, usage.input_tokens + usage.output_tokens, "{what}: {usage:?}");
            continue;
        }
        assert_eq!((usage.input_tokens, usage.output_tokens, usage.total_tokens), (23, 5, 28), "{what}");
        let reported =
            response.messages[0].contents.iter().filter(|c| matches!(c, Content::Usage(_))).count();
        assert!(reported <= 1, "{what}: usage counted {reported} times");
    }
}

/// Finish reasons, whole and streamed: the token limit is `Length`, a forced tool call
/// `ToolCalls`.
pub async fn finish_reasons(harness: &Harness) {
    for stream in [false, true] {
        let what = format!("finish_reasons ({})", how(stream));
        harness.script(vec![Answer::Reply(Reply::text(["Howdy"]).finish(Finish::Length))]);
        let short = ChatOptions { max_tokens: Some(1), ..options() };
        let response = call(harness.client().as_ref(), ask("Tell me a long story.", short), stream)
            .await
            .unwrap_or_else(|err| panic!("{what}: {err}"));
        assert_eq!(
            response.finish_reason,
            Some(FinishReason::Length),
            "{what}: the token limit: {response:?}"
        );
        harness.script(vec![Answer::Reply(Reply::calls([ScriptedCall::new(
            "call_paris",
            "get_weather",
            json!({"city": "Paris"}),
        )]))]);
        let forced = ChatOptions {
            tools: vec![weather_definition()],
            // Required, not a named function: llama-server's OpenAI endpoints force a call only so.
            tool_choice: Some(ToolChoice::Required),
            ..options()
        };
        let response = call(harness.client().as_ref(), ask("Weather in Paris?", forced), stream)
            .await
            .unwrap_or_else(|err| panic!("{what}: {err}"));
        assert_eq!(
            response.finish_reason,
            Some(FinishReason::ToolCalls),
            "{what}: a tool call: {response:?}"
        );
        let calls: Vec<_> = response.function_calls_requested().collect();
        assert_eq!(calls.len(), 1, "{what}: {response:?}");
        assert_eq!(calls[0].name, "get_weather", "{what}");
    }
}
