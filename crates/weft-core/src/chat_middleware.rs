//! A chat client wrapped in chat middleware: the [`Layer`](https://docs.rs/tower/latest/tower/trait.Layer.html)
//! shape for chat clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use futures::StreamExt;
use futures::future::BoxFuture;

use crate::bridge::{UpdateSink, bridge};
use crate::client::{ChatClient, ChatRequest, ChatStream, ClientInfo};
use crate::error::ChatError;
use crate::middleware::{Call, Layers, Middleware, Next, Terminal};
use crate::response::{ChatResponse, ChatResponseUpdate, ResponseFolder};

impl Call for ChatRequest {
    type Output = Result<ChatResponse, ChatError>;
}

/// A chat client whose calls pass through chat middleware (first added is outermost). Build it
/// with [`MiddlewareChatClient::new`] and [`MiddlewareChatClient::with`], or let the agent
/// builder do it.
#[derive(Clone)]
pub struct MiddlewareChatClient {
    inner: Arc<dyn ChatClient>,
    layers: Layers<ChatRequest>,
}

impl std::fmt::Debug for MiddlewareChatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiddlewareChatClient").field("layers", &self.layers.len()).finish()
    }
}

impl MiddlewareChatClient {
    /// `inner` with the given middleware, in order.
    pub fn new(inner: Arc<dyn ChatClient>, layers: Vec<Arc<dyn Middleware<ChatRequest>>>) -> Self {
        Self { inner, layers: layers.into() }
    }

    /// Adds one more middleware, innermost.
    pub fn with(self, layer: impl Middleware<ChatRequest>) -> Self {
        let mut layers: Vec<_> = self.layers.iter().cloned().collect();
        layers.push(Arc::new(layer));
        Self { inner: self.inner, layers: layers.into() }
    }
}

/// Calls the wrapped client without streaming.
struct CallClient(Arc<dyn ChatClient>);

impl Terminal<ChatRequest> for CallClient {
    fn call(&self, request: ChatRequest) -> BoxFuture<'static, Result<ChatResponse, ChatError>> {
        let client = self.0.clone();
        Box::pin(async move { client.get_response(request).await })
    }
}

/// Calls the wrapped client streaming: forwards each update to the caller and folds them into the
/// response the middleware see.
struct StreamClient {
    client: Arc<dyn ChatClient>,
    sink: UpdateSink<ChatResponseUpdate>,
    reached: Arc<AtomicBool>,
}

impl Terminal<ChatRequest> for StreamClient {
    fn call(&self, request: ChatRequest) -> BoxFuture<'static, Result<ChatResponse, ChatError>> {
        self.reached.store(true, Ordering::Relaxed);
        let mut stream = self.client.get_streaming_response(request);
        let sink = self.sink.clone();
        Box::pin(async move {
            let mut folder = ResponseFolder::new();
            while let Some(update) = stream.next().await {
                let update = update?;
                folder.push_ref(&update);
                // A closed receiver means the caller dropped the stream: stop quietly.
                if sink.send(update).await.is_err() {
                    return Err(ChatError::new(
                        crate::ChatErrorKind::Cancelled,
                        "the caller dropped the stream",
                    ));
                }
            }
            Ok(folder.finish())
        })
    }
}

#[async_trait]
impl ChatClient for MiddlewareChatClient {
    async fn get_response(&self, request: ChatRequest) -> Result<ChatResponse, ChatError> {
        Next::new(self.layers.clone(), Arc::new(CallClient(self.inner.clone()))).run(request).await
    }

    fn get_streaming_response(&self, request: ChatRequest) -> ChatStream {
        if self.layers.is_empty() {
            return self.inner.get_streaming_response(request);
        }
        let reached = Arc::new(AtomicBool::new(false));
        let layers = self.layers.clone();
        let client = self.inner.clone();
        let reached_in_work = reached.clone();
        bridge(
            move |sink| {
                let terminal = StreamClient { client, sink, reached: reached_in_work };
                Next::new(layers, Arc::new(terminal)).run(request)
            },
            move |output: Result<ChatResponse, ChatError>| match output {
                // A middleware answered without calling the client: stream its answer.
                Ok(response) if !reached.load(Ordering::Relaxed) => {
                    response.into_updates().into_iter().map(Ok).collect()
                }
                Ok(_) => Vec::new(),
                Err(error) => vec![Err(error)],
            },
        )
    }

    fn info(&self) -> ClientInfo {
        self.inner.info()
    }
}
