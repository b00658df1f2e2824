//! The cases. Each is an `async fn(&Harness)` that panics, saying what it expected, when the
//! provider's client does not conform. On the mock every answer is scripted and checked
//! exactly; live (a real server) the checks are those a model's own answer allows.
//!
//! [`MOCK_CASES`] lists every case, [`LIVE_CASES`] those that can run against a real server
//! (the faults are scripted, so they run on the mock only).

mod chat;
mod faults;

pub use chat::{finish_reasons, parallel_tools, streaming, structured_output, text, tool_round_trip, usage};
pub use faults::{
    malformed_json, rate_limited, retry_after_honoured, server_error, stream_broken, stream_cut,
    stream_exception, unauthorized,
};

use futures::StreamExt;
use weft_core::{ChatClient, ChatError, ChatOptions, ChatRequest, ChatResponse, ChatResponseUpdate, Message};

/// Every case [`mock_suite!`](crate::mock_suite) runs, by name. `stream_exception` is not
/// among them: a provider whose wire documents an in-stream error adds it (`also:`).
pub const MOCK_CASES: [&str; 14] = [
    "text",
    "streaming",
    "tool_round_trip",
    "parallel_tools",
    "structured_output",
    "usage",
    "finish_reasons",
    "unauthorized",
    "rate_limited",
    "retry_after_honoured",
    "server_error",
    "stream_cut",
    "stream_broken",
    "malformed_json",
];

/// The cases that can run against a real server.
pub const LIVE_CASES: [&str; 7] = [
    "text",
    "streaming",
    "tool_round_trip",
    "parallel_tools",
    "structured_output",
    "usage",
    "finish_reasons",
];

/// A request with a short system prompt and `text` from the user.
pub(crate) fn ask(text: &str, options: ChatOptions) -> ChatRequest {
    ChatRequest::new(vec![Message::system("You are terse."), Message::user(text)], options)
}

/// Options for a deterministic answer, bounded.
pub(crate) fn options() -> ChatOptions {
    ChatOptions { temperature: Some(0.0), max_tokens: Some(256), ..ChatOptions::default() }
}

/// The two ways of asking: whole, and streamed then folded.
pub(crate) async fn call(
    client: &dyn ChatClient,
    request: ChatRequest,
    stream: bool,
) -> Result<ChatResponse, ChatError> {
    if stream {
        weft_core::collect_stream(client.get_streaming_response(request)).await
    } else {
        client.get_response(request).await
    }
}

/// Every item of a stream, until its first error (included).
pub(crate) async fn stream_items(
    client: &dyn ChatClient,
    request: ChatRequest,
) -> (Vec<ChatResponseUpdate>, Option<ChatError>) {
    let mut stream = client.get_streaming_response(request);
    let mut updates = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(update) => updates.push(update),
            Err(err) => return (updates, Some(err)),
        }
    }
    (updates, None)
}

/// `what` for messages: `streamed` or `whole`.
pub(crate) fn how(stream: bool) -> &'static str {
    if stream { "streamed" } else { "whole" }
}
