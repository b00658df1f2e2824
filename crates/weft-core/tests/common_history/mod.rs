//! A chat client that records what each model call is sent, around another client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use weft_core::client::{ChatClient, ChatRequest, ChatStream, ClientInfo};
use weft_core::error::{ChatError, ChatErrorKind};
use weft_core::response::ChatResponse;
use weft_core::{Message, ScriptedClient};

/// Records the messages of each request, then lets `inner` answer (or fails every call when
/// `fail` is set).
pub struct Recording {
    inner: Arc<dyn ChatClient>,
    pub requests: Mutex<Vec<Vec<Message>>>,
    pub fail: std::sync::atomic::AtomicBool,
}

impl Recording {
    pub fn scripted() -> Arc<Self> {
        Self::over(Arc::new(ScriptedClient::new()))
    }

    pub fn over(inner: Arc<dyn ChatClient>) -> Arc<Self> {
        Arc::new(Self { inner, requests: Mutex::default(), fail: Default::default() })
    }

    pub fn last_request(&self) -> Vec<Message> {
        self.requests.lock().unwrap().last().cloned().unwrap()
    }

    /// The size of each request's messages as JSON, in bytes.
    pub fn sizes(&self) -> Vec<usize> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|messages| serde_json::to_string(messages).unwrap().len())
            .collect()
    }

    pub fn calls(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    fn record(&self, request: &ChatRequest) -> Result<(), ChatError> {
        self.requests.lock().unwrap().push(request.messages.clone());
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ChatError::new(ChatErrorKind::Server, "the test model is down"));
        }
        Ok(())
    }
}

#[async_trait]
impl ChatClient for Recording {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        self.record(&request)?;
        self.inner.get_response(request).await
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        if let Err(error) = self.record(&request) {
            return Box::pin(futures::stream::once(async move { Err(error) }));
        }
        self.inner.get_streaming_response(request)
    }

    fn info(&self) -> ClientInfo {
        self.inner.info()
    }
}
