//! # weft-gemini
//!
//! Weft's provider for Google's Gemini models: the Gemini API
//! (`generativelanguage.googleapis.com`, with an API key) and Vertex AI
//! (`{location}-aiplatform.googleapis.com`, with an OAuth access token), and servers that speak
//! the same API (the LiteLLM proxy). One [`weft_core::ChatClient`], [`GeminiClient`]
//! (`generateContent`, `streamGenerateContent?alt=sse`), and one
//! [`weft_core::EmbeddingClient`], [`GeminiEmbeddingClient`] (`batchEmbedContents`, or Vertex
//! AI's `predict`), sent through the shared driver of [`weft_provider`] (its deadlines,
//! retries, bounded SSE parser and error mapping).
//!
//! ```no_run
//! use weft_core::{ChatClient, ChatOptions, ChatRequest, Message};
//! use weft_gemini::Gemini;
//!
//! # async fn run() -> Result<(), weft_core::ChatError> {
//! // GEMINI_API_KEY (or GOOGLE_API_KEY), GEMINI_BASE_URL, GEMINI_MODEL …
//! let gemini = Gemini::from_env()?.chat();
//! let request = ChatRequest::new(vec![Message::user("Hello!")], ChatOptions::with_model("gemini-2.5-flash"));
//! println!("{}", gemini.get_response(request).await?.text_content());
//!
//! // Vertex AI, with a token from `gcloud auth print-access-token` (or a token_source closure).
//! let vertex = Gemini::builder().vertex("my-project", "us-central1").access_token("ya29…").build()?;
//! # let _ = vertex;
//! # Ok(()) }
//! ```
//!
//! ## Mapping
//!
//! - System messages become `systemInstruction`; the conversation becomes `contents` of
//!   `user` and `model` turns; tool results become `functionResponse` parts (named after the
//!   call they answer; all of a turn's results together, for parallel calls); images, audio,
//!   video and PDFs become `inlineData` ([`weft_core::Content::Data`]) or `fileData` (`Uri`).
//! - Tools become `functionDeclarations`, their JSON Schemas turned into Gemini's OpenAPI
//!   subset (`$ref`s inlined, `nullable`, refused keywords left out). `tool_choice` becomes
//!   `toolConfig.functionCallingConfig`: `AUTO`, `NONE`, `ANY` for required, `ANY` with
//!   `allowedFunctionNames` for a named one. (Gemini has no switch for parallel calls.)
//!   Hosted web search is `googleSearch`, the code interpreter `codeExecution`.
//! - `generationConfig`: temperature, `topP`, `maxOutputTokens`, `stopSequences`, `seed`;
//!   structured output as `responseMimeType: application/json` with a `responseSchema`;
//!   thinking as `thinkingConfig` ([`GeminiBuilder::thinking_budget`],
//!   [`GeminiBuilder::include_thoughts`], or a `generationConfig` object in
//!   [`weft_core::ChatOptions::extra`], merged in).
//! - Thought parts come back as [`weft_core::Content::Reasoning`]; a `thoughtSignature` as a
//!   reasoning without text just before the part that carried it, and it goes back on that
//!   part with the history (Gemini 3 refuses function calls without theirs).
//! - Calls without an id (most Gemini API models send none) get one made here, which is not
//!   sent back; ids the server gave are.
//! - Usage: input is `promptTokenCount` (cached tokens included, and reported apart as
//!   `cache_read_input_tokens`) plus the tool-use prompt; output is the candidates plus
//!   `thoughtsTokenCount`.
//! - Finish reasons: `STOP` → stop (tool calls when the answer calls some), `MAX_TOKENS` →
//!   length, `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII` and the image
//!   ones → content filter; others keep their name in lower case. An answer blocked before
//!   it said anything (a blocked prompt, or a `SAFETY` finish with no content) fails with a
//!   [`BadRequest`](weft_core::ChatErrorKind::BadRequest) error whose code is the reason and
//!   whose message names the harm categories.
//!
//! ## Failures, deadlines and retries
//!
//! As for every provider on the shared driver: each failure is a [`weft_core::ChatError`]
//! naming the endpoint (`gemini https://generativelanguage.googleapis.com/v1beta`) with
//! Google's status as its code (`RESOURCE_EXHAUSTED`, `INVALID_ARGUMENT` …); the key and the
//! tokens never show. A key Google does not know (400 `API_KEY_INVALID`) is an
//! authentication error. 429, 500, 502, 503, 504 and network failures are retried
//! ([`GeminiBuilder::max_retries`]), waiting what `Retry-After` or the error's `RetryInfo`
//! (`retryDelay`) asks, until a stream is handed out; an error event mid-stream ends the
//! stream with that error.

mod client;
mod config;
mod embeddings;
mod request;
mod response;
mod schema;
mod stream;

pub use client::GeminiClient;
pub use config::{DEFAULT_BASE_URL, DEFAULT_VERTEX_LOCATION, Gemini, GeminiBuilder, TokenFuture};
pub use embeddings::{
    DEFAULT_EMBEDDING_BATCH_SIZE, DEFAULT_VERTEX_EMBEDDING_BATCH_SIZE, GeminiEmbeddingClient,
};
/// The shared driver's default deadlines and limits, which [`GeminiBuilder`] starts from.
pub use weft_provider::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RETRIES,
    DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT,
};
