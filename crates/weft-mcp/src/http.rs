//! The HTTP side: the `reqwest::Client` a source owns (or borrows), wrapped so that the source
//! sees the session id, notices a lost session, and decides whether closing sends the session
//! DELETE.
//!
//! A lost session (the server restarted, or dropped the session) is answered with HTTP 404 on
//! the stale `Mcp-Session-Id`; rmcp then re-initializes once and retries the POSTs that met it.
//! Some servers (server-everything) answer 400 with a JSON-RPC error saying the session id is
//! not valid: that answer is turned into the same "session expired" signal, so that it is
//! recovered the same way instead of failing every later call. The wrapper makes the recovery
//! visible (a `warn` and an `info` in `tracing`, [`McpEvent::Reconnected`]) and asks the
//! source's reloader for a fresh tool list, since a restarted server may offer other tools.
//!
//! Keeping connections alive: a POST answered with an SSE stream ends with the body's last
//! chunk, which the server writes just after the response event. rmcp 3.9 (stateful sessions)
//! drops the stream as soon as the response event is delivered, before that chunk is read, so
//! hyper cannot return the connection to the pool and every call opened a new TCP connection.
//! [`DrainOnDrop`] reads the rest of such a body (bounded, in a task of the connection's
//! tracker) so that the connection is reused.
//!
//! The answer to a `tools/call` that opens its SSE stream is decoded here as a tool result and
//! handed to rmcp as one message ([`crate::tool_answer`]): no untagged decode, no stream task.
//!
//! Answers over the size limit: rmcp bounds a JSON body and each SSE event (16 MiB). A JSON
//! body over it fails the POST, which rmcp reports as a lost transport; an SSE event over it
//! ends the stream, which rmcp reports as a closed transport. Both are turned here into a
//! JSON-RPC error answering the request, marked with the limit, which [`crate::error`] maps to
//! [`crate::McpErrorKind::MessageTooLarge`]: the call ends at once with the cause, and the
//! session stays usable.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{BoxStream, Stream, StreamExt};
use http::{HeaderName, HeaderValue};
use rmcp::model::{ClientJsonRpcMessage, ErrorCode, ErrorData, RequestId, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};
use sse_stream::Sse;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::HttpServer;
use crate::error::{TOO_LARGE_MARKER, human_size};
use crate::handler::McpEvent;
use crate::redact::redact_reqwest;
use crate::tool_answer::{self, SseStream};

/// How long to wait for a TCP (and TLS) connection.
pub(crate) const HTTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// rmcp's size limit for one message: an SSE event, a JSON body (and a stdio line).
pub(crate) const DEFAULT_MESSAGE_LIMIT: usize = rmcp::transport::async_rw::DEFAULT_MAX_LINE_LENGTH;
/// How long the rest of a dropped response body is read before the connection is given up.
const DRAIN_LIMIT: Duration = Duration::from_millis(50);
/// How many already-received items of a dropped response body are read in place before the
/// rest is left to a drain task.
const READY_DRAIN_ITEMS: usize = 8;

/// The client a source builds for itself (dropped with the session, so its pool is never shared
/// between sessions or sources): connect timeout, a short idle timeout,
/// redirects only within the same origin, and no total request timeout (long tool calls are
/// bounded by the source's request timeout instead).
///
/// For a plain `http:` endpoint the client gets no root certificates: redirects stay on the
/// same origin, so it never speaks TLS, and loading the platform's roots would cost tens of
/// milliseconds per source.
pub(crate) fn own_client(config: &HttpServer, connect_timeout: Duration) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    if config.url.starts_with("http:") {
        builder = builder.tls_certs_only(Vec::new());
    }
    builder
        .connect_timeout(connect_timeout.min(HTTP_CONNECT_TIMEOUT))
        .read_timeout(config.sse_read_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let same_origin = attempt.previous().first().is_some_and(|first| {
                first.scheme() == attempt.url().scheme()
                    && first.host_str() == attempt.url().host_str()
                    && first.port_or_known_default() == attempt.url().port_or_known_default()
            });
            if same_origin && attempt.previous().len() < 5 { attempt.follow() } else { attempt.stop() }
        }))
        .build()
}

/// A `reqwest::Client` that records the session id, reports a lost session, and may skip the
/// session DELETE.
#[derive(Clone)]
pub(crate) struct SessionClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) session_id: Arc<Mutex<Option<String>>>,
    pub(crate) terminate_on_close: bool,
    pub(crate) server: Arc<str>,
    pub(crate) events: broadcast::Sender<McpEvent>,
    pub(crate) tools_changed: Arc<Notify>,
    pub(crate) drainer: Drainer,
    /// rmcp's transport token: cancelled when the transport is dropped or closed.
    pub(crate) transport_token: CancellationToken,
}

/// Where the rest of a dropped response body is read: the connection's tracker, until its token
/// is cancelled.
#[derive(Clone)]
pub(crate) struct Drainer {
    pub(crate) tracker: TaskTracker,
    pub(crate) token: CancellationToken,
}

/// A POST's SSE response stream that, when dropped before its end, reads the rest of the body
/// (at most [`DRAIN_LIMIT`]) so that the HTTP connection goes back to the pool, and that answers its
/// request with a "too large" error when an event was over the size limit.
struct DrainOnDrop {
    /// `None` once the stream ended.
    inner: Option<SseStream>,
    drainer: Drainer,
    /// The POST's request id and the SSE event size limit.
    too_large: Option<(RequestId, usize)>,
}

impl Stream for DrainOnDrop {
    type Item = Result<Sse, SseError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(inner) = self.inner.as_mut() else { return Poll::Ready(None) };
        let next = inner.poll_next_unpin(cx);
        match &next {
            Poll::Ready(None) => self.inner = None,
            Poll::Ready(Some(Err(error))) if is_event_too_large(error) => {
                if let Some((id, limit)) = self.too_large.take() {
                    // The rest of the body is not read: the connection is closed.
                    self.inner = None;
                    let data = serde_json::to_string(&too_large_answer(id, limit)).ok();
                    return Poll::Ready(Some(Ok(Sse { event: None, data, id: None, retry: None })));
                }
            }
            _ => {}
        }
        next
    }
}

/// Whether an SSE stream error is rmcp's "event over the size limit" (its error type is
/// private: its text is matched; the oversized-reply tests notice a change).
fn is_event_too_large(error: &SseError) -> bool {
    matches!(error, SseError::Body(inner) if inner.to_string().starts_with("SSE event exceeded the maximum size"))
}

/// The JSON-RPC error that answers request `id` when the server's answer was over `limit`.
fn too_large_answer(id: RequestId, limit: usize) -> ServerJsonRpcMessage {
    let message = format!("the answer is larger than the transport's limit of {}", human_size(limit));
    let data = serde_json::json!({ TOO_LARGE_MARKER: limit });
    ServerJsonRpcMessage::error(ErrorData::new(ErrorCode::INTERNAL_ERROR, message, Some(data)), Some(id))
}

/// The id of a request (`None` for notifications, responses and errors).
fn request_id(message: &ClientJsonRpcMessage) -> Option<RequestId> {
    match message {
        ClientJsonRpcMessage::Request(request) => Some(request.id.clone()),
        _ => None,
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(mut rest) = self.inner.take() else { return };
        if self.drainer.token.is_cancelled() {
            return;
        }
        // Outside a runtime (the process is shutting down) the connection is simply closed.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        // The body's last chunk has usually arrived with the response event: read what is
        // already there without a task (a spawn and a timer per call), and only hand what is
        // still to come to the drain task.
        let mut context = Context::from_waker(std::task::Waker::noop());
        for _ in 0..READY_DRAIN_ITEMS {
            match rest.poll_next_unpin(&mut context) {
                Poll::Ready(None) => return,
                Poll::Ready(Some(_)) => {}
                Poll::Pending => break,
            }
        }
        let token = self.drainer.token.clone();
        let drain = async move {
            let read_to_end = async { while rest.next().await.is_some() {} };
            tokio::select! {
                _ = token.cancelled() => {}
                _ = tokio::time::timeout(DRAIN_LIMIT, read_to_end) => {}
            }
        };
        self.drainer.tracker.spawn_on(drain, &runtime);
    }
}

impl SessionClient {
    fn record(&self, response: &StreamableHttpPostResponse) {
        let id = match response {
            StreamableHttpPostResponse::Json(_, Some(id)) | StreamableHttpPostResponse::Sse(_, Some(id)) => {
                id
            }
            _ => return,
        };
        let replaced = match self.session_id.lock() {
            Ok(mut slot) if slot.as_deref() != Some(id.as_str()) => slot.replace(id.clone()),
            _ => return,
        };
        if let Some(old) = replaced {
            tracing::info!(server = %self.server, old_session_id = %old, session_id = %id, "MCP HTTP session re-established");
            let _ = self.events.send(McpEvent::Reconnected { server: self.server.to_string() });
            self.tools_changed.notify_one();
        }
    }

    /// Runs a POST unless (or until) the transport is dropped.
    async fn unless_dropped<T>(
        &self,
        post: impl std::future::Future<Output = Result<T, StreamableHttpError<reqwest::Error>>>,
    ) -> Result<T, StreamableHttpError<reqwest::Error>> {
        tokio::select! {
            _ = self.transport_token.cancelled() => Err(StreamableHttpError::TransportChannelClosed),
            response = post => response,
        }
    }

    /// Checks the answer to a POST: records the session id, turns an answer saying that the
    /// session is unknown into [`StreamableHttpError::SessionExpired`], and an answer to request
    /// `request` over `limit` into a JSON-RPC error saying so.
    fn check(
        &self,
        response: Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>>,
        session_id: Option<&str>,
        request: Option<RequestId>,
        limit: usize,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>> {
        let response = match (response, request.clone()) {
            (Err(StreamableHttpError::ResponseBodyTooLarge { max_size }), Some(id)) => {
                tracing::warn!(server = %self.server, limit = max_size, "MCP HTTP answer over the size limit; the call fails");
                return Ok(StreamableHttpPostResponse::Json(too_large_answer(id, max_size), None));
            }
            (response, _) => response,
        };
        let expired = match (&response, session_id) {
            (Err(StreamableHttpError::SessionExpired), Some(_)) => Some("HTTP 404"),
            (Ok(StreamableHttpPostResponse::Json(ServerJsonRpcMessage::Error(error), _)), Some(_))
                if says_session_unknown(&error.error.message) =>
            {
                Some("the server does not know the session id")
            }
            _ => None,
        };
        if let Some(why) = expired {
            tracing::warn!(server = %self.server, session_id = session_id.unwrap_or_default(), "MCP HTTP session lost ({why}); re-initializing once");
            return Err(StreamableHttpError::SessionExpired);
        }
        let response = response?;
        self.record(&response);
        Ok(match response {
            StreamableHttpPostResponse::Sse(stream, id) => StreamableHttpPostResponse::Sse(
                Box::pin(DrainOnDrop {
                    inner: Some(stream),
                    drainer: self.drainer.clone(),
                    too_large: request.map(|request| (request, limit)),
                }),
                id,
            ),
            other => other,
        })
    }
}

/// Whether a JSON-RPC error message clearly says that the session id is unknown, e.g.
/// server-everything's "Bad Request: No valid session ID provided" (sent with HTTP 400).
fn says_session_unknown(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("session")
        && ["no valid session", "session not found", "unknown session", "invalid session", "session expired"]
            .iter()
            .any(|phrase| message.contains(phrase))
}

impl StreamableHttpClient for SessionClient {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        self.post_message_with_max_sse_event_size(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            DEFAULT_MESSAGE_LIMIT,
        )
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        let attached = session_id.clone();
        let request = request_id(&message);
        let tool_call = tool_answer::tool_call_id(&message);
        let post = self.inner.post_message_with_max_sse_event_size(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            max_sse_event_size,
        );
        let response = self.unless_dropped(post).await.map_err(redacted);
        let response = self.check(response, attached.as_deref(), request, max_sse_event_size)?;
        match (response, tool_call) {
            (StreamableHttpPostResponse::Sse(stream, session), Some(id)) => {
                let answer = tool_answer::answer_or_stream(stream, session, &id);
                self.unless_dropped(async { Ok(answer.await) }).await
            }
            (response, _) => Ok(response),
        }
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<Self::Error>> {
        if !self.terminate_on_close {
            tracing::debug!(session_id = %session_id, "terminate-on-close is off: session left open");
            return Ok(());
        }
        self.inner.delete_session(uri, session_id, auth_header, custom_headers).await.map_err(redacted)
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        self.inner
            .get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
            .await
            .map_err(redacted)
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        self.inner
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await
            .map_err(redacted)
    }
}

/// The error, with the secrets of the URL inside a reqwest error hidden (rmcp logs these errors,
/// and they end up in [`crate::McpError`]'s chain).
fn redacted(error: StreamableHttpError<reqwest::Error>) -> StreamableHttpError<reqwest::Error> {
    match error {
        StreamableHttpError::Client(error) => StreamableHttpError::Client(redact_reqwest(error)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::says_session_unknown;

    #[test]
    fn only_answers_about_an_unknown_session_count_as_a_lost_session() {
        assert!(says_session_unknown("Bad Request: No valid session ID provided"));
        assert!(says_session_unknown("Session not found"));
        assert!(says_session_unknown("unknown session id"));
        assert!(!says_session_unknown("Bad Request: invalid params"));
        assert!(!says_session_unknown("Tool not found"));
        assert!(!says_session_unknown("session is busy"));
    }
}
