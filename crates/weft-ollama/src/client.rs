//! The `/api/chat` client.

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::Value;
use weft_core::{
    ChatClient, ChatError, ChatRequest, ChatResponse, ChatStream, ClientInfo, Content, Message, Role,
};
use weft_provider::error::{decode_error, encode_error};
use weft_provider::ndjson::NdjsonParser;
use weft_provider::{Driver, HttpChatApi, Request};

use crate::config::{Inner, Ollama};
use crate::stream::{ChatStream as NdjsonChat, body_error};
use crate::wire::{BodyDefaults, WireChat, finish_reason, request_body};

/// A [`ChatClient`] for Ollama's native chat API (`POST {host}/api/chat`). Create it with
/// [`Ollama::chat`].
///
/// Streams (NDJSON) emit text and thinking deltas as they arrive, tool calls whole, and usage
/// with the finish reason on the last line (`"done": true`); a stream that ends without it
/// fails with a [`StreamEnded`](weft_core::ChatErrorKind::StreamEnded) error, and an
/// `{"error": …}` line ends the stream with that error.
#[derive(Debug, Clone)]
pub struct OllamaClient {
    ollama: Ollama,
}

impl OllamaClient {
    /// A client for this server.
    pub fn new(ollama: Ollama) -> Self {
        Self { ollama }
    }

    /// The server's configuration.
    pub fn config(&self) -> &Ollama {
        &self.ollama
    }

    /// The request body this client would send for `request` (for inspection and tests).
    pub fn request_body(&self, request: &ChatRequest, stream: bool) -> Result<Value, ChatError> {
        let inner = &self.ollama.inner;
        Ok(request_body(&request.messages, &request.options, inner.defaults(request)?, stream))
    }
}

impl Inner {
    /// The model and defaults of a request's body; a request without a model (and a server
    /// handle without a default) is a configuration error.
    fn defaults<'a>(&'a self, request: &'a ChatRequest) -> Result<BodyDefaults<'a>, ChatError> {
        let model = weft_provider::request_model(
            request.options.model.as_deref(),
            self.model.as_deref(),
            "OllamaBuilder::model, or in OLLAMA_MODEL",
            &self.label,
        )?;
        Ok(BodyDefaults {
            model,
            keep_alive: self.keep_alive.as_ref(),
            think: self.think.as_ref(),
            options: &self.options,
        })
    }
}

impl HttpChatApi for Inner {
    type Framing = NdjsonParser;
    type Decoder = NdjsonChat;
    const STREAM_CONTENT_TYPE: &'static str = "application/x-ndjson";

    fn driver(&self) -> &Driver {
        &self.driver
    }

    fn prepare(&self, request: &ChatRequest, stream: bool) -> Result<Request<'_>, ChatError> {
        weft_core::HostedTool::check(&request.options.hosted_tools, &[], &self.label)?;
        let body = request_body(&request.messages, &request.options, self.defaults(request)?, stream);
        let body = serde_json::to_vec(&body).map_err(|err| encode_error(&self.label, err))?;
        Ok(Request {
            label: &self.label,
            url: self.chat_url.clone(),
            shown_url: Cow::Borrowed(&self.shown_chat_url),
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
        if let Some(err) = body_error(label, &value) {
            return Err(err);
        }
        let mut chat: WireChat =
            serde_json::from_value(value).map_err(|err| decode_error(label, "the answer", err, body))?;
        let contents = chat.contents();
        let called = contents.iter().any(|content| matches!(content, Content::FunctionCall(_)));
        Ok(ChatResponse {
            messages: vec![Message::new(Role::Assistant, contents)],
            response_id: None,
            model: chat.model.take().filter(|model| !model.is_empty()),
            finish_reason: Some(finish_reason(chat.done_reason.as_deref(), called)),
            usage: chat.usage(),
        })
    }

    fn decoder(&self, label: &str, _request: &ChatRequest) -> NdjsonChat {
        NdjsonChat::new(label)
    }
}

#[async_trait]
impl ChatClient for OllamaClient {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        weft_provider::api::respond(self.ollama.inner.as_ref(), request).await
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        weft_provider::api::stream(Arc::clone(&self.ollama.inner), request)
    }

    fn info(&self) -> ClientInfo {
        ClientInfo {
            provider: "ollama".to_string(),
            default_model: self.ollama.default_model().map(str::to_string),
            endpoint: Some(self.ollama.host().to_string()),
        }
    }
}
