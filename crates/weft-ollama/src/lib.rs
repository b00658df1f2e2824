//! # weft-ollama
//!
//! Weft's provider for Ollama's native API: [`OllamaClient`] over `POST {host}/api/chat` and
//! [`OllamaEmbeddingClient`] over `POST {host}/api/embed`, sent through the shared driver of
//! [`weft_provider`] (its deadlines, retries, bounded NDJSON parser and error mapping).
//!
//! ```no_run
//! use weft_core::{ChatClient, ChatOptions, ChatRequest, Message};
//! use weft_ollama::Ollama;
//!
//! # async fn run() -> Result<(), weft_core::ChatError> {
//! // OLLAMA_HOST (default http://localhost:11434), OLLAMA_MODEL …
//! let ollama = Ollama::builder().model("llama3.2").num_ctx(8192).keep_alive("30m").build()?;
//! let request = ChatRequest::new(vec![Message::user("Hello!")], ChatOptions::default());
//! println!("{}", ollama.chat().get_response(request).await?.text_content());
//! # Ok(()) }
//! ```
//!
//! ## Native `/api/chat`, or `/v1` through the OpenAI client?
//!
//! Ollama also serves the OpenAI Chat Completions API at `{host}/v1`, which `weft-openai`
//! speaks (`OPENAI_BASE_URL=http://localhost:11434/v1`). Choose the **native API** (this
//! crate) to set what only it takes: model `options` such as `num_ctx` (the `/v1` endpoint
//! keeps Ollama's small default context window), `keep_alive`, `think` (and thinking returned
//! as reasoning), a JSON schema in `format`, and Ollama's own counts and done reasons; and for
//! embeddings with `truncate`. Choose **`/v1`** when one client must talk to Ollama and to other
//! OpenAI-compatible servers alike, or to force a tool call (`tool_choice`, which `/api/chat`
//! does not take).
//!
//! ## Mapping
//!
//! - Messages keep their roles; images ([`weft_core::Content::Data`] with an `image/*` type,
//!   or an image `data:` URL) become the message's base64 `images`; reasoning goes back as
//!   `thinking`; tool calls as `tool_calls` (`{"function": {"name", "arguments"}}`); each tool
//!   result is a `tool` message naming its tool (`tool_name`).
//! - Options: temperature, top_p, max_tokens (`num_predict`), stop and seed go in `options`,
//!   over the endpoint's own ([`OllamaBuilder::option`], [`OllamaBuilder::num_ctx`]); an
//!   `options` object in [`weft_core::ChatOptions::extra`] is merged into them, any other
//!   extra into the body (`keep_alive`, `think`, `format` win over the builder's).
//! - Structured output: a JSON-schema response format is `format: {schema}`, a JSON object
//!   `format: "json"`.
//! - Tool calls get an id when the server sends none (Weft matches results to calls by id).
//! - Usage: `prompt_eval_count` in, `eval_count` out. Done reasons: `stop` (with tool calls:
//!   tool calls), `length`; others (`load`, `unload`) keep their name.
//! - `tool_choice`: `none` sends no tools; Ollama cannot force a call, so `required` and a
//!   named function only offer the tools.
//!
//! ## Failures, deadlines and retries
//!
//! As for every provider on the shared driver: each failure is a [`weft_core::ChatError`]
//! naming the endpoint (`ollama http://localhost:11434`) with Ollama's message (its
//! `{"error": "…"}` bodies: a model not pulled is a bad request); 429, 500, 502, 503, 504 and
//! network failures are retried ([`OllamaBuilder::max_retries`]) until a stream is handed out;
//! an `{"error": …}` line mid-stream ends the stream with that error.

mod client;
mod config;
mod embed;
mod stream;
mod wire;

pub use client::OllamaClient;
pub use config::{DEFAULT_HOST, DEFAULT_PORT, Ollama, OllamaBuilder};
pub use embed::{DEFAULT_EMBEDDING_BATCH_SIZE, OllamaEmbeddingClient};
/// The shared driver's default deadlines and limits, which [`OllamaBuilder`] starts from.
pub use weft_provider::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RETRIES,
    DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT,
};
