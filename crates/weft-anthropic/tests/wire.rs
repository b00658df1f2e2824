//! The Anthropic client against an in-test server that answers as Anthropic's documentation
//! shows (the SSE bodies are its streaming examples, byte for byte where it gives them):
//! thinking with signatures, caching usage, parallel tool use, and the errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use weft_anthropic::{Anthropic, AnthropicClient};
use weft_core::{
    ChatClient, ChatErrorKind, ChatOptions, ChatRequest, Content, FinishReason, FunctionCall, Message, Role,
    Usage, collect_stream,
};

/// One scripted answer: status, extra headers, content type, body.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    content_type: &'static str,
    body: String,
}

fn sse(body: &str) -> Answer {
    Answer { status: 200, headers: Vec::new(), content_type: "text/event-stream", body: body.to_string() }
}

fn json_answer(status: u16, body: Value) -> Answer {
    Answer { status, headers: Vec::new(), content_type: "application/json", body: body.to_string() }
}

#[derive(Default)]
struct Script {
    answers: Vec<Answer>,
    requests: Vec<(HeaderMap, Value)>,
}

/// A server on a free port that gives the scripted answers in turn (the last one again when
/// they run out), stopped when the test ends.
struct Mock {
    base_url: String,
    script: Arc<Mutex<Script>>,
    stop: CancellationToken,
    _server: tokio::task::JoinHandle<()>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Mock {
    async fn start(answers: Vec<Answer>) -> Self {
        let script = Arc::new(Mutex::new(Script { answers, requests: Vec::new() }));
        let app = Router::new().route("/v1/messages", post(answer)).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await.unwrap();
        });
        Self { base_url, script, stop, _server: server }
    }

    fn client(&self) -> AnthropicClient {
        Anthropic::builder()
            .base_url(&self.base_url)
            .api_key("sk-ant-test-key")
            .model("claude-test")
            .initial_retry_delay(Duration::from_millis(10))
            .build()
            .unwrap()
            .messages()
    }

    fn requests(&self) -> Vec<(HeaderMap, Value)> {
        self.script.lock().unwrap().requests.clone()
    }
}

async fn answer(State(script): State<Arc<Mutex<Script>>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut script = script.lock().unwrap();
    script.requests.push((headers, serde_json::from_slice(&body).unwrap_or(Value::Null)));
    let answer = if script.answers.len() > 1 { script.answers.remove(0) } else { script.answers[0].clone() };
    let mut response =
        (StatusCode::from_u16(answer.status).unwrap(), [("content-type", answer.content_type)], answer.body)
            .into_response();
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new(vec![Message::user(text)], ChatOptions::default())
}

/// Anthropic's documented basic stream, with a `ping`.
const BASIC_STREAM: &str = r#"event: message_start
data: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-6", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}

event: message_stop
data: {"type": "message_stop"}

"#;

/// Anthropic's documented stream with extended thinking.
const THINKING_STREAM: &str = r#"event: message_start
data: {"type": "message_start", "message": {"id": "msg_01...", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5", "stop_reason": null, "stop_sequence": null}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0\n\nSo GCD(1071, 462) = 21"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: content_block_start
data: {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "The greatest common divisor of 1071 and 462 is **21**."}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 1}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}}

event: message_stop
data: {"type": "message_stop"}

"#;

/// Two tool uses in one turn (parallel tool use), arguments streamed as `input_json_delta`,
/// and prompt-caching usage.
const TOOLS_STREAM: &str = r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5","stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":2},"content":[],"stop_reason":null}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking both."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"San Francisco, CA\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02","name":"get_time","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"tz\": \"PST\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}

"#;

#[tokio::test]
async fn a_documented_stream_with_ping_and_usage() {
    let mock = Mock::start(vec![sse(BASIC_STREAM)]).await;
    let response = collect_stream(mock.client().get_streaming_response(ask("Hi"))).await.unwrap();
    assert_eq!(response.text_content(), "Hello!");
    assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    assert_eq!(response.usage, Some(Usage::new(25, 15)));
    assert_eq!(response.model.as_deref(), Some("claude-opus-4-6"));
    assert_eq!(response.response_id.as_deref(), Some("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"));
    let (headers, body) = &mock.requests()[0];
    assert_eq!(headers["x-api-key"], "sk-ant-test-key");
    assert_eq!(headers["anthropic-version"], "2023-06-01");
    assert_eq!(headers["accept"], "text/event-stream");
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["model"], json!("claude-test"));
    assert_eq!(body["max_tokens"], json!(4096));
}

#[tokio::test]
async fn thinking_keeps_its_signature_and_goes_back_with_the_history() {
    let mock = Mock::start(vec![sse(THINKING_STREAM), sse(BASIC_STREAM)]).await;
    let client = Anthropic::builder()
        .base_url(&mock.base_url)
        .model("claude-test")
        .thinking_budget(10_000)
        .build()
        .unwrap()
        .messages();
    let response = collect_stream(client.get_streaming_response(ask("GCD of 1071 and 462?"))).await.unwrap();
    let message = &response.messages[0];
    assert_eq!(
        message.contents,
        vec![
            Content::Reasoning {
                text: "I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0\n\nSo GCD(1071, 462) = 21".into(),
                signature: Some("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...".into()),
            },
            Content::text("The greatest common divisor of 1071 and 462 is **21**."),
        ]
    );
    // The next call sends the thinking block back, signed, before the text.
    let mut history = vec![Message::user("GCD of 1071 and 462?"), message.clone(), Message::user("Thanks")];
    history.insert(0, Message::system("Show your work."));
    collect_stream(client.get_streaming_response(ChatRequest::new(history, ChatOptions::default())))
        .await
        .unwrap();
    let requests = mock.requests();
    assert_eq!(requests[0].1["thinking"], json!({"type": "enabled", "budget_tokens": 10_000}));
    assert_eq!(requests[0].1["max_tokens"], json!(14_096));
    let sent = &requests[1].1;
    assert_eq!(sent["system"], json!("Show your work."));
    assert_eq!(sent["messages"][1]["role"], json!("assistant"));
    assert_eq!(sent["messages"][1]["content"][0]["type"], json!("thinking"));
    assert_eq!(
        sent["messages"][1]["content"][0]["signature"],
        json!("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...")
    );
    assert_eq!(sent["messages"][1]["content"][1]["type"], json!("text"));
}

#[tokio::test]
async fn parallel_tool_use_and_caching_usage() {
    let mock = Mock::start(vec![sse(TOOLS_STREAM)]).await;
    let response =
        collect_stream(mock.client().get_streaming_response(ask("Weather and time?"))).await.unwrap();
    let calls: Vec<FunctionCall> = response.function_calls_requested().cloned().collect();
    assert_eq!(
        calls,
        vec![
            FunctionCall::new(
                "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                "get_weather",
                json!({"location": "San Francisco, CA"})
            ),
            FunctionCall::new("toolu_02", "get_time", json!({"tz": "PST"})),
        ]
    );
    assert_eq!(response.text_content(), "Checking both.");
    assert_eq!(response.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(
        response.usage,
        Some(Usage {
            input_tokens: 2572,
            output_tokens: 89,
            total_tokens: 2661,
            cache_read_input_tokens: 2000,
            cache_creation_input_tokens: 100,
        })
    );
}

#[tokio::test]
async fn a_whole_answer_with_cache_usage() {
    let mock = Mock::start(vec![json_answer(
        200,
        json!({
            "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Hi! My name is Claude."}],
            "stop_reason": "max_tokens", "stop_sequence": null,
            "usage": {"input_tokens": 2095, "output_tokens": 503, "cache_read_input_tokens": 1800, "cache_creation_input_tokens": 0}
        }),
    )])
    .await;
    let response = mock.client().get_response(ask("Hi")).await.unwrap();
    assert_eq!(response.text_content(), "Hi! My name is Claude.");
    assert_eq!(response.finish_reason, Some(FinishReason::Length));
    let usage = response.usage.unwrap();
    assert_eq!((usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens), (3895, 1800, 503));
    assert_eq!(mock.requests()[0].0["accept"], "application/json");
    assert_eq!(response.messages[0].role, Role::Assistant);
}

fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

#[tokio::test]
async fn a_bad_key_is_an_authentication_error_without_the_key() {
    let mock = Mock::start(vec![json_answer(
        401,
        error_body("authentication_error", "invalid x-api-key sk-ant-test-key"),
    )])
    .await;
    let err = mock.client().get_response(ask("Hi")).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Authentication);
    assert_eq!(err.code(), Some("authentication_error"));
    assert!(!err.to_string().contains("sk-ant-test-key"), "{err}");
    assert!(err.to_string().starts_with("anthropic messages http://127.0.0.1:"), "{err}");
    assert_eq!(mock.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn a_rate_limit_waits_what_retry_after_asks_then_succeeds() {
    let mut limited = json_answer(
        429,
        error_body("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    );
    limited.headers.push(("retry-after", "0.2".into()));
    limited.headers.push(("anthropic-ratelimit-requests-remaining", "0".into()));
    let mock = Mock::start(vec![limited.clone(), sse(BASIC_STREAM)]).await;
    let started = tokio::time::Instant::now();
    let response = collect_stream(mock.client().get_streaming_response(ask("Hi"))).await.unwrap();
    assert_eq!(response.text_content(), "Hello!");
    // The backoff alone would be ~10 ms.
    assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
    assert_eq!(mock.requests().len(), 2);
    // Without retries, the error says how long to wait.
    let mock = Mock::start(vec![limited]).await;
    let client =
        Anthropic::builder().base_url(&mock.base_url).model("m").max_retries(0).build().unwrap().messages();
    let err = client.get_response(ask("Hi")).await.unwrap_err();
    assert_eq!((err.kind(), err.code()), (ChatErrorKind::RateLimit, Some("rate_limit_error")));
    assert_eq!(err.retry_after(), Some(Duration::from_millis(200)));
}

#[tokio::test]
async fn overloaded_529_is_retried() {
    let overloaded = json_answer(529, error_body("overloaded_error", "Overloaded"));
    let mock = Mock::start(vec![overloaded.clone(), overloaded.clone(), sse(BASIC_STREAM)]).await;
    let response = collect_stream(mock.client().get_streaming_response(ask("Hi"))).await.unwrap();
    assert_eq!(response.text_content(), "Hello!");
    assert_eq!(mock.requests().len(), 3);
    // Once the retries are spent, the error names the overload.
    let mock = Mock::start(vec![overloaded]).await;
    let err = mock.client().get_response(ask("Hi")).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.status(), err.code()),
        (ChatErrorKind::Server, Some(529), Some("overloaded_error"))
    );
    assert!(err.is_retryable());
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn an_error_event_mid_stream_ends_it_with_that_error() {
    let body = BASIC_STREAM.split("event: content_block_stop").next().unwrap().to_string()
        + "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n";
    let mock = Mock::start(vec![sse(&body)]).await;
    let err = collect_stream(mock.client().get_streaming_response(ask("Hi"))).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.code(), err.message()),
        (ChatErrorKind::Server, Some("overloaded_error"), "Overloaded")
    );
    assert_eq!(mock.requests().len(), 1, "a stream handed out is not retried");
}

#[tokio::test]
async fn a_cut_stream_is_stream_ended() {
    let body = BASIC_STREAM.split("event: message_stop").next().unwrap();
    let mock = Mock::start(vec![sse(body)]).await;
    let err = collect_stream(mock.client().get_streaming_response(ask("Hi"))).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::StreamEnded);
    assert!(err.message().contains("message_stop"), "{err}");
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let body = "event: message_start\ndata: {\"type\": \"message_start\", \"message\": {\"id\": \n\n";
    let mock = Mock::start(vec![sse(body)]).await;
    let err = collect_stream(mock.client().get_streaming_response(ask("Hi"))).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Decode);
    assert!(err.message().contains("a stream event is not valid JSON"), "{err}");
    let mut cut = json_answer(200, json!({}));
    cut.body = "{\"type\": \"message\", \"content\": [".into();
    let mock = Mock::start(vec![cut]).await;
    let err = mock.client().get_response(ask("Hi")).await.unwrap_err();
    assert_eq!(err.kind(), ChatErrorKind::Decode);
}

#[tokio::test]
async fn hosted_tools_anthropic_does_not_host_are_refused_before_sending() {
    // Nothing listens: a request sent would fail as a network error, not this one.
    let client = Anthropic::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("k")
        .model("m")
        .build()
        .unwrap()
        .messages();
    for tool in [
        weft_core::HostedTool::FileSearch {
            vector_store_ids: vec!["vs".into()],
            max_results: None,
            ranker: None,
            score_threshold: None,
            filters: None,
        },
        weft_core::HostedTool::CodeInterpreter { file_ids: vec![] },
    ] {
        let kind = tool.kind();
        let mut request = ask("Hi");
        request.options.hosted_tools = vec![tool];
        let err = client.get_response(request).await.unwrap_err();
        assert_eq!(err.code(), Some(weft_core::hosted::UNSUPPORTED_HOSTED_TOOL), "{err}");
        assert!(err.message().contains(&format!("`{kind}`")), "{err}");
    }
}
