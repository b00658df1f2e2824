//! Weft's own spans built directly as OpenTelemetry spans (the export layer's span hook) nest
//! with the `tracing` spans of other code both ways, and stay out of the subscriber's other
//! layers; with `Telemetry::tracing_layer` they are `tracing` spans again, exported the same.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::trace::v1::Span;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tracing::Instrument as _;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt as _;
use weft_core::agent::{AgentSession, ChatAgent};
use weft_core::{
    ChatResponse, Content, FinishReason, FunctionCall, FunctionTool, Message, ReplayClient, Role,
};
use weft_telemetry::{Telemetry, TelemetryConfig};

use support::{attribute, receiver, span, spans};

/// The names of the spans a `tracing` layer sees.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> Layer<S> for Seen {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0.lock().unwrap().push(attrs.metadata().name().to_string());
    }
}

#[derive(Deserialize, JsonSchema)]
struct Question {
    /// What to ask.
    text: String,
}

/// An agent whose model calls `ask` once, then answers; `ask` runs, inside a `tracing` span of
/// its own, an inner agent.
fn outer_agent() -> ChatAgent {
    let call = ChatResponse {
        messages: vec![Message::new(
            Role::Assistant,
            vec![Content::FunctionCall(FunctionCall::new("call-1", "ask", json!({"text": "why?"})))],
        )],
        finish_reason: Some(FinishReason::ToolCalls),
        model: Some("replay".into()),
        ..Default::default()
    };
    let ask = FunctionTool::new("ask", "Asks the inner agent", |question: Question| async move {
        let inner = ChatAgent::builder(Arc::new(ReplayClient::new([ChatResponse::text("because")])))
            .name("inner")
            .build();
        let answer = inner
            .run(&mut AgentSession::new(), question.text)
            .instrument(tracing::info_span!("inside_tool"))
            .await
            .map_err(|error| error.to_string())?;
        Ok::<_, String>(answer.text())
    });
    ChatAgent::builder(Arc::new(ReplayClient::new([call, ChatResponse::text("done")])))
        .name("outer")
        .tool(ask)
        .build()
}

async fn run_and_export(direct: bool) -> (Vec<Span>, Vec<String>) {
    let (otlp, received, _otlp) = receiver().await;
    let telemetry = Telemetry::new(&TelemetryConfig::default().endpoint(&otlp).metrics(false)).unwrap();
    let seen = Seen::default();
    let registry = tracing_subscriber::registry().with(seen.clone());
    let guard = if direct {
        tracing::subscriber::set_default(registry.with(telemetry.layer()))
    } else {
        tracing::subscriber::set_default(registry.with(telemetry.tracing_layer()))
    };
    let agent = outer_agent();
    let answer =
        agent.run(&mut AgentSession::new(), "go").instrument(tracing::info_span!("request")).await.unwrap();
    assert_eq!(answer.text(), "done");
    drop(guard);
    tokio::task::spawn_blocking(move || telemetry.shutdown().unwrap()).await.unwrap();
    let names = seen.0.lock().unwrap().clone();
    (spans(&received), names)
}

/// request > invoke_agent outer > {chat, chat, execute_tool ask > inside_tool > invoke_agent
/// inner > chat}, one trace.
fn assert_tree(spans: &[Span]) {
    let request = span(spans, "request");
    let outer = span(spans, "invoke_agent outer");
    let tool = span(spans, "execute_tool ask");
    let inside = span(spans, "inside_tool");
    let inner = span(spans, "invoke_agent inner");
    assert_eq!(outer.parent_span_id, request.span_id);
    assert_eq!(tool.parent_span_id, outer.span_id);
    assert_eq!(inside.parent_span_id, tool.span_id);
    assert_eq!(inner.parent_span_id, inside.span_id);
    let chats: Vec<&Span> = spans.iter().filter(|span| span.name.starts_with("chat")).collect();
    assert_eq!(chats.len(), 3);
    assert_eq!(chats.iter().filter(|chat| chat.parent_span_id == outer.span_id).count(), 2);
    assert_eq!(chats.iter().filter(|chat| chat.parent_span_id == inner.span_id).count(), 1);
    assert!(spans.iter().all(|span| span.trace_id == request.trace_id));
    assert_eq!(attribute(tool, "gen_ai.tool.call.id").as_deref(), Some("call-1"));
    assert_eq!(attribute(outer, "gen_ai.agent.name").as_deref(), Some("outer"));
    for chat in chats {
        assert_eq!(attribute(chat, "gen_ai.operation.name").as_deref(), Some("chat"));
        assert_eq!(chat.kind, 3, "chat spans are CLIENT spans");
    }
}

#[tokio::test]
async fn direct_spans_nest_with_tracing_spans_both_ways() {
    let (spans, seen) = run_and_export(true).await;
    assert_eq!(spans.len(), 8, "{:?}", support::names(&spans));
    assert_tree(&spans);
    // The subscriber's other layers see only the `tracing` spans.
    assert_eq!(seen, ["request", "inside_tool"]);
}

#[tokio::test]
async fn the_tracing_layer_keeps_weft_spans_as_tracing_spans() {
    let (spans, seen) = run_and_export(false).await;
    assert_eq!(spans.len(), 8, "{:?}", support::names(&spans));
    assert_tree(&spans);
    assert!(seen.iter().any(|name| name == "invoke_agent"), "{seen:?}");
    assert!(seen.iter().any(|name| name == "execute_tool"), "{seen:?}");
}
