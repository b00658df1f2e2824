//! Configuration: which API (the Gemini API or Vertex AI), with which credentials, headers and
//! limits.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName};
use weft_core::redact::{redact_url, url_secrets};
use weft_core::{BoxError, ChatError, ChatErrorKind};
use weft_provider::{
    Driver, DriverSettings, check_http_scheme, model_name, parse_url, request_headers, secret_header,
};

use crate::client::GeminiClient;

/// The Gemini API (Google AI Studio's keys).
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";
/// The Vertex AI location used when [`GeminiBuilder::vertex`] is given none.
pub const DEFAULT_VERTEX_LOCATION: &str = "us-central1";

/// What an access-token source returns: a fresh OAuth 2 access token (without `Bearer `), or
/// why there is none.
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>>;

/// Gives an access token for each request (e.g. from a credential that refreshes it).
pub(crate) type TokenSource = Arc<dyn Fn() -> TokenFuture + Send + Sync>;

/// Builds a [`Gemini`] endpoint: the Gemini API with an API key (the default), or Vertex AI
/// ([`GeminiBuilder::vertex`]) with an OAuth access token. [`Gemini::from_env`] reads the
/// environment (see [`GeminiBuilder::from_env`]).
#[derive(Default)]
pub struct GeminiBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
    vertex: Option<(String, String)>,
    access_token: Option<String>,
    token_source: Option<TokenSource>,
    thinking_budget: Option<i32>,
    include_thoughts: Option<bool>,
    settings: DriverSettings,
}

impl fmt::Debug for GeminiBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("access_token", &self.access_token.as_ref().map(|_| "<redacted>"))
            .field("token_source", &self.token_source.as_ref().map(|_| "<fn>"))
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("model", &self.model)
            .field("vertex", &self.vertex)
            .finish_non_exhaustive()
    }
}

impl GeminiBuilder {
    /// A builder with every knob at its default (the Gemini API, no API key).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from the environment, each variable when set and not empty:
    ///
    /// - `GOOGLE_API_KEY`, else `GEMINI_API_KEY`: the API key (Google's SDKs prefer
    ///   `GOOGLE_API_KEY` too when both are set);
    /// - `GEMINI_BASE_URL`: the server; `GEMINI_MODEL`: the default model;
    /// - `GOOGLE_GENAI_USE_VERTEXAI=true` (as Google's SDKs read it) selects Vertex AI, in
    ///   `GOOGLE_CLOUD_PROJECT` and `GOOGLE_CLOUD_LOCATION` (default
    ///   [`DEFAULT_VERTEX_LOCATION`]), with the access token in `GOOGLE_CLOUD_ACCESS_TOKEN`
    ///   (e.g. `$(gcloud auth print-access-token)`).
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let var =
            |name: &str| var(name).map(|value| value.trim().to_string()).filter(|value| !value.is_empty());
        let mut builder = Self::new();
        builder.api_key = var("GOOGLE_API_KEY").or_else(|| var("GEMINI_API_KEY"));
        builder.base_url = var("GEMINI_BASE_URL");
        builder.model = var("GEMINI_MODEL");
        let vertex = var("GOOGLE_GENAI_USE_VERTEXAI")
            .is_some_and(|value| matches!(value.to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
        if vertex {
            let project = var("GOOGLE_CLOUD_PROJECT").unwrap_or_default();
            let location =
                var("GOOGLE_CLOUD_LOCATION").unwrap_or_else(|| DEFAULT_VERTEX_LOCATION.to_string());
            builder.vertex = Some((project, location));
            builder.access_token = var("GOOGLE_CLOUD_ACCESS_TOKEN");
        }
        builder
    }

    /// The Gemini API key, sent as `x-goog-api-key` (never shown: masked in errors and
    /// `Debug`).
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The server. For the Gemini API it replaces [`DEFAULT_BASE_URL`] (requests go to
    /// `{base}/models/{model}:generateContent`; a proxy such as LiteLLM serves
    /// `http://host:port/v1beta`). For Vertex AI it replaces
    /// `https://{location}-aiplatform.googleapis.com` (requests go to
    /// `{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:…`).
    /// Credentials in it are masked in messages.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The default model (`gemini-2.5-flash`; `models/…` is understood), used when a
    /// request's options name none.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Vertex AI instead of the Gemini API: Google's models of `project` in `location`
    /// (`us-central1`, `europe-west4`, `global` …), authenticated with an OAuth access token
    /// ([`access_token`](Self::access_token) or [`token_source`](Self::token_source)).
    pub fn vertex(mut self, project: impl Into<String>, location: impl Into<String>) -> Self {
        self.vertex = Some((project.into(), location.into()));
        self
    }

    /// An OAuth 2 access token, sent as `Authorization: Bearer …` (Vertex AI; tokens from
    /// `gcloud auth print-access-token` last an hour). Never shown.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// Asks `source` for an access token before every request (it may cache and refresh
    /// one), sent as `Authorization: Bearer …`. Its failure fails the call with an
    /// [`Authentication`](ChatErrorKind::Authentication) error. Wins over
    /// [`access_token`](Self::access_token).
    pub fn token_source<F, Fut, E>(mut self, source: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let source = Arc::new(source);
        self.token_source = Some(Arc::new(move || {
            let future = source();
            Box::pin(async move { future.await.map_err(Into::into) }) as TokenFuture
        }));
        self
    }

    /// Sends `thinkingConfig.thinkingBudget` with every request: the thinking tokens allowed
    /// (0 turns thinking off on the models that allow it, -1 lets the model decide). A
    /// request's own `generationConfig.thinkingConfig` in
    /// [`weft_core::ChatOptions::extra`] wins.
    pub fn thinking_budget(mut self, budget: i32) -> Self {
        self.thinking_budget = Some(budget);
        self
    }

    /// Sends `thinkingConfig.includeThoughts`: the model's thought summaries come back as
    /// [`weft_core::Content::Reasoning`].
    pub fn include_thoughts(mut self, include: bool) -> Self {
        self.include_thoughts = Some(include);
        self
    }

    weft_provider::driver_setters!(settings);

    /// Checks the configuration and builds the endpoint. Fails with a
    /// [`Configuration`](ChatErrorKind::Configuration) error on an invalid URL or header, or
    /// Vertex AI without a project or an access token.
    pub fn build(self) -> Result<Gemini, ChatError> {
        let given_base = self.base_url.as_deref().map(|base| base.trim().trim_end_matches('/').to_string());
        let (kind, base_url, models_path) = match &self.vertex {
            None => {
                let base = given_base.unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
                (ApiKind::Gemini, base, "/models".to_string())
            }
            Some((project, location)) => {
                let (project, location) = (project.trim(), location.trim());
                if project.is_empty() {
                    return Err(config_error(
                        "Vertex AI needs a project: GeminiBuilder::vertex, or GOOGLE_CLOUD_PROJECT",
                    ));
                }
                let location = if location.is_empty() { DEFAULT_VERTEX_LOCATION } else { location };
                let base = given_base.unwrap_or_else(|| match location {
                    "global" => "https://aiplatform.googleapis.com".to_string(),
                    location => format!("https://{location}-aiplatform.googleapis.com"),
                });
                let path = format!("/v1/projects/{project}/locations/{location}/publishers/google/models");
                (ApiKind::Vertex, base, path)
            }
        };
        let shown_base_url = redact_url(&base_url);
        let label = match kind {
            ApiKind::Gemini => format!("gemini {shown_base_url}"),
            ApiKind::Vertex => format!("vertex ai {shown_base_url}"),
        };
        let (path, query) = match base_url.split_once('?') {
            Some((path, query)) => (path.trim_end_matches('/').to_string(), query.to_string()),
            None => (base_url.clone(), String::new()),
        };
        let models_url = format!("{path}{models_path}");
        let parsed = parse_url(&format!("{models_url}/m:generateContent"), &label)?;
        check_http_scheme(&parsed, "the base URL", &shown_base_url, "gemini")?;
        let mut secrets = url_secrets(&base_url);
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let key = key.trim();
            secrets.push(key.to_string());
            headers.insert(
                HeaderName::from_static("x-goog-api-key"),
                secret_header(key, "the API key", "gemini")?,
            );
        }
        if self.token_source.is_none() {
            if let Some(token) = &self.access_token {
                let token = token.trim();
                secrets.push(token.to_string());
                headers.insert(
                    AUTHORIZATION,
                    secret_header(&format!("Bearer {token}"), "the access token", "gemini")?,
                );
            } else if kind == ApiKind::Vertex && self.base_url.is_none() {
                return Err(config_error(
                    "Vertex AI needs an OAuth access token: GeminiBuilder::access_token or token_source, \
                     or GOOGLE_CLOUD_ACCESS_TOKEN (e.g. from `gcloud auth print-access-token`)",
                ));
            }
        }
        self.settings.add_headers(&mut headers, &mut secrets, "gemini")?;
        Ok(Gemini {
            inner: Arc::new(Inner {
                driver: self.settings.into_driver("GeminiBuilder", secrets)?,
                kind,
                label,
                shown_base_url,
                models_url,
                query,
                json_headers: request_headers(&headers, false),
                stream_headers: request_headers(&headers, true),
                token_source: self.token_source,
                model: model_name(self.model),
                thinking_budget: self.thinking_budget,
                include_thoughts: self.include_thoughts,
            }),
        })
    }
}

pub(crate) fn config_error(message: impl Into<String>) -> ChatError {
    ChatError::new(ChatErrorKind::Configuration, message).with_provider("gemini")
}

/// Which of Google's two APIs serves the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiKind {
    /// The Gemini API (`generativelanguage.googleapis.com`), with an API key.
    Gemini,
    /// Vertex AI (`{location}-aiplatform.googleapis.com`), with an OAuth token.
    Vertex,
}

/// A configured Gemini API or Vertex AI endpoint: credentials, headers, limits and an HTTP
/// client. Cheap to clone; clones share the HTTP client.
#[derive(Clone)]
pub struct Gemini {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Gemini {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gemini")
            .field("api", &self.inner.kind)
            .field("base_url", &self.inner.shown_base_url)
            .field("model", &self.inner.model)
            .field("thinking_budget", &self.inner.thinking_budget)
            .finish_non_exhaustive()
    }
}

/// The shared state behind a [`Gemini`] handle.
pub(crate) struct Inner {
    pub(crate) driver: Driver,
    pub(crate) kind: ApiKind,
    /// Names the endpoint on errors: `gemini https://generativelanguage.googleapis.com/v1beta`.
    pub(crate) label: String,
    pub(crate) shown_base_url: String,
    /// Where the models are: `{base}/models`, or Vertex AI's
    /// `{base}/v1/projects/{p}/locations/{l}/publishers/google/models`.
    pub(crate) models_url: String,
    /// The base URL's query, without `?` (usually empty).
    pub(crate) query: String,
    pub(crate) json_headers: HeaderMap,
    pub(crate) stream_headers: HeaderMap,
    pub(crate) token_source: Option<TokenSource>,
    pub(crate) model: Option<String>,
    pub(crate) thinking_budget: Option<i32>,
    pub(crate) include_thoughts: Option<bool>,
}

impl Inner {
    /// The URL of `method` (`generateContent`, `streamGenerateContent`, `batchEmbedContents`,
    /// `predict`) of `model`, and the same with credentials masked. A stream asks for SSE
    /// (`alt=sse`).
    pub(crate) fn method_url(
        &self,
        model: &str,
        method: &str,
        sse: bool,
    ) -> Result<(reqwest::Url, String), ChatError> {
        let model = model.trim();
        let model = model.strip_prefix("models/").unwrap_or(model);
        let mut query = self.query.clone();
        if sse {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str("alt=sse");
        }
        let url = if query.is_empty() {
            format!("{}/{model}:{method}", self.models_url)
        } else {
            format!("{}/{model}:{method}?{query}", self.models_url)
        };
        Ok((parse_url(&url, &self.label)?, redact_url(&url)))
    }

    /// The name of the provider, as [`weft_core::ClientInfo`] gives it.
    pub(crate) fn provider_name(&self) -> &'static str {
        match self.kind {
            ApiKind::Gemini => "gemini",
            ApiKind::Vertex => "vertex_ai",
        }
    }

    /// The bearer token of this request, from the token source, if there is one.
    pub(crate) async fn fresh_token(&self) -> Result<Option<String>, ChatError> {
        let Some(source) = &self.token_source else { return Ok(None) };
        match source().await {
            Ok(token) if !token.trim().is_empty() => Ok(Some(token.trim().to_string())),
            Ok(_) => {
                Err(ChatError::new(ChatErrorKind::Authentication, "the token source gave an empty token")
                    .with_provider(self.label.as_str()))
            }
            Err(err) => Err(ChatError::new(
                ChatErrorKind::Authentication,
                format!("the token source gave no access token: {err}"),
            )
            .with_provider(self.label.as_str())
            .with_source(err)),
        }
    }

    /// The headers with `Authorization: Bearer {token}` added.
    pub(crate) fn with_bearer(headers: &HeaderMap, token: &str) -> Result<HeaderMap, ChatError> {
        let mut headers = headers.clone();
        headers
            .insert(AUTHORIZATION, secret_header(&format!("Bearer {token}"), "the access token", "gemini")?);
        Ok(headers)
    }
}

impl Gemini {
    /// A builder with every knob at its default.
    pub fn builder() -> GeminiBuilder {
        GeminiBuilder::new()
    }

    /// The endpoint the environment describes (see [`GeminiBuilder::from_env`]).
    pub fn from_env() -> Result<Self, ChatError> {
        GeminiBuilder::from_env().build()
    }

    /// The chat client of this endpoint (`generateContent`, `streamGenerateContent`).
    pub fn chat(&self) -> GeminiClient {
        GeminiClient::new(self.clone())
    }

    /// The base URL, credentials masked.
    pub fn base_url(&self) -> &str {
        &self.inner.shown_base_url
    }

    /// The default model, if one was set.
    pub fn default_model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }

    /// Whether this is Vertex AI (else the Gemini API).
    pub fn is_vertex(&self) -> bool {
        self.inner.kind == ApiKind::Vertex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gemini_api_from_the_environment() {
        let vars = |name: &str| match name {
            "GEMINI_API_KEY" => Some("gemini-secret".to_string()),
            "GOOGLE_API_KEY" => Some("google-secret".to_string()),
            "GEMINI_MODEL" => Some(" models/gemini-2.5-flash ".to_string()),
            _ => None,
        };
        let gemini = GeminiBuilder::from_vars(vars).build().unwrap();
        assert_eq!(gemini.inner.json_headers["x-goog-api-key"], "google-secret");
        assert!(gemini.inner.json_headers["x-goog-api-key"].is_sensitive());
        assert!(!format!("{:?}", GeminiBuilder::from_vars(vars)).contains("secret"));
        let (url, _) =
            gemini.inner.method_url(gemini.default_model().unwrap(), "generateContent", false).unwrap();
        assert_eq!(
            url.as_str(),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
        );
        let (url, _) = gemini.inner.method_url("gemini-2.5-pro", "streamGenerateContent", true).unwrap();
        assert_eq!(
            url.as_str(),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
        );
        assert_eq!(gemini.inner.label, "gemini https://generativelanguage.googleapis.com/v1beta");
        let only_gemini = |name: &str| (name == "GEMINI_API_KEY").then(|| "g-key".to_string());
        let gemini = GeminiBuilder::from_vars(only_gemini).build().unwrap();
        assert_eq!(gemini.inner.json_headers["x-goog-api-key"], "g-key");
        assert!(!gemini.is_vertex());
    }

    #[test]
    fn vertex_ai_endpoints_and_their_token() {
        let vars = |name: &str| match name {
            "GOOGLE_GENAI_USE_VERTEXAI" => Some("True".to_string()),
            "GOOGLE_CLOUD_PROJECT" => Some("my-project".to_string()),
            "GOOGLE_CLOUD_LOCATION" => Some("europe-west4".to_string()),
            "GOOGLE_CLOUD_ACCESS_TOKEN" => Some("ya29.secret".to_string()),
            _ => None,
        };
        let vertex = GeminiBuilder::from_vars(vars).build().unwrap();
        assert!(vertex.is_vertex());
        assert_eq!(vertex.inner.json_headers[AUTHORIZATION], "Bearer ya29.secret");
        assert!(vertex.inner.driver.config().secrets.iter().any(|secret| secret == "ya29.secret"));
        let (url, _) = vertex.inner.method_url("gemini-2.5-flash", "streamGenerateContent", true).unwrap();
        assert_eq!(
            url.as_str(),
            "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-project/locations/europe-west4/\
             publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        let global = Gemini::builder().vertex("p", "global").access_token("t").build().unwrap();
        let (url, _) = global.inner.method_url("gemini-2.5-flash", "generateContent", false).unwrap();
        assert_eq!(
            url.as_str(),
            "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/\
             gemini-2.5-flash:generateContent"
        );
        let err = Gemini::builder().vertex("p", "us-central1").build().unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Configuration);
        assert!(err.message().contains("access token"), "{err}");
        let err = Gemini::builder().vertex(" ", "us-central1").access_token("t").build().unwrap_err();
        assert!(err.message().contains("project"), "{err}");
        // A token source is asked per request instead.
        let sourced = Gemini::builder()
            .vertex("p", "us-central1")
            .token_source(|| async { Ok::<_, std::io::Error>("fresh".to_string()) })
            .build()
            .unwrap();
        assert!(sourced.inner.json_headers.get(AUTHORIZATION).is_none());
    }

    #[test]
    fn custom_headers_are_sensitive_and_bad_urls_refused() {
        let gemini = Gemini::builder().header("X-Gateway-Key", "gw-secret-value").build().unwrap();
        assert!(gemini.inner.json_headers["x-gateway-key"].is_sensitive());
        assert!(!format!("{:?}", gemini.inner.json_headers).contains("gw-secret-value"));
        let err = Gemini::builder().header("X-Key", "bad\nsecret-value").build().unwrap_err();
        assert!(!err.to_string().contains("secret-value"), "{err}");
        let err = Gemini::builder().base_url("ftp://x").build().unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Configuration);
        let proxied = Gemini::builder().base_url("http://127.0.0.1:9/v1beta/?k=v").build().unwrap();
        let (url, _) = proxied.inner.method_url("tiny", "streamGenerateContent", true).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/v1beta/models/tiny:streamGenerateContent?k=v&alt=sse");
    }
}
