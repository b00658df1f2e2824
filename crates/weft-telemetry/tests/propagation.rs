//! Trace context crosses into the servers Weft calls: a model server in the test checks the
//! `traceparent` it gets against the `chat` span exported to an OTLP receiver in the test.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};
use tokio_util::task::AbortOnDropHandle;
use tracing_subscriber::layer::SubscriberExt as _;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_telemetry::{Telemetry, TelemetryConfig};

use support::{attribute, hex, receiver, span, spans};

type Headers = Arc<Mutex<Vec<HeaderMap>>>;

/// A Chat Completions server answering "hello", keeping each request's headers.
async fn model() -> (String, Headers, AbortOnDropHandle<()>) {
    let headers: Headers = Arc::default();
    let app = Router::new()
        .route(
            "/v1/chat/completions",
            post(|State(seen): State<Headers>, headers: HeaderMap, Json(_body): Json<Value>| async move {
                seen.lock().unwrap().push(headers);
                Json(json!({
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "model": "gpt-4o-mini",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "hello"}}],
                    "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15,
                              "prompt_tokens_details": {"cached_tokens": 8}}
                }))
            }),
        )
        .with_state(headers.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}/v1"), headers, AbortOnDropHandle::new(server))
}

/// Export to `url` for this thread only (so that tests of one process do not share it).
fn export(url: &str) -> (Telemetry, tracing::subscriber::DefaultGuard) {
    let telemetry = Telemetry::new(&TelemetryConfig::default().endpoint(url)).unwrap();
    let subscriber = tracing_subscriber::registry().with(telemetry.layer());
    let guard = tracing::subscriber::set_default(subscriber);
    (telemetry, guard)
}

async fn flush(telemetry: Telemetry) {
    // Off the runtime's thread: the exporter's HTTP client blocks.
    tokio::task::spawn_blocking(move || telemetry.shutdown().unwrap()).await.unwrap();
}

#[tokio::test]
async fn provider_requests_carry_the_chat_spans_traceparent() {
    let (otlp, received, _otlp) = receiver().await;
    let (base_url, headers, _model) = model().await;
    let (telemetry, guard) = export(&otlp);
    let openai = weft_openai::OpenAI::builder().base_url(base_url).api_key("sk-test").model("gpt-4o-mini");
    let agent = ChatAgent::builder(Arc::new(openai.build().unwrap().chat())).name("greeter").build();
    let response = agent.run(&mut AgentSession::new(), "hi").await.unwrap();
    assert_eq!(response.text(), "hello");
    drop(guard);
    flush(telemetry).await;

    let spans = spans(&received);
    let chat = span(&spans, "chat gpt-4o-mini");
    let agent = span(&spans, "invoke_agent greeter");
    assert_eq!(chat.parent_span_id, agent.span_id);
    for span in [chat, agent] {
        assert_eq!(attribute(span, "gen_ai.usage.input_tokens").as_deref(), Some("12"));
        assert_eq!(attribute(span, "gen_ai.usage.cache_read.input_tokens").as_deref(), Some("8"));
    }
    let headers = headers.lock().unwrap();
    let traceparent = headers[0].get("traceparent").expect("no traceparent").to_str().unwrap();
    // version-traceid-parentid-flags: the model server's span would be a child of `chat`.
    assert_eq!(traceparent, format!("00-{}-{}-01", hex(&chat.trace_id), hex(&chat.span_id)));
}

#[tokio::test]
async fn no_traceparent_without_export() {
    let (base_url, headers, _model) = model().await;
    let openai = weft_openai::OpenAI::builder().base_url(base_url).api_key("sk-test").model("gpt-4o-mini");
    let agent = ChatAgent::builder(Arc::new(openai.build().unwrap().chat())).build();
    agent.run(&mut AgentSession::new(), "hi").await.unwrap();
    assert!(headers.lock().unwrap()[0].get("traceparent").is_none());
}
