//! The chat-client abstraction every model provider implements.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::error::ChatError;
use crate::message::Message;
use crate::options::ChatOptions;
use crate::response::{ChatResponse, ChatResponseUpdate, ResponseFolder};

/// A stream of response updates. It ends after the update carrying the finish reason, or with
/// an error; dropping it cancels the call.
pub type ChatStream = BoxStream<'static, Result<ChatResponseUpdate, ChatError>>;

/// One chat call: the conversation and the options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatRequest {
    /// The conversation so far, oldest first.
    pub messages: Vec<Message>,
    /// Model, sampling, tools, response format …
    pub options: ChatOptions,
}

impl ChatRequest {
    /// A request from its parts.
    pub fn new(messages: Vec<Message>, options: ChatOptions) -> Self {
        Self { messages, options }
    }
}

/// What a client says about itself, for telemetry and messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The provider (`openai`, `azure.ai.openai`, `scripted`, …), as OpenTelemetry's
    /// `gen_ai.provider.name` names it.
    pub provider: String,
    /// The model used when the options name none.
    pub default_model: Option<String>,
    /// Where the client sends requests, when it has an address.
    pub endpoint: Option<String>,
}

/// A chat model: a non-streaming and a streaming call. Object safe: hold it as
/// `Arc<dyn ChatClient>`.
#[async_trait]
pub trait ChatClient: Send + Sync + 'static {
    /// Sends the request and waits for the whole answer.
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError>;

    /// Sends the request and streams the answer as it is produced.
    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream;

    /// Provider name, default model and endpoint.
    fn info(&self) -> ClientInfo;
}

#[async_trait]
impl<C: ChatClient + ?Sized> ChatClient for Arc<C> {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        (**self).get_response(request).await
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        (**self).get_streaming_response(request)
    }

    fn info(&self) -> ClientInfo {
        (**self).info()
    }
}

/// Consumes a chat stream and folds it into a response.
pub async fn collect_stream(mut stream: ChatStream) -> Result<ChatResponse, ChatError> {
    let mut folder = ResponseFolder::new();
    while let Some(update) = stream.next().await {
        folder.push(update?);
    }
    Ok(folder.finish())
}
