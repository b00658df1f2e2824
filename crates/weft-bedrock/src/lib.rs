//! # weft-bedrock
//!
//! Weft's provider for Amazon Bedrock: one [`weft_core::ChatClient`], [`BedrockClient`], over
//! the Converse API (`POST /model/{modelId}/converse`, streamed as ConverseStream in AWS's
//! binary event stream), and one [`weft_core::EmbeddingClient`], [`BedrockEmbeddingClient`],
//! over InvokeModel (Titan Text Embeddings, Cohere Embed). Both are sent through the shared
//! driver of [`weft_provider`] (its deadlines, retries, bounded framing and error mapping),
//! each attempt signed with SigV4 (`aws-sigv4`, service `bedrock`).
//!
//! ```no_run
//! use weft_core::{ChatClient, ChatOptions, ChatRequest, Message};
//! use weft_bedrock::Bedrock;
//!
//! # async fn run() -> Result<(), weft_core::ChatError> {
//! // AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), BEDROCK_MODEL …
//! let bedrock = Bedrock::from_env()?.converse();
//! let options = ChatOptions::with_model("us.anthropic.claude-sonnet-4-20250514-v1:0");
//! let request = ChatRequest::new(vec![Message::user("Hello!")], options);
//! println!("{}", bedrock.get_response(request).await?.text_content());
//! # Ok(()) }
//! ```
//!
//! ## Credentials and region
//!
//! A Bedrock API key ([`BedrockBuilder::api_key`], `AWS_BEARER_TOKEN_BEDROCK`) is sent as a
//! bearer token, unsigned. Otherwise requests are signed with AWS credentials, in this order:
//! [`BedrockBuilder::credentials`]; `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`; the static keys of the profile
//! (`AWS_PROFILE`, else `default`) in `~/.aws/credentials` or `~/.aws/config`. The region is
//! [`BedrockBuilder::region`], `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's
//! `region`. Profiles that run a process or assume a role are not resolved (see
//! [`Credentials`]). The secret key and the session token never show: `Debug` leaves them
//! out and every error masks them (the API key too).
//!
//! ## Mapping
//!
//! - System messages become `system`; tool results become `toolResult` blocks of the next
//!   user message (all of a turn's together); images (PNG, JPEG, GIF, WebP), documents and
//!   videos by their bytes or an `s3://` location.
//! - Options: `maxTokens`, `temperature`, `topP`, `stopSequences` in `inferenceConfig`; tools
//!   in `toolConfig` with `toolChoice` (`auto`, `any` for required, `tool` for a named one;
//!   Converse has no "none", so the tools stay described and the model chooses); anything
//!   in [`weft_core::ChatOptions::extra`] (e.g. `additionalModelRequestFields`,
//!   `guardrailConfig`) at the top of the body.
//! - Reasoning (`reasoningContent`) comes back as [`weft_core::Content::Reasoning`] with its
//!   signature, and goes back with the history.
//! - Usage counts the cached prompt tokens in `input_tokens` and reports them apart
//!   (`cacheReadInputTokens`, `cacheWriteInputTokens`).
//! - Stop reasons: `end_turn` and `stop_sequence` → stop, `max_tokens` → length, `tool_use`
//!   → tool calls, `guardrail_intervened` and `content_filtered` → content filter.
//!
//! ## Failures
//!
//! Each failure is a [`weft_core::ChatError`] naming the endpoint, with Bedrock's exception as
//! its code (`ThrottlingException`, `ValidationException` …): throttling and a model not ready
//! (HTTP 429) are rate limits, retried like any 429 and signed anew each time; validation
//! errors bad requests; access denied an authentication failure; 5xx server errors. An
//! exception message inside a stream (`:message-type: exception`) ends it with the error its
//! `:exception-type` names; a message with a bad CRC ends it with a decode error.

mod client;
mod config;
mod credentials;
mod embeddings;
mod sign;
mod stream;
mod wire;

pub use client::BedrockClient;
pub use config::{Bedrock, BedrockBuilder};
pub use credentials::Credentials;
pub use embeddings::{
    BedrockEmbeddingClient, COHERE_MAX_BATCH, DEFAULT_CONCURRENT_REQUESTS, TITAN_EMBED_TEXT_V2,
};
/// The shared driver's default deadlines and limits, which [`BedrockBuilder`] starts from.
pub use weft_provider::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RETRIES,
    DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT,
};
