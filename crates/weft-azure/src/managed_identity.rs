//! [`ManagedIdentityCredential`]: the identity Azure gives a VM, an App Service, a Container
//! App or a Function.

use std::time::Duration;

use async_trait::async_trait;
use weft_provider::{AccessToken, CredentialError, Secret, TokenCredential};

use crate::oauth::get;
use crate::token::{client, fetch_token, http_client, scope_to_resource, single_scope};

const NAME: &str = "ManagedIdentityCredential";

/// The Azure Instance Metadata Service's token endpoint (VMs, scale sets, AKS nodes).
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// The `api-version` of IMDS token requests.
pub const IMDS_API_VERSION: &str = "2018-02-01";
/// The `api-version` of App Service / Container Apps / Functions token requests
/// (`IDENTITY_ENDPOINT` with `X-IDENTITY-HEADER`).
pub const APP_SERVICE_API_VERSION: &str = "2019-08-01";

/// How long to wait for a connection to the identity endpoint: it is local to the machine
/// (IMDS is link-local), so a machine outside Azure is told apart quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Where the identity endpoint is and how it is asked.
#[derive(Debug, Clone)]
enum Source {
    /// IMDS: `GET {endpoint}?api-version=2018-02-01&resource=…` with `Metadata: true`.
    Imds { endpoint: String },
    /// App Service, Container Apps, Functions: `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=…`
    /// with `X-IDENTITY-HEADER: {IDENTITY_HEADER}`.
    AppService { endpoint: String, header: Secret },
}

/// Tokens of the managed identity of the Azure resource this runs on.
///
/// On App Service, Container Apps and Functions the platform sets `IDENTITY_ENDPOINT` and
/// `IDENTITY_HEADER`; elsewhere (VMs, AKS) the Instance Metadata Service answers at
/// [`IMDS_ENDPOINT`]. A user-assigned identity is chosen with
/// [`client_id`](Self::client_id). Outside Azure the endpoint does not answer and the credential
/// is [unavailable](CredentialError::Unavailable).
#[derive(Debug, Clone)]
pub struct ManagedIdentityCredential {
    source: Source,
    client_id: Option<String>,
    http: Option<reqwest::Client>,
}

impl Default for ManagedIdentityCredential {
    fn default() -> Self {
        Self::new()
    }
}

impl ManagedIdentityCredential {
    /// The system-assigned identity, found from the process's environment.
    pub fn new() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// From `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` read through `var` (App Service,
    /// Container Apps), else IMDS.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let source = match (get(&var, "IDENTITY_ENDPOINT"), get(&var, "IDENTITY_HEADER")) {
            (Some(endpoint), Some(header)) => Source::AppService { endpoint, header: Secret::new(header) },
            _ => Source::Imds { endpoint: IMDS_ENDPOINT.to_string() },
        };
        Self { source, client_id: None, http: http_client(CONNECT_TIMEOUT) }
    }

    /// Asks the Instance Metadata Service at `endpoint` (default [`IMDS_ENDPOINT`]; a local
    /// server in tests).
    pub fn imds(endpoint: impl Into<String>) -> Self {
        Self {
            source: Source::Imds { endpoint: endpoint.into() },
            client_id: None,
            http: http_client(CONNECT_TIMEOUT),
        }
    }

    /// Asks an App Service / Container Apps identity endpoint with its secret header.
    pub fn app_service(endpoint: impl Into<String>, header: impl Into<String>) -> Self {
        Self {
            source: Source::AppService { endpoint: endpoint.into(), header: Secret::new(header) },
            client_id: None,
            http: http_client(CONNECT_TIMEOUT),
        }
    }

    /// A user-assigned identity, by its client id.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Uses this HTTP client.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }
}

#[async_trait]
impl TokenCredential for ManagedIdentityCredential {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        let resource = scope_to_resource(single_scope(NAME, scopes)?);
        let (endpoint, api_version) = match &self.source {
            Source::Imds { endpoint } => (endpoint, IMDS_API_VERSION),
            Source::AppService { endpoint, .. } => (endpoint, APP_SERVICE_API_VERSION),
        };
        let mut url = reqwest::Url::parse(endpoint).map_err(|err| {
            CredentialError::failed_with(
                NAME,
                format!("the identity endpoint {endpoint:?} is not a URL"),
                err,
            )
        })?;
        url.query_pairs_mut().append_pair("api-version", api_version).append_pair("resource", resource);
        if let Some(client_id) = &self.client_id {
            url.query_pairs_mut().append_pair("client_id", client_id);
        }
        let http = client(NAME, &self.http)?;
        let request = match &self.source {
            Source::Imds { .. } => http.get(url).header("Metadata", "true"),
            Source::AppService { header, .. } => {
                let mut value = reqwest::header::HeaderValue::from_str(header.expose()).map_err(|_| {
                    CredentialError::failed(NAME, "IDENTITY_HEADER has characters not allowed in a header")
                })?;
                value.set_sensitive(true);
                http.get(url).header("X-IDENTITY-HEADER", value)
            }
        };
        match fetch_token(NAME, request, true).await {
            // IMDS answers 400 "Identity not found" on a machine that has no identity assigned.
            Err(CredentialError::Failed { message, .. })
                if message.contains("HTTP 400") && message.contains("dentity not found") =>
            {
                Err(CredentialError::unavailable(
                    NAME,
                    format!("no managed identity is assigned ({message})"),
                ))
            }
            other => other,
        }
    }
}
