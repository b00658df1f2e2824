//! Configuration: the region and endpoint, the credentials that sign, headers and limits.

use std::fmt;
use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use weft_core::redact::{redact_url, url_secrets};
use weft_core::{ChatError, ChatErrorKind};
use weft_provider::{Driver, DriverSettings, check_http_scheme, model_name, parse_url, secret_header};

use crate::client::BedrockClient;
use crate::credentials::{Credentials, ProfileFiles};
use crate::sign::SigV4Signer;

/// The content type of ConverseStream's answers.
pub(crate) const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// What a model id keeps as it is in a URL path; the rest (`:` of `…-v2:0`, `/` of an ARN)
/// is percent-encoded, as AWS's SDKs encode it.
const MODEL_ID: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Builds a [`Bedrock`] endpoint. [`Bedrock::from_env`] reads the usual AWS variables:
/// `AWS_REGION` (or `AWS_DEFAULT_REGION`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, `AWS_BEARER_TOKEN_BEDROCK`, `AWS_PROFILE`, `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`,
/// `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` (or `AWS_ENDPOINT_URL`), and `BEDROCK_MODEL`.
#[derive(Default)]
pub struct BedrockBuilder {
    api_key: Option<String>,
    credentials: Option<Credentials>,
    env_credentials: Option<Credentials>,
    profile: Option<String>,
    files: Option<ProfileFiles>,
    region: Option<String>,
    endpoint_url: Option<String>,
    model: Option<String>,
    settings: DriverSettings,
}

impl fmt::Debug for BedrockBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BedrockBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("credentials", &self.credentials)
            .field("env_credentials", &self.env_credentials)
            .field("profile", &self.profile)
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url.as_deref().map(redact_url))
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl BedrockBuilder {
    /// A builder with every knob at its default: the credentials and region must then be set,
    /// or come from the default profile of `~/.aws`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from the environment (see [`BedrockBuilder`]); what is not set there comes
    /// from the profile (`AWS_PROFILE`, else `default`) of `~/.aws/credentials` and
    /// `~/.aws/config` when the endpoint is built.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let mut builder = Self::new();
        builder.api_key = var("AWS_BEARER_TOKEN_BEDROCK");
        builder.env_credentials = Credentials::from_vars(&var);
        builder.files = Some(ProfileFiles::from_vars(&var, None));
        builder.region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        builder.endpoint_url = var("AWS_ENDPOINT_URL_BEDROCK_RUNTIME").or_else(|| var("AWS_ENDPOINT_URL"));
        builder.model = var("BEDROCK_MODEL");
        builder
    }

    /// A Bedrock API key (over `AWS_BEARER_TOKEN_BEDROCK`), sent as `Authorization: Bearer`
    /// instead of a SigV4 signature: no AWS credentials are needed then. Never shown.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The credentials to sign with (over the environment's and any profile's). Never shown:
    /// masked in errors and `Debug`.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The profile of `~/.aws/credentials` and `~/.aws/config` to read (over `AWS_PROFILE`);
    /// its keys are used when the environment has none.
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// The AWS region (e.g. `us-east-1`), over `AWS_REGION` and the profile's.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The endpoint (default `https://bedrock-runtime.{region}.amazonaws.com`): a VPC
    /// endpoint, a proxy, or a test server. Requests are still signed for the region.
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// The default model id or inference profile (e.g.
    /// `us.anthropic.claude-sonnet-4-20250514-v1:0`), used when a request names none.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    weft_provider::driver_setters!(settings);

    /// Resolves the credentials (an API key; else AWS credentials: given, else the
    /// environment's, else the profile's) and the region (needed to sign, and for the default
    /// endpoint), and builds the endpoint. Fails with a
    /// [`Configuration`](ChatErrorKind::Configuration) error naming what is missing or wrong.
    pub fn build(self) -> Result<Bedrock, ChatError> {
        let files = match (self.files, &self.profile) {
            (Some(mut files), Some(profile)) => {
                files.profile = profile.clone();
                files
            }
            (Some(files), None) => files,
            (None, profile) => ProfileFiles::from_vars(&|name| std::env::var(name).ok(), profile.clone()),
        };
        let api_key = self.api_key.map(|key| key.trim().to_string()).filter(|key| !key.is_empty());
        let credentials = match (self.credentials.or(self.env_credentials), &api_key) {
            (Some(credentials), _) => Some(credentials),
            (None, Some(_)) => None,
            (None, None) => Some(files.credentials().map_err(config_error)?.ok_or_else(|| {
                config_error(format!(
                    "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN \
                     for temporary ones), or keys in profile {:?} of ~/.aws/credentials (AWS_PROFILE names \
                     another)",
                    files.profile
                ))
            })?),
        };
        let region = match self.region {
            Some(region) => Some(region),
            None => files.region().map_err(config_error)?,
        };
        let region = region.map(|region| region.trim().to_string());
        if let Some(region) = &region
            && (region.is_empty() || !region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(config_error(format!("{region:?} is not an AWS region")));
        }
        // A signature names its region, and so does the default endpoint.
        let needs_region = credentials.is_some() || self.endpoint_url.is_none();
        let region = match region {
            Some(region) => region,
            None if needs_region => {
                return Err(config_error(format!(
                    "no AWS region: set AWS_REGION, or `region` in profile {:?} of ~/.aws/config",
                    files.profile
                )));
            }
            None => String::new(),
        };
        let endpoint = match &self.endpoint_url {
            Some(url) => url.trim().trim_end_matches('/').to_string(),
            None => format!("https://bedrock-runtime.{region}.amazonaws.com"),
        };
        let shown_endpoint = redact_url(&endpoint);
        let label = format!("bedrock {shown_endpoint}");
        let parsed = parse_url(&endpoint, &label)?;
        check_http_scheme(&parsed, "the endpoint", &shown_endpoint, "bedrock")?;
        let mut secrets = credentials.as_ref().map(Credentials::secrets).unwrap_or_default();
        secrets.extend(url_secrets(&endpoint));
        let mut headers = HeaderMap::new();
        self.settings.add_headers(&mut headers, &mut secrets, "bedrock")?;
        if let Some(api_key) = &api_key {
            let value = secret_header(&format!("Bearer {api_key}"), "the Bedrock API key", "bedrock")?;
            headers.insert(AUTHORIZATION, value);
            secrets.push(api_key.clone());
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut json_headers = headers.clone();
        json_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut stream_headers = headers;
        stream_headers.insert(ACCEPT, HeaderValue::from_static(EVENT_STREAM));
        let mut driver = self.settings.into_driver("BedrockBuilder", secrets)?;
        if let Some(credentials) = &credentials {
            driver = driver.with_signer(Arc::new(SigV4Signer::new(credentials, &region, "bedrock", &label)));
        }
        Ok(Bedrock {
            inner: Arc::new(Inner {
                driver,
                label,
                endpoint_url: endpoint,
                shown_endpoint,
                region,
                access_key_id: credentials.as_ref().map(|c| c.access_key_id().to_string()),
                json_headers,
                stream_headers,
                model: model_name(self.model),
            }),
        })
    }
}

fn config_error(message: impl Into<String>) -> ChatError {
    ChatError::new(ChatErrorKind::Configuration, message).with_provider("bedrock")
}

/// A configured Bedrock runtime endpoint: region, signing credentials, headers, limits and an
/// HTTP client. Cheap to clone; clones share the HTTP client.
#[derive(Clone)]
pub struct Bedrock {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Bedrock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bedrock")
            .field("endpoint", &self.inner.shown_endpoint)
            .field("region", &self.inner.region)
            .field("access_key_id", &self.inner.access_key_id)
            .field("model", &self.inner.model)
            .finish_non_exhaustive()
    }
}

/// The shared state behind a [`Bedrock`] handle.
pub(crate) struct Inner {
    pub(crate) driver: Driver,
    /// Names the endpoint on errors: `bedrock https://bedrock-runtime.us-east-1.amazonaws.com`.
    pub(crate) label: String,
    endpoint_url: String,
    pub(crate) shown_endpoint: String,
    region: String,
    /// `None` with an API key.
    access_key_id: Option<String>,
    pub(crate) json_headers: HeaderMap,
    pub(crate) stream_headers: HeaderMap,
    pub(crate) model: Option<String>,
}

impl Inner {
    /// `{endpoint}/model/{model id, percent-encoded}/{action}`, and how messages show it.
    pub(crate) fn model_url(&self, model: &str, action: &str) -> Result<(reqwest::Url, String), ChatError> {
        let path = format!("/model/{}/{action}", utf8_percent_encode(model, MODEL_ID));
        let url = parse_url(&format!("{}{path}", self.endpoint_url), &self.label)?;
        Ok((url, format!("{}{path}", self.shown_endpoint)))
    }
}

impl Bedrock {
    /// A builder with every knob at its default.
    pub fn builder() -> BedrockBuilder {
        BedrockBuilder::new()
    }

    /// The endpoint the environment (and `~/.aws`) describes: see [`BedrockBuilder`].
    pub fn from_env() -> Result<Self, ChatError> {
        BedrockBuilder::from_env().build()
    }

    /// The Converse client of this endpoint.
    pub fn converse(&self) -> BedrockClient {
        BedrockClient::new(self.clone())
    }

    /// The endpoint, credentials masked.
    pub fn endpoint(&self) -> &str {
        &self.inner.shown_endpoint
    }

    /// The region requests are signed for (empty with an API key and an endpoint URL).
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The default model, if one was set.
    pub fn default_model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string())
    }

    #[test]
    fn the_environment_the_region_and_the_url() {
        let builder = BedrockBuilder::from_vars(vars(&[
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret-key"),
            ("AWS_SESSION_TOKEN", "env-session-token"),
            ("AWS_DEFAULT_REGION", "eu-west-3"),
            ("HOME", "/nonexistent"),
        ]));
        assert!(!format!("{builder:?}").contains("env-secret"), "{builder:?}");
        let bedrock = builder.build().unwrap();
        assert_eq!(bedrock.endpoint(), "https://bedrock-runtime.eu-west-3.amazonaws.com");
        assert_eq!(bedrock.region(), "eu-west-3");
        let shown = format!("{bedrock:?}");
        assert!(
            shown.contains("AKIDENV") && !shown.contains("secret") && !shown.contains("token"),
            "{shown}"
        );
        let secrets = &bedrock.inner.driver.config().secrets;
        assert!(
            secrets.contains(&"env-secret-key".to_string())
                && secrets.contains(&"env-session-token".to_string())
        );
        let (url, _) = bedrock.inner.model_url("amazon.titan-embed-text-v2:0", "invoke").unwrap();
        assert_eq!(
            url.as_str(),
            "https://bedrock-runtime.eu-west-3.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke"
        );
        let arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku";
        let (url, _) = bedrock.inner.model_url(arn, "converse").unwrap();
        assert!(
            url.path().starts_with(
                "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus."
            )
        );
    }

    #[test]
    fn an_api_key_needs_no_aws_credentials() {
        let bedrock = BedrockBuilder::from_vars(vars(&[
            ("AWS_BEARER_TOKEN_BEDROCK", "ABSKbedrock-api-key"),
            ("HOME", "/nonexistent"),
        ]))
        .endpoint_url("http://127.0.0.1:9")
        .build()
        .unwrap();
        assert_eq!(bedrock.inner.json_headers["authorization"], "Bearer ABSKbedrock-api-key");
        assert!(bedrock.inner.json_headers["authorization"].is_sensitive());
        assert!(!format!("{bedrock:?}").contains("ABSK"));
        assert!(bedrock.inner.driver.config().secrets.contains(&"ABSKbedrock-api-key".to_string()));
        // The default endpoint names a region.
        let err = Bedrock::builder().api_key("k").profile("surely-not-a-profile").build().unwrap_err();
        assert!(err.to_string().contains("no AWS region"), "{err}");
    }

    #[test]
    fn what_is_missing_is_named() {
        let err = BedrockBuilder::from_vars(vars(&[("AWS_REGION", "us-east-1"), ("HOME", "/nonexistent")]))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ChatErrorKind::Configuration);
        assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"), "{err}");
        let err = BedrockBuilder::from_vars(vars(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("HOME", "/nonexistent"),
        ]))
        .build()
        .unwrap_err();
        assert!(err.to_string().contains("AWS_REGION"), "{err}");
        let err = Bedrock::builder()
            .credentials(Credentials::new("AKID", "s", None))
            .region("us-east-1/../x")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("not an AWS region"), "{err}");
    }

    #[test]
    fn a_profile_from_the_shared_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("credentials"),
            "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n\n[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = work-secret-key\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("config"), "[profile work]\nregion = ap-south-1\n").unwrap();
        let credentials = dir.path().join("credentials").display().to_string();
        let config = dir.path().join("config").display().to_string();
        let var = move |name: &str| match name {
            "AWS_PROFILE" => Some("work".to_string()),
            "AWS_SHARED_CREDENTIALS_FILE" => Some(credentials.clone()),
            "AWS_CONFIG_FILE" => Some(config.clone()),
            _ => None,
        };
        let bedrock = BedrockBuilder::from_vars(&var).build().unwrap();
        assert_eq!(bedrock.region(), "ap-south-1");
        assert_eq!(bedrock.inner.access_key_id.as_deref(), Some("AKIDWORK"));
        assert!(bedrock.inner.driver.config().secrets.contains(&"work-secret-key".to_string()));
        // A builder's profile wins over AWS_PROFILE.
        let bedrock = BedrockBuilder::from_vars(&var).profile("default").region("us-east-1").build().unwrap();
        assert_eq!(bedrock.inner.access_key_id.as_deref(), Some("AKIDDEFAULT"));
    }
}
