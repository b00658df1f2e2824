//! Credentials of an app registration through Microsoft Entra ID's OAuth2 token endpoint
//! (`{authority}/{tenant}/oauth2/v2.0/token`, the client credentials grant):
//! [`ClientSecretCredential`], [`WorkloadIdentityCredential`], and [`EnvironmentCredential`].

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use weft_provider::{AccessToken, CredentialError, Secret, TokenCredential};

use crate::token::{check_scope, client, fetch_token, http_client};

/// Microsoft Entra ID's public cloud authority, used when `AZURE_AUTHORITY_HOST` names none.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// How long to wait for a connection to the token endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads an environment variable through `var`, skipping empty values.
pub(crate) fn get(var: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    var(name).map(|value| value.trim().to_string()).filter(|value| !value.is_empty())
}

/// Checks that a tenant is an id or a domain name (it goes into the token URL).
pub(crate) fn check_tenant(credential: &str, tenant: &str) -> Result<(), CredentialError> {
    if !tenant.is_empty() && tenant.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        Ok(())
    } else {
        Err(CredentialError::failed(credential, format!("{tenant:?} is not a valid tenant id")))
    }
}

/// The token endpoint and client of one app registration: what [`ClientSecretCredential`] and
/// [`WorkloadIdentityCredential`] share.
#[derive(Debug, Clone)]
struct App {
    tenant_id: String,
    client_id: String,
    authority: String,
    http: Option<reqwest::Client>,
}

impl App {
    fn new(tenant_id: String, client_id: String) -> Self {
        Self {
            tenant_id,
            client_id,
            authority: DEFAULT_AUTHORITY_HOST.to_string(),
            http: http_client(CONNECT_TIMEOUT),
        }
    }

    /// Posts the client credentials grant with `assertion` (the secret's or the federated
    /// token's form fields) and reads the token.
    async fn token(
        &self,
        credential: &str,
        scopes: &[&str],
        assertion: &[(&str, &str)],
    ) -> Result<AccessToken, CredentialError> {
        check_tenant(credential, &self.tenant_id)?;
        for scope in scopes {
            check_scope(credential, scope)?;
        }
        let url = format!("{}/{}/oauth2/v2.0/token", self.authority.trim_end_matches('/'), self.tenant_id);
        let scope = scopes.join(" ");
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("scope", scope.as_str()),
        ];
        form.extend_from_slice(assertion);
        fetch_token(credential, client(credential, &self.http)?.post(url).form(&form), false).await
    }
}

/// An app registration's client secret (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
/// `AZURE_CLIENT_SECRET`), exchanged for tokens at the OAuth2 token endpoint. The secret never
/// shows in `Debug` output or errors.
#[derive(Debug, Clone)]
pub struct ClientSecretCredential {
    app: App,
    secret: Secret,
}

impl ClientSecretCredential {
    /// The app `client_id` of `tenant_id`, with its `secret`.
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        Self { app: App::new(tenant_id.into(), client_id.into()), secret: Secret::new(secret) }
    }

    /// Sends token requests to this authority (default [`DEFAULT_AUTHORITY_HOST`]; a sovereign
    /// cloud's, or a local server in tests).
    pub fn authority_host(mut self, authority: impl Into<String>) -> Self {
        self.app.authority = authority.into();
        self
    }

    /// Uses this HTTP client.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.app.http = Some(http);
        self
    }
}

#[async_trait]
impl TokenCredential for ClientSecretCredential {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        self.app.token("ClientSecretCredential", scopes, &[("client_secret", self.secret.expose())]).await
    }
}

/// Kubernetes workload identity: the service account token in `AZURE_FEDERATED_TOKEN_FILE`
/// exchanged for a token of the app `AZURE_CLIENT_ID` in `AZURE_TENANT_ID` (a client
/// assertion at the OAuth2 token endpoint). The file is read on every fetch: the cluster
/// rotates it.
#[derive(Debug, Clone)]
pub struct WorkloadIdentityCredential {
    app: App,
    token_file: PathBuf,
}

/// The client assertion type of a federated token.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl WorkloadIdentityCredential {
    /// The app `client_id` of `tenant_id`, proving itself with the token in `token_file`.
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        token_file: impl Into<PathBuf>,
    ) -> Self {
        Self { app: App::new(tenant_id.into(), client_id.into()), token_file: token_file.into() }
    }

    /// From `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE` and
    /// `AZURE_AUTHORITY_HOST`, read through `var`; unavailable (naming what is missing) when
    /// one of the first three is not set.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, CredentialError> {
        let names = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE"];
        let values: Vec<Option<String>> = names.iter().map(|name| get(&var, name)).collect();
        let [Some(tenant), Some(client), Some(file)] = values.as_slice() else {
            return Err(missing("WorkloadIdentityCredential", &names, &values));
        };
        let mut credential = Self::new(tenant, client, file);
        if let Some(authority) = get(&var, "AZURE_AUTHORITY_HOST") {
            credential = credential.authority_host(authority);
        }
        Ok(credential)
    }

    /// Sends token requests to this authority (default [`DEFAULT_AUTHORITY_HOST`]).
    pub fn authority_host(mut self, authority: impl Into<String>) -> Self {
        self.app.authority = authority.into();
        self
    }

    /// Uses this HTTP client.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.app.http = Some(http);
        self
    }
}

#[async_trait]
impl TokenCredential for WorkloadIdentityCredential {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        const NAME: &str = "WorkloadIdentityCredential";
        let assertion = tokio::fs::read_to_string(&self.token_file).await.map_err(|err| {
            CredentialError::failed_with(
                NAME,
                format!("could not read the federated token file {}: {err}", self.token_file.display()),
                err,
            )
        })?;
        let assertion = Secret::new(assertion.trim());
        self.app
            .token(
                NAME,
                scopes,
                &[("client_assertion_type", JWT_BEARER), ("client_assertion", assertion.expose())],
            )
            .await
    }
}

/// A service principal configured in the environment: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
/// `AZURE_CLIENT_SECRET` (a [`ClientSecretCredential`]), with `AZURE_AUTHORITY_HOST`.
#[derive(Debug, Clone)]
pub struct EnvironmentCredential {
    inner: Result<ClientSecretCredential, String>,
}

impl EnvironmentCredential {
    /// From the process's environment.
    pub fn new() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// From the variables read through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let names = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"];
        let values: Vec<Option<String>> = names.iter().map(|name| get(&var, name)).collect();
        let inner = match values.as_slice() {
            [Some(tenant), Some(client), Some(secret)] => {
                let mut credential = ClientSecretCredential::new(tenant, client, secret);
                if let Some(authority) = get(&var, "AZURE_AUTHORITY_HOST") {
                    credential = credential.authority_host(authority);
                }
                Ok(credential)
            }
            _ => Err(missing_text(&names, &values)),
        };
        Self { inner }
    }

    /// Uses this HTTP client.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.inner = self.inner.map(|inner| inner.http_client(http));
        self
    }
}

impl Default for EnvironmentCredential {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl TokenCredential for EnvironmentCredential {
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, CredentialError> {
        match &self.inner {
            Ok(inner) => inner.get_token(scopes).await,
            Err(message) => Err(CredentialError::unavailable("EnvironmentCredential", message.clone())),
        }
    }
}

fn missing_text(names: &[&str], values: &[Option<String>]) -> String {
    let missing: Vec<&str> =
        names.iter().zip(values).filter(|(_, value)| value.is_none()).map(|(name, _)| *name).collect();
    format!("{} not set", missing.join(", "))
}

fn missing(credential: &str, names: &[&str], values: &[Option<String>]) -> CredentialError {
    CredentialError::unavailable(credential, missing_text(names, values))
}
