//! The Anthropic client against a real llama.cpp `llama-server`, which serves
//! `POST /v1/messages` (streamed or not, with `tool_use`): text, streaming, usage, forced tool
//! calls, and a tool round trip through `ChatAgent`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../weft-openai/tests/support/llama.rs"]
mod llama;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use llama::{LlamaServer, Options, peer};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use weft_anthropic::{Anthropic, AnthropicBuilder};
use weft_core::{
    AgentSession, ChatAgent, ChatClient, ChatError, ChatOptions, ChatRequest, ChatResponse, FinishReason,
    FunctionCall, FunctionTool, Message, Role, ToolChoice, ToolDefinition, collect_stream, from_fn,
};

/// What the tiny model answers to any chat.
const HOWDY: &str = "Howdy, pal!";

/// Far more than a test needs, so that only a hang trips it.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

async fn within<F: Future<Output = ()>>(test: F) {
    if tokio::time::timeout(TEST_TIMEOUT, test).await.is_err() {
        panic!("the test did not finish within {TEST_TIMEOUT:?}");
    }
}

/// The server's root (the client adds `/v1/messages`), model `tiny`, no retries.
fn builder(server: &LlamaServer) -> AnthropicBuilder {
    Anthropic::builder()
        .base_url(format!("http://127.0.0.1:{}", server.port()))
        .model("tiny")
        .max_tokens(64)
        .timeout(Duration::from_secs(30))
        .stream_idle_timeout(Duration::from_secs(20))
        .max_retries(0)
}

fn client(server: &LlamaServer) -> Arc<dyn ChatClient> {
    Arc::new(builder(server).build().unwrap().messages())
}

fn options() -> ChatOptions {
    ChatOptions { temperature: Some(0.0), ..ChatOptions::default() }
}

fn ask(text: &str, options: ChatOptions) -> ChatRequest {
    ChatRequest::new(vec![Message::system("You are terse."), Message::user(text)], options)
}

async fn call(
    client: &dyn ChatClient,
    request: ChatRequest,
    stream: bool,
) -> Result<ChatResponse, ChatError> {
    if stream {
        collect_stream(client.get_streaming_response(request)).await
    } else {
        client.get_response(request).await
    }
}

fn calls(response: &ChatResponse) -> Vec<FunctionCall> {
    response.function_calls_requested().cloned().collect()
}

fn weather_tool() -> ToolDefinition {
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

fn weather_arguments() -> Value {
    json!({"city": "Paris", "note": "OK", "days": 42, "metric": true})
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn text_streamed_or_not_with_usage_and_stop() {
    let peer = peer("text_streamed_or_not_with_usage_and_stop");
    let server = LlamaServer::start(&peer, &Options::default());
    within(async {
        let client = client(&server);
        for stream in [false, true] {
            let response = call(client.as_ref(), ask("Hello", options()), stream)
                .await
                .unwrap_or_else(|err| panic!("streamed: {stream}: {err}\n{}", server.log()));
            assert_eq!(response.text_content(), HOWDY, "streamed: {stream}");
            assert_eq!(response.finish_reason, Some(FinishReason::Stop), "streamed: {stream}");
            assert_eq!(response.messages[0].role, Role::Assistant);
            let usage = response.usage.unwrap_or_else(|| panic!("streamed: {stream}: no usage"));
            assert!(usage.input_tokens > 0 && usage.output_tokens > 0, "streamed: {stream}: {usage:?}");
            assert!(response.response_id.is_some(), "streamed: {stream}");
        }
        // The text arrives in several deltas.
        let mut updates = client.get_streaming_response(ask("Hello", options()));
        let mut texts = Vec::new();
        while let Some(update) = updates.next().await {
            let text = update.unwrap().text_content();
            if !text.is_empty() {
                texts.push(text);
            }
        }
        assert!(texts.len() > 1, "{texts:?}");
        assert_eq!(texts.concat(), HOWDY);
    })
    .await;
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn forced_tool_calls_come_back_parsed() {
    let peer = peer("forced_tool_calls_come_back_parsed");
    let server = LlamaServer::start(&peer, &Options::default());
    within(async {
        let client = client(&server);
        for choice in [ToolChoice::Required, ToolChoice::Function("get_weather".into())] {
            for stream in [false, true] {
                let what = format!("{choice:?}, streamed: {stream}");
                let options = ChatOptions {
                    tools: vec![weather_tool()],
                    tool_choice: Some(choice.clone()),
                    max_tokens: Some(256),
                    ..options()
                };
                let response = call(client.as_ref(), ask("Weather?", options), stream)
                    .await
                    .unwrap_or_else(|err| panic!("{what}: {err}\n{}", server.log()));
                let calls = calls(&response);
                assert_eq!(calls.len(), 1, "{what}: {response:?}");
                assert_eq!(calls[0].name, "get_weather", "{what}");
                assert_eq!(calls[0].arguments, weather_arguments(), "{what}");
                assert!(!calls[0].call_id.is_empty(), "{what}");
                assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls), "{what}");
            }
        }
    })
    .await;
}

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

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn agent_runs_a_real_tool_and_answers() {
    let peer = peer("agent_runs_a_real_tool_and_answers");
    let server = LlamaServer::start(&peer, &Options::default());
    within(async {
        for stream in [false, true] {
            let what = format!("streamed: {stream}");
            let seen = Arc::new(Mutex::new(Vec::new()));
            let seen_by_tool = seen.clone();
            let tool =
                FunctionTool::new("get_weather", "Get the weather for a city", move |args: WeatherArgs| {
                    let seen = seen_by_tool.clone();
                    async move {
                        seen.lock().unwrap().push(args.city);
                        Ok::<_, std::convert::Infallible>(format!("{:?}: sunny, 21C", args.city))
                    }
                });
            // The tiny model calls a tool only when it must: force a call until a tool result
            // is in the conversation, then let it answer.
            let force_first_call = from_fn(|mut request: ChatRequest, next| async move {
                let answered =
                    request.messages.iter().any(|message| message.function_results().next().is_some());
                request.options.tool_choice =
                    Some(if answered { ToolChoice::Auto } else { ToolChoice::Required });
                next.run(request).await
            });
            let agent = ChatAgent::builder(client(&server))
                .instructions("You are a weather assistant.")
                .tool(tool)
                .options(ChatOptions { max_tokens: Some(256), ..options() })
                .chat_middleware(force_first_call)
                .max_iterations(4)
                .build();
            let mut session = AgentSession::new();
            if stream {
                let mut updates = agent.run_stream(&mut session, "What's the weather in Paris?");
                let mut text = String::new();
                while let Some(update) = updates.next().await {
                    text.push_str(
                        &update
                            .unwrap_or_else(|err| panic!("{what}: {err}\n{}", server.log()))
                            .text_content(),
                    );
                }
                drop(updates);
                assert!(text.ends_with(HOWDY), "{what}: {text:?}");
            } else {
                let response = agent
                    .run(&mut session, "What's the weather in Paris?")
                    .await
                    .unwrap_or_else(|err| panic!("{what}: {err}\n{}", server.log()));
                assert_eq!(response.text(), HOWDY, "{what}");
                assert_eq!(response.model_calls, 2, "{what}");
                assert!(response.usage.input_tokens > 0, "{what}");
            }
            assert_eq!(*seen.lock().unwrap(), vec![City::Paris], "{what}");
            // The history holds the call and its result, matched by id.
            let messages = &session.messages;
            let call = messages.iter().flat_map(Message::function_calls).next().expect("a call");
            let result = messages.iter().flat_map(Message::function_results).next().expect("a result");
            assert_eq!(result.call_id, call.call_id, "{what}");
            assert_eq!(result.to_model_text(), "Paris: sunny, 21C", "{what}");
            assert_eq!(messages.last().map(Message::text).as_deref(), Some(HOWDY), "{what}: {messages:?}");
        }
    })
    .await;
}
