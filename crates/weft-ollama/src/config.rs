//! Configuration: where requests go, the model's defaults (options, `keep_alive`, `think`) and
//! the driver's limits.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use weft_core::redact::{redact_url, url_secrets};
use weft_core::{ChatError, ChatErrorKind};
use weft_provider::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RETRIES,
    DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT, Driver, DriverConfig, RetryPolicy, Transport, parse_url,
    request_headers,
};

use crate::client::OllamaClient;
use crate::embed::OllamaEmbeddingClient;

/// Where Ollama listens unless `OLLAMA_HOST` or [`OllamaBuilder::host`] says otherwise.
pub const DEFAULT_HOST: &str = "http://localhost:11434";
/// Ollama's port, added to a host given without one.
pub const DEFAULT_PORT: u16 = 11434;

/// Builds an [`Ollama`] endpoint. [`Ollama::from_env`] reads `OLLAMA_HOST`, `OLLAMA_MODEL`
/// and `OLLAMA_API_KEY`.
#[derive(Default)]
pub struct OllamaBuilder {
    host: Option<String>,
    model: Option<String>,
    api_key: Option<String>,
    keep_alive: Option<Value>,
    think: Option<Value>,
    options: Map<String, Value>,
    headers: Vec<(String, String)>,
    timeout: Option<Duration>,
    first_byte_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    stream_idle_timeout: Option<Duration>,
    max_event_bytes: Option<usize>,
    max_retries: Option<u32>,
    initial_retry_delay: Option<Duration>,
    max_retry_delay: Option<Duration>,
    http_client: Option<reqwest::Client>,
    transport: Option<Arc<dyn Transport>>,
}

impl fmt::Debug for OllamaBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OllamaBuilder")
            .field("host", &self.host.as_deref().map(redact_url))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("keep_alive", &self.keep_alive)
            .field("think", &self.think)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl OllamaBuilder {
    /// A builder with every knob at its default ([`DEFAULT_HOST`], no model).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from `OLLAMA_HOST` (Ollama's own variable: `host`, `host:port` or a URL),
    /// `OLLAMA_MODEL` and `OLLAMA_API_KEY` (each when set and not empty).
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let mut builder = Self::new();
        builder.host = var("OLLAMA_HOST");
        builder.model = var("OLLAMA_MODEL");
        builder.api_key = var("OLLAMA_API_KEY");
        builder
    }

    /// The server, as `OLLAMA_HOST` takes it: `http://host:port`, `host:port` or `host` (the
    /// scheme defaults to `http`, the port to 11434). Requests go to `{host}/api/chat` and
    /// `{host}/api/embed`. Credentials in it are masked in messages.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The default model (`llama3.2`, `qwen3:8b` …), used when a request's options name none.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// A bearer token, for an Ollama behind an authenticating proxy or Ollama's cloud (sent
    /// as `Authorization: Bearer …`; masked in errors and `Debug`). Local Ollama needs none.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// How long the model stays loaded after a request (`keep_alive`): a duration such as
    /// `"10m"` or `"24h"`, seconds as a number, `0` to unload at once, `-1` to keep it
    /// loaded. A request's own `keep_alive` in [`weft_core::ChatOptions::extra`] wins.
    pub fn keep_alive(mut self, keep_alive: impl Into<Value>) -> Self {
        self.keep_alive = Some(keep_alive.into());
        self
    }

    /// Whether a thinking model thinks before answering (`think`): `true` or `false`, or a
    /// level (`"low"`, `"medium"`, `"high"`) for the models that take one. Thinking comes back
    /// as [`weft_core::Content::Reasoning`].
    pub fn think(mut self, think: impl Into<Value>) -> Self {
        self.think = Some(think.into());
        self
    }

    /// The context window in tokens (`options.num_ctx`; Ollama's default is small).
    pub fn num_ctx(self, tokens: u32) -> Self {
        self.option("num_ctx", tokens)
    }

    /// A model option sent with every request (`options.NAME`: `num_ctx`, `top_k`, `min_p`,
    /// `repeat_penalty`, `num_gpu` …, see Ollama's Modelfile parameters). The request's own
    /// temperature, top_p, max_tokens (`num_predict`), stop and seed win.
    pub fn option(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.options.insert(name.into(), value.into());
        self
    }

    /// An extra header on every request (its value is masked in errors).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The deadline of one HTTP attempt, the whole answer (default 600 s; loading a large
    /// model counts).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The wait for a streamed answer's headers (default 60 s).
    pub fn first_byte_timeout(mut self, timeout: Duration) -> Self {
        self.first_byte_timeout = Some(timeout);
        self
    }

    /// The limit on opening a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The longest silence of a stream, between two lines (default 120 s).
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = Some(timeout);
        self
    }

    /// The largest NDJSON line, and the largest answer that is not streamed (default 8 MiB);
    /// a larger one is a `ResponseTooLarge` error naming the limit.
    pub fn max_event_bytes(mut self, limit: usize) -> Self {
        self.max_event_bytes = Some(limit);
        self
    }

    /// How many times a failed attempt is retried (default 2): what
    /// [`ChatError::is_retryable`] names, waiting what `Retry-After` asks.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = Some(max_retries);
        self
    }

    /// The wait before the first retry when the server names none (default 500 ms).
    pub fn initial_retry_delay(mut self, delay: Duration) -> Self {
        self.initial_retry_delay = Some(delay);
        self
    }

    /// The longest wait between attempts, also the cap on `Retry-After` (default 60 s).
    pub fn max_retry_delay(mut self, delay: Duration) -> Self {
        self.max_retry_delay = Some(delay);
        self
    }

    /// The HTTP client to send with (its own timeouts apply besides this builder's).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Sends every request through `transport` instead of the HTTP client alone: a cassette
    /// [`Recorder`](weft_provider::cassette::Recorder) writing the traffic down, or a
    /// [`Replayer`](weft_provider::cassette::Replayer) answering from a cassette offline.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Checks the configuration and builds the endpoint. Fails with a
    /// [`Configuration`](ChatErrorKind::Configuration) error on an invalid host or header.
    pub fn build(self) -> Result<Ollama, ChatError> {
        let host = normalize_host(self.host.as_deref().unwrap_or(DEFAULT_HOST));
        let shown_host = redact_url(&host);
        let label = format!("ollama {shown_host}");
        let chat_url = parse_url(&format!("{host}/api/chat"), &label)?;
        let embed_url = parse_url(&format!("{host}/api/embed"), &label)?;
        if !matches!(chat_url.scheme(), "http" | "https") {
            return Err(config_error(format!(
                "the host {shown_host:?} uses {}:, not http: or https:",
                chat_url.scheme()
            )));
        }
        let mut secrets = url_secrets(&host);
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let key = key.trim();
            secrets.push(key.to_string());
            let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| config_error("the API key contains characters not allowed in an HTTP header"))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        for (name, value) in self.headers {
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| config_error(format!("invalid header name {name:?}")))?;
            let mut header_value = HeaderValue::from_str(&value)
                .map_err(|_| config_error(format!("invalid value for header {name:?}")))?;
            header_value.set_sensitive(true);
            secrets.push(value.trim().to_string());
            headers.insert(header_name, header_value);
        }
        let http = match self.http_client {
            Some(client) => client,
            None => weft_provider::http_client(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))?,
        };
        let defaults = RetryPolicy::default();
        let config = DriverConfig {
            settings: "OllamaBuilder",
            timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            first_byte_timeout: self.first_byte_timeout.unwrap_or(DEFAULT_FIRST_BYTE_TIMEOUT),
            stream_idle_timeout: self.stream_idle_timeout.unwrap_or(DEFAULT_STREAM_IDLE_TIMEOUT),
            max_event_bytes: self.max_event_bytes.unwrap_or(DEFAULT_MAX_EVENT_BYTES),
            retry: RetryPolicy {
                max_retries: self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
                initial_delay: self.initial_retry_delay.unwrap_or(defaults.initial_delay),
                max_delay: self.max_retry_delay.unwrap_or(defaults.max_delay),
            },
            secrets,
            transport: self.transport,
        };
        let mut stream_headers = request_headers(&headers, false);
        stream_headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("application/x-ndjson"));
        Ok(Ollama {
            inner: Arc::new(Inner {
                driver: Driver::new(http, config),
                label,
                shown_host,
                shown_chat_url: redact_url(chat_url.as_str()),
                shown_embed_url: redact_url(embed_url.as_str()),
                chat_url,
                embed_url,
                json_headers: request_headers(&headers, false),
                stream_headers,
                model: self.model.map(|model| model.trim().to_string()).filter(|model| !model.is_empty()),
                keep_alive: self.keep_alive,
                think: self.think,
                options: self.options,
            }),
        })
    }
}

/// `OLLAMA_HOST` as a URL: `http://` when no scheme is given, port 11434 when an `http` host
/// names none, no trailing `/`.
pub(crate) fn normalize_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    let (scheme, rest) = match host.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("http".to_string(), host),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let host_part = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let has_port = match host_part.rfind(']') {
        Some(bracket) => host_part[bracket..].contains(':'),
        None => host_part.contains(':'),
    };
    let authority = if has_port || scheme != "http" || host_part.is_empty() {
        authority.to_string()
    } else {
        format!("{authority}:{DEFAULT_PORT}")
    };
    format!("{scheme}://{authority}{path}")
}

fn config_error(message: impl Into<String>) -> ChatError {
    ChatError::new(ChatErrorKind::Configuration, message).with_provider("ollama")
}

/// A configured Ollama server: its host, default model and options, limits and an HTTP
/// client. Cheap to clone; clones share the HTTP client.
#[derive(Clone)]
pub struct Ollama {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Ollama {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ollama")
            .field("host", &self.inner.shown_host)
            .field("model", &self.inner.model)
            .field("keep_alive", &self.inner.keep_alive)
            .field("think", &self.inner.think)
            .finish_non_exhaustive()
    }
}

/// The shared state behind an [`Ollama`] handle.
pub(crate) struct Inner {
    pub(crate) driver: Driver,
    /// Names the endpoint on errors: `ollama http://localhost:11434`.
    pub(crate) label: String,
    pub(crate) shown_host: String,
    pub(crate) chat_url: reqwest::Url,
    pub(crate) shown_chat_url: String,
    pub(crate) embed_url: reqwest::Url,
    pub(crate) shown_embed_url: String,
    pub(crate) json_headers: HeaderMap,
    pub(crate) stream_headers: HeaderMap,
    pub(crate) model: Option<String>,
    pub(crate) keep_alive: Option<Value>,
    pub(crate) think: Option<Value>,
    pub(crate) options: Map<String, Value>,
}

impl Ollama {
    /// A builder with every knob at its default.
    pub fn builder() -> OllamaBuilder {
        OllamaBuilder::new()
    }

    /// The server `OLLAMA_HOST`, `OLLAMA_MODEL` and `OLLAMA_API_KEY` describe.
    pub fn from_env() -> Result<Self, ChatError> {
        OllamaBuilder::from_env().build()
    }

    /// The `/api/chat` client of this server.
    pub fn chat(&self) -> OllamaClient {
        OllamaClient::new(self.clone())
    }

    /// An `/api/embed` client for `model` (`nomic-embed-text`, `all-minilm` …); a call's
    /// [`weft_core::EmbeddingOptions::model`] overrides it.
    pub fn embeddings(&self, model: impl Into<String>) -> OllamaEmbeddingClient {
        OllamaEmbeddingClient::new(self.clone(), model.into())
    }

    /// The host, credentials masked.
    pub fn host(&self) -> &str {
        &self.inner.shown_host
    }

    /// The default model, if one was set.
    pub fn default_model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_host_takes_the_forms_ollama_takes() {
        for (given, url) in [
            ("http://localhost:11434", "http://localhost:11434"),
            ("localhost", "http://localhost:11434"),
            ("0.0.0.0:8080", "http://0.0.0.0:8080"),
            ("127.0.0.1", "http://127.0.0.1:11434"),
            ("https://ollama.example.com", "https://ollama.example.com"),
            ("http://[::1]", "http://[::1]:11434"),
            ("http://[::1]:9000/", "http://[::1]:9000"),
            ("http://user:pw@gpu-box", "http://user:pw@gpu-box:11434"),
            ("http://gpu-box/ollama", "http://gpu-box:11434/ollama"),
        ] {
            assert_eq!(normalize_host(given), url, "{given}");
        }
    }

    #[test]
    fn the_environment_and_the_urls() {
        let vars = |name: &str| match name {
            "OLLAMA_HOST" => Some("gpu-box:9999".to_string()),
            "OLLAMA_MODEL" => Some(" ".to_string()),
            "OLLAMA_API_KEY" => Some("ollama-secret".to_string()),
            _ => None,
        };
        let ollama = OllamaBuilder::from_vars(vars).build().unwrap();
        assert_eq!(ollama.inner.chat_url.as_str(), "http://gpu-box:9999/api/chat");
        assert_eq!(ollama.inner.embed_url.as_str(), "http://gpu-box:9999/api/embed");
        assert_eq!(ollama.default_model(), None);
        assert_eq!(ollama.inner.json_headers["authorization"], "Bearer ollama-secret");
        assert!(ollama.inner.json_headers["authorization"].is_sensitive());
        assert_eq!(ollama.inner.stream_headers["accept"], "application/x-ndjson");
        assert!(!format!("{:?}", OllamaBuilder::from_vars(vars)).contains("secret"));
        assert!(ollama.inner.driver.config().secrets.iter().any(|secret| secret == "ollama-secret"));
        let ollama = Ollama::builder().build().unwrap();
        assert_eq!(ollama.inner.chat_url.as_str(), "http://localhost:11434/api/chat");
        assert_eq!(ollama.inner.label, "ollama http://localhost:11434");
        assert!(ollama.inner.json_headers.get("authorization").is_none());
        let err = Ollama::builder().host("ftp://x").build().unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Configuration);
    }
}
