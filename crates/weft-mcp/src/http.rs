//! The HTTP side: the `reqwest::Client` a source owns (or borrows), wrapped so that the source
//! sees the session id and decides whether closing sends the session DELETE.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};
use sse_stream::Sse;

use crate::config::HttpServer;

/// How long to wait for a TCP (and TLS) connection.
pub(crate) const HTTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// A `reqwest::Client` that records the session id and may skip the session DELETE.
#[derive(Clone)]
pub(crate) struct SessionClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) session_id: Arc<Mutex<Option<String>>>,
    pub(crate) terminate_on_close: bool,
}

impl SessionClient {
    fn record(&self, response: &StreamableHttpPostResponse) {
        let id = match response {
            StreamableHttpPostResponse::Json(_, Some(id)) | StreamableHttpPostResponse::Sse(_, Some(id)) => {
                id
            }
            _ => return,
        };
        if let Ok(mut slot) = self.session_id.lock() {
            if slot.as_deref() != Some(id.as_str()) {
                *slot = Some(id.clone());
            }
        }
    }
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
        let response = self.inner.post_message(uri, message, session_id, auth_header, custom_headers).await?;
        self.record(&response);
        Ok(response)
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
        let response = self
            .inner
            .post_message_with_max_sse_event_size(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await?;
        self.record(&response);
        Ok(response)
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
        self.inner.delete_session(uri, session_id, auth_header, custom_headers).await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        self.inner.get_stream(uri, session_id, last_event_id, auth_header, custom_headers).await
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
    }
}
