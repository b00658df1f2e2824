#![allow(clippy::unwrap_used, clippy::expect_used)]
//! MCP client spans (MCP semantic conventions) and trace context in `params._meta`, against the
//! Python `mcp` server over stdio. A stand-in propagator (weft-core's hook; weft-telemetry
//! installs the OpenTelemetry one) gives every span the same `traceparent`; a capture layer
//! records the spans' fields.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::bounded;
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use weft_core::telemetry::metrics::{Histogram, MetricsRecorder, install_recorder};
use weft_core::telemetry::propagation::{TraceContextPropagator, TraceFields, install_propagator};
use weft_mcp::{McpSource, StdioServer};

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

struct Fixed;

impl TraceContextPropagator for Fixed {
    fn inject(&self, _span: &tracing::Span) -> TraceFields {
        vec![("traceparent".into(), TRACEPARENT.into()), ("tracestate".into(), "weft=1".into())]
    }
    fn continue_remote(&self, _span: &tracing::Span, _carrier: &dyn Fn(&str) -> Option<String>) {}
    fn add_link(&self, _span: &tracing::Span, _fields: &[(String, String)]) {}
}

type Measured = Arc<Mutex<Vec<(&'static str, BTreeMap<String, String>)>>>;

/// Keeps every measurement: the histogram's name and the attributes.
struct Measurements(Measured);

impl MetricsRecorder for Measurements {
    fn record(&self, histogram: &Histogram, _value: f64, attributes: &[(&'static str, &str)]) {
        let attributes = attributes.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
        self.0.lock().unwrap().push((histogram.name, attributes));
    }
}

type Spans = Arc<Mutex<BTreeMap<u64, BTreeMap<String, String>>>>;

/// Records every span's fields (as text) by span id.
struct Capture(Spans);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().insert(id.into_u64(), fields);
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(fields) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn calls_are_client_spans_and_carry_the_trace_context_in_meta() {
    let python = common::peer("WEFT_MCP_PYTHON");
    install_propagator(Box::new(Fixed));
    let measured = Measured::default();
    install_recorder(Box::new(Measurements(measured.clone())));
    let spans: Spans = Arc::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(Capture(spans.clone())));
    let server = StdioServer::new(&python).arg(common::py_server()).arg("stdio");
    let source =
        bounded(30, McpSource::builder("py", server).request_timeout(Duration::from_secs(10)).connect())
            .await
            .unwrap();

    let output = bounded(10, source.call_tool("request_meta", json!({}))).await.unwrap();
    let meta: Value = serde_json::from_str(output.value["result"].as_str().unwrap()).unwrap();
    assert_eq!(meta["traceparent"], TRACEPARENT, "{meta}");
    assert_eq!(meta["tracestate"], "weft=1", "{meta}");
    let _ = source.call_tool("fail", json!({"message": "x"})).await.unwrap_err();
    bounded(10, source.ping()).await.unwrap();
    source.close().await;

    let spans = spans.lock().unwrap();
    let named = |name: &str| {
        spans.values().find(|fields| fields.get("otel.name").map(String::as_str) == Some(name)).cloned()
    };
    let call = named("tools/call request_meta").expect("a tools/call span");
    for (key, value) in [
        ("otel.kind", "client"),
        ("mcp.method.name", "tools/call"),
        ("gen_ai.tool.name", "request_meta"),
        ("gen_ai.operation.name", "execute_tool"),
        ("network.transport", "pipe"),
    ] {
        assert_eq!(call.get(key).map(String::as_str), Some(value), "{key} in {call:?}");
    }
    assert!(call.get("mcp.protocol.version").is_some_and(|version| version.starts_with("20")), "{call:?}");
    assert!(!call.contains_key("error.type"), "{call:?}");
    let failed = named("tools/call fail").expect("a span for the failing call");
    assert_eq!(failed.get("error.type").map(String::as_str), Some("tool_error"));
    assert_eq!(failed.get("otel.status_code").map(String::as_str), Some("error"));
    let ping = named("ping").expect("a ping span");
    assert_eq!(ping.get("mcp.method.name").map(String::as_str), Some("ping"));

    let measured = measured.lock().unwrap();
    let calls: Vec<&BTreeMap<String, String>> = measured
        .iter()
        .filter(|(name, _)| *name == "mcp.client.operation.duration")
        .map(|(_, attributes)| attributes)
        .collect();
    assert_eq!(calls.len(), 3, "{measured:?}");
    assert_eq!(calls[0].get("mcp.method.name").map(String::as_str), Some("tools/call"));
    assert_eq!(calls[0].get("gen_ai.tool.name").map(String::as_str), Some("request_meta"));
    assert_eq!(calls[0].get("network.transport").map(String::as_str), Some("pipe"));
    assert_eq!(calls[1].get("error.type").map(String::as_str), Some("tool_error"));
    assert_eq!(calls[2].get("mcp.method.name").map(String::as_str), Some("ping"));
}

#[ignore = "needs the MCP peers (Node, server-everything, Python mcp): scripts/test installs them"]
#[tokio::test]
async fn http_calls_name_the_session_and_the_server() {
    let python = common::peer("WEFT_MCP_PYTHON");
    let spans: Spans = Arc::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(Capture(spans.clone())));
    let server = common::start_py_http(&python).await;
    let source = McpSource::builder("py-http", weft_mcp::HttpServer::new(&server.url));
    let source = bounded(30, source.connect()).await.unwrap();
    let session = source.session_id().await.expect("a session id");
    bounded(10, source.call_tool("echo", json!({"text": "hi"}))).await.unwrap();
    source.close().await;

    let spans = spans.lock().unwrap();
    let call = spans
        .values()
        .find(|fields| fields.get("otel.name").map(String::as_str) == Some("tools/call echo"))
        .expect("a tools/call span");
    for (key, value) in [
        ("mcp.session.id", session.as_str()),
        ("network.transport", "tcp"),
        ("network.protocol.name", "http"),
        ("server.address", "127.0.0.1"),
        ("server.port", &server.port.to_string()),
    ] {
        assert_eq!(call.get(key).map(String::as_str), Some(value), "{key} in {call:?}");
    }
}
