//! Typed errors: what a chat client, a tool or an agent run can fail with.
//!
//! Each error has a public category a caller can match ([`ChatErrorKind`]) or predicates
//! (`is_rate_limit()`, …), and keeps its underlying cause reachable through
//! [`std::error::Error::source`].

use std::time::Duration;

/// A boxed error cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The category of a [`ChatError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChatErrorKind {
    /// The credentials were missing or refused (HTTP 401/403).
    Authentication,
    /// The provider is rate limiting (HTTP 429).
    RateLimit,
    /// The provider refused the request as invalid (HTTP 400, 404, 413, 422 …).
    BadRequest,
    /// The provider failed (HTTP 5xx).
    Server,
    /// The provider could not be reached or the connection broke.
    Network,
    /// No answer came within the configured time.
    Timeout,
    /// The provider's answer could not be understood.
    Decode,
    /// A streamed answer ended before its end marker.
    StreamEnded,
    /// The provider's answer exceeded a size limit (e.g. one server-sent event larger than the
    /// client accepts); the message names the limit and the setting that raises it.
    ResponseTooLarge,
    /// The call was cancelled by the caller.
    Cancelled,
    /// The client was misconfigured (e.g. no base URL, an invalid header).
    Configuration,
    /// Anything else.
    Other,
}

impl std::fmt::Display for ChatErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChatErrorKind::Authentication => "authentication failed",
            ChatErrorKind::RateLimit => "rate limited",
            ChatErrorKind::BadRequest => "bad request",
            ChatErrorKind::Server => "server error",
            ChatErrorKind::Network => "network error",
            ChatErrorKind::Timeout => "timed out",
            ChatErrorKind::Decode => "could not decode the response",
            ChatErrorKind::StreamEnded => "stream ended early",
            ChatErrorKind::ResponseTooLarge => "response too large",
            ChatErrorKind::Cancelled => "cancelled",
            ChatErrorKind::Configuration => "configuration error",
            ChatErrorKind::Other => "error",
        })
    }
}

/// An error from a chat client. Small (one pointer) so that results stay cheap to move; the
/// details sit behind accessors and predicates, as in `reqwest::Error`.
#[derive(Debug)]
pub struct ChatError {
    inner: Box<ChatErrorInner>,
}

#[derive(Debug)]
struct ChatErrorInner {
    kind: ChatErrorKind,
    message: String,
    status: Option<u16>,
    retry_after: Option<Duration>,
    code: Option<String>,
    provider: Option<String>,
    retryable: Option<bool>,
    source: Option<BoxError>,
}

impl ChatError {
    /// An error of the given kind with a message saying what happened.
    pub fn new(kind: ChatErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(ChatErrorInner {
                kind,
                message: message.into(),
                status: None,
                retry_after: None,
                code: None,
                provider: None,
                retryable: None,
                source: None,
            }),
        }
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.inner.status = Some(status);
        self
    }

    /// Sets how long the provider asked to wait before retrying.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.inner.retry_after = retry_after;
        self
    }

    /// Sets the provider's error code (e.g. `rate_limit_exceeded`).
    pub fn with_code(mut self, code: Option<String>) -> Self {
        self.inner.code = code;
        self
    }

    /// Names the provider or endpoint the error came from.
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.inner.provider = Some(provider.into());
        self
    }

    /// Sets whether sending the request again may succeed, overriding the rule of
    /// [`is_retryable`](Self::is_retryable): for a provider whose own statuses or codes say
    /// more than the standard ones (e.g. an overload status outside HTTP's).
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.inner.retryable = Some(retryable);
        self
    }

    /// Sets the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// The category.
    pub fn kind(&self) -> ChatErrorKind {
        self.inner.kind
    }

    /// The message (for provider errors: the provider's own message).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The HTTP status, when the error came with one.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// How long the provider asked to wait (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The provider's error code.
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// The provider or endpoint named on the error.
    pub fn provider(&self) -> Option<&str> {
        self.inner.provider.as_deref()
    }

    /// Whether the credentials were refused.
    pub fn is_authentication(&self) -> bool {
        self.inner.kind == ChatErrorKind::Authentication
    }

    /// Whether the provider is rate limiting.
    pub fn is_rate_limit(&self) -> bool {
        self.inner.kind == ChatErrorKind::RateLimit
    }

    /// Whether the request was refused as invalid.
    pub fn is_bad_request(&self) -> bool {
        self.inner.kind == ChatErrorKind::BadRequest
    }

    /// Whether the provider failed.
    pub fn is_server(&self) -> bool {
        self.inner.kind == ChatErrorKind::Server
    }

    /// Whether the network failed.
    pub fn is_network(&self) -> bool {
        self.inner.kind == ChatErrorKind::Network
    }

    /// Whether a deadline passed.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ChatErrorKind::Timeout
    }

    /// Whether the answer could not be decoded.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == ChatErrorKind::Decode
    }

    /// Whether a stream ended before its end marker.
    pub fn is_stream_ended(&self) -> bool {
        self.inner.kind == ChatErrorKind::StreamEnded
    }

    /// Whether the answer exceeded a size limit.
    pub fn is_response_too_large(&self) -> bool {
        self.inner.kind == ChatErrorKind::ResponseTooLarge
    }

    /// Whether sending the same request again may succeed: the one definition of a transient
    /// failure, which providers' retry loops follow too.
    ///
    /// Retryable: rate limits ([`RateLimit`](ChatErrorKind::RateLimit)) except a spent quota
    /// (code `insufficient_quota`, which waiting does not fix); server errors with HTTP 500,
    /// 502, 503 or 504, or reported inside an answer (no status); a timeout the server
    /// reported (HTTP 408); network failures; streams cut short
    /// ([`StreamEnded`](ChatErrorKind::StreamEnded)). A provider's own verdict
    /// ([`with_retryable`](Self::with_retryable)) comes first.
    ///
    /// Not retryable: a deadline of the client's own that passed (a timeout without an HTTP
    /// status: retrying would multiply the wait the caller configured), other 4xx and 5xx
    /// answers, authentication, decode and configuration errors, answers over a size limit,
    /// cancellations.
    ///
    /// A provider retries such failures only while no part of the answer has reached the
    /// caller; a stream that fails after it started is the caller's to retry (dropping what it
    /// received).
    pub fn is_retryable(&self) -> bool {
        if let Some(retryable) = self.inner.retryable {
            return retryable;
        }
        match self.inner.kind {
            ChatErrorKind::RateLimit => self.code() != Some("insufficient_quota"),
            ChatErrorKind::Server => matches!(self.inner.status, None | Some(500 | 502 | 503 | 504)),
            ChatErrorKind::Timeout => self.inner.status == Some(408),
            ChatErrorKind::Network | ChatErrorKind::StreamEnded => true,
            _ => false,
        }
    }

    /// Replaces every occurrence of `secret` in the message, the code and the provider name
    /// with [`MASK`](crate::redact::MASK) (`***`): for providers whose error bodies may echo a credential. Secrets shorter than
    /// four characters are left alone (masking them would garble the text, not protect
    /// anything).
    pub fn redact(mut self, secret: &str) -> Self {
        use crate::redact::MASK;
        if secret.len() < 4 {
            return self;
        }
        let inner = &mut *self.inner;
        if inner.message.contains(secret) {
            inner.message = inner.message.replace(secret, MASK);
        }
        for text in [&mut inner.code, &mut inner.provider].into_iter().flatten() {
            if text.contains(secret) {
                *text = text.replace(secret, MASK);
            }
        }
        self
    }

    fn describe(&self) -> String {
        let mut text = String::new();
        if let Some(provider) = &self.inner.provider {
            text.push_str(provider);
            text.push_str(": ");
        }
        text.push_str(&self.inner.kind.to_string());
        if let Some(status) = self.inner.status {
            text.push_str(&format!(" (HTTP {status})"));
        }
        if !self.inner.message.is_empty() {
            text.push_str(": ");
            text.push_str(&self.inner.message);
        }
        text
    }
}

impl std::fmt::Display for ChatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::error::Error for ChatError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The category of a [`ToolError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ToolErrorKind {
    /// The arguments did not match the tool's schema.
    InvalidArguments,
    /// The model called a tool that is not offered.
    NotFound,
    /// The tool ran and failed.
    Failed,
    /// The tool did not finish in time.
    Timeout,
    /// The tool's backing service is closed or unreachable.
    Unavailable,
    /// The call was cancelled.
    Cancelled,
}

/// An error from a tool invocation. The loop turns it into a function result the model reads.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    kind: ToolErrorKind,
    message: String,
    #[source]
    source: Option<BoxError>,
}

impl ToolError {
    /// An error of the given kind.
    pub fn new(kind: ToolErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    /// The tool failed with this message.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::Failed, message)
    }

    /// The arguments were invalid.
    pub fn invalid_arguments(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::InvalidArguments, message)
    }

    /// Sets the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The category.
    pub fn kind(&self) -> ToolErrorKind {
        self.kind
    }

    /// The message the model is shown.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// An error ending an agent run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The chat client failed.
    #[error("agent '{agent}': model call failed: {source}")]
    Chat {
        /// The agent's name.
        agent: String,
        /// The client's error.
        #[source]
        source: ChatError,
    },
    /// The model kept calling tools past the configured limit.
    #[error(
        "agent '{agent}': the model still requested tools after {limit} model calls \
         (raise max_iterations on the agent if this is expected)"
    )]
    MaxIterations {
        /// The agent's name.
        agent: String,
        /// The limit that was reached.
        limit: usize,
        /// What the run did before it stopped: the model's messages and the tools' results
        /// (every call has its result), the usage and the model calls so far. The session is
        /// left as it was; append `response.messages` to it to keep them.
        response: Box<crate::agent::AgentResponse>,
    },
    /// The run went over a budget (see [`crate::budget`]) and was stopped before its next model
    /// call or tool batch.
    #[error("agent '{agent}': run budget exceeded: {overrun}")]
    BudgetExceeded {
        /// The agent's name.
        agent: String,
        /// Which limit, the limit and the amount used.
        overrun: crate::budget::BudgetOverrun,
        /// What the run did before it stopped: the model's messages and the tools' results
        /// (calls the budget did not let run have an error result saying so), the usage and
        /// the model calls so far. The session is left as it was; append `response.messages`
        /// to it to keep them.
        response: Box<crate::agent::AgentResponse>,
    },
    /// A structured-output run got an answer that does not parse as the requested type.
    #[error("agent '{agent}': the answer is not valid {type_name}: {message}; answer was: {text}")]
    StructuredOutput {
        /// The agent's name.
        agent: String,
        /// The Rust type asked for.
        type_name: String,
        /// The parse error.
        message: String,
        /// The model's text.
        text: String,
    },
    /// The input was not usable (e.g. an approval answer for an unknown request).
    #[error("agent '{agent}': invalid input: {message}")]
    InvalidInput {
        /// The agent's name.
        agent: String,
        /// What is wrong.
        message: String,
    },
    /// A middleware failed or refused the run.
    #[error("agent '{agent}': middleware stopped the run: {message}")]
    Middleware {
        /// The agent's name.
        agent: String,
        /// What it said.
        message: String,
    },
    /// The run was cancelled.
    #[error("agent run cancelled")]
    Cancelled,
    /// The session's history store failed, or the agent lacks the store the session names.
    /// Nothing of the run was kept.
    #[error("agent '{agent}': {source}")]
    History {
        /// The agent's name.
        agent: String,
        /// The store's error.
        #[source]
        source: crate::history::HistoryError,
    },
    /// Compacting the history failed before the model was asked; the session is unchanged.
    #[error("agent '{agent}': {source}")]
    Compaction {
        /// The agent's name.
        agent: String,
        /// The cause.
        #[source]
        source: crate::compaction::CompactionError,
    },
    /// Something the agent runs on failed (e.g. the workflow behind a workflow agent); the cause
    /// is kept as the source.
    #[error("agent '{agent}': {source}")]
    Other {
        /// The agent's name.
        agent: String,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

impl AgentError {
    /// What the run did before it failed, when the error carries it
    /// ([`AgentError::MaxIterations`], [`AgentError::BudgetExceeded`]).
    pub fn partial_response(&self) -> Option<&crate::agent::AgentResponse> {
        match self {
            AgentError::MaxIterations { response, .. } | AgentError::BudgetExceeded { response, .. } => {
                Some(response)
            }
            _ => None,
        }
    }

    /// The chat error behind this, when the model call failed.
    pub fn as_chat_error(&self) -> Option<&ChatError> {
        match self {
            AgentError::Chat { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// An error reading or writing a session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The JSON was not a session.
    #[error("invalid session JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The session was written by an unknown format version.
    #[error("session format version {found} is not supported (this build reads up to {supported})")]
    Version {
        /// The version found.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A session file does not hold a session this build reads (the cause is a
    /// [`SessionError::Json`] or [`SessionError::Version`]).
    #[error("session file {path}: {source}")]
    InvalidFile {
        /// The file.
        path: String,
        /// What is wrong with its content.
        #[source]
        source: Box<SessionError>,
    },
    /// Reading or writing the file failed.
    #[error("session file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn retryable_failures_are_the_transient_ones() {
        let status = |kind, status| ChatError::new(kind, "x").with_status(status);
        let plain = |kind| ChatError::new(kind, "x");
        assert!(status(ChatErrorKind::RateLimit, 429).is_retryable());
        assert!(
            !status(ChatErrorKind::RateLimit, 429)
                .with_code(Some("insufficient_quota".into()))
                .is_retryable()
        );
        for code in [500, 502, 503, 504] {
            assert!(status(ChatErrorKind::Server, code).is_retryable(), "{code}");
        }
        // The core knows only standard statuses; a provider marks its own transient ones.
        for code in [501, 529] {
            assert!(!status(ChatErrorKind::Server, code).is_retryable(), "{code}");
        }
        assert!(status(ChatErrorKind::Server, 529).with_retryable(true).is_retryable());
        assert!(!status(ChatErrorKind::Server, 503).with_retryable(false).is_retryable());
        // A server error reported inside an answer carries no status.
        assert!(plain(ChatErrorKind::Server).is_retryable());
        assert!(status(ChatErrorKind::Timeout, 408).is_retryable());
        // The client's own deadline: retrying would multiply the caller's wait.
        assert!(!plain(ChatErrorKind::Timeout).is_retryable());
        assert!(plain(ChatErrorKind::Network).is_retryable());
        assert!(plain(ChatErrorKind::StreamEnded).is_retryable());
        for kind in [
            ChatErrorKind::Authentication,
            ChatErrorKind::BadRequest,
            ChatErrorKind::Decode,
            ChatErrorKind::ResponseTooLarge,
            ChatErrorKind::Cancelled,
            ChatErrorKind::Configuration,
            ChatErrorKind::Other,
        ] {
            assert!(!plain(kind).is_retryable(), "{kind}");
        }
    }

    #[test]
    fn redact_masks_a_secret_everywhere_it_is_shown() {
        let err = ChatError::new(ChatErrorKind::Authentication, "Incorrect API key provided: sk-secret-1.")
            .with_code(Some("sk-secret-1".into()))
            .with_provider("openai chat http://h/v1?key=sk-secret-1")
            .with_status(401)
            .redact("sk-secret-1");
        assert_eq!(err.message(), "Incorrect API key provided: ***.");
        assert_eq!(err.code(), Some("***"));
        assert!(!err.to_string().contains("sk-secret-1"), "{err}");
        assert_eq!((err.kind(), err.status()), (ChatErrorKind::Authentication, Some(401)));
        // Too short to be a credential: left alone.
        assert_eq!(ChatError::new(ChatErrorKind::Other, "a b c").redact("b").message(), "a b c");
    }
}
