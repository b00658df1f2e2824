//! The shared provider conformance suite against the Ollama client, on a mock server speaking
//! `/api/chat` as Ollama's API documentation (docs/api.md) shows it: NDJSON lines, the counts
//! and `done_reason` on the last, `{"error": "…"}` bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use weft_core::ChatClient;
use weft_ollama::Ollama;
use weft_provider_conformance::{Endpoint, Finish, Reply, WireScript, mock_suite};

/// `/api/chat`'s bytes.
struct ApiChat;

const CREATED_AT: &str = "2023-08-04T08:52:19.385406455-07:00";

fn done_reason(finish: Finish) -> &'static str {
    match finish {
        // Ollama says `stop` after tool calls too.
        Finish::Stop | Finish::ToolCalls => "stop",
        Finish::Length => "length",
    }
}

fn tool_calls(reply: &Reply) -> Value {
    reply
        .calls
        .iter()
        .map(|call| json!({"function": {"name": call.name, "arguments": call.arguments}}))
        .collect()
}

fn last(reply: &Reply, message: Value) -> Value {
    json!({
        "model": reply.model, "created_at": CREATED_AT, "message": message,
        "done_reason": done_reason(reply.finish), "done": true,
        "total_duration": 4883583458u64, "load_duration": 1334875, "prompt_eval_count": reply.input_tokens,
        "prompt_eval_duration": 342546000, "eval_count": reply.output_tokens, "eval_duration": 4535599000u64
    })
}

impl WireScript for ApiChat {
    fn path(&self) -> &'static str {
        "/api/chat"
    }

    fn stream_content_type(&self) -> &'static str {
        "application/x-ndjson"
    }

    /// Ollama streams unless told `"stream": false`.
    fn wants_stream(&self, _path_and_query: &str, request: &Value) -> bool {
        request.get("stream") != Some(&Value::Bool(false))
    }

    fn whole(&self, reply: &Reply) -> Value {
        let mut message = json!({"role": "assistant", "content": reply.joined_text()});
        if !reply.calls.is_empty() {
            message["tool_calls"] = tool_calls(reply);
        }
        last(reply, message)
    }

    fn stream(&self, reply: &Reply) -> Vec<Vec<u8>> {
        let mut lines: Vec<String> = reply
            .text
            .iter()
            .map(|delta| {
                json!({"model": reply.model, "created_at": CREATED_AT,
                    "message": {"role": "assistant", "content": delta, "images": null}, "done": false})
                .to_string()
            })
            .collect();
        if !reply.calls.is_empty() {
            lines.push(
                json!({"model": reply.model, "created_at": CREATED_AT,
                    "message": {"role": "assistant", "content": "", "tool_calls": tool_calls(reply)}, "done": false})
                .to_string(),
            );
        }
        lines.push(last(reply, json!({"role": "assistant", "content": ""})).to_string());
        lines.into_iter().map(|line| format!("{line}\n").into_bytes()).collect()
    }

    fn frame(&self, data: &str) -> Vec<u8> {
        format!("{data}\n").into_bytes()
    }

    fn error(&self, _status: u16, message: &str) -> Value {
        json!({"error": message})
    }
}

fn client(endpoint: &Endpoint) -> Arc<dyn ChatClient> {
    Arc::new(
        Ollama::builder()
            .host(&endpoint.base_url)
            .model("llama3.2")
            .max_retries(endpoint.max_retries)
            .initial_retry_delay(Duration::from_millis(5))
            .build()
            .unwrap()
            .chat(),
    )
}

mock_suite!(mock, ApiChat, client);
