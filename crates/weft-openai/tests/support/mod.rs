//! Shared helpers: clients pointed at in-test servers, SSE bodies, raw HTTP servers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures::{Stream, StreamExt};
use serde_json::Value;
use weft_core::{ChatClient, ChatError, ChatOptions, ChatRequest, ChatResponseUpdate, Message};
use weft_openai::{OpenAI, OpenAIBuilder};
use wiremock::MockServer;

/// A builder pointed at `{uri}/v1` with a key and a model, and fast retries.
pub fn builder(uri: &str) -> OpenAIBuilder {
    OpenAI::builder()
        .base_url(format!("{uri}/v1"))
        .api_key("sk-test")
        .model("gpt-4o-mini")
        .initial_retry_delay(Duration::from_millis(10))
}

/// A handle pointed at a wiremock server.
pub fn openai(server: &MockServer) -> OpenAI {
    builder(&server.uri()).build().unwrap()
}

/// A user request with default options.
pub fn ask(text: &str) -> ChatRequest {
    ChatRequest::new(vec![Message::user(text)], ChatOptions::default())
}

/// Chat Completions SSE body: `data: {json}\n\n` per chunk, then `data: [DONE]\n\n`.
pub fn chat_sse(chunks: &[Value], done: bool) -> String {
    let mut body = String::new();
    for chunk in chunks {
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    body
}

/// Responses SSE body: `event: {type}\ndata: {json}\n\n` per event.
pub fn responses_sse(events: &[Value]) -> String {
    let mut body = String::new();
    for event in events {
        let kind = event["type"].as_str().unwrap_or("message");
        body.push_str(&format!("event: {kind}\ndata: {event}\n\n"));
    }
    body
}

/// A wiremock answer with an SSE body.
pub fn sse_response(body: String) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

/// Collects every update of a stream (stopping at the first error), within 10 s.
pub async fn collect(
    client: &dyn ChatClient,
    request: ChatRequest,
) -> (Vec<ChatResponseUpdate>, Option<ChatError>) {
    let mut stream = client.get_streaming_response(request);
    let mut updates = Vec::new();
    let result = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(item) = stream.next().await {
            match item {
                Ok(update) => updates.push(update),
                Err(err) => return Some(err),
            }
        }
        None
    })
    .await;
    match result {
        Ok(error) => (updates, error),
        Err(_) => panic!("the stream hung"),
    }
}

/// The JSON bodies the server received.
pub async fn bodies(server: &MockServer) -> Vec<Value> {
    server.received_requests().await.unwrap().iter().map(|request| request.body_json().unwrap()).collect()
}

/// Serves one axum route `POST /v1/{path}` answering with status 200, the given content type
/// and a body made of `chunks`, then (when `cut`) an I/O error that aborts the connection, or
/// (when `hang`) silence forever. Returns the base URI.
pub async fn raw_server(content_type: &'static str, chunks: Vec<&'static str>, end: End) -> String {
    let handler = move || {
        let chunks = chunks.clone();
        async move {
            let head = futures::stream::iter(
                chunks
                    .into_iter()
                    .map(|chunk| Ok::<Bytes, std::io::Error>(Bytes::from_static(chunk.as_bytes()))),
            );
            let body: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>> = match end
            {
                End::Clean => Box::pin(head),
                End::Cut => Box::pin(head.chain(futures::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut"))
                }))),
                End::Hang => Box::pin(head.chain(futures::stream::pending())),
            };
            axum::response::Response::builder()
                .status(200)
                .header("content-type", content_type)
                .body(Body::from_stream(body))
                .unwrap()
        }
    };
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(handler.clone()))
        .route("/v1/responses", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A boxed body stream for [`body_server`].
pub type BodyStream = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// Serves `POST /v1/chat/completions` and `POST /v1/responses`, answering status 200 with the
/// given content type and the body `body(n)` makes for the n-th request (from 0). Returns the
/// base URI and the count of requests served.
pub async fn body_server<F>(
    content_type: &'static str,
    body: F,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>)
where
    F: Fn(usize) -> BodyStream + Clone + Send + Sync + 'static,
{
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let served = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&served);
    let handler = move || {
        let body = body.clone();
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            axum::response::Response::builder()
                .status(200)
                .header("content-type", content_type)
                .body(Body::from_stream(body(n)))
                .unwrap()
        }
    };
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(handler.clone()))
        .route("/v1/responses", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), served)
}

/// `head`, then `chunk` every `every`, forever.
pub fn repeating(head: &'static str, chunk: &'static str, every: Duration) -> BodyStream {
    let first = futures::stream::once(async move { Ok(Bytes::from_static(head.as_bytes())) });
    let rest = futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(every).await;
        Some((Ok(Bytes::from_static(chunk.as_bytes())), ()))
    });
    Box::pin(first.chain(rest))
}

/// How a raw server's body ends.
#[derive(Debug, Clone, Copy)]
pub enum End {
    /// The body ends normally.
    Clean,
    /// The connection is aborted mid-body.
    Cut,
    /// Nothing more is ever sent.
    Hang,
}

/// A server that accepts connections and never answers. Returns the base URI.
pub async fn silent_server() -> String {
    silent_server_counting().await.0
}

/// [`silent_server`], also counting the connections it accepted.
pub async fn silent_server_counting() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&accepted);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    (format!("http://{addr}"), accepted)
}

/// An address nobody listens on.
pub async fn refused_uri() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
