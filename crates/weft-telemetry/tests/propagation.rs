//! Trace context crosses into the servers Weft calls: a model server in the test checks the
//! `traceparent` it gets against the `chat` span exported to an OTLP receiver in the test.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use tracing_subscriber::layer::SubscriberExt as _;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_telemetry::{Telemetry, TelemetryConfig};

use support::{attribute, hex, model, receiver, span, spans};

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
