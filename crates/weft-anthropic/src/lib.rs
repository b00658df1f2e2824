//! # weft-anthropic
//!
//! Weft's provider for Anthropic's Messages API (`POST {base}/v1/messages`): Claude, and the
//! servers that speak the same API (llama.cpp's `llama-server`, the LiteLLM proxy). One
//! [`weft_core::ChatClient`], [`AnthropicClient`], sent through the shared driver of
//! [`weft_provider`] (its deadlines, retries, bounded SSE parser and error mapping).
//!
//! ```no_run
//! use weft_core::{ChatClient, ChatOptions, ChatRequest, Message};
//! use weft_anthropic::Anthropic;
//!
//! # async fn run() -> Result<(), weft_core::ChatError> {
//! // ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_MODEL …
//! let claude = Anthropic::from_env()?.messages();
//! let request = ChatRequest::new(vec![Message::user("Hello!")], ChatOptions::with_model("claude-sonnet-4-5"));
//! println!("{}", claude.get_response(request).await?.text_content());
//! # Ok(()) }
//! ```
//!
//! ## Mapping
//!
//! - System messages become `system`; tool results become `tool_result` blocks of the next
//!   user message (all of a turn's results together, for parallel tool use); images
//!   ([`weft_core::Content::Data`] or `Uri` with an `image/*` type) and PDFs become `image` and
//!   `document` blocks.
//! - Tools and `tool_choice` (`auto`, `none`, `any` for required, `tool` for a named one;
//!   `parallel_tool_calls: false` sends `disable_parallel_tool_use`).
//! - Extended thinking: [`AnthropicBuilder::thinking_budget`], or `thinking` in
//!   [`weft_core::ChatOptions::extra`]. Thinking comes back as
//!   [`weft_core::Content::Reasoning`] with its `signature`, and goes back with the history.
//! - Structured output: a JSON-schema response format is sent as `output_config.format`.
//! - Usage counts the cached prompt tokens in `input_tokens` and reports them apart
//!   (`cache_read_input_tokens`, `cache_creation_input_tokens`).
//! - Stop reasons: `end_turn` and `stop_sequence` → stop, `max_tokens` → length, `tool_use`
//!   → tool calls, `refusal` → content filter.
//!
//! ## Failures, deadlines and retries
//!
//! As for every provider on the shared driver: each failure is a [`weft_core::ChatError`]
//! naming the endpoint (`anthropic messages https://api.anthropic.com`) with the API's error
//! type as its code (`overloaded_error`, `rate_limit_error` …); the key never shows.
//! `overloaded_error` (HTTP 529), 429 (waiting what `retry-after` asks), 500, 502, 503, 504
//! and network failures are retried ([`AnthropicBuilder::max_retries`]) until a stream is
//! handed out; an `error` event mid-stream ends the stream with that error.

mod client;
mod config;
mod stream;
mod wire;

pub use client::AnthropicClient;
pub use config::{Anthropic, AnthropicBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_TOKENS, DEFAULT_VERSION};
/// The shared driver's default deadlines and limits, which [`AnthropicBuilder`] starts from.
pub use weft_provider::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RETRIES,
    DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT,
};
