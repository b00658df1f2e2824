//! Configuration: where requests go, with which credentials, headers and limits.
//!
//! [`OpenAI::builder`] sets one knob per method and [`OpenAIBuilder::build`] checks them all at
//! once. The built [`OpenAI`] is a cheap handle (an `Arc` inside) that hands out the two
//! clients: [`OpenAI::chat`] (Chat Completions) and [`OpenAI::responses`] (Responses).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use weft_core::redact::{redact_url, url_secrets};
use weft_core::{ChatError, ChatErrorKind, ChatOptions, ToolChoice};

use crate::chat::OpenAIChatClient;
use weft_provider::{Driver, DriverSettings, TokenCredential, request_headers, secret_header};

use crate::responses::OpenAIResponsesClient;
use crate::transport::{Api, Endpoint};
pub use weft_provider::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RETRIES,
    DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT,
};

/// The base URL used when none is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The Azure OpenAI `api-version` used for Chat Completions when none is configured.
pub const DEFAULT_AZURE_API_VERSION: &str = "2024-10-21";

/// Azure OpenAI settings: the resource endpoint, the deployment and the API version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Azure {
    pub(crate) endpoint: String,
    pub(crate) deployment: Option<String>,
    pub(crate) api_version: String,
}

impl Azure {
    /// Whether requests use the v1 API (`{endpoint}/openai/v1/…`, no `api-version`) rather than
    /// the dated one (`{endpoint}/openai/deployments/{deployment}/…?api-version=…`).
    pub(crate) fn is_v1(&self) -> bool {
        self.api_version == crate::azure::AZURE_V1_API_VERSION
    }
}

/// Builds an [`OpenAI`] handle. Every knob is optional; see [`OpenAI::builder`].
///
/// Its `Debug` output never shows the API key.
#[derive(Clone, Default)]
pub struct OpenAIBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
    settings: DriverSettings,
    organization: Option<String>,
    project: Option<String>,
    azure_endpoint: Option<String>,
    azure_deployment: Option<String>,
    azure_api_version: Option<String>,
    named_tool_choice: Option<bool>,
    pub(crate) credential: Option<Arc<dyn TokenCredential>>,
    pub(crate) token_scope: Option<String>,
    pub(crate) foundry_project: Option<String>,
}

impl fmt::Debug for OpenAIBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAIBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("model", &self.model)
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("settings", &self.settings)
            .field("azure_endpoint", &self.azure_endpoint.as_deref().map(redact_url))
            .field("azure_deployment", &self.azure_deployment)
            .field("azure_api_version", &self.azure_api_version)
            .field("named_tool_choice", &self.named_tool_choice)
            .field("credential", &self.credential)
            .field("token_scope", &self.token_scope)
            .field("foundry_project", &self.foundry_project.as_deref().map(redact_url))
            .finish()
    }
}

pub(crate) fn config_error(message: impl Into<String>) -> ChatError {
    ChatError::new(ChatErrorKind::Configuration, message).with_provider("openai")
}

impl OpenAIBuilder {
    /// A builder with every knob at its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder filled from the environment:
    ///
    /// | variable | knob |
    /// |---|---|
    /// | `OPENAI_API_KEY` | [`api_key`](Self::api_key) |
    /// | `OPENAI_BASE_URL` | [`base_url`](Self::base_url) |
    /// | `OPENAI_MODEL` | [`model`](Self::model) |
    /// | `OPENAI_ORG_ID` | [`organization`](Self::organization) |
    /// | `OPENAI_PROJECT_ID` | [`project`](Self::project) |
    ///
    /// Unset and empty variables are skipped. Further knobs can be set on the result.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// A builder for Azure OpenAI filled from the environment: `AZURE_OPENAI_ENDPOINT`,
    /// `AZURE_OPENAI_API_KEY`, `AZURE_OPENAI_DEPLOYMENT` (or
    /// `AZURE_OPENAI_CHAT_DEPLOYMENT_NAME`) and `AZURE_OPENAI_API_VERSION`. Unset and empty
    /// variables are skipped; [`build`](Self::build) fails when no endpoint is known.
    pub fn azure_from_env() -> Self {
        Self::azure_from_vars(|name| std::env::var(name).ok())
    }

    pub(crate) fn has_base_url_or_azure(&self) -> bool {
        self.base_url.is_some() || self.azure_endpoint.is_some()
    }

    pub(crate) fn is_azure_builder(&self) -> bool {
        self.azure_endpoint.is_some()
    }

    /// Whether an API key is set (e.g. read from the environment).
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// Forgets the API key (e.g. one read from the environment), to sign in with
    /// [`token_credential`](Self::token_credential) instead.
    pub fn no_api_key(mut self) -> Self {
        self.api_key = None;
        self
    }

    pub(crate) fn set_base_url(&mut self, base_url: String) {
        self.base_url = Some(base_url);
    }

    /// [`from_env`](Self::from_env) with the variables read through `var`.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        Self {
            api_key: get("OPENAI_API_KEY"),
            base_url: get("OPENAI_BASE_URL"),
            model: get("OPENAI_MODEL"),
            organization: get("OPENAI_ORG_ID"),
            project: get("OPENAI_PROJECT_ID"),
            ..Self::default()
        }
    }

    /// [`azure_from_env`](Self::azure_from_env) with the variables read through `var`.
    pub(crate) fn azure_from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        Self {
            api_key: get("AZURE_OPENAI_API_KEY"),
            azure_endpoint: get("AZURE_OPENAI_ENDPOINT"),
            azure_deployment: get("AZURE_OPENAI_DEPLOYMENT")
                .or_else(|| get("AZURE_OPENAI_CHAT_DEPLOYMENT_NAME")),
            azure_api_version: get("AZURE_OPENAI_API_VERSION"),
            ..Self::default()
        }
    }

    /// The API key, sent as `Authorization: Bearer …` (OpenAI) or `api-key: …` (Azure). Local
    /// servers often need none; then no credential header is sent.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The base URL, up to and including the version path (default
    /// [`DEFAULT_BASE_URL`]); e.g. `http://127.0.0.1:8080/v1` for a local server. A query
    /// string is kept on every request URL (`…/v1?key=K` calls `…/v1/chat/completions?key=K`).
    /// Credentials in it (user info, query values; see [`weft_core::redact`]) are masked as
    /// `***` wherever the URL is shown: errors, logs, `Debug` and [`OpenAI::base_url`].
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The model used when a request's options name none.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    weft_provider::driver_setters!(settings);

    /// The `OpenAI-Organization` header.
    pub fn organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// The `OpenAI-Project` header.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Targets Azure OpenAI at this resource endpoint (e.g.
    /// `https://my-resource.openai.azure.com`). Chat Completions then go to
    /// `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version={version}`,
    /// Responses to `{endpoint}/openai/v1/responses` (the v1 API, which takes the deployment
    /// as `model` and needs no api-version), and the key is sent as `api-key`.
    pub fn azure_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.azure_endpoint = Some(endpoint.into());
        self
    }

    /// The Azure deployment, also the default model. A request's `model` option, when set,
    /// names the deployment instead.
    pub fn azure_deployment(mut self, deployment: impl Into<String>) -> Self {
        self.azure_deployment = Some(deployment.into());
        self
    }

    /// The Azure `api-version` of Chat Completions (default [`DEFAULT_AZURE_API_VERSION`]).
    pub fn azure_api_version(mut self, api_version: impl Into<String>) -> Self {
        self.azure_api_version = Some(api_version.into());
        self
    }

    /// How a request that forces one function ([`ToolChoice::Function`](weft_core::ToolChoice))
    /// is sent. `true` (the default): OpenAI's object form, `tool_choice: {"type": "function",
    /// …}`. `false`: `tool_choice: "required"` with only that tool offered, which means the
    /// same; for servers that ignore the object form and let the model choose, such as
    /// llama.cpp's `llama-server`.
    pub fn named_tool_choice(mut self, named: bool) -> Self {
        self.named_tool_choice = Some(named);
        self
    }

    /// Checks the configuration and builds the handle. Fails with a
    /// [`Configuration`](ChatErrorKind::Configuration) error on an invalid URL or header, or
    /// when the HTTP client cannot be built.
    pub fn build(mut self) -> Result<OpenAI, ChatError> {
        let foundry = self.apply_foundry_project()?;
        let scope = self.bearer_scope(foundry)?;
        let azure = match self.azure_endpoint {
            Some(endpoint) => Some(Azure {
                endpoint: check_url(&endpoint, "Azure endpoint")?,
                deployment: self.azure_deployment,
                api_version: self.azure_api_version.unwrap_or_else(|| DEFAULT_AZURE_API_VERSION.to_string()),
            }),
            None if self.azure_deployment.is_some() || self.azure_api_version.is_some() => {
                return Err(config_error(
                    "an Azure deployment or api-version was set without an endpoint: \
                     set OpenAIBuilder::azure_endpoint (or AZURE_OPENAI_ENDPOINT)",
                ));
            }
            None => None,
        };
        let base_url = match &azure {
            Some(azure) => azure.endpoint.clone(),
            None => check_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL), "base URL")?,
        };
        let shown_base_url = redact_url(&base_url);
        let mut secrets = url_secrets(&base_url);
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let key = key.trim();
            secrets.push(key.to_string());
            let (name, value) = match &azure {
                Some(_) => ("api-key", key.to_string()),
                None => ("authorization", format!("Bearer {key}")),
            };
            headers.insert(HeaderName::from_static(name), secret_header(&value, "the API key", "openai")?);
        }
        // OpenAI's own headers are no secret; the caller's may be (a gateway's key).
        let named = [("openai-organization", &self.organization), ("openai-project", &self.project)];
        for (name, value) in named.into_iter().filter_map(|(name, value)| Some((name, value.as_deref()?))) {
            let header_value = HeaderValue::from_str(value)
                .map_err(|_| config_error(format!("invalid value for header {name:?}")))?;
            headers.insert(HeaderName::from_static(name), header_value);
        }
        self.settings.add_headers(&mut headers, &mut secrets, "openai")?;
        let model = self.model.or_else(|| azure.as_ref().and_then(|azure| azure.deployment.clone()));
        let provider = if azure.is_some() || foundry { "azure.ai.openai" } else { "openai" };
        let chat = Endpoint::new(azure.as_ref(), provider, &base_url, &shown_base_url, Api::Chat)?;
        let responses = Endpoint::new(azure.as_ref(), provider, &base_url, &shown_base_url, Api::Responses)?;
        let embeddings =
            Endpoint::new(azure.as_ref(), provider, &base_url, &shown_base_url, Api::Embeddings)?;
        let mut driver = self.settings.into_driver("OpenAIBuilder", secrets)?;
        if let (Some(credential), Some(scope)) = (self.credential, scope) {
            driver = driver.with_bearer_credential(credential, vec![scope]);
        }
        Ok(OpenAI {
            inner: Arc::new(Inner {
                provider,
                driver,
                request_base_url: base_url,
                shown_base_url,
                model,
                json_headers: request_headers(&headers, false),
                stream_headers: request_headers(&headers, true),
                chat,
                responses,
                embeddings,
                azure,
                named_tool_choice: self.named_tool_choice.unwrap_or(true),
            }),
        })
    }
}

/// Checks that `url` is an absolute http(s) URL and drops a trailing `/` from its path (a
/// query string stays). Errors show the URL with its credentials masked.
fn check_url(url: &str, what: &str) -> Result<String, ChatError> {
    let url = url.trim();
    let trimmed = match url.split_once('?') {
        Some((path, query)) => format!("{}?{query}", path.trim_end_matches('/')),
        None => url.trim_end_matches('/').to_string(),
    };
    let shown = redact_url(&trimmed);
    match reqwest::Url::parse(&trimmed) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(trimmed),
        Ok(parsed) => {
            Err(config_error(format!("the {what} {shown:?} uses {}:, not http: or https:", parsed.scheme())))
        }
        Err(err) => Err(config_error(format!("the {what} {shown:?} is not a valid URL: {err}"))),
    }
}

/// A configured OpenAI-compatible endpoint: credentials, headers, limits and an HTTP client.
/// Cheap to clone; clones share the HTTP client.
///
/// ```no_run
/// use weft_openai::OpenAI;
/// # fn main() -> Result<(), weft_core::ChatError> {
/// let openai = OpenAI::builder().api_key("sk-…").model("gpt-4o-mini").build()?;
/// let chat = openai.chat(); // Chat Completions
/// let responses = openai.responses(); // Responses
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OpenAI {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for OpenAI {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAI")
            .field("base_url", &self.inner.shown_base_url)
            .field("model", &self.inner.model)
            .field("azure", &self.inner.azure)
            .field("timeout", &self.inner.driver.config().timeout)
            .field("first_byte_timeout", &self.inner.driver.config().first_byte_timeout)
            .field("stream_idle_timeout", &self.inner.driver.config().stream_idle_timeout)
            .field("max_event_bytes", &self.inner.driver.config().max_event_bytes)
            .field("max_retries", &self.inner.driver.config().retry.max_retries)
            .finish_non_exhaustive()
    }
}

/// The shared state behind an [`OpenAI`] handle.
pub(crate) struct Inner {
    /// The provider name of [`weft_core::ClientInfo`]: `openai` or `azure.ai.openai`.
    pub(crate) provider: &'static str,
    /// Sends the requests: client, deadlines, limits, retries, and the secrets it masks (the
    /// API key and the base URL's credentials).
    pub(crate) driver: Driver,
    /// The base URL (OpenAI) or resource endpoint (Azure), without a trailing `/`.
    pub(crate) request_base_url: String,
    /// `base_url` with its credentials masked, for messages.
    pub(crate) shown_base_url: String,
    pub(crate) model: Option<String>,
    /// All headers of a plain request: credentials, organization/project and extra headers,
    /// then `Content-Type` and `Accept`.
    pub(crate) json_headers: HeaderMap,
    /// All headers of a streaming request.
    pub(crate) stream_headers: HeaderMap,
    /// Chat Completions: label and URL.
    pub(crate) chat: Endpoint,
    /// Responses: label and URL.
    pub(crate) responses: Endpoint,
    /// Embeddings: label and URL.
    pub(crate) embeddings: Endpoint,
    pub(crate) azure: Option<Azure>,
    /// Whether a forced function is sent in OpenAI's object form (see
    /// [`OpenAIBuilder::named_tool_choice`]).
    pub(crate) named_tool_choice: bool,
}

impl OpenAI {
    /// A builder with every knob at its default.
    pub fn builder() -> OpenAIBuilder {
        OpenAIBuilder::new()
    }

    /// Builds from `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL`, `OPENAI_ORG_ID` and
    /// `OPENAI_PROJECT_ID` (see [`OpenAIBuilder::from_env`]).
    pub fn from_env() -> Result<Self, ChatError> {
        OpenAIBuilder::from_env().build()
    }

    /// Builds for Azure OpenAI from `AZURE_OPENAI_*` variables (see
    /// [`OpenAIBuilder::azure_from_env`]).
    pub fn azure_from_env() -> Result<Self, ChatError> {
        let builder = OpenAIBuilder::azure_from_env();
        if builder.azure_endpoint.is_none() {
            return Err(config_error("AZURE_OPENAI_ENDPOINT is not set"));
        }
        builder.build()
    }

    /// A Chat Completions client (`POST {base}/chat/completions`).
    pub fn chat(&self) -> OpenAIChatClient {
        OpenAIChatClient::new(self.clone())
    }

    /// A Responses client (`POST {base}/responses`).
    pub fn responses(&self) -> OpenAIResponsesClient {
        OpenAIResponsesClient::new(self.clone())
    }

    /// The base URL (or the Azure resource endpoint), without a trailing `/`, as it may be
    /// shown: credentials in it (user info, query values but `api-version`; see
    /// [`weft_core::redact`]) are masked as `***`.
    pub fn base_url(&self) -> &str {
        &self.inner.shown_base_url
    }

    /// The model used when a request's options name none.
    pub fn default_model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }

    /// Whether this targets Azure OpenAI.
    pub fn is_azure(&self) -> bool {
        self.inner.azure.is_some()
    }

    /// The provider name reported in [`weft_core::ClientInfo`]: `openai`, or `azure.ai.openai`
    /// for Azure OpenAI and Microsoft Foundry projects.
    pub fn provider_name(&self) -> &'static str {
        self.inner.provider
    }
}

impl Inner {
    /// `err` with the API key and the base URL's credentials masked (a provider's error body
    /// may echo them).
    pub(crate) fn redact(&self, err: ChatError) -> ChatError {
        self.driver.redact(err)
    }

    /// The options as this endpoint takes them: without the object form of `tool_choice` when
    /// [`OpenAIBuilder::named_tool_choice`] is off, a forced function becomes `required` with
    /// only that tool offered.
    pub(crate) fn wire_options<'a>(&self, options: &'a ChatOptions) -> Cow<'a, ChatOptions> {
        let Some(ToolChoice::Function(name)) = &options.tool_choice else { return Cow::Borrowed(options) };
        if self.named_tool_choice || !options.tools.iter().any(|tool| &tool.name == name) {
            return Cow::Borrowed(options);
        }
        let mut options = options.clone();
        options.tools.retain(|tool| &tool.name == name);
        options.tool_choice = Some(ToolChoice::Required);
        Cow::Owned(options)
    }

    /// The model for a request: the options' model, else the configured default.
    pub(crate) fn resolve_model<'a>(
        &'a self,
        requested: Option<&'a str>,
        label: &str,
    ) -> Result<&'a str, ChatError> {
        if let Some(model) = requested.map(str::trim).filter(|model| !model.is_empty()) {
            return Ok(model);
        }
        if let Some(model) = &self.model {
            return Ok(model);
        }
        let how = if self.azure.is_some() {
            "set a deployment with OpenAIBuilder::azure_deployment (or AZURE_OPENAI_DEPLOYMENT), \
             or ChatOptions::model on the request"
        } else {
            "set one with OpenAIBuilder::model (or the OPENAI_MODEL environment variable), \
             or ChatOptions::model on the request"
        };
        Err(ChatError::new(ChatErrorKind::Configuration, format!("no model given: {how}"))
            .with_provider(label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string())
    }

    #[test]
    fn custom_headers_are_sensitive_and_masked_in_errors() {
        let builder = OpenAIBuilder::new()
            .api_key("sk-key")
            .organization("org-1")
            .header("X-Gateway-Key", "gw-secret-value");
        assert!(!format!("{builder:?}").contains("gw-secret-value"));
        let openai = builder.build().unwrap();
        for headers in [&openai.inner.json_headers, &openai.inner.stream_headers] {
            assert!(headers["x-gateway-key"].is_sensitive());
            assert!(!format!("{headers:?}").contains("gw-secret-value"), "{headers:?}");
            assert!(!headers["openai-organization"].is_sensitive());
        }
        assert!(!format!("{openai:?}").contains("gw-secret-value"));
        let secrets = &openai.inner.driver.config().secrets;
        assert!(secrets.iter().any(|secret| secret == "gw-secret-value"), "{secrets:?}");
        // An invalid value is named by its header, not shown.
        let err = OpenAIBuilder::new().header("X-Key", "bad\nsecret-value").build().unwrap_err();
        assert!(!err.to_string().contains("secret-value"), "{err}");
    }

    #[test]
    fn from_vars_reads_openai_variables() {
        let builder = OpenAIBuilder::from_vars(vars(&[
            ("OPENAI_API_KEY", "sk-test"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/"),
            ("OPENAI_MODEL", "gpt-test"),
            ("OPENAI_ORG_ID", ""),
        ]));
        assert_eq!(builder.api_key.as_deref(), Some("sk-test"));
        assert_eq!(builder.organization, None);
        let openai = builder.build().unwrap();
        assert_eq!(openai.base_url(), "http://127.0.0.1:9/v1");
        assert_eq!(openai.default_model(), Some("gpt-test"));
        assert_eq!(openai.provider_name(), "openai");
        let debug = format!("{:?}", OpenAIBuilder::new().api_key("sk-secret"));
        assert!(!debug.contains("sk-secret"), "{debug}");
    }

    #[test]
    fn azure_from_vars_uses_the_deployment_as_model() {
        let openai = OpenAIBuilder::azure_from_vars(vars(&[
            ("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/"),
            ("AZURE_OPENAI_API_KEY", "k"),
            ("AZURE_OPENAI_CHAT_DEPLOYMENT_NAME", "dep"),
        ]))
        .build()
        .unwrap();
        assert!(openai.is_azure());
        assert_eq!(openai.default_model(), Some("dep"));
        assert_eq!(openai.base_url(), "https://res.openai.azure.com");
        assert!(openai.inner.json_headers.contains_key("api-key"));
        assert!(!openai.inner.stream_headers.contains_key("authorization"));
    }

    #[test]
    fn a_named_tool_choice_can_be_sent_as_required_with_one_tool() {
        use weft_core::ToolDefinition;
        let tool = |name: &str| ToolDefinition::new(name, "", serde_json::json!({"type": "object"}));
        let options = ChatOptions {
            tools: vec![tool("f"), tool("g")],
            tool_choice: Some(ToolChoice::Function("g".into())),
            ..ChatOptions::default()
        };
        let default = OpenAI::builder().build().unwrap();
        assert_eq!(*default.inner.wire_options(&options), options);
        let plain = OpenAI::builder().named_tool_choice(false).build().unwrap();
        let sent = plain.inner.wire_options(&options);
        assert_eq!(sent.tools, vec![tool("g")]);
        assert_eq!(sent.tool_choice, Some(ToolChoice::Required));
        // Other choices, and a name that is not offered, are sent as they are.
        let unknown = ChatOptions { tool_choice: Some(ToolChoice::Function("h".into())), ..options.clone() };
        assert_eq!(*plain.inner.wire_options(&unknown), unknown);
        let required = ChatOptions { tool_choice: Some(ToolChoice::Required), ..options };
        assert_eq!(*plain.inner.wire_options(&required), required);
    }

    #[test]
    fn missing_model_names_how_to_set_it() {
        let openai = OpenAI::builder().build().unwrap();
        let err = openai.inner.resolve_model(None, "openai chat x").unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Configuration);
        assert!(err.to_string().contains("OPENAI_MODEL"), "{err}");
    }

    #[test]
    fn invalid_settings_are_configuration_errors() {
        let err = OpenAI::builder().base_url("ftp://x").build().unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Configuration);
        let err = OpenAI::builder().header("bad name", "v").build().unwrap_err();
        assert!(err.to_string().contains("invalid header name"), "{err}");
        let err = OpenAI::builder().api_key("a\nb").build().unwrap_err();
        assert!(!err.to_string().contains("a\nb"));
        let err = OpenAI::builder().azure_deployment("d").build().unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Configuration);
    }
}
