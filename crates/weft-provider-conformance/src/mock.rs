//! The mock server: a real HTTP server on 127.0.0.1 (axum) that answers a provider's requests
//! with scripted [`Answer`]s, written by the provider's [`WireScript`], and records what it got.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::script::{Reply, WireScript};

/// One scripted answer of the mock server.
#[derive(Debug, Clone)]
pub enum Answer {
    /// The reply, whole or streamed as the request asks.
    Reply(Reply),
    /// An HTTP error: the status, extra headers, and the provider's error body saying
    /// `message`.
    Error {
        /// The HTTP status.
        status: u16,
        /// Extra headers (`retry-after`).
        headers: Vec<(&'static str, String)>,
        /// The provider's message.
        message: String,
    },
    /// The reply streamed, but only its first half of frames: the body ends cleanly before
    /// the end marker.
    Cut(Reply),
    /// The reply streamed, its first half of frames, then the connection is broken (the body
    /// fails mid-way).
    Broken(Reply),
    /// A body that is not JSON: a whole answer that breaks off, or a stream whose second
    /// frame does.
    Malformed(Reply),
}

/// A request the mock server got.
#[derive(Debug, Clone)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body (`Null` when not JSON).
    pub body: Value,
    /// Whether it asked for a stream.
    pub stream: bool,
}

struct State_ {
    wire: Arc<dyn WireScript>,
    answers: Vec<Answer>,
    received: Vec<Received>,
}

type Shared = Arc<Mutex<State_>>;

/// A mock provider on a free port of 127.0.0.1, stopped when dropped. It gives its answers in
/// turn (the last one again when they run out).
pub struct MockServer {
    base_url: String,
    state: Shared,
    stop: CancellationToken,
    _task: AbortOnDropHandle<()>,
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl MockServer {
    /// Starts a server answering at `wire.path()`.
    ///
    /// # Panics
    /// When it cannot bind a port (a test helper).
    #[allow(clippy::expect_used)]
    pub async fn start(wire: Arc<dyn WireScript>) -> Self {
        let path = wire.path();
        let state = Arc::new(Mutex::new(State_ { wire, answers: Vec::new(), received: Vec::new() }));
        let app = Router::new().route(path, post(answer)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let base_url = format!("http://{}", listener.local_addr().expect("the bound address"));
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await;
        });
        Self { base_url, state, stop, _task: AbortOnDropHandle::new(task) }
    }

    /// `http://127.0.0.1:PORT` (no path).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Replaces the scripted answers and forgets the requests received.
    pub fn script(&self, answers: Vec<Answer>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.answers = answers;
        state.received.clear();
    }

    /// The requests received since the last [`script`](Self::script).
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).received.clone()
    }
}

async fn answer(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (wire, answer, stream) = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        let stream = state.wire.wants_stream(&body);
        state.received.push(Received { at: Instant::now(), headers, body, stream });
        let answer = match state.answers.len() {
            0 => None,
            1 => state.answers.first().cloned(),
            _ => Some(state.answers.remove(0)),
        };
        (state.wire.clone(), answer, stream)
    };
    let Some(answer) = answer else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the conformance mock has no answer scripted")
            .into_response();
    };
    let json = |status: StatusCode, body: String| {
        (status, [("content-type", "application/json")], body).into_response()
    };
    let streamed = |frames: Vec<String>, broken: bool| {
        let mut chunks: Vec<Result<Bytes, std::io::Error>> =
            frames.into_iter().map(|frame| Ok(Bytes::from(frame))).collect();
        if broken {
            chunks.push(Err(std::io::Error::other("the conformance mock breaks the connection")));
        }
        let body = Body::from_stream(futures::stream::iter(chunks).then(|chunk| async move {
            // Each frame its own write, as a real server flushes tokens.
            tokio::task::yield_now().await;
            chunk
        }));
        (StatusCode::OK, [("content-type", wire.stream_content_type())], body).into_response()
    };
    match answer {
        Answer::Reply(reply) if stream => streamed(wire.stream(&reply), false),
        Answer::Reply(reply) => json(StatusCode::OK, wire.whole(&reply).to_string()),
        Answer::Error { status, headers, message } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = json(status, wire.error(status.as_u16(), &message).to_string());
            for (name, value) in headers {
                if let Ok(value) = value.parse() {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
        Answer::Cut(reply) | Answer::Broken(reply) if !stream => {
            json(StatusCode::OK, wire.whole(&reply).to_string())
        }
        Answer::Cut(reply) => streamed(first_half(wire.stream(&reply)), false),
        Answer::Broken(reply) => streamed(first_half(wire.stream(&reply)), true),
        Answer::Malformed(reply) if stream => {
            let mut frames = wire.stream(&reply);
            frames.truncate(1);
            frames.push(wire.frame("{\"conformance\": \"this frame breaks off"));
            streamed(frames, false)
        }
        Answer::Malformed(reply) => {
            let whole = wire.whole(&reply).to_string();
            json(StatusCode::OK, whole.chars().take(whole.len() / 2).collect())
        }
    }
}

/// The first half of a stream's frames (at least one, never all).
fn first_half(mut frames: Vec<String>) -> Vec<String> {
    let keep = (frames.len() / 2).max(1).min(frames.len().saturating_sub(1));
    frames.truncate(keep);
    frames
}
