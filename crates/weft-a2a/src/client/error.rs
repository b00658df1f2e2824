//! Typed errors of the A2A client: what resolving a card or calling a remote agent can fail
//! with. Each names the URL (its secrets hidden) and keeps the transport's error as its source.

use std::error::Error as StdError;

use weft_core::BoxError;
use weft_core::size::human_size;

/// Why a remote agent could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnreachableCause {
    /// Nothing listens at the address (TCP connection refused).
    ConnectionRefused,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed.
    Tls,
    /// Any other failure while connecting.
    Other,
}

impl std::fmt::Display for UnreachableCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnreachableCause::ConnectionRefused => f.write_str("connection refused"),
            UnreachableCause::Dns => f.write_str("host name not resolved"),
            UnreachableCause::Tls => f.write_str("TLS handshake failed"),
            UnreachableCause::Other => f.write_str("could not connect"),
        }
    }
}

/// The category of an [`A2aClientError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum A2aClientErrorKind {
    /// The agent could not be reached.
    Unreachable(UnreachableCause),
    /// The request (or a stream's silence) passed its deadline.
    Timeout,
    /// The server answered with an HTTP error status.
    HttpStatus(u16),
    /// The agent card is not a card this client can use (not JSON, no name, no interface).
    MalformedCard,
    /// The card offers no interface this client speaks (JSON-RPC or HTTP+JSON, protocol 1.0
    /// or 0.3).
    NoSupportedInterface,
    /// The server's answer is not valid A2A (not JSON, an unexpected shape).
    Protocol,
    /// The server answered with a JSON-RPC error (or an HTTP+JSON error body).
    Remote {
        /// The JSON-RPC error code (`-32001`: task not found, …), or the HTTP status.
        code: i64,
    },
    /// An answer, or one streamed event, was larger than the client's limit.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The connection ended before the task did (the server went away mid-task).
    ConnectionLost,
    /// The remote task ended `failed` (or `rejected`, or asking for authentication).
    TaskFailed,
    /// The remote task ended `canceled`.
    TaskCanceled,
}

impl std::fmt::Display for A2aClientErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            A2aClientErrorKind::Unreachable(cause) => write!(f, "unreachable ({cause})"),
            A2aClientErrorKind::Timeout => f.write_str("timed out"),
            A2aClientErrorKind::HttpStatus(status) => write!(f, "HTTP {status}"),
            A2aClientErrorKind::MalformedCard => f.write_str("malformed agent card"),
            A2aClientErrorKind::NoSupportedInterface => f.write_str("no supported interface"),
            A2aClientErrorKind::Protocol => f.write_str("protocol error"),
            A2aClientErrorKind::Remote { code } => write!(f, "error {code}"),
            A2aClientErrorKind::TooLarge { limit } => {
                write!(f, "answer too large (over the {} limit)", human_size(*limit))
            }
            A2aClientErrorKind::ConnectionLost => f.write_str("connection lost"),
            A2aClientErrorKind::TaskFailed => f.write_str("task failed"),
            A2aClientErrorKind::TaskCanceled => f.write_str("task canceled"),
        }
    }
}

/// An error from a remote A2A agent: its kind, the URL called and what happened.
#[derive(Debug, thiserror::Error)]
#[error("A2A agent {url}: {kind}: {message}")]
pub struct A2aClientError {
    kind: A2aClientErrorKind,
    url: String,
    message: String,
    #[source]
    source: Option<BoxError>,
}

impl A2aClientError {
    /// An error of `kind` calling `url` (its secrets are hidden).
    pub fn new(kind: A2aClientErrorKind, url: &str, message: impl Into<String>) -> Self {
        Self { kind, url: weft_core::redact::redact_url(url), message: hide(message.into()), source: None }
    }

    /// The same error with its cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Its category.
    pub fn kind(&self) -> A2aClientErrorKind {
        self.kind
    }

    /// The URL called, secrets hidden.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What happened.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// A reqwest error met calling `url`, classified.
    pub(crate) fn from_reqwest(url: &str, error: reqwest::Error) -> Self {
        let kind = if let Some(status) = error.status() {
            A2aClientErrorKind::HttpStatus(status.as_u16())
        } else if error.is_timeout() {
            A2aClientErrorKind::Timeout
        } else if let Some(cause) = classify(&error) {
            A2aClientErrorKind::Unreachable(cause)
        } else if error.is_connect() {
            A2aClientErrorKind::Unreachable(UnreachableCause::Other)
        } else if error.is_body() || error.is_decode() || error.is_request() {
            A2aClientErrorKind::ConnectionLost
        } else {
            A2aClientErrorKind::Unreachable(UnreachableCause::Other)
        };
        let message = chain(&error);
        Self::new(kind, url, message).with_source(error)
    }
}

/// Finds why a connection failed in an error's chain.
fn classify(error: &(dyn StdError + 'static)) -> Option<UnreachableCause> {
    let mut current = Some(error);
    let mut found = None;
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Some(UnreachableCause::ConnectionRefused);
        }
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("dns error")
            || text.contains("failed to lookup address")
            || text.contains("name or service not known")
        {
            return Some(UnreachableCause::Dns);
        }
        if text.contains("connection refused") {
            return Some(UnreachableCause::ConnectionRefused);
        }
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            found = Some(UnreachableCause::Tls);
        }
        current = e.source();
    }
    found
}

/// The messages of an error's chain, joined with `: ` (repeats left out).
fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// `text`, with the secrets of its URLs hidden.
fn hide(text: String) -> String {
    match weft_core::redact::redact_urls(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(redacted) => redacted,
    }
}
