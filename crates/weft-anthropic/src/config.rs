//! Configuration: where requests go, with which credentials, headers and limits.

use std::fmt;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use weft_core::redact::{redact_url, url_secrets};
use weft_core::{ChatError, ChatErrorKind};
use weft_provider::{
    Driver, DriverSettings, check_http_scheme, model_name, parse_url, request_headers, secret_header,
};

use crate::client::AnthropicClient;

/// Anthropic's API.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The `anthropic-version` header sent unless [`AnthropicBuilder::version`] says otherwise.
pub const DEFAULT_VERSION: &str = "2023-06-01";
/// The `max_tokens` sent when the options set none (the Messages API requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Builds an [`Anthropic`] endpoint. [`Anthropic::from_env`] reads `ANTHROPIC_API_KEY`,
/// `ANTHROPIC_BASE_URL` and `ANTHROPIC_MODEL`.
#[derive(Default)]
pub struct AnthropicBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
    version: Option<String>,
    max_tokens: Option<u32>,
    thinking_budget: Option<u32>,
    settings: DriverSettings,
}

impl fmt::Debug for AnthropicBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("model", &self.model)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl AnthropicBuilder {
    /// A builder with every knob at its default (no API key).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL` and `ANTHROPIC_MODEL` (each
    /// when set and not empty).
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let mut builder = Self::new();
        builder.api_key = var("ANTHROPIC_API_KEY");
        builder.base_url = var("ANTHROPIC_BASE_URL");
        builder.model = var("ANTHROPIC_MODEL");
        builder
    }

    /// The API key, sent as `x-api-key` (never shown: masked in errors and `Debug`).
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The server (default [`DEFAULT_BASE_URL`]); requests go to `{base}/v1/messages`.
    /// Credentials in it are masked in messages.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The default model, used when a request's options name none.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The `anthropic-version` header (default [`DEFAULT_VERSION`]).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The `max_tokens` sent when a request's options set none (default
    /// [`DEFAULT_MAX_TOKENS`]).
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Turns extended thinking on for every request, with this budget of thinking tokens
    /// (`thinking: {"type": "enabled", "budget_tokens": N}`; `max_tokens` is raised above it
    /// when needed). A request's own `thinking` in [`weft_core::ChatOptions::extra`] wins.
    pub fn thinking_budget(mut self, budget_tokens: u32) -> Self {
        self.thinking_budget = Some(budget_tokens);
        self
    }

    weft_provider::driver_setters!(settings);

    /// Checks the configuration and builds the endpoint. Fails with a
    /// [`Configuration`](ChatErrorKind::Configuration) error on an invalid URL or header.
    pub fn build(self) -> Result<Anthropic, ChatError> {
        let base_url = self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL).trim().trim_end_matches('/');
        let base_url = base_url.strip_suffix("/v1").unwrap_or(base_url).to_string();
        let shown_base_url = redact_url(&base_url);
        let label = format!("anthropic messages {shown_base_url}");
        let (path, query) = match base_url.split_once('?') {
            Some((path, query)) => (path, format!("?{query}")),
            None => (base_url.as_str(), String::new()),
        };
        let url = format!("{path}/v1/messages{query}");
        let parsed = parse_url(&url, &label)?;
        check_http_scheme(&parsed, "the base URL", &shown_base_url, "anthropic")?;
        let mut secrets = url_secrets(&base_url);
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            secrets.push(key.trim().to_string());
            headers.insert(
                HeaderName::from_static("x-api-key"),
                secret_header(key, "the API key", "anthropic")?,
            );
        }
        let version = self.version.unwrap_or_else(|| DEFAULT_VERSION.to_string());
        let version_value = HeaderValue::from_str(&version)
            .map_err(|_| config_error(format!("invalid anthropic-version {version:?}")))?;
        headers.insert(HeaderName::from_static("anthropic-version"), version_value);
        self.settings.add_headers(&mut headers, &mut secrets, "anthropic")?;
        Ok(Anthropic {
            inner: Arc::new(Inner {
                driver: self.settings.into_driver("AnthropicBuilder", secrets)?,
                label,
                shown_base_url,
                shown_url: redact_url(&url),
                url: parsed,
                json_headers: request_headers(&headers, false),
                stream_headers: request_headers(&headers, true),
                model: model_name(self.model),
                max_tokens: self.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
                thinking_budget: self.thinking_budget,
            }),
        })
    }
}

fn config_error(message: impl Into<String>) -> ChatError {
    ChatError::new(ChatErrorKind::Configuration, message).with_provider("anthropic")
}

/// A configured Messages API endpoint: credentials, headers, limits and an HTTP client. Cheap
/// to clone; clones share the HTTP client.
#[derive(Clone)]
pub struct Anthropic {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Anthropic")
            .field("base_url", &self.inner.shown_base_url)
            .field("model", &self.inner.model)
            .field("max_tokens", &self.inner.max_tokens)
            .field("thinking_budget", &self.inner.thinking_budget)
            .finish_non_exhaustive()
    }
}

/// The shared state behind an [`Anthropic`] handle.
pub(crate) struct Inner {
    pub(crate) driver: Driver,
    /// Names the endpoint on errors: `anthropic messages https://api.anthropic.com`.
    pub(crate) label: String,
    pub(crate) shown_base_url: String,
    pub(crate) url: reqwest::Url,
    pub(crate) shown_url: String,
    pub(crate) json_headers: HeaderMap,
    pub(crate) stream_headers: HeaderMap,
    pub(crate) model: Option<String>,
    pub(crate) max_tokens: u32,
    pub(crate) thinking_budget: Option<u32>,
}

impl Anthropic {
    /// A builder with every knob at its default.
    pub fn builder() -> AnthropicBuilder {
        AnthropicBuilder::new()
    }

    /// The endpoint `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL` and `ANTHROPIC_MODEL` describe.
    pub fn from_env() -> Result<Self, ChatError> {
        AnthropicBuilder::from_env().build()
    }

    /// The Messages API client of this endpoint.
    pub fn messages(&self) -> AnthropicClient {
        AnthropicClient::new(self.clone())
    }

    /// The base URL, credentials masked.
    pub fn base_url(&self) -> &str {
        &self.inner.shown_base_url
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
    fn custom_headers_are_sensitive_and_masked_in_errors() {
        let builder = Anthropic::builder().header("X-Gateway-Key", "gw-secret-value");
        assert!(!format!("{builder:?}").contains("gw-secret-value"));
        let anthropic = builder.build().unwrap();
        for headers in [&anthropic.inner.json_headers, &anthropic.inner.stream_headers] {
            assert!(headers["x-gateway-key"].is_sensitive());
            assert!(!format!("{headers:?}").contains("gw-secret-value"), "{headers:?}");
        }
        assert!(!format!("{anthropic:?}").contains("gw-secret-value"));
        let secrets = &anthropic.inner.driver.config().secrets;
        assert!(secrets.iter().any(|secret| secret == "gw-secret-value"), "{secrets:?}");
        let err = Anthropic::builder().header("X-Key", "bad\nsecret-value").build().unwrap_err();
        assert!(!err.to_string().contains("secret-value"), "{err}");
    }

    #[test]
    fn the_environment_and_the_base_url() {
        let vars = |name: &str| match name {
            "ANTHROPIC_API_KEY" => Some("sk-ant-secret".to_string()),
            "ANTHROPIC_BASE_URL" => Some("http://127.0.0.1:9/v1/".to_string()),
            "ANTHROPIC_MODEL" => Some(" ".to_string()),
            _ => None,
        };
        let anthropic = AnthropicBuilder::from_vars(vars).build().unwrap();
        assert_eq!(anthropic.inner.url.as_str(), "http://127.0.0.1:9/v1/messages");
        assert_eq!(anthropic.default_model(), None);
        assert_eq!(anthropic.inner.json_headers["x-api-key"], "sk-ant-secret");
        assert_eq!(anthropic.inner.json_headers["anthropic-version"], DEFAULT_VERSION);
        assert!(!format!("{:?}", AnthropicBuilder::from_vars(vars)).contains("secret"));
        let anthropic = Anthropic::builder().build().unwrap();
        assert_eq!(anthropic.inner.url.as_str(), "https://api.anthropic.com/v1/messages");
        assert_eq!(anthropic.inner.label, "anthropic messages https://api.anthropic.com");
        let err = Anthropic::builder().base_url("ftp://x").build().unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Configuration);
    }
}
