//! The Gemini client against a real LiteLLM proxy's Gemini endpoint
//! (`/v1beta/models/M:generateContent` and `:streamGenerateContent?alt=sse`), which translates
//! to a real llama-server: text, streaming, usage, a forced function call, and a tool round
//! trip through `ChatAgent`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/litellm.rs"]
mod litellm;
#[path = "../../weft-openai/tests/support/llama.rs"]
mod llama;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use litellm::{LiteLlm, MASTER_KEY, MODEL};
use llama::{LlamaServer, Options};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use weft_core::{
    AgentSession, ChatAgent, ChatClient, ChatOptions, ChatRequest, FinishReason, FunctionTool, Message, Role,
    ToolChoice, ToolDefinition, collect_stream, from_fn,
};
use weft_gemini::Gemini;

/// What the tiny model answers to any chat.
const HOWDY: &str = "Howdy, pal!";

/// Far more than a test needs, so that only a hang trips it.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

async fn within<F: Future<Output = ()>>(test: F) {
    if tokio::time::timeout(TEST_TIMEOUT, test).await.is_err() {
        panic!("the test did not finish within {TEST_TIMEOUT:?}");
    }
}

fn client(proxy: &LiteLlm) -> Arc<dyn ChatClient> {
    let gemini = Gemini::builder()
        .base_url(format!("{}/v1beta", proxy.base_url()))
        .api_key(MASTER_KEY)
        .model(MODEL)
        .timeout(Duration::from_secs(60))
        .stream_idle_timeout(Duration::from_secs(30))
        .max_retries(0)
        .build()
        .unwrap();
    Arc::new(gemini.chat())
}

fn options() -> ChatOptions {
    ChatOptions { temperature: Some(0.0), max_tokens: Some(64), ..ChatOptions::default() }
}

fn ask(text: &str, options: ChatOptions) -> ChatRequest {
    ChatRequest::new(vec![Message::system("You are terse."), Message::user(text)], options)
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

#[ignore = "needs llama-server and the LiteLLM proxy: scripts/test installs them"]
#[tokio::test]
async fn gemini_through_litellm_text_streaming_and_a_tool_round_trip() {
    let llama_peer = llama::peer("gemini_through_litellm_text_streaming_and_a_tool_round_trip");
    let bin = litellm::peer("gemini_through_litellm_text_streaming_and_a_tool_round_trip");
    let server = LlamaServer::start(&llama_peer, &Options::default());
    let proxy = LiteLlm::start(&bin, server.port());
    let logs = || format!("litellm:\n{}\nllama-server:\n{}", proxy.log(), server.log());
    within(async {
        let client = client(&proxy);
        // Text, whole and streamed.
        let response = client
            .get_response(ask("Hello", options()))
            .await
            .unwrap_or_else(|err| panic!("{err}\n{}", logs()));
        assert_eq!(response.text_content(), HOWDY);
        assert_eq!(response.finish_reason, Some(FinishReason::Stop));
        let usage = response.usage.expect("usage");
        assert!(usage.input_tokens > 0 && usage.output_tokens > 0, "{usage:?}");
        let mut updates = client.get_streaming_response(ask("Hello", options()));
        let mut texts = Vec::new();
        let mut last = None;
        while let Some(update) = updates.next().await {
            let update = update.unwrap_or_else(|err| panic!("{err}\n{}", logs()));
            let text = update.text_content();
            if !text.is_empty() {
                texts.push(text);
            }
            last = Some(update);
        }
        assert!(texts.len() > 1, "{texts:?}");
        assert_eq!(texts.concat(), HOWDY);
        assert_eq!(last.and_then(|update| update.finish_reason), Some(FinishReason::Stop));

        // A forced call (toolConfig ANY with the allowed name), whole and streamed.
        let tool = ToolDefinition::new(
            "get_weather",
            "Get the weather for a city",
            json!({"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "London"]}},
                   "required": ["city"], "additionalProperties": false}),
        );
        for stream in [false, true] {
            let options = ChatOptions {
                tools: vec![tool.clone()],
                tool_choice: Some(ToolChoice::Function("get_weather".into())),
                max_tokens: Some(256),
                ..options()
            };
            let request = ask("Weather?", options);
            let response = if stream {
                collect_stream(client.get_streaming_response(request)).await
            } else {
                client.get_response(request).await
            }
            .unwrap_or_else(|err| panic!("streamed: {stream}: {err}\n{}", logs()));
            let calls: Vec<_> = response.function_calls_requested().cloned().collect();
            assert_eq!(calls.len(), 1, "streamed: {stream}: {response:?}");
            assert_eq!(calls[0].name, "get_weather");
            assert_eq!(calls[0].arguments["city"], "Paris", "streamed: {stream}: {:?}", calls[0]);
            assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls), "streamed: {stream}");
        }

        // A round trip through an agent: the call, its result back as a functionResponse, the answer.
        for stream in [false, true] {
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
            let agent = ChatAgent::builder(client.clone())
                .instructions("You are a weather assistant.")
                .tool(tool)
                .options(ChatOptions { max_tokens: Some(256), ..options() })
                .chat_middleware(force_first_call)
                .max_iterations(4)
                .build();
            let mut session = AgentSession::new();
            if stream {
                let mut updates = agent.run_stream(&mut session, "What's the weather in Paris?");
                while let Some(update) = updates.next().await {
                    update.unwrap_or_else(|err| panic!("streamed: {err}\n{}", logs()));
                }
            } else {
                agent
                    .run(&mut session, "What's the weather in Paris?")
                    .await
                    .unwrap_or_else(|err| panic!("{err}\n{}", logs()));
            }
            assert_eq!(*seen.lock().unwrap(), vec![City::Paris], "streamed: {stream}");
            let last = session.messages.last().expect("an answer");
            assert_eq!(last.role, Role::Assistant, "streamed: {stream}");
            assert!(last.text().ends_with(HOWDY), "streamed: {stream}: {:?}", session.messages);
        }
    })
    .await;
}
