//! The Converse client (`POST {endpoint}/model/{modelId}/converse`, and `/converse-stream`).

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::Value;
use weft_core::{ChatClient, ChatError, ChatRequest, ChatResponse, ChatStream, ClientInfo};
use weft_provider::error::{decode_error, encode_error};
use weft_provider::eventstream::EventStreamParser;
use weft_provider::{Driver, HttpChatApi, Request};

use crate::config::{Bedrock, EVENT_STREAM, Inner};
use crate::stream::ConverseStream;
use crate::wire::{WireAnswer, request_body, to_response};

/// A [`ChatClient`] for Bedrock's Converse API: every model Bedrock serves through one request
/// shape. Create it with [`Bedrock::converse`].
///
/// Streams (ConverseStream, the AWS binary event stream) emit text and reasoning deltas as
/// they arrive, each tool call complete when its block ends, a reasoning block's signature
/// when the block ends, and usage with the finish reason once both `messageStop` and
/// `metadata` came; a stream that ends before them fails with a
/// [`StreamEnded`](weft_core::ChatErrorKind::StreamEnded) error, and an exception message
/// inside it with the error it names.
#[derive(Debug, Clone)]
pub struct BedrockClient {
    bedrock: Bedrock,
}

impl BedrockClient {
    /// A client for this endpoint.
    pub fn new(bedrock: Bedrock) -> Self {
        Self { bedrock }
    }

    /// The endpoint configuration.
    pub fn config(&self) -> &Bedrock {
        &self.bedrock
    }

    /// The request body this client would send for `request` (for inspection and tests).
    pub fn request_body(&self, request: &ChatRequest) -> Value {
        request_body(&request.messages, &request.options)
    }
}

impl Inner {
    /// The model of a request: its own, else the endpoint's; none is a configuration error.
    pub(crate) fn chat_model<'a>(&'a self, request: &'a ChatRequest) -> Result<&'a str, ChatError> {
        weft_provider::request_model(
            request.options.model.as_deref(),
            self.model.as_deref(),
            "BedrockBuilder::model, or in BEDROCK_MODEL",
            &self.label,
        )
    }
}

impl HttpChatApi for Inner {
    type Framing = EventStreamParser;
    type Decoder = ConverseStream;
    const STREAM_CONTENT_TYPE: &'static str = EVENT_STREAM;

    fn driver(&self) -> &Driver {
        &self.driver
    }

    fn prepare(&self, request: &ChatRequest, stream: bool) -> Result<Request<'_>, ChatError> {
        weft_core::HostedTool::check(&request.options.hosted_tools, &[], &self.label)?;
        let model = self.chat_model(request)?;
        let (url, shown_url) = self.model_url(model, if stream { "converse-stream" } else { "converse" })?;
        let body = request_body(&request.messages, &request.options);
        let body = serde_json::to_vec(&body).map_err(|err| encode_error(&self.label, err))?;
        Ok(Request {
            label: &self.label,
            url,
            shown_url: Cow::Owned(shown_url),
            headers: if stream { &self.stream_headers } else { &self.json_headers },
            body: Bytes::from(body),
        })
    }

    fn parse_whole(
        &self,
        label: &str,
        body: &[u8],
        request: &ChatRequest,
    ) -> Result<ChatResponse, ChatError> {
        let answer: WireAnswer =
            serde_json::from_slice(body).map_err(|err| decode_error(label, "the answer", err, body))?;
        Ok(to_response(answer, self.chat_model(request)?))
    }

    fn decoder(&self, label: &str, request: &ChatRequest) -> ConverseStream {
        ConverseStream::new(label, self.chat_model(request).unwrap_or_default())
    }
}

#[async_trait]
impl ChatClient for BedrockClient {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        weft_provider::api::respond(self.bedrock.inner.as_ref(), request).await
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        weft_provider::api::stream(Arc::clone(&self.bedrock.inner), request)
    }

    fn info(&self) -> ClientInfo {
        ClientInfo {
            provider: "bedrock".to_string(),
            default_model: self.bedrock.default_model().map(str::to_string),
            endpoint: Some(self.bedrock.endpoint().to_string()),
        }
    }
}
