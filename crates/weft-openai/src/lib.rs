//! # weft-openai
//!
//! Weft's provider for OpenAI-compatible servers: OpenAI itself, Azure OpenAI, and local or
//! hosted servers that speak the same API (llama.cpp, vLLM, Ollama, LM Studio …). Two
//! [`weft_core::ChatClient`]s share one configuration:
//!
//! - [`OpenAIChatClient`] for Chat Completions (`POST {base}/chat/completions`),
//! - [`OpenAIResponsesClient`] for Responses (`POST {base}/responses`, stateless: `store:
//!   false` and the whole history each call).
//!
//! ```no_run
//! use weft_core::{ChatClient, ChatOptions, ChatRequest, Message};
//! use weft_openai::OpenAI;
//!
//! # async fn run() -> Result<(), weft_core::ChatError> {
//! // OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL …
//! let openai = OpenAI::from_env()?;
//! let chat = openai.chat();
//! let request = ChatRequest::new(vec![Message::user("Hello!")], ChatOptions::with_model("gpt-4o-mini"));
//! let response = chat.get_response(request).await?;
//! println!("{}", response.text_content());
//! # Ok(()) }
//! ```
//!
//! ## Failures
//!
//! Every failure is a [`weft_core::ChatError`] whose kind says what happened (authentication,
//! rate limit with `retry_after`, bad request with the provider's message and code, server,
//! network with the transport's error as `source()`, timeout, decode, stream ended early) and
//! whose provider names the endpoint, e.g. `openai chat http://127.0.0.1:8089/v1`.
//!
//! ## Deadlines and retries
//!
//! Each HTTP attempt has a deadline ([`OpenAIBuilder::timeout`], 600 s): the whole answer, or
//! a stream's headers; a stream then fails if no event arrives for
//! [`OpenAIBuilder::stream_idle_timeout`] (120 s). HTTP 429, 408, 500, 502, 503, 504 and
//! connection failures are retried up to [`OpenAIBuilder::max_retries`] times (2) with
//! exponential backoff and jitter, waiting what `Retry-After` / `retry-after-ms` asks (capped
//! at [`OpenAIBuilder::max_retry_delay`], 60 s); a stream is never retried once it has
//! started. Nothing is spawned: dropping a stream or a future closes its connection.

mod chat;
mod chat_wire;
mod config;
mod deadline;
mod error;
mod models;
mod responses;
mod responses_wire;
mod retry;
pub mod sse;
mod transport;
mod wire;

pub use chat::OpenAIChatClient;
pub use config::{
    DEFAULT_AZURE_API_VERSION, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RETRIES,
    DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT, OpenAI, OpenAIBuilder,
};
pub use models::ModelInfo;
pub use responses::OpenAIResponsesClient;
