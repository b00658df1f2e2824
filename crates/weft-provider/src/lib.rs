//! # weft-provider
//!
//! The shared HTTP driver of Weft's providers. A provider crate (weft-openai, weft-anthropic …)
//! supplies only its wire mapping; this crate knows no provider and does the rest:
//!
//! - [`Driver`]: the HTTP client, per-attempt deadlines (first byte, stream idle, total) on
//!   reused timers ([`deadline`]), and the retry loop ([`retry`], following
//!   [`weft_core::ChatError::is_retryable`] and the server's `Retry-After`);
//! - bounded framing parsers: server-sent events ([`sse`]), NDJSON ([`ndjson`]) and AWS's
//!   binary event stream ([`eventstream`]), run by
//!   [`framing::frames`] under the stream's deadlines;
//! - HTTP statuses, transport failures and provider error payloads as
//!   [`weft_core::ChatError`]s ([`error`]), credentials masked with [`weft_core::redact`];
//! - [`api`]: a chat API described once ([`HttpChatApi`]: its request, its whole answer, its
//!   stream state machine) becomes [`api::respond`] and [`api::stream`], the two halves of a
//!   [`weft_core::ChatClient`];
//! - [`credential`]: the [`TokenCredential`] a provider gets bearer tokens from (Microsoft
//!   Entra ID, say) and the [`TokenCache`] that reuses them until they near their expiry
//!   ([`Driver::with_bearer_credential`]);
//! - [`transport`]: the hook every attempt goes through, and [`cassette`]: recording real
//!   traffic to a JSONL cassette and replaying it offline, deterministically;
//! - [`embeddings`]: gathering an embeddings call's batches and checking their sizes;
//! - [`wire`]: request-body helpers more than one wire shares;
//! - [`settings`]: the builder settings every provider shares ([`DriverSettings`]) and their
//!   setter methods ([`driver_setters!`]).

pub mod api;
pub mod cassette;
pub mod credential;
pub mod deadline;
mod driver;
pub mod embeddings;
pub mod error;
pub mod eventstream;
pub mod framing;
pub mod ndjson;
pub mod retry;
pub mod settings;
pub mod sse;
pub mod transport;
pub mod wire;

/// The HTTP client crate, for the types [`driver_setters!`] names.
#[doc(hidden)]
pub use reqwest;

pub use api::{HttpChatApi, Step, StreamDecoder};
pub use credential::{AccessToken, CredentialError, Secret, TokenCache, TokenCredential};
pub use driver::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT, Driver, DriverConfig, FrameStream, Opened, Request,
    RequestSigner, http_client, http2_prior_knowledge_client, parse_url, request_headers,
};
pub use retry::{DEFAULT_MAX_RETRIES, RetryPolicy};
pub use settings::{DriverSettings, check_http_scheme, model_name, request_model, secret_header};
pub use transport::{Exchange, SendFuture, Transport};
