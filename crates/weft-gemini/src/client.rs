//! The chat client: `POST …/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`.

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::Value;
use weft_core::{ChatClient, ChatError, ChatRequest, ChatResponse, ChatStream, ClientInfo};
use weft_provider::error::{decode_error, encode_error, payload_error};
use weft_provider::sse::SseParser;
use weft_provider::{Driver, HttpChatApi, Request};

use crate::config::{Gemini, Inner};
use crate::request::{BodyDefaults, HOSTED_TOOLS, request_body};
use crate::response::{WireResponse, to_response};
use crate::stream::GeminiStream;

/// A [`ChatClient`] for Gemini models, on the Gemini API or Vertex AI (or a server that speaks
/// the same API, such as the LiteLLM proxy). Create it with [`Gemini::chat`].
///
/// Streams emit text and thought deltas as they arrive, each function call whole (Gemini
/// sends them whole), a thought signature as a [`weft_core::Content::Reasoning`] without text
/// just before the part it belongs to (so that the folded message sends it back on that
/// part), and usage with the finish reason on the chunk that has one; a stream that ends
/// before it fails with a [`StreamEnded`](weft_core::ChatErrorKind::StreamEnded) error.
#[derive(Debug, Clone)]
pub struct GeminiClient {
    gemini: Gemini,
}

impl GeminiClient {
    /// A client for this endpoint.
    pub fn new(gemini: Gemini) -> Self {
        Self { gemini }
    }

    /// The endpoint configuration.
    pub fn config(&self) -> &Gemini {
        &self.gemini
    }

    /// The request body this client would send for `request` (for inspection and tests).
    pub fn request_body(&self, request: &ChatRequest) -> Value {
        request_body(&request.messages, &request.options, self.gemini.inner.body_defaults())
    }
}

impl Inner {
    fn body_defaults(&self) -> BodyDefaults {
        BodyDefaults { thinking_budget: self.thinking_budget, include_thoughts: self.include_thoughts }
    }

    /// The model of a request; a request without one (and an endpoint without a default) is
    /// a configuration error.
    pub(crate) fn request_model<'a>(&'a self, asked: Option<&'a str>) -> Result<&'a str, ChatError> {
        weft_provider::request_model(
            asked,
            self.model.as_deref(),
            "GeminiBuilder::model, or in GEMINI_MODEL",
            &self.label,
        )
    }
}

/// One call: the endpoint, and the headers of this call when a token source gave them.
struct Call {
    inner: Arc<Inner>,
    /// JSON and stream headers with this call's bearer token.
    headers: Option<(HeaderMap, HeaderMap)>,
}

impl Call {
    /// The call, with a fresh token when the endpoint has a token source; the token is
    /// returned too, to be masked in errors.
    async fn new(inner: &Arc<Inner>) -> Result<(Self, Option<String>), ChatError> {
        let token = inner.fresh_token().await?;
        let headers = match &token {
            Some(token) => Some((
                Inner::with_bearer(&inner.json_headers, token)?,
                Inner::with_bearer(&inner.stream_headers, token)?,
            )),
            None => None,
        };
        Ok((Self { inner: Arc::clone(inner), headers }, token))
    }
}

impl HttpChatApi for Call {
    type Framing = SseParser;
    type Decoder = GeminiStream;

    fn driver(&self) -> &Driver {
        &self.inner.driver
    }

    fn prepare(&self, request: &ChatRequest, stream: bool) -> Result<Request<'_>, ChatError> {
        let inner = &self.inner;
        weft_core::HostedTool::check(&request.options.hosted_tools, &HOSTED_TOOLS, &inner.label)?;
        let model = inner.request_model(request.options.model.as_deref())?;
        let method = if stream { "streamGenerateContent" } else { "generateContent" };
        let (url, shown_url) = inner.method_url(model, method, stream)?;
        let body = request_body(&request.messages, &request.options, inner.body_defaults());
        let body = serde_json::to_vec(&body).map_err(|err| encode_error(&inner.label, err))?;
        let headers = match (&self.headers, stream) {
            (Some((_, headers)), true) | (Some((headers, _)), false) => headers,
            (None, true) => &inner.stream_headers,
            (None, false) => &inner.json_headers,
        };
        Ok(Request {
            label: &inner.label,
            url,
            shown_url: Cow::Owned(shown_url),
            headers,
            body: Bytes::from(body),
        })
    }

    fn parse_whole(
        &self,
        label: &str,
        body: &[u8],
        _request: &ChatRequest,
    ) -> Result<ChatResponse, ChatError> {
        // Decoded straight from the bytes; an answer that is an error (or not an answer at all)
        // is read again as plain JSON, for the error's own words.
        let error_payload =
            || serde_json::from_slice::<Value>(body).ok().filter(|value| value.get("error").is_some());
        match serde_json::from_slice::<WireResponse<'_>>(body) {
            Ok(response) if response.error.is_none() => to_response(label, response),
            Ok(response) => Err(payload_error(
                label,
                &error_payload().unwrap_or_else(|| serde_json::json!({"error": response.error})),
            )),
            Err(err) => Err(match error_payload() {
                Some(payload) => payload_error(label, &payload),
                None => decode_error(label, "the answer", err, body),
            }),
        }
    }

    fn decoder(&self, label: &str, _request: &ChatRequest) -> GeminiStream {
        GeminiStream::new(label)
    }
}

/// `err` with `token` masked.
fn masked(err: ChatError, token: Option<&str>) -> ChatError {
    match token {
        Some(token) => err.redact(token),
        None => err,
    }
}

#[async_trait]
impl ChatClient for GeminiClient {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        let (call, token) = Call::new(&self.gemini.inner).await?;
        weft_provider::api::respond(&call, request).await.map_err(|err| masked(err, token.as_deref()))
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        let inner = Arc::clone(&self.gemini.inner);
        if inner.token_source.is_none() {
            return weft_provider::api::stream(Arc::new(Call { inner, headers: None }), request);
        }
        // The token is asked for first; nothing is spawned, dropping the stream drops it all.
        async_stream::stream! {
            let (call, token) = match Call::new(&inner).await {
                Ok(call) => call,
                Err(err) => {
                    yield Err(err);
                    return;
                }
            };
            let mut updates = weft_provider::api::stream(Arc::new(call), request);
            while let Some(update) = updates.next().await {
                yield update.map_err(|err| masked(err, token.as_deref()));
            }
        }
        .boxed()
    }

    fn info(&self) -> ClientInfo {
        ClientInfo {
            provider: self.gemini.inner.provider_name().to_string(),
            default_model: self.gemini.default_model().map(str::to_string),
            endpoint: Some(self.gemini.base_url().to_string()),
        }
    }
}
