//! Configuration: where requests go, the model's defaults (options, `keep_alive`, `think`) and
//! the driver's limits.

use std::fmt;
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Map, Value};
use weft_core::ChatError;
use weft_core::redact::{redact_url, url_secrets};
use weft_provider::{
    Driver, DriverSettings, check_http_scheme, model_name, parse_url, request_headers, secret_header,
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
    settings: DriverSettings,
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

    weft_provider::driver_setters!(settings);

    /// Checks the configuration and builds the endpoint. Fails with a
    /// [`Configuration`](weft_core::ChatErrorKind::Configuration) error on an invalid host or header.
    pub fn build(self) -> Result<Ollama, ChatError> {
        let host = normalize_host(self.host.as_deref().unwrap_or(DEFAULT_HOST));
        let shown_host = redact_url(&host);
        let label = format!("ollama {shown_host}");
        let chat_url = parse_url(&format!("{host}/api/chat"), &label)?;
        let embed_url = parse_url(&format!("{host}/api/embed"), &label)?;
        check_http_scheme(&chat_url, "the host", &shown_host, "ollama")?;
        let mut secrets = url_secrets(&host);
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let key = key.trim();
            secrets.push(key.to_string());
            headers.insert(AUTHORIZATION, secret_header(&format!("Bearer {key}"), "the API key", "ollama")?);
        }
        self.settings.add_headers(&mut headers, &mut secrets, "ollama")?;
        let mut stream_headers = request_headers(&headers, false);
        stream_headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("application/x-ndjson"));
        Ok(Ollama {
            inner: Arc::new(Inner {
                driver: self.settings.into_driver("OllamaBuilder", secrets)?,
                label,
                shown_host,
                shown_chat_url: redact_url(chat_url.as_str()),
                shown_embed_url: redact_url(embed_url.as_str()),
                chat_url,
                embed_url,
                json_headers: request_headers(&headers, false),
                stream_headers,
                model: model_name(self.model),
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
        assert_eq!(err.kind(), weft_core::ChatErrorKind::Configuration);
    }
}
