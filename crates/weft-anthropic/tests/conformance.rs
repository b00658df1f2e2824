//! The shared provider conformance suite against the Anthropic client: on a mock server
//! speaking the Messages API as Anthropic documents it, and on llama-server's `/v1/messages`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../weft-openai/tests/support/llama.rs"]
mod llama;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use weft_anthropic::Anthropic;
use weft_core::ChatClient;
use weft_provider_conformance::{Endpoint, Finish, Harness, Reply, WireScript, live_suite, mock_suite};

/// The Messages API's bytes: a `message` object, or its SSE events.
struct Messages;

fn stop_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::Stop => "end_turn",
        Finish::Length => "max_tokens",
        Finish::ToolCalls => "tool_use",
    }
}

/// The error type Anthropic names for an HTTP status (its "HTTP errors" table).
fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

fn event(name: &str, data: Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

impl WireScript for Messages {
    fn path(&self) -> &'static str {
        "/v1/messages"
    }

    fn whole(&self, reply: &Reply) -> Value {
        let mut content = Vec::new();
        if !reply.text.is_empty() {
            content.push(json!({"type": "text", "text": reply.joined_text()}));
        }
        for call in &reply.calls {
            content
                .push(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}));
        }
        json!({
            "id": reply.id, "type": "message", "role": "assistant", "model": reply.model,
            "content": content, "stop_reason": stop_reason(reply.finish), "stop_sequence": null,
            "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
        })
    }

    fn stream(&self, reply: &Reply) -> Vec<Vec<u8>> {
        let mut frames = vec![event(
            "message_start",
            json!({"type": "message_start", "message": {"id": reply.id, "type": "message", "role": "assistant",
                "content": [], "model": reply.model, "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": reply.input_tokens, "output_tokens": 1}}}),
        )];
        let mut index = 0;
        if !reply.text.is_empty() {
            frames.push(event(
                "content_block_start",
                json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
            ));
            frames.push(event("ping", json!({"type": "ping"})));
            for delta in &reply.text {
                frames.push(event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": delta}}),
                ));
            }
            frames.push(event("content_block_stop", json!({"type": "content_block_stop", "index": index})));
            index += 1;
        }
        for call in &reply.calls {
            frames.push(event(
                "content_block_start",
                json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}}),
            ));
            let arguments = call.arguments.to_string();
            let (head, tail) = arguments.split_at(arguments.len() / 2);
            for part in ["", head, tail] {
                frames.push(event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": part}}),
                ));
            }
            frames.push(event("content_block_stop", json!({"type": "content_block_stop", "index": index})));
            index += 1;
        }
        frames.push(event(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": stop_reason(reply.finish), "stop_sequence": null},
                "usage": {"output_tokens": reply.output_tokens}}),
        ));
        frames.push(event("message_stop", json!({"type": "message_stop"})));
        frames.into_iter().map(String::into_bytes).collect()
    }

    fn frame(&self, data: &str) -> Vec<u8> {
        format!("event: content_block_delta\ndata: {data}\n\n").into_bytes()
    }

    fn error(&self, status: u16, message: &str) -> Value {
        json!({"type": "error", "error": {"type": error_type(status), "message": message}})
    }

    /// "When receiving a streaming response via SSE, it's possible that an error can occur
    /// after returning a 200 response": an `error` event.
    fn stream_error(&self, status: u16, message: &str) -> Option<Vec<u8>> {
        Some(
            event(
                "error",
                json!({"type": "error", "error": {"type": error_type(status), "message": message}}),
            )
            .into_bytes(),
        )
    }
}

fn client(endpoint: &Endpoint) -> Arc<dyn ChatClient> {
    Arc::new(
        Anthropic::builder()
            .base_url(&endpoint.base_url)
            .api_key("sk-ant-conformance")
            .model("claude-conformance")
            .max_retries(endpoint.max_retries)
            .initial_retry_delay(Duration::from_millis(5))
            .build()
            .unwrap()
            .messages(),
    )
}

mock_suite!(mock, Messages, client, also: stream_exception);

/// llama-server with the tiny model, its Messages endpoint at the root.
fn start_llama() -> Harness {
    let server = llama::LlamaServer::start(&llama::peer("anthropic conformance"), &llama::Options::default());
    let client = Anthropic::builder()
        .base_url(format!("http://127.0.0.1:{}", server.port()))
        .model("tiny")
        .timeout(Duration::from_secs(60))
        .max_retries(0)
        .build()
        .unwrap()
        .messages();
    Harness::live(Arc::new(client), server)
}

live_suite!(llama_server, "needs llama-server: scripts/test installs it", start_llama;
    text, streaming, tool_round_trip, usage, finish_reasons);
