//! Sending one request: headers, per-attempt deadlines, error mapping and retries.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use tokio::time::Instant;

use futures::Stream;
use weft_core::redact::redact_url;
use weft_core::{ChatError, ChatErrorKind, ChatOptions, ChatRequest, Message};

use crate::config::{Azure, Inner};
use crate::deadline::Deadline;
use crate::error::{encode_error, snippet, status_error, timeout_error, transport_error};
use crate::retry::RetryPolicy;
use crate::sse::StreamLimits;

/// Which OpenAI API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// `POST /chat/completions`.
    Chat,
    /// `POST /responses`.
    Responses,
}

/// Encodes an API's request body from the messages, the options, the model and whether to
/// stream.
pub(crate) type BodyEncoder = fn(&[Message], &ChatOptions, &str, bool) -> Result<Vec<u8>, serde_json::Error>;

/// A request ready to send: how errors name the endpoint, where it goes (and how messages show
/// that URL, credentials masked), and its body.
pub(crate) struct Prepared<'a> {
    pub(crate) label: &'a str,
    pub(crate) url: Url,
    pub(crate) shown_url: Cow<'a, str>,
    pub(crate) body: Bytes,
}

/// The events of a streamed answer.
pub(crate) type EventStream = Pin<Box<dyn Stream<Item = Result<crate::sse::Event, ChatError>> + Send>>;

/// What a streaming request got back.
pub(crate) enum Opened {
    /// The server ignored `stream: true` and answered in one piece.
    Whole(Bytes),
    /// Server-sent events.
    Events(EventStream),
}

/// A successful answer's head, the deadline of the attempt that got it, and when the whole
/// attempt must be over.
pub(crate) struct Sent {
    pub(crate) response: reqwest::Response,
    pub(crate) deadline: Deadline,
    pub(crate) total_at: Instant,
}

/// What a successful answer's `Content-Type` says it is.
#[derive(Debug, PartialEq, Eq)]
enum Body<'a> {
    /// `application/json`: a whole answer.
    Json,
    /// `text/event-stream`, or no content type at all: server-sent events.
    Events,
    /// Anything else, e.g. an HTML page from a proxy.
    Other(&'a str),
}

/// What stays the same between requests to one API, made once when the client is built: how
/// errors name it and its URL, parsed and as shown (unless the URL names the model, as Azure's
/// Chat Completions URL does).
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) label: String,
    pub(crate) url: Option<(Url, String)>,
}

impl Endpoint {
    /// The endpoint of `api` at `base_url` (the Azure resource endpoint when `azure` is set),
    /// named with `shown_base_url` (its credentials masked). Fails with a
    /// [`Configuration`](ChatErrorKind::Configuration) error when the URL is not valid.
    pub(crate) fn new(
        azure: Option<&Azure>,
        base_url: &str,
        shown_base_url: &str,
        api: Api,
    ) -> Result<Self, ChatError> {
        let provider = if azure.is_some() { "azure.ai.openai" } else { "openai" };
        let name = match api {
            Api::Chat => "chat",
            Api::Responses => "responses",
        };
        let label = format!("{provider} {name} {shown_base_url}");
        let url = match (azure, api) {
            (Some(_), Api::Chat) => None,
            _ => {
                let url = url_for(azure, base_url, api, "");
                Some((parse_url(&url, &label)?, redact_url(&url)))
            }
        };
        Ok(Self { label, url })
    }
}

/// The URL a request to `api` goes to; `model` names the Azure deployment. The API's path
/// goes before the base URL's query string, which every request keeps.
fn url_for(azure: Option<&Azure>, base_url: &str, api: Api, model: &str) -> String {
    let (base, query) = match base_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (base_url, None),
    };
    let mut url = match (azure, api) {
        (None, Api::Chat) => format!("{base}/chat/completions"),
        (None, Api::Responses) => format!("{base}/responses"),
        (Some(azure), Api::Chat) => {
            let mut url = format!("{base}/openai/deployments/");
            url.push_str(&url_encode(model));
            url.push_str("/chat/completions?api-version=");
            url.push_str(&url_encode(&azure.api_version));
            url
        }
        (Some(_), Api::Responses) => format!("{base}/openai/v1/responses"),
    };
    if let Some(query) = query.filter(|query| !query.is_empty()) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(query);
    }
    url
}

/// Parses a request URL; an invalid one is a configuration error (showing the URL with its
/// credentials masked).
fn parse_url(url: &str, label: &str) -> Result<Url, ChatError> {
    Url::parse(url).map_err(|err| {
        let shown = redact_url(url);
        ChatError::new(ChatErrorKind::Configuration, format!("the request URL {shown:?} is not valid: {err}"))
            .with_provider(label)
            .with_source(err)
    })
}

/// The headers of every request: the configured ones, then `Content-Type` and `Accept` (JSON,
/// or server-sent events when `stream`), made once when the client is built.
pub(crate) fn request_headers(headers: &HeaderMap, stream: bool) -> HeaderMap {
    let mut headers = headers.clone();
    let accept = if stream { "text/event-stream" } else { "application/json" };
    headers.append(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.append(ACCEPT, HeaderValue::from_static(accept));
    headers
}

impl Inner {
    fn endpoint(&self, api: Api) -> &Endpoint {
        match api {
            Api::Chat => &self.chat,
            Api::Responses => &self.responses,
        }
    }

    /// Names the endpoint on errors: `openai chat http://127.0.0.1:8089/v1`.
    pub(crate) fn label(&self, api: Api) -> &str {
        &self.endpoint(api).label
    }

    /// The URL a request goes to; `model` names the Azure deployment.
    pub(crate) fn url(&self, api: Api, model: &str) -> String {
        url_for(self.azure.as_ref(), &self.request_base_url, api, model)
    }

    /// The URL a request for `model` goes to, parsed, and as messages show it.
    fn request_url(&self, api: Api, model: &str) -> Result<(Url, Cow<'_, str>), ChatError> {
        if let Some((url, shown)) = &self.endpoint(api).url {
            return Ok((url.clone(), Cow::Borrowed(shown)));
        }
        let url = self.url(api, model);
        let shown = redact_url(&url);
        Ok((parse_url(&url, self.label(api))?, Cow::Owned(shown)))
    }

    /// Resolves the model, the URL and the body of `request` for `api`.
    pub(crate) fn prepare(
        &self,
        api: Api,
        request: &ChatRequest,
        stream: bool,
        encode: BodyEncoder,
    ) -> Result<Prepared<'_>, ChatError> {
        let label = self.label(api);
        let model = self.resolve_model(request.options.model.as_deref(), label)?;
        let (url, shown_url) = self.request_url(api, model)?;
        let body = encode(&request.messages, &self.wire_options(&request.options), model, stream)
            .map_err(|err| encode_error(label, err))?;
        Ok(Prepared { label, url, shown_url, body: Bytes::from(body) })
    }

    /// Sends a non-streaming request and reads its whole answer. A retryable failure while
    /// reading the body is retried too: nothing of the answer reached the caller yet.
    pub(crate) async fn fetch(&self, prepared: &Prepared<'_>) -> Result<Bytes, ChatError> {
        self.with_retries(prepared.label, || async {
            let sent = self.attempt(prepared, false).await?;
            self.read_body(prepared, sent).await
        })
        .await
    }

    /// Sends a streaming request: its events, or the whole answer of a server that ignored
    /// `stream: true`. A successful answer that is neither (e.g. an HTML page from a proxy) is
    /// a [`Decode`](ChatErrorKind::Decode) error quoting its start.
    pub(crate) async fn open_stream(&self, prepared: &Prepared<'_>) -> Result<Opened, ChatError> {
        let mut sent = self.with_retries(prepared.label, || self.attempt(prepared, true)).await?;
        // Past the headers, the body has the whole attempt's time (and, streamed, the idle one).
        match body_kind(&sent.response) {
            Body::Json => {
                sent.deadline.reset(sent.total_at);
                let body = self.read_body(prepared, sent).await.map_err(|err| self.redact(err))?;
                Ok(Opened::Whole(body))
            }
            Body::Events => Ok(Opened::Events(Box::pin(crate::sse::events(
                sent.response,
                sent.deadline,
                StreamLimits {
                    idle: self.stream_idle_timeout,
                    total_at: sent.total_at,
                    total: self.timeout,
                    max_event_bytes: self.max_event_bytes,
                },
                prepared.label.to_string(),
                prepared.shown_url.to_string(),
            )))),
            Body::Other(content_type) => {
                let content_type = content_type.to_string();
                Err(self.redact(self.not_an_event_stream(prepared, sent, &content_type).await))
            }
        }
    }

    /// The error for a successful answer that is not an event stream, quoting the start of its
    /// body (what arrives within a second: the error is certain, the quote best effort).
    async fn not_an_event_stream(
        &self,
        prepared: &Prepared<'_>,
        sent: Sent,
        content_type: &str,
    ) -> ChatError {
        /// Enough of the body for the quote.
        const QUOTED_BYTES: usize = 1024;
        /// The longest wait for it.
        const QUOTE_WAIT: Duration = Duration::from_secs(1);
        let Sent { response, mut deadline, total_at } = sent;
        let status = response.status().as_u16();
        deadline.reset((Instant::now() + QUOTE_WAIT.min(self.stream_idle_timeout)).min(total_at));
        let mut body = response.bytes_stream();
        let mut start = Vec::new();
        while start.len() < QUOTED_BYTES {
            match deadline.run(body.next()).await {
                Ok(Some(Ok(bytes))) => start.extend_from_slice(&bytes),
                _ => break,
            }
        }
        let quoted = snippet(&start);
        let quoted = if quoted.is_empty() { "(empty body)".to_string() } else { quoted };
        ChatError::new(
            ChatErrorKind::Decode,
            format!(
                "{} answered with {content_type}, not an event stream (text/event-stream): {quoted}",
                prepared.shown_url
            ),
        )
        .with_status(status)
        .with_provider(prepared.label)
    }

    /// Runs `attempt` until it succeeds, fails with an error that is not
    /// [retryable](ChatError::is_retryable), or the retries are spent, waiting between attempts
    /// as the policy says. Errors come back with credentials masked.
    async fn with_retries<T, F, Fut>(&self, label: &str, mut attempt: F) -> Result<T, ChatError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ChatError>>,
    {
        let mut retry = 0;
        loop {
            match attempt().await.map_err(|err| self.redact(err)) {
                Ok(value) => return Ok(value),
                Err(err) if retry < self.retry.max_retries && RetryPolicy::should_retry(&err) => {
                    let wait = self.retry.delay(retry, err.retry_after());
                    retry += 1;
                    // Its own target, so that a front end can show retries its own way.
                    tracing::warn!(
                        target: "weft_openai::retry",
                        provider = label,
                        kind = %err.kind(),
                        status = err.status(),
                        retry,
                        max_retries = self.retry.max_retries,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        error = %err,
                        "request failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// One attempt, up to a successful answer's headers. Non-success statuses become errors
    /// carrying the provider's message. A streamed request must get its headers within the
    /// first-byte timeout; every attempt must end within the request timeout.
    async fn attempt(&self, prepared: &Prepared<'_>, stream: bool) -> Result<Sent, ChatError> {
        let Prepared { label, url, shown_url, body } = prepared;
        let started = Instant::now();
        let total_at = started + self.timeout;
        let first_byte_at = if stream { total_at.min(started + self.first_byte_timeout) } else { total_at };
        let mut deadline = self.timers.deadline(first_byte_at);
        let mut request = reqwest::Request::new(Method::POST, url.clone());
        *request.headers_mut() = if stream { self.stream_headers.clone() } else { self.json_headers.clone() };
        trace_context_headers(request.headers_mut());
        *request.body_mut() = Some(body.clone().into());
        tracing::debug!(provider = label, url = shown_url.as_ref(), stream, "sending request");
        let response = match deadline.run(self.http.execute(request)).await {
            Err(_) if first_byte_at < total_at => return Err(self.first_byte_error(label, shown_url)),
            Err(_) => return Err(self.deadline_error(label, shown_url)),
            Ok(Err(err)) => return Err(transport_error(label, shown_url, err)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_success() {
            return Ok(Sent { response, deadline, total_at });
        }
        let headers = response.headers().clone();
        // The error body is best effort: the status alone already says what happened.
        deadline.reset(total_at);
        let body = match deadline.run(response.bytes()).await {
            Ok(Ok(body)) => body,
            _ => Bytes::new(),
        };
        Err(status_error(label, status, &headers, &body))
    }

    /// The error for an attempt that outlived the request timeout.
    pub(crate) fn deadline_error(&self, label: &str, url: &str) -> ChatError {
        timeout_error(
            label,
            format!(
                "no answer from {url} within {:?} (the request timeout; raise it with OpenAIBuilder::timeout)",
                self.timeout
            ),
        )
    }

    /// The error for a streamed request whose headers did not come within the first-byte
    /// timeout.
    fn first_byte_error(&self, label: &str, url: &str) -> ChatError {
        timeout_error(
            label,
            format!(
                "no response from {url} within {:?} (the first-byte timeout: the server accepted the \
                 request but sent no headers; raise it with OpenAIBuilder::first_byte_timeout)",
                self.first_byte_timeout
            ),
        )
    }

    /// Reads a whole successful body within the attempt's deadline.
    pub(crate) async fn read_body(&self, prepared: &Prepared<'_>, sent: Sent) -> Result<Bytes, ChatError> {
        let Sent { response, mut deadline, .. } = sent;
        let url = prepared.shown_url.as_ref();
        match deadline.run(response.bytes()).await {
            Err(_) => Err(self.deadline_error(prepared.label, url)),
            Ok(Err(err)) => Err(transport_error(prepared.label, url, err)),
            Ok(Ok(body)) => Ok(body),
        }
    }
}

/// What a successful answer's `Content-Type` says its body is.
/// Adds the W3C trace context of the current span (the model call's `chat` span): `traceparent`
/// and `tracestate`, so the provider's own traces join the caller's. Nothing without export.
fn trace_context_headers(headers: &mut HeaderMap) {
    for (name, value) in weft_core::telemetry::propagation::current_trace_fields() {
        if let (Ok(name), Ok(value)) =
            (reqwest::header::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value))
        {
            headers.insert(name, value);
        }
    }
}

fn body_kind(response: &reqwest::Response) -> Body<'_> {
    let Some(value) = response.headers().get(CONTENT_TYPE) else { return Body::Events };
    let Ok(text) = value.to_str() else { return Body::Other("an unreadable content type") };
    let essence = text.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Body::Json
    } else if essence.eq_ignore_ascii_case("text/event-stream") {
        Body::Events
    } else {
        Body::Other(text)
    }
}

/// Percent-encodes a path segment or query value.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpenAI;

    #[test]
    fn urls_for_openai_and_azure() {
        let openai = OpenAI::builder().base_url("http://h:1/v1/").build().unwrap();
        assert_eq!(openai.inner.url(Api::Chat, "m"), "http://h:1/v1/chat/completions");
        assert_eq!(openai.inner.url(Api::Responses, "m"), "http://h:1/v1/responses");
        assert_eq!(openai.inner.label(Api::Chat), "openai chat http://h:1/v1");
        let azure = OpenAI::builder().azure_endpoint("https://r.openai.azure.com/").build().unwrap();
        assert_eq!(
            azure.inner.url(Api::Chat, "my dep"),
            "https://r.openai.azure.com/openai/deployments/my%20dep/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(azure.inner.url(Api::Responses, "d"), "https://r.openai.azure.com/openai/v1/responses");
        assert_eq!(azure.inner.label(Api::Responses), "azure.ai.openai responses https://r.openai.azure.com");
    }
}
