//! A hosted request continues the caller's trace: weft-host's server span takes the incoming
//! `traceparent` as its parent, and the agent's spans are its children.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use serde_json::json;
use tokio_util::task::AbortOnDropHandle;
use tracing_subscriber::layer::SubscriberExt as _;
use weft_core::{ChatAgent, ScriptedClient};
use weft_telemetry::{Telemetry, TelemetryConfig};

use support::{attribute, hex, receiver, span, spans};

#[tokio::test]
async fn a_hosted_request_continues_the_incoming_traceparent() {
    let (otlp, received, _otlp) = receiver().await;
    let telemetry = Telemetry::new(&TelemetryConfig::default().endpoint(&otlp)).unwrap();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(telemetry.layer()));
    let agent = ChatAgent::builder(Arc::new(ScriptedClient::new())).name("helper").build();
    let router = weft_host::Host::new().agent("helper", Arc::new(agent)).router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let _server = AbortOnDropHandle::new(tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    }));

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let response = reqwest::Client::new()
        .post(format!("http://{address}/v1/chat/completions"))
        .header("traceparent", format!("00-{trace_id}-{parent_id}-01"))
        .json(&json!({"model": "helper", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.bytes().await.unwrap();
    drop(guard);
    tokio::task::spawn_blocking(move || telemetry.shutdown().unwrap()).await.unwrap();

    let spans = spans(&received);
    let server = span(&spans, "POST /v1/chat/completions");
    assert_eq!(hex(&server.trace_id), trace_id);
    assert_eq!(hex(&server.parent_span_id), parent_id);
    assert_eq!(server.kind, 2, "SPAN_KIND_SERVER");
    assert_eq!(attribute(server, "http.request.method").as_deref(), Some("POST"));
    assert_eq!(attribute(server, "http.route").as_deref(), Some("/v1/chat/completions"));
    assert_eq!(attribute(server, "http.response.status_code").as_deref(), Some("200"));
    let agent = span(&spans, "invoke_agent helper");
    assert_eq!(agent.parent_span_id, server.span_id);
    assert_eq!(agent.trace_id, server.trace_id);
}
