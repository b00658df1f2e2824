//! The mock server: a real HTTP server on 127.0.0.1 (axum) that answers a provider's requests
//! with scripted [`Answer`]s, written by the provider's [`WireScript`], and records what it got.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::script::{Incoming, Reply, WireScript};

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
    /// The reply streamed, its first half of frames, then the provider's in-stream error
    /// ([`WireScript::stream_error`]) for an HTTP-like `status` saying `message`. Asked for
    /// whole, the HTTP error.
    StreamError {
        /// What streams before the error.
        reply: Reply,
        /// The HTTP status the error stands for.
        status: u16,
        /// The provider's message.
        message: String,
    },
}

/// A request the mock server got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its path and query.
    pub path: String,
    /// When it arrived.
    pub at: Instant,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body (`Null` when not JSON).
    pub body: Value,
    /// Whether it asked for a stream.
    pub stream: bool,
    /// Why the provider would have refused it ([`WireScript::check_request`]), if it would.
    pub refused: Option<String>,
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
        // Test support only (a dev-dependency): a mock that cannot bind loopback fails the test
        // that asked for it, with this message; no user code runs this.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let base_url = format!("http://{}", listener.local_addr().expect("the bound address"));
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await;
        });
        Self { base_url, state, stop, _task: AbortOnDropHandle::new(task) }
    }

    /// The wire script it speaks.
    pub fn wire(&self) -> Arc<dyn WireScript> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).wire.clone()
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

async fn answer(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or_else(|| uri.path().to_string(), |path| path.as_str().to_string());
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let (wire, answer, stream) = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        let incoming =
            Incoming { method: method.as_str(), path_and_query: &path, headers: &headers, body: &raw };
        let refused = state.wire.check_request(incoming).err();
        let stream = state.wire.wants_stream(&path, &body);
        let answer = match (&refused, state.answers.len()) {
            (Some(reason), _) => Some(Answer::Error {
                status: state.wire.unauthorized_status(),
                headers: Vec::new(),
                message: format!("the conformance mock refused the request: {reason}"),
            }),
            (None, 0) => None,
            (None, 1) => state.answers.first().cloned(),
            (None, _) => Some(state.answers.remove(0)),
        };
        state.received.push(Received { path, at: Instant::now(), headers, body, stream, refused });
        (state.wire.clone(), answer, stream)
    };
    let Some(answer) = answer else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the conformance mock has no answer scripted")
            .into_response();
    };
    let json = |status: StatusCode, body: String| {
        (status, [("content-type", "application/json")], body).into_response()
    };
    let http_error = |status: u16, headers: Vec<(&'static str, String)>, message: &str| {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = json(status, wire.error(status.as_u16(), message).to_string());
        for (name, value) in wire.error_headers(status.as_u16()).into_iter().chain(headers) {
            if let Ok(value) = value.parse() {
                response.headers_mut().insert(name, value);
            }
        }
        response
    };
    let streamed = |frames: Vec<Vec<u8>>, broken: bool| {
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
        Answer::Error { status, headers, message } => http_error(status, headers, &message),
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
        Answer::StreamError { status, message, .. } if !stream => http_error(status, Vec::new(), &message),
        Answer::StreamError { reply, status, message } => match wire.stream_error(status, &message) {
            Some(error) => {
                let mut frames = first_half(wire.stream(&reply));
                frames.push(error);
                streamed(frames, false)
            }
            None => (
                StatusCode::NOT_IMPLEMENTED,
                "the conformance mock: this wire script writes no in-stream error (WireScript::stream_error)",
            )
                .into_response(),
        },
    }
}

/// The first half of a stream's frames (at least one, never all).
fn first_half(mut frames: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let keep = (frames.len() / 2).max(1).min(frames.len().saturating_sub(1));
    frames.truncate(keep);
    frames
}
