//! The settings every provider's builder shares: extra headers, deadlines, limits, retries, the
//! HTTP client and the transport.
//!
//! A provider's builder holds one [`DriverSettings`] and gets its setter methods from
//! [`driver_setters!`](crate::driver_setters), so that `timeout`, `max_retries`, `header` … are
//! written (and documented) once for every provider. At `build` the builder adds the settings'
//! headers to its own ([`DriverSettings::add_headers`]) and turns the rest into its
//! [`Driver`] ([`DriverSettings::into_driver`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use weft_core::{ChatError, ChatErrorKind};

use crate::driver::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT, Driver, DriverConfig, http_client,
    http2_prior_knowledge_client,
};
use crate::retry::RetryPolicy;
use crate::transport::Transport;

/// What a provider's builder was told about its driver; every knob unset means its default.
/// Its `Debug` shows the headers' names, never their values.
#[derive(Clone, Default)]
pub struct DriverSettings {
    /// Extra headers on every request, in the order given (checked by
    /// [`add_headers`](Self::add_headers)).
    pub headers: Vec<(String, String)>,
    /// The limit of one attempt, the whole answer ([`DEFAULT_TIMEOUT`]).
    pub timeout: Option<Duration>,
    /// The wait for a streamed answer's headers ([`DEFAULT_FIRST_BYTE_TIMEOUT`]).
    pub first_byte_timeout: Option<Duration>,
    /// The limit on opening a connection ([`DEFAULT_CONNECT_TIMEOUT`]; unused with
    /// [`http_client`](Self::http_client)).
    pub connect_timeout: Option<Duration>,
    /// The longest silence of a stream ([`DEFAULT_STREAM_IDLE_TIMEOUT`]).
    pub stream_idle_timeout: Option<Duration>,
    /// The largest line, event or whole answer ([`DEFAULT_MAX_EVENT_BYTES`]).
    pub max_event_bytes: Option<usize>,
    /// Retries after the first attempt ([`crate::DEFAULT_MAX_RETRIES`]).
    pub max_retries: Option<u32>,
    /// The wait before the first retry ([`RetryPolicy::default`]'s).
    pub initial_retry_delay: Option<Duration>,
    /// The longest wait between attempts ([`RetryPolicy::default`]'s).
    pub max_retry_delay: Option<Duration>,
    /// Speak HTTP/2 from the first byte, without negotiating it (prior knowledge), also to a
    /// plain `http:` endpoint (h2c); off by default (unused with
    /// [`http_client`](Self::http_client)).
    pub http2_prior_knowledge: bool,
    /// The HTTP client to send with, instead of one built with the connect timeout.
    pub http_client: Option<reqwest::Client>,
    /// What sends each attempt instead of the HTTP client alone (a cassette).
    pub transport: Option<Arc<dyn Transport>>,
}

impl fmt::Debug for DriverSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverSettings")
            .field("headers", &self.headers.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("first_byte_timeout", &self.first_byte_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("max_event_bytes", &self.max_event_bytes)
            .field("max_retries", &self.max_retries)
            .field("initial_retry_delay", &self.initial_retry_delay)
            .field("max_retry_delay", &self.max_retry_delay)
            .field("http2_prior_knowledge", &self.http2_prior_knowledge)
            .field("http_client", &self.http_client.is_some())
            .field("transport", &self.transport)
            .finish()
    }
}

impl DriverSettings {
    /// Adds the extra headers to `headers` (a later one replaces an earlier one of the same
    /// name) and their values to `secrets`: they may carry credentials (an API gateway's key),
    /// so they are marked sensitive and masked in errors like an API key. Fails with a
    /// [`Configuration`](ChatErrorKind::Configuration) error of `provider` naming the header
    /// (never its value).
    pub fn add_headers(
        &self,
        headers: &mut HeaderMap,
        secrets: &mut Vec<String>,
        provider: &str,
    ) -> Result<(), ChatError> {
        for (name, value) in &self.headers {
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| config_error(provider, format!("invalid header name {name:?}")))?;
            let header_value = secret_header(value, &format!("the value of header {name:?}"), provider)?;
            secrets.push(value.trim().to_string());
            headers.insert(header_name, header_value);
        }
        Ok(())
    }

    /// The driver these settings describe, masking `secrets` in every error; its messages name
    /// `settings` (the builder, `AnthropicBuilder`) as what raises a limit. Builds the HTTP
    /// client when none was given; fails with a [`Configuration`](ChatErrorKind::Configuration)
    /// error when it cannot be built.
    pub fn into_driver(self, settings: &'static str, secrets: Vec<String>) -> Result<Driver, ChatError> {
        let http = match self.http_client {
            Some(client) => client,
            None => {
                let connect_timeout = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
                if self.http2_prior_knowledge {
                    http2_prior_knowledge_client(connect_timeout)?
                } else {
                    http_client(connect_timeout)?
                }
            }
        };
        let defaults = RetryPolicy::default();
        let config = DriverConfig {
            settings,
            timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            first_byte_timeout: self.first_byte_timeout.unwrap_or(DEFAULT_FIRST_BYTE_TIMEOUT),
            stream_idle_timeout: self.stream_idle_timeout.unwrap_or(DEFAULT_STREAM_IDLE_TIMEOUT),
            max_event_bytes: self.max_event_bytes.unwrap_or(DEFAULT_MAX_EVENT_BYTES),
            retry: RetryPolicy {
                max_retries: self.max_retries.unwrap_or(defaults.max_retries),
                initial_delay: self.initial_retry_delay.unwrap_or(defaults.initial_delay),
                max_delay: self.max_retry_delay.unwrap_or(defaults.max_delay),
            },
            secrets,
            transport: self.transport,
        };
        Ok(Driver::new(http, config))
    }
}

/// `value` (trimmed) as a header value marked sensitive, hidden from `Debug`: an API key, a
/// token. Fails with a [`Configuration`](ChatErrorKind::Configuration) error of `provider` that
/// names `what` (`the API key`), never the value.
pub fn secret_header(value: &str, what: &str, provider: &str) -> Result<HeaderValue, ChatError> {
    let mut header = HeaderValue::from_str(value.trim()).map_err(|_| {
        config_error(provider, format!("{what} contains characters not allowed in an HTTP header"))
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// A model name as given (trimmed), `None` when it is empty.
pub fn model_name(model: Option<String>) -> Option<String> {
    model.map(|model| model.trim().to_string()).filter(|model| !model.is_empty())
}

/// The model of a request: the one it asked for (trimmed, when not empty), else the endpoint's
/// `default`. Neither is a [`Configuration`](ChatErrorKind::Configuration) error of `label`
/// that says where to set one: `no model: set one in the options, with {hint}`, the hint
/// naming the builder's method and the environment variable
/// (`AnthropicBuilder::model, or in ANTHROPIC_MODEL`).
pub fn request_model<'a>(
    asked: Option<&'a str>,
    default: Option<&'a str>,
    hint: &str,
    label: &str,
) -> Result<&'a str, ChatError> {
    asked
        .map(str::trim)
        .filter(|model| !model.is_empty())
        .or(default)
        .ok_or_else(|| config_error(label, format!("no model: set one in the options, with {hint}")))
}

/// Fails with a [`Configuration`](ChatErrorKind::Configuration) error of `provider` unless
/// `url` is `http:` or `https:`; `what` names the setting (`the base URL`), `shown` is the URL
/// with its credentials masked.
pub fn check_http_scheme(
    url: &reqwest::Url,
    what: &str,
    shown: &str,
    provider: &str,
) -> Result<(), ChatError> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        scheme => {
            Err(config_error(provider, format!("{what} {shown:?} uses {scheme}:, not http: or https:")))
        }
    }
}

fn config_error(provider: &str, message: String) -> ChatError {
    ChatError::new(ChatErrorKind::Configuration, message).with_provider(provider)
}

/// The setter methods of a provider builder's [`DriverSettings`], written once for every
/// provider: `header`, `timeout`, `first_byte_timeout`, `connect_timeout`,
/// `stream_idle_timeout`, `max_event_bytes`, `max_retries`, `initial_retry_delay`,
/// `max_retry_delay`, `http2_prior_knowledge`, `http_client` and `transport`. Invoke it inside the builder's `impl`
/// block with the name of its `DriverSettings` field:
///
/// ```
/// use weft_provider::DriverSettings;
///
/// /// Builds an endpoint.
/// #[derive(Default)]
/// pub struct MyBuilder {
///     settings: DriverSettings,
/// }
///
/// impl MyBuilder {
///     weft_provider::driver_setters!(settings);
/// }
///
/// let builder = MyBuilder::default().max_retries(5).header("x-gateway-key", "k");
/// assert_eq!(builder.settings.max_retries, Some(5));
/// ```
#[macro_export]
macro_rules! driver_setters {
    ($settings:ident) => {
        /// An extra header on every request (`anthropic-beta`, `x-goog-user-project`, a
        /// gateway's key …), checked by `build`. Its value is marked sensitive and masked in
        /// errors like an API key.
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.$settings.headers.push((name.into(), value.into()));
            self
        }

        /// The deadline of one HTTP attempt (default 600 s,
        /// [`DEFAULT_TIMEOUT`](weft_provider::DEFAULT_TIMEOUT)): the whole answer, streamed or not
        /// (loading a large model counts). A stream also has the `first_byte_timeout` and the
        /// `stream_idle_timeout`.
        pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.$settings.timeout = Some(timeout);
            self
        }

        /// The deadline for a streamed answer's response headers, from the start of the
        /// attempt (default 60 s, [`DEFAULT_FIRST_BYTE_TIMEOUT`](weft_provider::DEFAULT_FIRST_BYTE_TIMEOUT);
        /// never later than the `timeout`): a server that accepts the connection and never
        /// answers is reported in a minute, not after the whole request timeout. Plain calls
        /// do not have it: their headers come with the whole answer.
        pub fn first_byte_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.$settings.first_byte_timeout = Some(timeout);
            self
        }

        /// The deadline for opening a connection (default 10 s). Ignored with `http_client`:
        /// that client's own setting applies.
        pub fn connect_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.$settings.connect_timeout = Some(timeout);
            self
        }

        /// The longest wait between two events of a streamed answer (SSE events, NDJSON
        /// lines, event-stream messages; a keep-alive `ping` event counts, a `: keep-alive`
        /// comment does not), and from its headers to its first event (default 120 s,
        /// [`DEFAULT_STREAM_IDLE_TIMEOUT`](weft_provider::DEFAULT_STREAM_IDLE_TIMEOUT)).
        pub fn stream_idle_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.$settings.stream_idle_timeout = Some(timeout);
            self
        }

        /// The largest line, and the largest event, a streamed answer may have, and the
        /// largest answer that is not streamed (default 8 MiB,
        /// [`DEFAULT_MAX_EVENT_BYTES`](weft_provider::DEFAULT_MAX_EVENT_BYTES)). A larger one ends the
        /// stream (or the call) with a `ResponseTooLarge` error naming the limit, so that a
        /// body that never ends a line cannot grow memory without bound.
        pub fn max_event_bytes(mut self, limit: usize) -> Self {
            self.$settings.max_event_bytes = Some(limit);
            self
        }

        /// How many times a failed attempt is retried (default 2): the failures
        /// `ChatError::is_retryable` names (HTTP 429 but `insufficient_quota`, 408, 500, 502,
        /// 503, 504, Anthropic's 529 `overloaded_error`, network failures), and for streams
        /// only before the stream is handed out, each attempt signed anew where the provider
        /// signs; waits what `Retry-After` (or the error's retry information) asks. Deadlines
        /// of this client (timeouts without an HTTP status) are not retried. Each retry is
        /// logged at `WARN` under the `tracing` target `weft_provider::retry`, with the fields
        /// `provider`, `kind`, `status`, `retry`, `max_retries`, `wait_ms` and `error`.
        pub fn max_retries(mut self, max_retries: u32) -> Self {
            self.$settings.max_retries = Some(max_retries);
            self
        }

        /// The wait before the first retry when the server names none (default 500 ms); it
        /// doubles with each retry, with jitter.
        pub fn initial_retry_delay(mut self, delay: ::std::time::Duration) -> Self {
            self.$settings.initial_retry_delay = Some(delay);
            self
        }

        /// The longest wait between two attempts (default 60 s), also the cap on the
        /// server's `Retry-After`.
        pub fn max_retry_delay(mut self, delay: ::std::time::Duration) -> Self {
            self.$settings.max_retry_delay = Some(delay);
            self
        }

        /// Speaks HTTP/2 from the first byte (prior knowledge), without negotiating it: to a
        /// plain `http:` endpoint that serves HTTP/2 (h2c: a local model server, a gateway or a
        /// mock behind a TLS-terminating proxy) the runs in flight then share one connection
        /// as HTTP/2 streams instead of holding a connection each. Off by default: over
        /// `https:` HTTP/2 is negotiated anyway (ALPN), and a server that speaks only HTTP/1.1
        /// fails every request with this on. Ignored with `http_client`: that client's own
        /// setting applies.
        pub fn http2_prior_knowledge(mut self) -> Self {
            self.$settings.http2_prior_knowledge = true;
            self
        }

        /// Uses this HTTP client instead of building one. It is used as it is (its own
        /// timeouts, proxies and TLS settings apply) and never closed; deadlines are still
        /// enforced per request.
        pub fn http_client(mut self, client: $crate::reqwest::Client) -> Self {
            self.$settings.http_client = Some(client);
            self
        }

        /// Sends every request through `transport` instead of the HTTP client alone: a
        /// cassette [`Recorder`](weft_provider::cassette::Recorder) writing the traffic down, or a
        /// [`Replayer`](weft_provider::cassette::Replayer) answering from a cassette offline.
        pub fn transport(mut self, transport: ::std::sync::Arc<dyn $crate::Transport>) -> Self {
            self.$settings.transport = Some(transport);
            self
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_knobs_take_the_defaults_and_headers_are_secret() {
        let settings = DriverSettings {
            headers: vec![("X-Gateway-Key".into(), " gw-secret ".into())],
            max_retries: Some(5),
            ..DriverSettings::default()
        };
        assert!(!format!("{settings:?}").contains("gw-secret"));
        let (mut headers, mut secrets) = (HeaderMap::new(), Vec::new());
        settings.add_headers(&mut headers, &mut secrets, "test").unwrap();
        assert!(headers["x-gateway-key"].is_sensitive());
        assert_eq!(headers["x-gateway-key"], "gw-secret");
        assert_eq!(secrets, ["gw-secret"]);
        let driver = settings.into_driver("TestBuilder", secrets).unwrap();
        let config = driver.config();
        assert_eq!(config.settings, "TestBuilder");
        assert_eq!(config.retry.max_retries, 5);
        assert_eq!(config.retry.initial_delay, RetryPolicy::default().initial_delay);
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        assert_eq!(config.max_event_bytes, DEFAULT_MAX_EVENT_BYTES);
    }

    #[test]
    fn bad_headers_are_named_without_their_value() {
        let bad_value =
            DriverSettings { headers: vec![("x-key".into(), "bad\nsecret".into())], ..Default::default() };
        let err = bad_value.add_headers(&mut HeaderMap::new(), &mut Vec::new(), "test").unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Configuration);
        assert!(err.to_string().contains("x-key") && !err.to_string().contains("secret"), "{err}");
        let bad_name =
            DriverSettings { headers: vec![("bad name".into(), "v".into())], ..Default::default() };
        let err = bad_name.add_headers(&mut HeaderMap::new(), &mut Vec::new(), "test").unwrap_err();
        assert!(err.to_string().contains("invalid header name"), "{err}");
    }

    #[test]
    fn only_http_urls_pass() {
        let ftp = reqwest::Url::parse("ftp://x").unwrap();
        let err = check_http_scheme(&ftp, "the base URL", "ftp://x", "test").unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Configuration);
        assert!(check_http_scheme(&reqwest::Url::parse("https://x").unwrap(), "u", "", "t").is_ok());
        assert_eq!(model_name(Some(" m ".into())), Some("m".into()));
        assert_eq!(model_name(Some(" ".into())), None);
        assert_eq!(request_model(Some(" a "), Some("b"), "", "t").unwrap(), "a");
        assert_eq!(request_model(Some(" "), Some("b"), "", "t").unwrap(), "b");
        let err = request_model(None, None, "XBuilder::model, or in X_MODEL", "t").unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("no model: set one in the options, with XBuilder::model, or in X_MODEL"),
            "{message}"
        );
    }
}
