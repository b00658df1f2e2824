//! The Messages API client (`POST {base}/v1/messages`).

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::Value;
use weft_core::{ChatClient, ChatError, ChatRequest, ChatResponse, ChatStream, ClientInfo};
use weft_provider::error::{decode_error, encode_error, payload_error};
use weft_provider::sse::SseParser;
use weft_provider::{Driver, HttpChatApi, Request};

use crate::config::{Anthropic, Inner};
use crate::stream::MessagesStream;
use crate::wire::{BodyDefaults, WireMessage, request_body, to_response};

/// A [`ChatClient`] for Anthropic's Messages API, or any server that speaks it (llama.cpp's
/// `llama-server`, the LiteLLM proxy). Create it with [`Anthropic::messages`].
///
/// Streams emit text and thinking deltas as they arrive, each tool call complete when its
/// block ends, a thinking block's signature when the block ends (so that the folded message
/// keeps it for the next call), and usage with the finish reason after `message_stop`; a stream
/// that ends without `message_stop` fails with a
/// [`StreamEnded`](weft_core::ChatErrorKind::StreamEnded) error.
#[derive(Debug, Clone)]
pub struct AnthropicClient {
    anthropic: Anthropic,
}

impl AnthropicClient {
    /// A client for this endpoint.
    pub fn new(anthropic: Anthropic) -> Self {
        Self { anthropic }
    }

    /// The endpoint configuration.
    pub fn config(&self) -> &Anthropic {
        &self.anthropic
    }

    /// The request body this client would send for `request` (for inspection and tests).
    pub fn request_body(&self, request: &ChatRequest, stream: bool) -> Result<Value, ChatError> {
        let inner = &self.anthropic.inner;
        Ok(request_body(&request.messages, &request.options, inner.defaults(request)?, stream))
    }
}

impl Inner {
    /// The model and defaults of a request's body; a request without a model (and an
    /// endpoint without a default) is a configuration error.
    fn defaults<'a>(&'a self, request: &'a ChatRequest) -> Result<BodyDefaults<'a>, ChatError> {
        let model = weft_provider::request_model(
            request.options.model.as_deref(),
            self.model.as_deref(),
            "AnthropicBuilder::model, or in ANTHROPIC_MODEL",
            &self.label,
        )?;
        Ok(BodyDefaults { model, max_tokens: self.max_tokens, thinking_budget: self.thinking_budget })
    }
}

impl HttpChatApi for Inner {
    type Framing = SseParser;
    type Decoder = MessagesStream;

    fn driver(&self) -> &Driver {
        &self.driver
    }

    fn prepare(&self, request: &ChatRequest, stream: bool) -> Result<Request<'_>, ChatError> {
        weft_core::HostedTool::check(&request.options.hosted_tools, &crate::wire::SERVER_TOOLS, &self.label)?;
        let body = request_body(&request.messages, &request.options, self.defaults(request)?, stream);
        let body = serde_json::to_vec(&body).map_err(|err| encode_error(&self.label, err))?;
        Ok(Request {
            label: &self.label,
            url: self.url.clone(),
            shown_url: Cow::Borrowed(&self.shown_url),
            headers: if stream { &self.stream_headers } else { &self.json_headers },
            body: Bytes::from(body),
        })
    }

    fn parse_whole(
        &self,
        label: &str,
        body: &[u8],
        _request: &ChatRequest,
    ) -> Result<ChatResponse, ChatError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|err| decode_error(label, "the answer", err, body))?;
        if value.get("type").and_then(Value::as_str) == Some("error") {
            return Err(payload_error(label, &value));
        }
        let message: WireMessage =
            serde_json::from_value(value).map_err(|err| decode_error(label, "the answer", err, body))?;
        Ok(to_response(message))
    }

    fn decoder(&self, label: &str, _request: &ChatRequest) -> MessagesStream {
        MessagesStream::new(label)
    }
}

#[async_trait]
impl ChatClient for AnthropicClient {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        weft_provider::api::respond(self.anthropic.inner.as_ref(), request).await
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        weft_provider::api::stream(Arc::clone(&self.anthropic.inner), request)
    }

    fn info(&self) -> ClientInfo {
        ClientInfo {
            provider: "anthropic".to_string(),
            default_model: self.anthropic.default_model().map(str::to_string),
            endpoint: Some(self.anthropic.base_url().to_string()),
        }
    }
}
