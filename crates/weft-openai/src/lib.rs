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
//! The same handle makes an [`weft_core::EmbeddingClient`]: [`OpenAI::embeddings`]
//! (`POST {base}/embeddings`), with batches split and put back in order.
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
//! ## Azure OpenAI and Microsoft Foundry with Entra ID
//!
//! [`OpenAIBuilder::token_credential`] signs requests with a Microsoft Entra ID bearer token
//! from any [`TokenCredential`] (the `weft-azure` crate has the Azure CLI, managed identity,
//! client secret, workload identity and `DefaultAzureCredential`), instead of an API key:
//!
//! | target | set with | requests go to | token scope |
//! |---|---|---|---|
//! | Azure OpenAI | [`OpenAIBuilder::azure_endpoint`] | `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`, `{endpoint}/openai/v1/responses`; with `azure_api_version("v1")` all on `{endpoint}/openai/v1/` | [`AZURE_OPENAI_SCOPE`] |
//! | Foundry project | [`OpenAIBuilder::foundry_project`] (`FOUNDRY_PROJECT_ENDPOINT`) | `{project}/openai/v1/responses` | [`FOUNDRY_SCOPE`] |
//!
//! ## Failures
//!
//! Every failure is a [`weft_core::ChatError`] whose kind says what happened (authentication,
//! rate limit with `retry_after`, bad request with the provider's message and code, server,
//! network with the transport's error as `source()`, timeout, decode, stream ended early,
//! response too large) and whose provider names the endpoint, e.g. `openai chat
//! http://127.0.0.1:8089/v1`. A successful answer that is neither JSON nor an event stream
//! (an HTML page from a proxy, say) is a decode error quoting the start of its body.
//! Credentials never show: a password or token in the base URL (user info, query values) is
//! masked as `***` in messages, logs and `Debug` output ([`weft_core::redact`] says what is
//! masked), and so is the API key when a provider's error body echoes it.
//!
//! ## Limits and deadlines
//!
//! | what | default | set with |
//! |---|---|---|
//! | one HTTP attempt, the whole answer (streamed or not) | 600 s | [`OpenAIBuilder::timeout`] |
//! | a streamed answer's headers (time to first byte) | 60 s | [`OpenAIBuilder::first_byte_timeout`] |
//! | a stream's silence: between two events, and from the headers to the first | 120 s | [`OpenAIBuilder::stream_idle_timeout`] |
//! | opening a connection | 10 s | [`OpenAIBuilder::connect_timeout`] |
//! | one SSE line, and one event's data | 8 MiB | [`OpenAIBuilder::max_event_bytes`] |
//!
//! Keep-alive comments (`: keep-alive`) are not events: a stream that sends nothing else ends
//! with the idle timeout. Each error names the limit that was hit and the setting that raises
//! it, e.g. `response too large: an SSE line exceeded the 8 MiB limit (…; raise it with
//! OpenAIBuilder::max_event_bytes)`.
//!
//! ## Retries
//!
//! What is retried has one definition, [`weft_core::ChatError::is_retryable`], which the retry
//! loop follows: HTTP 429 (but `insufficient_quota`), 408, 500, 502, 503, 504, and network
//! failures, up to [`OpenAIBuilder::max_retries`] times (2) with exponential backoff and
//! jitter, waiting what `Retry-After` / `retry-after-ms` asks (capped at
//! [`OpenAIBuilder::max_retry_delay`], 60 s). This client's own deadlines are not retried
//! (that would multiply the time the caller allowed), nor are decode errors, size limits or
//! other 4xx. A plain call is retried until its whole body is read; a stream only until it is
//! handed out: afterwards the caller holds part of the answer, and a stream that ends early
//! ([`StreamEnded`](weft_core::ChatErrorKind::StreamEnded), retryable) or loses its connection
//! is the caller's to retry. Nothing is spawned: dropping a stream or a future closes its
//! connection.

mod azure;
mod chat;
mod chat_wire;
mod config;
mod embeddings;
mod error;
mod models;
mod responses;
mod responses_wire;
pub use weft_provider::sse;
mod transport;
mod wire;

pub use azure::{AZURE_OPENAI_SCOPE, AZURE_V1_API_VERSION, FOUNDRY_SCOPE};
pub use chat::OpenAIChatClient;
pub use config::{
    DEFAULT_AZURE_API_VERSION, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT,
    DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT, OpenAI,
    OpenAIBuilder,
};
pub use embeddings::{DEFAULT_EMBEDDING_BATCH_SIZE, EncodingFormat, OpenAIEmbeddingClient};
pub use models::ModelInfo;
pub use responses::OpenAIResponsesClient;
/// Masks the credentials of a URL; the one policy of [`weft_core::redact`].
pub use weft_core::redact::redact_url;
/// Where bearer tokens come from ([`OpenAIBuilder::token_credential`]).
pub use weft_provider::{AccessToken, CredentialError, TokenCredential};
