//! Sending one request: per-attempt deadlines, error mapping and retries.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::Either;
use futures::{Stream, StreamExt};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use tokio::time::Instant;
use weft_core::redact::redact_url;
use weft_core::{ChatError, ChatErrorKind};

use crate::credential::{TokenCache, TokenCredential};
use crate::deadline::{Deadline, TimerPool};
use crate::error::{snippet, status_error, timeout_error, transport_error};
use crate::framing::{Framing, StreamLimits, frames};
use crate::retry::RetryPolicy;
use crate::transport::{Exchange, Transport, send_over_network};

/// The default limit of one HTTP attempt, the whole answer (streamed or not).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// The default wait for a streamed answer's headers.
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(60);
/// The default limit on opening a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default longest silence of a stream: between two events, and from the headers to the
/// first.
pub const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The default size limit of one line and of one event's data.
pub const DEFAULT_MAX_EVENT_BYTES: usize = crate::sse::DEFAULT_MAX_EVENT_BYTES;

/// A provider's deadlines, limits and retry policy, as its builder set them.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// The builder whose methods set these (`OpenAIBuilder`), named in messages so that a user
    /// knows what raises a limit.
    pub settings: &'static str,
    /// The limit of one attempt, the whole answer.
    pub timeout: Duration,
    /// The wait for a streamed answer's headers.
    pub first_byte_timeout: Duration,
    /// The longest silence of a stream.
    pub stream_idle_timeout: Duration,
    /// The largest line or event of a stream, and the largest answer that is not streamed.
    pub max_event_bytes: usize,
    /// How failed attempts are retried.
    pub retry: RetryPolicy,
    /// What is masked in every error (API keys, the base URL's credentials).
    pub secrets: Vec<String>,
    /// What sends each attempt instead of the HTTP client itself: a cassette
    /// [`Recorder`](crate::cassette::Recorder) or [`Replayer`](crate::cassette::Replayer).
    pub transport: Option<Arc<dyn Transport>>,
}

impl DriverConfig {
    /// Every limit at its default, messages naming `settings`.
    pub fn new(settings: &'static str) -> Self {
        Self {
            settings,
            timeout: DEFAULT_TIMEOUT,
            first_byte_timeout: DEFAULT_FIRST_BYTE_TIMEOUT,
            stream_idle_timeout: DEFAULT_STREAM_IDLE_TIMEOUT,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            retry: RetryPolicy::default(),
            secrets: Vec::new(),
            transport: None,
        }
    }
}

/// Builds the HTTP client of a provider that was given none: a connect timeout, nothing else
/// (the driver's own deadlines bound the rest). Fails with a
/// [`Configuration`](ChatErrorKind::Configuration) error.
pub fn http_client(connect_timeout: Duration) -> Result<reqwest::Client, ChatError> {
    reqwest::Client::builder().connect_timeout(connect_timeout).build().map_err(|err| {
        ChatError::new(ChatErrorKind::Configuration, format!("could not build the HTTP client: {err}"))
            .with_source(err)
    })
}

/// [`http_client`], speaking HTTP/2 from the first byte (prior knowledge, h2c on `http:`): every
/// request to one host shares a connection. Fails with a
/// [`Configuration`](ChatErrorKind::Configuration) error.
pub fn http2_prior_knowledge_client(connect_timeout: Duration) -> Result<reqwest::Client, ChatError> {
    reqwest::Client::builder().connect_timeout(connect_timeout).http2_prior_knowledge().build().map_err(
        |err| {
            ChatError::new(ChatErrorKind::Configuration, format!("could not build the HTTP client: {err}"))
                .with_source(err)
        },
    )
}

/// The headers of every request of a provider: its own (credentials, versions), then
/// `Content-Type` and `Accept` (JSON, or server-sent events when `stream`). Make them once.
pub fn request_headers(headers: &HeaderMap, stream: bool) -> HeaderMap {
    let mut headers = headers.clone();
    let accept = if stream { "text/event-stream" } else { "application/json" };
    headers.append(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.append(ACCEPT, HeaderValue::from_static(accept));
    headers
}

/// A request ready to send: how errors name the endpoint, where it goes (and how messages show
/// that URL, credentials masked), its headers and its body.
#[derive(Debug)]
pub struct Request<'a> {
    /// Names the endpoint on errors: `anthropic messages https://api.anthropic.com`.
    pub label: &'a str,
    /// Where it goes.
    pub url: Url,
    /// `url` with its credentials masked.
    pub shown_url: Cow<'a, str>,
    /// Every header.
    pub headers: &'a HeaderMap,
    /// The body (JSON).
    pub body: Bytes,
}

/// The frames of a streamed answer.
pub type FrameStream<T> = Pin<Box<dyn Stream<Item = Result<T, ChatError>> + Send>>;

/// What a streaming request got back.
pub enum Opened<T> {
    /// The server ignored the request to stream and answered in one piece.
    Whole(Bytes),
    /// The frames of the stream.
    Frames(FrameStream<T>),
}

/// A successful answer's head, the deadline of the attempt that got it, and when the whole
/// attempt must be over.
struct Sent {
    response: reqwest::Response,
    deadline: Deadline,
    total_at: Instant,
}

/// What a successful answer's `Content-Type` says it is.
#[derive(Debug, PartialEq, Eq)]
enum Body<'a> {
    /// `application/json`: a whole answer.
    Json,
    /// The streaming content type, or no content type at all.
    Stream,
    /// Anything else, e.g. an HTML page from a proxy.
    Other(&'a str),
}

/// Signs each attempt of a request just before it is sent: AWS SigV4, whose signature covers
/// the time, so that a retry is signed anew. Implementations keep their credentials out of
/// `Debug`.
pub trait RequestSigner: Send + Sync + std::fmt::Debug + 'static {
    /// Adds the signature's headers to `request`, whose body is `body`. An error (credentials
    /// that cannot sign) ends the call without sending.
    fn sign(&self, request: &mut reqwest::Request, body: &[u8]) -> Result<(), ChatError>;
}

/// One provider's HTTP driver: its client, deadlines, limits and retries. Cheap to clone.
///
/// Deadlines: every attempt ends within [`DriverConfig::timeout`]; a streamed one gets its
/// headers within [`DriverConfig::first_byte_timeout`] and then a frame at least every
/// [`DriverConfig::stream_idle_timeout`]. Retries follow [`ChatError::is_retryable`] and
/// [`RetryPolicy`]. Every error comes back with the secrets masked.
#[derive(Debug, Clone)]
pub struct Driver {
    http: reqwest::Client,
    config: Arc<DriverConfig>,
    timers: Arc<TimerPool>,
    signer: Option<Arc<dyn RequestSigner>>,
    bearer: Option<Arc<Bearer>>,
}

/// Where a driver gets the bearer token of every attempt: a cached credential and the scopes
/// to ask it for.
#[derive(Debug)]
struct Bearer {
    credential: TokenCache,
    scopes: Vec<String>,
}

impl Driver {
    /// A driver sending with `http`.
    pub fn new(http: reqwest::Client, config: DriverConfig) -> Self {
        Self { http, config: Arc::new(config), timers: Arc::default(), signer: None, bearer: None }
    }

    /// This driver, signing every attempt with `signer` (after the trace-context headers are
    /// added, so they are signed too).
    pub fn with_signer(mut self, signer: Arc<dyn RequestSigner>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Sends `Authorization: Bearer <token>` on every attempt, the token from `credential` for
    /// `scopes` (a Microsoft Entra ID token for `https://cognitiveservices.azure.com/.default`,
    /// say). Tokens are cached ([`TokenCache`]) and renewed before they expire; the header is
    /// marked sensitive and the token never shows in errors or logs. A credential that fails
    /// makes the request fail with an [`Authentication`](ChatErrorKind::Authentication) error
    /// naming the credential and why; it is not retried.
    pub fn with_bearer_credential(
        mut self,
        credential: Arc<dyn TokenCredential>,
        scopes: Vec<String>,
    ) -> Self {
        self.bearer = Some(Arc::new(Bearer { credential: TokenCache::new(credential), scopes }));
        self
    }

    /// The `Authorization: Bearer …` header of the next request, when the driver has a
    /// credential ([`with_bearer_credential`](Self::with_bearer_credential)); for requests a
    /// provider sends itself (a model list).
    pub async fn bearer_header(&self, label: &str) -> Result<Option<HeaderValue>, ChatError> {
        let Some(bearer) = &self.bearer else { return Ok(None) };
        let scopes: Vec<&str> = bearer.scopes.iter().map(String::as_str).collect();
        let token = bearer.credential.get_token(&scopes).await.map_err(|err| {
            ChatError::new(ChatErrorKind::Authentication, format!("could not get an access token: {err}"))
                .with_source(err)
                .with_provider(label)
        })?;
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.token.expose())).map_err(|_| {
            ChatError::new(
                ChatErrorKind::Authentication,
                "the access token contains characters not allowed in an HTTP header",
            )
            .with_provider(label)
        })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }

    /// Its limits.
    pub fn config(&self) -> &DriverConfig {
        &self.config
    }

    /// Its HTTP client.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `err` with the secrets masked (a provider's error body may echo them).
    pub fn redact(&self, err: ChatError) -> ChatError {
        self.config.secrets.iter().fold(err, |err, secret| err.redact(secret))
    }

    /// Sends a non-streaming request and reads its whole answer. A retryable failure while
    /// reading the body is retried too: nothing of the answer reached the caller yet.
    pub async fn fetch(&self, request: &Request<'_>) -> Result<Bytes, ChatError> {
        self.with_retries(request.label, || async {
            let sent = self.attempt(request, false).await?;
            self.read_body(request, sent).await
        })
        .await
    }

    /// Sends a streaming request: its frames (`content_type` is the stream's, e.g.
    /// `text/event-stream`; an answer without a content type counts as one), or the whole
    /// answer of a server that ignored the request to stream. A successful answer that is
    /// neither (e.g. an HTML page from a proxy) is a [`Decode`](ChatErrorKind::Decode) error
    /// quoting its start.
    pub async fn open_stream<F: Framing>(
        &self,
        request: &Request<'_>,
        content_type: &str,
    ) -> Result<Opened<F::Frame>, ChatError> {
        let mut sent = self.with_retries(request.label, || self.attempt(request, true)).await?;
        // Past the headers, the body has the whole attempt's time (and, streamed, the idle one).
        match body_kind(&sent.response, content_type) {
            Body::Json => {
                sent.deadline.reset(sent.total_at);
                let body = self.read_body(request, sent).await.map_err(|err| self.redact(err))?;
                Ok(Opened::Whole(body))
            }
            Body::Stream => {
                let limits = StreamLimits {
                    idle: self.config.stream_idle_timeout,
                    total_at: sent.total_at,
                    total: self.config.timeout,
                    max_frame_bytes: self.config.max_event_bytes,
                    settings: self.config.settings,
                };
                let label = request.label.to_string();
                let url = request.shown_url.to_string();
                Ok(Opened::Frames(Box::pin(frames::<F>(sent.response, sent.deadline, limits, label, url))))
            }
            Body::Other(other) => {
                let other = other.to_string();
                Err(self.redact(
                    not_a_stream(request, sent, self.config.stream_idle_timeout, &other, content_type).await,
                ))
            }
        }
    }

    /// Runs `attempt` until it succeeds, fails with an error that is not
    /// [retryable](ChatError::is_retryable), or the retries are spent, waiting between attempts
    /// as the policy says. Errors come back with credentials masked.
    async fn with_retries<T, F, Fut>(&self, label: &str, mut attempt: F) -> Result<T, ChatError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ChatError>>,
    {
        let policy = &self.config.retry;
        let mut retry = 0;
        loop {
            match attempt().await.map_err(|err| self.redact(err)) {
                Ok(value) => return Ok(value),
                Err(err) if retry < policy.max_retries && RetryPolicy::should_retry(&err) => {
                    let wait = policy.delay(retry, err.retry_after());
                    retry += 1;
                    // Its own target, so that a front end can show retries its own way.
                    tracing::warn!(
                        target: "weft_provider::retry",
                        provider = label,
                        kind = %err.kind(),
                        status = err.status(),
                        retry,
                        max_retries = policy.max_retries,
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
    async fn attempt(&self, request: &Request<'_>, stream: bool) -> Result<Sent, ChatError> {
        let Request { label, url, shown_url, headers, body } = request;
        let authorization = self.bearer_header(label).await?;
        let config = &self.config;
        let started = Instant::now();
        let total_at = started + config.timeout;
        let first_byte_at = if stream { total_at.min(started + config.first_byte_timeout) } else { total_at };
        let mut deadline = self.timers.deadline(first_byte_at);
        let mut http_request = reqwest::Request::new(Method::POST, url.clone());
        *http_request.headers_mut() = (*headers).clone();
        if let Some(authorization) = authorization {
            http_request.headers_mut().insert(reqwest::header::AUTHORIZATION, authorization);
        }
        trace_context_headers(http_request.headers_mut());
        *http_request.body_mut() = Some(body.clone().into());
        if let Some(signer) = &self.signer {
            signer.sign(&mut http_request, body)?;
        }
        tracing::debug!(provider = label, url = shown_url.as_ref(), stream, "sending request");
        let exchange = Exchange { label, shown_url, secrets: &config.secrets };
        // Made now, not in an `async` block: the request moves into the sending future at once
        // instead of being held beside it for the whole attempt.
        let send = match &config.transport {
            Some(transport) => Either::Left(transport.send(&self.http, http_request, exchange)),
            None => Either::Right(send_over_network(&self.http, http_request, exchange)),
        };
        let response = match deadline.run(send).await {
            Err(_) if first_byte_at < total_at => return Err(self.first_byte_error(label, shown_url)),
            Err(_) => return Err(self.deadline_error(label, shown_url)),
            Ok(Err(err)) => return Err(err),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_success() {
            return Ok(Sent { response, deadline, total_at });
        }
        let headers = response.headers().clone();
        // The error body is best effort: the status alone already says what happened. Its
        // start is enough for the message, however much the server sends.
        deadline.reset(total_at);
        let body = match deadline.run(read_limited(response, MAX_ERROR_BODY_BYTES)).await {
            Ok(Ok(Limited::Whole(body) | Limited::Cut(body))) => body,
            _ => Bytes::new(),
        };
        Err(status_error(label, status, &headers, &body))
    }

    /// The error for an attempt that outlived the request timeout.
    pub fn deadline_error(&self, label: &str, url: &str) -> ChatError {
        timeout_error(
            label,
            format!(
                "no answer from {url} within {:?} (the request timeout; raise it with {}::timeout)",
                self.config.timeout, self.config.settings
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
                 request but sent no headers; raise it with {}::first_byte_timeout)",
                self.config.first_byte_timeout, self.config.settings
            ),
        )
    }

    /// Reads a whole successful body within the attempt's deadline, up to
    /// [`DriverConfig::max_event_bytes`]: a bigger one is a
    /// [`ResponseTooLarge`](ChatErrorKind::ResponseTooLarge) error naming the limit.
    async fn read_body(&self, request: &Request<'_>, sent: Sent) -> Result<Bytes, ChatError> {
        let Sent { response, mut deadline, .. } = sent;
        let url = request.shown_url.as_ref();
        let limit = self.config.max_event_bytes;
        match deadline.run(read_limited(response, limit)).await {
            Err(_) => Err(self.deadline_error(request.label, url)),
            Ok(Err(err)) => Err(transport_error(request.label, url, err)),
            Ok(Ok(Limited::Whole(body))) => Ok(body),
            Ok(Ok(Limited::Cut(_))) => Err(ChatError::new(
                ChatErrorKind::ResponseTooLarge,
                format!(
                    "the answer from {url} is over the limit of {limit} bytes (raise it with {}::max_event_bytes)",
                    self.config.settings
                ),
            )
            .with_provider(request.label)),
        }
    }
}

/// The most of an error body read: plenty for the provider's message.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A body read up to a limit.
enum Limited {
    /// All of it, within the limit.
    Whole(Bytes),
    /// It went past the limit: its first `limit` bytes.
    Cut(Bytes),
}

/// Reads `response`'s body chunk by chunk, stopping once it passes `limit` bytes (a length the
/// server announces is not trusted: the bytes are counted).
async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Limited, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            body.extend_from_slice(chunk.get(..limit.saturating_sub(body.len())).unwrap_or_default());
            return Ok(Limited::Cut(body.into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Limited::Whole(body.into()))
}

/// The error for a successful answer that is not a stream, quoting the start of its body (what
/// arrives within a second: the error is certain, the quote best effort).
async fn not_a_stream(
    request: &Request<'_>,
    sent: Sent,
    idle: Duration,
    content_type: &str,
    expected: &str,
) -> ChatError {
    /// Enough of the body for the quote.
    const QUOTED_BYTES: usize = 1024;
    /// The longest wait for it.
    const QUOTE_WAIT: Duration = Duration::from_secs(1);
    let Sent { response, mut deadline, total_at } = sent;
    let status = response.status().as_u16();
    deadline.reset((Instant::now() + QUOTE_WAIT.min(idle)).min(total_at));
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
    let what = if expected == "text/event-stream" { "an event stream" } else { "a stream" };
    ChatError::new(
        ChatErrorKind::Decode,
        format!("{} answered with {content_type}, not {what} ({expected}): {quoted}", request.shown_url),
    )
    .with_status(status)
    .with_provider(request.label)
}

/// What a successful answer's `Content-Type` says its body is.
fn body_kind<'a>(response: &'a reqwest::Response, stream_type: &str) -> Body<'a> {
    let Some(value) = response.headers().get(CONTENT_TYPE) else { return Body::Stream };
    let Ok(text) = value.to_str() else { return Body::Other("an unreadable content type") };
    let essence = text.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Body::Json
    } else if essence.eq_ignore_ascii_case(stream_type) {
        Body::Stream
    } else {
        Body::Other(text)
    }
}

/// Parses a request URL; an invalid one is a configuration error (showing the URL with its
/// credentials masked).
pub fn parse_url(url: &str, label: &str) -> Result<Url, ChatError> {
    Url::parse(url).map_err(|err| {
        let shown = redact_url(url);
        ChatError::new(ChatErrorKind::Configuration, format!("the request URL {shown:?} is not valid: {err}"))
            .with_provider(label)
            .with_source(err)
    })
}

/// Adds the W3C trace context of the current span (the model call's `chat` span): `traceparent`
/// and `tracestate`, so the provider's own traces join the caller's. Nothing without export.
fn trace_context_headers(headers: &mut reqwest::header::HeaderMap) {
    use weft_core::telemetry::propagation::{TRACEPARENT, TRACESTATE};
    for (name, value) in weft_core::telemetry::propagation::current_trace_fields() {
        // The two names the W3C propagator writes need no parsing (nor an allocation).
        let name = match name.as_str() {
            TRACEPARENT => Ok(reqwest::header::HeaderName::from_static(TRACEPARENT)),
            TRACESTATE => Ok(reqwest::header::HeaderName::from_static(TRACESTATE)),
            other => reqwest::header::HeaderName::from_bytes(other.as_bytes()),
        };
        if let (Ok(name), Ok(value)) = (name, reqwest::header::HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
}
