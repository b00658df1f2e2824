//! The provider against a real OpenAI-compatible server: llama.cpp's `llama-server` with a tiny
//! deterministic model (built by `scripts/peers/llama.sh`). Both APIs, streamed and not: plain
//! answers, forced tool calls, an agent loop with a real tool, structured output, errors, a
//! server killed mid-stream and many concurrent runs.
//!
//! Each test starts its own server and stops it. The tests are `#[ignore]`d in plain
//! `cargo nextest run`; `scripts/test` builds the peer and runs them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/llama.rs"]
mod llama;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use llama::{LlamaServer, Options, peer};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use weft_core::{
    AgentSession, ChatAgent, ChatClient, ChatError, ChatOptions, ChatRequest, ChatResponse, Content,
    FinishReason, FunctionCall, FunctionTool, Message, ResponseFormat, Role, ToolChoice, ToolDefinition,
    collect_stream, from_fn,
};
use weft_openai::{OpenAI, OpenAIBuilder};

/// What the tiny model answers to any chat.
const HOWDY: &str = "Howdy, pal!";

/// The longest any one test may take: far more than it needs (1–5 s on an idle machine), so
/// that only a hang, not a loaded CI machine, trips it.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Both APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Chat,
    Responses,
}

const APIS: [Api; 2] = [Api::Chat, Api::Responses];

/// Runs `test` within [`TEST_TIMEOUT`].
async fn within<F: Future<Output = ()>>(test: F) {
    if tokio::time::timeout(TEST_TIMEOUT, test).await.is_err() {
        panic!("the test did not finish within {TEST_TIMEOUT:?}");
    }
}

/// A builder for the server: no key, model `tiny`, short deadlines (nothing here should
/// take long) and no retries, so that a failure shows up as it is.
fn builder(server: &LlamaServer) -> OpenAIBuilder {
    OpenAI::builder()
        .base_url(server.base_url())
        .model("tiny")
        .timeout(Duration::from_secs(30))
        .stream_idle_timeout(Duration::from_secs(20))
        .max_retries(0)
}

fn client_for(openai: &OpenAI, api: Api) -> Arc<dyn ChatClient> {
    match api {
        Api::Chat => Arc::new(openai.chat()),
        Api::Responses => Arc::new(openai.responses()),
    }
}

fn client(server: &LlamaServer, api: Api) -> Arc<dyn ChatClient> {
    client_for(&builder(server).build().unwrap(), api)
}

/// Temperature 0, as the README asks (the model is deterministic anyway).
fn options() -> ChatOptions {
    ChatOptions { temperature: Some(0.0), ..ChatOptions::default() }
}

fn ask(text: &str, options: ChatOptions) -> ChatRequest {
    ChatRequest::new(vec![Message::user(text)], options)
}

/// One call, streamed (folded into a response) or not.
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

/// The function calls of a response.
fn calls(response: &ChatResponse) -> Vec<FunctionCall> {
    response.function_calls_requested().cloned().collect()
}

/// A tool whose schema makes the model fill every kind of argument: an enum (`Paris`), a free
/// string (`OK`), an integer (`42`) and a boolean (`true`).
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
async fn plain_runs_answer_howdy_with_stop_and_usage() {
    let peer = peer("plain_runs_answer_howdy_with_stop_and_usage");
    let server = LlamaServer::start(&peer, &Options::default());
    within(async {
        for api in APIS {
            let client = client(&server, api);
            for stream in [false, true] {
                let what = format!("{api:?}, streamed: {stream}");
                let response = call(client.as_ref(), ask("hello", options()), stream)
                    .await
                    .unwrap_or_else(|err| panic!("{what}: {err}"));
                assert_eq!(response.text_content(), HOWDY, "{what}");
                assert_eq!(response.finish_reason, Some(FinishReason::Stop), "{what}");
                assert_eq!(response.messages.len(), 1, "{what}");
                assert_eq!(response.messages[0].role, Role::Assistant, "{what}");
                // Streamed Chat Completions carry usage only because the provider asks for it
                // with `stream_options.include_usage`.
                let usage = response.usage.unwrap_or_else(|| panic!("{what}: no usage"));
                assert!(usage.input_tokens > 0 && usage.output_tokens > 0, "{what}: {usage:?}");
                assert_eq!(usage.total_tokens, usage.input_tokens + usage.output_tokens, "{what}");
                assert!(response.response_id.is_some(), "{what}");
                let mut contents = response.messages.iter().flat_map(|message| message.contents.iter());
                assert!(
                    contents.all(|content| matches!(content, Content::Text { .. } | Content::Usage(_))),
                    "{what}: {response:?}"
                );
            }
            // The text arrives as several deltas, not in one piece.
            let mut stream = client.get_streaming_response(ask("hello", options()));
            let mut texts = Vec::new();
            while let Some(update) = stream.next().await {
                let text = update.unwrap().text_content();
                if !text.is_empty() {
                    texts.push(text);
                }
            }
            assert!(texts.len() > 1, "{api:?}: {texts:?}");
            assert_eq!(texts.concat(), HOWDY, "{api:?}");
            // The server ignores the model name (any name answers, as the README says).
            let response =
                client.get_response(ask("hello", ChatOptions::with_model("gpt-4o-mini"))).await.unwrap();
            assert_eq!(response.text_content(), HOWDY, "{api:?}");
        }
    })
    .await;
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn forced_tool_calls_come_back_parsed() {
    let peer = peer("forced_tool_calls_come_back_parsed");
    let server = LlamaServer::start(&peer, &Options::default());
    within(async {
        // The server treats the object form of `tool_choice` as `auto`; with
        // `named_tool_choice(false)` the provider forces a named function the way it understands.
        let named = builder(&server).named_tool_choice(false).build().unwrap();
        for api in APIS {
            let client = client(&server, api);
            let named_client = client_for(&named, api);
            for stream in [false, true] {
                for (choice, client) in [
                    (ToolChoice::Required, &client),
                    (ToolChoice::Function("get_weather".into()), &named_client),
                ] {
                    let what = format!("{api:?}, streamed: {stream}, {choice:?}");
                    let options =
                        ChatOptions { tools: vec![weather_tool()], tool_choice: Some(choice), ..options() };
                    let response =
                        call(client.as_ref(), ask("What's the weather in Paris?", options), stream)
                            .await
                            .unwrap_or_else(|err| panic!("{what}: {err}"));
                    let calls = calls(&response);
                    assert_eq!(calls.len(), 1, "{what}: {response:?}");
                    assert_eq!(calls[0].name, "get_weather", "{what}");
                    assert_eq!(calls[0].arguments, weather_arguments(), "{what}");
                    assert!(!calls[0].call_id.is_empty(), "{what}");
                    // The model says its line before the call, as models may.
                    assert!(["", HOWDY].contains(&response.text_content().as_str()), "{what}: {response:?}");
                    assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls), "{what}");
                }
            }
            // Without a forced choice the model answers in text.
            let options =
                ChatOptions { tools: vec![weather_tool()], tool_choice: Some(ToolChoice::Auto), ..options() };
            let response = client.get_response(ask("hello", options)).await.unwrap();
            assert_eq!((response.text_content().as_str(), calls(&response).len()), (HOWDY, 0), "{api:?}");
        }
    })
    .await;
}

/// The raw stream really splits the arguments over several deltas, so the test above proves
/// that the provider assembles them.
#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn streamed_arguments_arrive_in_fragments() {
    let peer = peer("streamed_arguments_arrive_in_fragments");
    let server = LlamaServer::start(&peer, &Options::default());
    within(async {
        let openai = builder(&server).build().unwrap();
        let request = ask(
            "weather?",
            ChatOptions { tools: vec![weather_tool()], tool_choice: Some(ToolChoice::Required), ..options() },
        );
        // A fresh connection per request: llama-server may close a kept-alive connection right
        // after a stream, and reusing it races with that close (hyper's IncompleteMessage).
        let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        for (api, path, body) in [
            (Api::Chat, "chat/completions", openai.chat().request_body(&request, true).unwrap()),
            (Api::Responses, "responses", openai.responses().request_body(&request, true).unwrap()),
        ] {
            let text = http
                .post(format!("{}/{path}", server.base_url()))
                .json(&body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let fragments = text
                .lines()
                .filter_map(|line| line.strip_prefix("data: "))
                .filter_map(|data| serde_json::from_str::<Value>(data).ok())
                .filter(|event| match api {
                    Api::Chat => event["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                        .as_str()
                        .is_some_and(|arguments| !arguments.is_empty()),
                    Api::Responses => event["type"] == "response.function_call_arguments.delta",
                })
                .count();
            assert!(fragments > 2, "{api:?}: {fragments} argument fragments in\n{text}");
        }
    })
    .await;
}

#[derive(Debug, Deserialize, JsonSchema)]
struct WeatherArgs {
    /// The city.
    city: City,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
enum City {
    Paris,
    London,
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn agent_runs_a_real_tool_and_answers() {
    let peer = peer("agent_runs_a_real_tool_and_answers");
    let server = LlamaServer::start(&peer, &Options::default());
    within(async {
        for api in APIS {
            for stream in [false, true] {
                let what = format!("{api:?}, streamed: {stream}");
                let seen = Arc::new(Mutex::new(Vec::new()));
                let seen_by_tool = seen.clone();
                let tool = FunctionTool::new(
                    "get_weather",
                    "Get the weather for a city",
                    move |args: WeatherArgs| {
                        let seen = seen_by_tool.clone();
                        async move {
                            seen.lock().unwrap().push(args.city);
                            Ok::<_, std::convert::Infallible>(format!("{:?}: sunny, 21C", args.city))
                        }
                    },
                );
                // The tiny model calls a tool only when it must: force a call until a tool
                // result is in the conversation, then let it answer.
                let force_first_call = from_fn(|mut request: ChatRequest, next| async move {
                    let answered =
                        request.messages.iter().any(|message| message.function_results().next().is_some());
                    request.options.tool_choice =
                        Some(if answered { ToolChoice::Auto } else { ToolChoice::Required });
                    next.run(request).await
                });
                let agent = ChatAgent::builder(client(&server, api))
                    .instructions("You are a weather assistant.")
                    .tool(tool)
                    .options(options())
                    .chat_middleware(force_first_call)
                    .max_iterations(4)
                    .build();
                let mut session = AgentSession::new();
                let response = if stream {
                    let mut updates = agent.run_stream(&mut session, "What's the weather in Paris?");
                    let mut text = String::new();
                    while let Some(update) = updates.next().await {
                        text.push_str(&update.unwrap_or_else(|err| panic!("{what}: {err}")).text_content());
                    }
                    drop(updates);
                    // Its line before the call, then its answer.
                    assert!(text.ends_with(HOWDY), "{what}: {text:?}");
                    None
                } else {
                    Some(
                        agent
                            .run(&mut session, "What's the weather in Paris?")
                            .await
                            .unwrap_or_else(|err| panic!("{what}: {err}")),
                    )
                };
                assert_eq!(*seen.lock().unwrap(), vec![City::Paris], "{what}");
                // The session holds the whole loop: question, call, result (with the server's
                // call id), answer.
                let messages = &session.messages;
                let call = messages.iter().flat_map(Message::function_calls).next().expect("a call");
                let result = messages.iter().flat_map(Message::function_results).next().expect("a result");
                assert_eq!(result.call_id, call.call_id, "{what}");
                assert_eq!(result.to_model_text(), "Paris: sunny, 21C", "{what}");
                assert_eq!(
                    messages.last().map(Message::text).as_deref(),
                    Some(HOWDY),
                    "{what}: {messages:?}"
                );
                if let Some(response) = response {
                    assert_eq!(response.text(), HOWDY, "{what}");
                    assert_eq!(response.model_calls, 2, "{what}");
                    assert_eq!(response.finish_reason, Some(FinishReason::Stop), "{what}");
                    assert!(response.usage.input_tokens > 0, "{what}");
                }
            }
        }
    })
    .await;
}

/// A structured answer; the grammar makes the model fill it like tool arguments.
#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Forecast {
    city: City,
    summary: String,
    days: i64,
    metric: bool,
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn structured_output_parses_into_a_rust_type() {
    let peer = peer("structured_output_parses_into_a_rust_type");
    let server = LlamaServer::start(&peer, &Options::default());
    within(async {
        // Chat Completions only: this llama-server's `/v1/responses` ignores `text.format` (it
        // converts the body to a chat request without mapping it to `response_format`), so the
        // model answers free text there.
        for api in [Api::Chat] {
            let agent = ChatAgent::builder(client(&server, api)).options(options()).build();
            let typed = agent
                .run_typed::<Forecast>(&mut AgentSession::new(), "The forecast for Paris, please.")
                .await
                .unwrap_or_else(|err| panic!("{api:?}: {err}"));
            assert_eq!(typed.value.city, City::Paris, "{api:?}: {}", typed.response.text());
            assert_eq!(typed.response.finish_reason, Some(FinishReason::Stop), "{api:?}");
            // And streamed, through the client directly.
            let format = weft_core::agent::response_format_for::<Forecast>();
            assert!(matches!(format, ResponseFormat::JsonSchema { strict: true, .. }));
            let request = ask(
                "The forecast for Paris, please.",
                ChatOptions { response_format: Some(format), ..options() },
            );
            let response = call(client(&server, api).as_ref(), request, true).await.unwrap();
            let parsed: Forecast = serde_json::from_str(&response.text_content())
                .unwrap_or_else(|err| panic!("{api:?}: {err}: {}", response.text_content()));
            assert_eq!(parsed, typed.value, "{api:?}");
        }
    })
    .await;
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn a_wrong_key_is_an_authentication_error() {
    let peer = peer("a_wrong_key_is_an_authentication_error");
    let server =
        LlamaServer::start(&peer, &Options { api_key: Some("sk-right".into()), ..Options::default() });
    within(async {
        let wrong = builder(&server).api_key("sk-wrong").build().unwrap();
        let none = builder(&server).build().unwrap();
        let right = builder(&server).api_key("sk-right").build().unwrap();
        for api in APIS {
            for stream in [false, true] {
                let what = format!("{api:?}, streamed: {stream}");
                for openai in [&wrong, &none] {
                    let err = call(client_for(openai, api).as_ref(), ask("hello", options()), stream)
                        .await
                        .expect_err(&what);
                    assert!(err.is_authentication(), "{what}: {err:?}");
                    assert_eq!(err.status(), Some(401), "{what}");
                    assert_eq!(err.code(), Some("authentication_error"), "{what}: {err:?}");
                    assert!(!err.message().is_empty(), "{what}");
                }
                let response =
                    call(client_for(&right, api).as_ref(), ask("hello", options()), stream).await.unwrap();
                assert_eq!(response.text_content(), HOWDY, "{what}");
            }
        }
    })
    .await;
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn bad_requests_carry_the_servers_message() {
    let peer = peer("bad_requests_carry_the_servers_message");
    let server = LlamaServer::start(&peer, &Options { context: 512, ..Options::default() });
    within(async {
        let long = "hello ".repeat(2_000);
        for api in APIS {
            let client = client(&server, api);
            for stream in [false, true] {
                let what = format!("{api:?}, streamed: {stream}");
                let err = call(client.as_ref(), ask(&long, options()), stream).await.expect_err(&what);
                assert!(err.is_bad_request(), "{what}: {err:?}");
                assert_eq!(err.status(), Some(400), "{what}");
                assert_eq!(err.code(), Some("exceed_context_size_error"), "{what}: {err:?}");
                assert!(err.message().contains("context"), "{what}: the server's message: {err}");
            }
        }
    })
    .await;
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn a_cut_off_answer_says_length() {
    let peer = peer("a_cut_off_answer_says_length");
    let server = LlamaServer::start(&peer, &Options::default());
    within(async {
        for api in APIS {
            let client = client(&server, api);
            for stream in [false, true] {
                let what = format!("{api:?}, streamed: {stream}");
                let options = ChatOptions { max_tokens: Some(2), ..options() };
                let response = call(client.as_ref(), ask("hello", options), stream).await.unwrap();
                assert_eq!(response.finish_reason, Some(FinishReason::Length), "{what}: {response:?}");
                assert!(HOWDY.starts_with(&response.text_content()), "{what}: {response:?}");
                assert_ne!(response.text_content(), HOWDY, "{what}");
            }
        }
    })
    .await;
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn a_server_killed_mid_stream_is_a_typed_error() {
    let peer = peer("a_server_killed_mid_stream_is_a_typed_error");
    within(async {
        for api in APIS {
            let mut server = LlamaServer::start(&peer, &Options { context: 32_768, ..Options::default() });
            // `ignore_eos` (a llama.cpp option) keeps the model talking long after `Howdy, pal!`.
            let mut extra = serde_json::Map::new();
            extra.insert("ignore_eos".into(), json!(true));
            let options = ChatOptions { max_tokens: Some(30_000), extra, ..options() };
            let client = client(&server, api);
            let mut stream = client.get_streaming_response(ask("hello", options));
            let mut text = String::new();
            while text.len() < 40 {
                let update =
                    stream.next().await.expect("an update").unwrap_or_else(|err| panic!("{api:?}: {err}"));
                text.push_str(&update.text_content());
            }
            server.kill();
            let err = loop {
                match stream.next().await {
                    Some(Ok(_)) => continue,
                    Some(Err(err)) => break err,
                    None => panic!("{api:?}: the stream ended without an error after the server died"),
                }
            };
            assert!(err.is_network() || err.is_stream_ended(), "{api:?}: {err:?}");
            assert!(stream.next().await.is_none(), "{api:?}: the stream ends after its error");
        }
    })
    .await;
}

#[ignore = "needs llama-server: scripts/test builds it"]
#[tokio::test]
async fn fifty_runs_at_once_on_four_slots_all_succeed() {
    let peer = peer("fifty_runs_at_once_on_four_slots_all_succeed");
    let server = LlamaServer::start(&peer, &Options { slots: 4, context: 16_384, ..Options::default() });
    within(async {
        let openai = builder(&server).build().unwrap();
        let runs = (0..50).map(|run| {
            let api = APIS[run % 2];
            let client = client_for(&openai, api);
            async move {
                let stream = run % 4 >= 2;
                let response = call(client.as_ref(), ask(&format!("hello #{run}"), options()), stream).await;
                (run, api, stream, response)
            }
        });
        for (run, api, stream, response) in futures::future::join_all(runs).await {
            let response =
                response.unwrap_or_else(|err| panic!("run {run} ({api:?}, streamed: {stream}): {err}"));
            assert_eq!(response.text_content(), HOWDY, "run {run}");
            assert_eq!(response.finish_reason, Some(FinishReason::Stop), "run {run}");
        }
    })
    .await;
}
