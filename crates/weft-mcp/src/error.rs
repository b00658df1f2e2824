//! Typed errors: what connecting to or calling an MCP server can fail with.
//!
//! [`McpError`] names the server, carries a category a caller can match ([`McpErrorKind`]) and
//! keeps the transport's own error reachable through [`std::error::Error::source`], so that
//! "connection refused" or "HTTP 401" is never lost behind a generic "cancelled".

use std::error::Error as StdError;
use std::time::Duration;

use rmcp::ServiceError;
use rmcp::service::ClientInitializeError;
use rmcp::transport::streamable_http_client::{HttpStatusError, StreamableHttpError};
use weft_core::{BoxError, ToolError, ToolErrorKind};

/// Why a server could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnreachableCause {
    /// Nothing listens at the address (TCP connection refused).
    ConnectionRefused,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The server answered with this HTTP status (401/403: authentication).
    HttpStatus(u16),
    /// The connection or the `initialize` handshake did not finish within the connect timeout.
    Timeout,
    /// The stdio command could not be started (not found, not executable).
    SpawnFailed,
    /// The stdio server exited (or closed its output) before the handshake finished.
    ExitedEarly,
    /// Any other failure while connecting.
    Other,
}

impl std::fmt::Display for UnreachableCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnreachableCause::ConnectionRefused => f.write_str("connection refused"),
            UnreachableCause::Dns => f.write_str("host name not resolved"),
            UnreachableCause::Tls => f.write_str("TLS handshake failed"),
            UnreachableCause::HttpStatus(status) => write!(f, "HTTP {status}"),
            UnreachableCause::Timeout => f.write_str("connect timed out"),
            UnreachableCause::SpawnFailed => f.write_str("could not start the command"),
            UnreachableCause::ExitedEarly => f.write_str("the server exited during the handshake"),
            UnreachableCause::Other => f.write_str("could not connect"),
        }
    }
}

/// The category of an [`McpError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum McpErrorKind {
    /// The server could not be reached or the handshake failed.
    Unreachable(UnreachableCause),
    /// A request got no answer within the request timeout (a cancellation was sent).
    Timeout,
    /// The source is closed, or was never connected.
    Closed,
    /// The connection was lost during the request (server killed, session gone).
    ConnectionLost,
    /// The server answered with something that is not valid MCP / JSON-RPC.
    Protocol,
    /// The server answered the request with a JSON-RPC error (e.g. unknown tool).
    Server,
    /// The tool ran and reported an error (`isError: true`).
    ToolFailed,
    /// The source is misconfigured (bad URL, bad header, unknown tool name).
    Configuration,
    /// The server's answer was larger than the transport accepts in one message (rmcp's limit:
    /// 16 MiB per stdio line, per HTTP JSON body, per SSE event). The answer was dropped; the
    /// connection stays usable.
    MessageTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl std::fmt::Display for McpErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            McpErrorKind::Unreachable(cause) => write!(f, "unreachable ({cause})"),
            McpErrorKind::Timeout => f.write_str("request timed out"),
            McpErrorKind::Closed => f.write_str("source closed"),
            McpErrorKind::ConnectionLost => f.write_str("connection lost"),
            McpErrorKind::Protocol => f.write_str("protocol error"),
            McpErrorKind::Server => f.write_str("server error"),
            McpErrorKind::ToolFailed => f.write_str("tool failed"),
            McpErrorKind::Configuration => f.write_str("configuration error"),
            McpErrorKind::MessageTooLarge { limit } => {
                write!(f, "message too large (over the {} limit)", human_size(*limit))
            }
        }
    }
}

/// An error from an MCP source. One pointer wide; details behind accessors and predicates.
#[derive(Debug)]
pub struct McpError {
    inner: Box<Inner>,
}

#[derive(Debug)]
struct Inner {
    kind: McpErrorKind,
    server: String,
    message: String,
    source: Option<BoxError>,
}

impl McpError {
    /// An error of `kind` from the server named `server`. The secrets of URLs in `server` and
    /// `message` (userinfo password or token, query values) are hidden (see [`crate::redact_urls`]).
    pub fn new(kind: McpErrorKind, server: impl Into<String>, message: impl Into<String>) -> Self {
        let (server, message) = (hide(server.into()), hide(message.into()));
        Self { inner: Box::new(Inner { kind, server, message, source: None }) }
    }

    /// Sets the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// The category.
    pub fn kind(&self) -> McpErrorKind {
        self.inner.kind
    }

    /// The name of the server (as given to the source's builder).
    pub fn server(&self) -> &str {
        &self.inner.server
    }

    /// What happened, without the server name and category.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Why the server was unreachable, when it was.
    pub fn unreachable_cause(&self) -> Option<UnreachableCause> {
        match self.inner.kind {
            McpErrorKind::Unreachable(cause) => Some(cause),
            _ => None,
        }
    }

    /// Whether connecting failed.
    pub fn is_unreachable(&self) -> bool {
        matches!(self.inner.kind, McpErrorKind::Unreachable(_))
    }

    /// Whether the server refused the credentials (HTTP 401 or 403).
    pub fn is_authentication(&self) -> bool {
        matches!(self.unreachable_cause(), Some(UnreachableCause::HttpStatus(401 | 403)))
    }

    /// Whether a deadline passed (connect or request).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.inner.kind,
            McpErrorKind::Timeout | McpErrorKind::Unreachable(UnreachableCause::Timeout)
        )
    }

    /// Whether the source is closed or was never connected.
    pub fn is_closed(&self) -> bool {
        self.inner.kind == McpErrorKind::Closed
    }

    /// Whether the connection was lost during the request.
    pub fn is_connection_lost(&self) -> bool {
        self.inner.kind == McpErrorKind::ConnectionLost
    }

    /// Whether the server broke the protocol.
    pub fn is_protocol(&self) -> bool {
        self.inner.kind == McpErrorKind::Protocol
    }

    /// Whether the tool reported an error result.
    pub fn is_tool_failed(&self) -> bool {
        self.inner.kind == McpErrorKind::ToolFailed
    }

    /// Whether the server's answer was over the transport's per-message limit.
    pub fn is_message_too_large(&self) -> bool {
        matches!(self.inner.kind, McpErrorKind::MessageTooLarge { .. })
    }

    /// The answer to `what` was over `limit` bytes and was dropped.
    pub(crate) fn message_too_large(server: &str, what: &str, limit: usize, detail: &str) -> Self {
        let message = format!(
            "{what}: the server's answer is over the limit of {limit} bytes per message and was dropped{detail}"
        );
        Self::new(McpErrorKind::MessageTooLarge { limit }, server, message)
    }

    pub(crate) fn closed(server: &str, message: &str) -> Self {
        Self::new(McpErrorKind::Closed, server, message)
    }

    pub(crate) fn timeout(server: &str, what: &str, after: Duration) -> Self {
        Self::new(McpErrorKind::Timeout, server, format!("{what}: no answer within {after:?}"))
    }

    /// Maps an error of a request on an open session.
    pub(crate) fn from_service(server: &str, what: &str, error: ServiceError) -> Self {
        if let Some(limit) = too_large_limit(&error) {
            return Self::message_too_large(server, what, limit, "").with_source(error);
        }
        let kind = match &error {
            ServiceError::McpError(_) => McpErrorKind::Server,
            ServiceError::Timeout { .. } => McpErrorKind::Timeout,
            ServiceError::UnexpectedResponse => McpErrorKind::Protocol,
            ServiceError::TransportClosed
            | ServiceError::TransportSend(_)
            | ServiceError::Cancelled { .. } => McpErrorKind::ConnectionLost,
            _ => McpErrorKind::Protocol,
        };
        let message = match &error {
            ServiceError::McpError(data) => format!("{what}: {}", data.message),
            other => format!("{what}: {other}"),
        };
        Self::new(kind, server, message).with_source(error)
    }

    /// Maps an error of the `initialize` handshake.
    pub(crate) fn from_initialize(
        server: &str,
        error: ClientInitializeError,
        stdio: bool,
        https: bool,
        stderr_tail: &str,
    ) -> Self {
        let cause = match &error {
            ClientInitializeError::ConnectionClosed(_) if stdio => UnreachableCause::ExitedEarly,
            ClientInitializeError::JsonRpcError(_) => {
                let message = format!("the server refused to initialize: {error}");
                return Self::new(McpErrorKind::Protocol, server, message).with_source(error);
            }
            ClientInitializeError::ExpectedInitResponse(_)
            | ClientInitializeError::ExpectedInitResult(_)
            | ClientInitializeError::ConflictInitResponseId(..)
            | ClientInitializeError::NoCompatibleProtocolVersion { .. } => {
                let message = format!("invalid initialize answer: {error}");
                return Self::new(McpErrorKind::Protocol, server, message).with_source(error);
            }
            _ => classify_chain(&error, https).unwrap_or(if stdio {
                UnreachableCause::ExitedEarly
            } else {
                UnreachableCause::Other
            }),
        };
        let mut message = format!("{cause}: {}", describe_chain(&error));
        if !stderr_tail.is_empty() {
            message.push_str("; stderr: ");
            message.push_str(stderr_tail);
        }
        Self::new(McpErrorKind::Unreachable(cause), server, message).with_source(error)
    }
}

impl std::fmt::Display for McpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MCP server '{}': {}: {}", self.inner.server, self.inner.kind, self.inner.message)
    }
}

impl StdError for McpError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<McpError> for ToolError {
    fn from(error: McpError) -> Self {
        let kind = match error.kind() {
            McpErrorKind::Timeout => ToolErrorKind::Timeout,
            McpErrorKind::Closed | McpErrorKind::Unreachable(_) | McpErrorKind::ConnectionLost => {
                ToolErrorKind::Unavailable
            }
            McpErrorKind::Configuration => ToolErrorKind::NotFound,
            _ => ToolErrorKind::Failed,
        };
        let message = match error.kind() {
            // The model reads the tool's own error text.
            McpErrorKind::ToolFailed => error.message().to_owned(),
            _ => error.to_string(),
        };
        ToolError::new(kind, message).with_source(error)
    }
}

/// The next error of a chain. rmcp keeps some causes in fields that `source()` does not
/// return (`ClientInitializeError::TransportError`, `StreamableHttpError::Client`): follow them.
fn next_cause<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    if let Some(ClientInitializeError::TransportError { error, .. }) =
        error.downcast_ref::<ClientInitializeError>()
    {
        return Some(error);
    }
    if let Some(ServiceError::TransportSend(error)) = error.downcast_ref::<ServiceError>() {
        return Some(error);
    }
    if let Some(StreamableHttpError::Client(inner)) =
        error.downcast_ref::<StreamableHttpError<reqwest::Error>>()
    {
        return Some(inner);
    }
    error.source()
}

/// The errors of a chain, joined by ": ", skipping repeats and rmcp's type-name wrappers.
pub(crate) fn describe_chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text =
            if e.is::<rmcp::transport::DynamicTransportError>() { String::new() } else { e.to_string() };
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = next_cause(e);
    }
    parts.join(": ")
}

/// Finds why a connection failed in an error's chain: reqwest's connect/timeout errors, the
/// io error under them, HTTP statuses from rmcp's streamable HTTP transport.
pub(crate) fn classify_chain(error: &(dyn StdError + 'static), https: bool) -> Option<UnreachableCause> {
    let mut found: Option<UnreachableCause> = None;
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(http) = e.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
            match http {
                StreamableHttpError::AuthRequired(_) => return Some(UnreachableCause::HttpStatus(401)),
                StreamableHttpError::InsufficientScope(_) => return Some(UnreachableCause::HttpStatus(403)),
                StreamableHttpError::HttpStatus(status) => {
                    return Some(UnreachableCause::HttpStatus(status.status));
                }
                StreamableHttpError::UnexpectedServerResponse(text) => {
                    if let Some(status) = status_in(text) {
                        return Some(UnreachableCause::HttpStatus(status));
                    }
                }
                _ => {}
            }
        }
        if let Some(status) = e.downcast_ref::<HttpStatusError>() {
            return Some(UnreachableCause::HttpStatus(status.status));
        }
        if let Some(r) = e.downcast_ref::<reqwest::Error>() {
            if let Some(status) = r.status() {
                return Some(UnreachableCause::HttpStatus(status.as_u16()));
            }
            if r.is_timeout() {
                found = found.or(Some(UnreachableCause::Timeout));
            }
            // A connect failure on https that is neither refused nor DNS (both return early
            // below) is the TLS handshake; rustls's error sits under an io error.
            if r.is_connect() && https {
                found = found.or(Some(UnreachableCause::Tls));
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Some(UnreachableCause::ConnectionRefused),
                std::io::ErrorKind::TimedOut => found = found.or(Some(UnreachableCause::Timeout)),
                _ => {}
            }
        }
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("dns error")
            || text.contains("failed to lookup address")
            || text.contains("name or service not known")
        {
            return Some(UnreachableCause::Dns);
        }
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            found = Some(UnreachableCause::Tls);
        }
        if text.contains("connection refused") {
            return Some(UnreachableCause::ConnectionRefused);
        }
        current = next_cause(e);
    }
    found
}

/// `text`, with the secrets of its URLs hidden.
pub(crate) fn hide(text: String) -> String {
    match weft_core::redact::redact_urls(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(redacted) => redacted,
    }
}

/// The marker that [`crate::http`] puts in the `data` of the JSON-RPC error it answers a
/// request with when the server's answer was over the limit: `{MARKER: limit}`.
pub(crate) const TOO_LARGE_MARKER: &str = "weft_mcp_message_too_large";

/// The limit, when `error` says that an answer was over it: the JSON-RPC error made by
/// [`crate::http`], or rmcp's own "HTTP response body exceeded the maximum size" in the chain.
fn too_large_limit(error: &ServiceError) -> Option<usize> {
    if let ServiceError::McpError(data) = error {
        let limit = data.data.as_ref()?.get(TOO_LARGE_MARKER)?.as_u64()?;
        return usize::try_from(limit).ok();
    }
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(StreamableHttpError::ResponseBodyTooLarge { max_size }) =
            e.downcast_ref::<StreamableHttpError<reqwest::Error>>()
        {
            return Some(*max_size);
        }
        current = next_cause(e);
    }
    None
}

pub(crate) use weft_core::size::human_size;

fn status_in(text: &str) -> Option<u16> {
    let rest = text.split("HTTP ").nth(1)?;
    rest.get(..3)?.parse().ok()
}
