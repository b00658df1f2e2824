//! An OTLP/HTTP protobuf receiver in the test (traces and metrics, decoded with
//! opentelemetry-proto), and export set up for one test's thread.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::json;
use tokio_util::task::AbortOnDropHandle;

/// What the receiver got.
#[derive(Default)]
pub struct Received {
    pub traces: Vec<ExportTraceServiceRequest>,
    pub metrics: Vec<ExportMetricsServiceRequest>,
}

pub type Shared = Arc<Mutex<Received>>;

/// A receiver on a free loopback port (`/v1/traces`, `/v1/metrics`), stopped when dropped.
pub async fn receiver() -> (String, Shared, AbortOnDropHandle<()>) {
    let received: Shared = Arc::default();
    let app = Router::new()
        .route(
            "/v1/traces",
            post(|State(received): State<Shared>, body: Bytes| async move {
                let request = ExportTraceServiceRequest::decode(body).unwrap();
                received.lock().unwrap().traces.push(request);
                StatusCode::OK
            }),
        )
        .route(
            "/v1/metrics",
            post(|State(received): State<Shared>, body: Bytes| async move {
                let request = ExportMetricsServiceRequest::decode(body).unwrap();
                received.lock().unwrap().metrics.push(request);
                StatusCode::OK
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), received, AbortOnDropHandle::new(server))
}

/// Every span received.
pub fn spans(received: &Shared) -> Vec<Span> {
    let received = received.lock().unwrap();
    received
        .traces
        .iter()
        .flat_map(|request| &request.resource_spans)
        .flat_map(|resource| &resource.scope_spans)
        .flat_map(|scope| scope.spans.clone())
        .collect()
}

/// Every metric received (a metric exported twice appears twice).
pub fn metrics(received: &Shared) -> Vec<Metric> {
    let received = received.lock().unwrap();
    received
        .metrics
        .iter()
        .flat_map(|request| &request.resource_metrics)
        .flat_map(|resource| &resource.scope_metrics)
        .flat_map(|scope| scope.metrics.clone())
        .collect()
}

/// The one span named `name`.
pub fn span<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|span| span.name == name).collect();
    assert_eq!(found.len(), 1, "one span named {name:?} expected in {:?}", names(spans));
    found[0]
}

pub fn names(spans: &[Span]) -> Vec<&str> {
    spans.iter().map(|span| span.name.as_str()).collect()
}

/// A span's string or integer attribute, as a string.
pub fn attribute(span: &Span, key: &str) -> Option<String> {
    let value = span.attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?.value.as_ref()?;
    Some(match value {
        Value::StringValue(text) => text.clone(),
        Value::IntValue(number) => number.to_string(),
        Value::BoolValue(flag) => flag.to_string(),
        Value::DoubleValue(number) => number.to_string(),
        other => format!("{other:?}"),
    })
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub type Headers = Arc<Mutex<Vec<HeaderMap>>>;

/// A Chat Completions server answering "hello", keeping each request's headers.
pub async fn model() -> (String, Headers, AbortOnDropHandle<()>) {
    let headers: Headers = Arc::default();
    let app =
        Router::new()
            .route(
                "/v1/chat/completions",
                post(
                    |State(seen): State<Headers>,
                     headers: HeaderMap,
                     Json(_body): Json<serde_json::Value>| async move {
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
                    },
                ),
            )
            .with_state(headers.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}/v1"), headers, AbortOnDropHandle::new(server))
}

/// A span's string-array attribute; `None` when it is absent, panics when it is not an array.
pub fn string_array(span: &Span, key: &str) -> Option<Vec<String>> {
    let value = span.attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?.value.as_ref()?;
    let Value::ArrayValue(array) = value else { panic!("{key} is not an array: {value:?}") };
    Some(
        array
            .values
            .iter()
            .map(|item| match &item.value {
                Some(Value::StringValue(text)) => text.clone(),
                other => panic!("{key} holds a non-string item: {other:?}"),
            })
            .collect(),
    )
}
