//! Microsoft Entra ID and Microsoft Foundry: a bearer token from a
//! [`TokenCredential`] instead of an API key, the Azure OpenAI v1 API, and Foundry project
//! endpoints.
//!
//! This crate knows no credential: it takes an `Arc<dyn TokenCredential>` (from `weft-azure`,
//! e.g. its `DefaultAzureCredential`, or any other implementation).

use std::sync::Arc;

use weft_core::ChatError;
use weft_provider::TokenCredential;

use crate::config::{OpenAI, OpenAIBuilder, config_error};

/// The scope of an Entra ID token for Azure OpenAI (and Foundry resources' OpenAI endpoints).
pub const AZURE_OPENAI_SCOPE: &str = "https://cognitiveservices.azure.com/.default";
/// The scope of an Entra ID token for a Microsoft Foundry project endpoint.
pub const FOUNDRY_SCOPE: &str = "https://ai.azure.com/.default";
/// The Azure OpenAI `api-version` that selects the v1 API: every request goes to
/// `{endpoint}/openai/v1/…` (Chat Completions, Responses, embeddings, models), the deployment
/// is the request's `model`, and no `api-version` is sent.
pub const AZURE_V1_API_VERSION: &str = "v1";

impl OpenAIBuilder {
    /// Signs every request with `Authorization: Bearer <token>`, the token from `credential`
    /// (Microsoft Entra ID, e.g. `weft_azure::DefaultAzureCredential`) instead of an API key.
    /// Tokens are cached and renewed five minutes before they expire; concurrent requests
    /// share one fetch. The scope is [`token_scope`](Self::token_scope), by default
    /// [`AZURE_OPENAI_SCOPE`] for Azure OpenAI and [`FOUNDRY_SCOPE`] for a Foundry project.
    /// A credential that fails makes a request fail with an
    /// [`Authentication`](weft_core::ChatErrorKind::Authentication) error saying why.
    pub fn token_credential(mut self, credential: Arc<dyn TokenCredential>) -> Self {
        self.credential = Some(credential);
        self
    }

    /// The scope tokens are asked for (see [`token_credential`](Self::token_credential));
    /// needed for servers other than Azure OpenAI and Foundry.
    pub fn token_scope(mut self, scope: impl Into<String>) -> Self {
        self.token_scope = Some(scope.into());
        self
    }

    /// Targets a Microsoft Foundry project: `https://<resource>.services.ai.azure.com/api/projects/<project>`.
    /// Requests go to its OpenAI v1 endpoint (`{project}/openai/v1/responses` for the
    /// Responses API, the one Foundry serves its models on), with a bearer token for
    /// [`FOUNDRY_SCOPE`] from [`token_credential`](Self::token_credential); the model
    /// deployment is the [`model`](Self::model).
    pub fn foundry_project(mut self, endpoint: impl Into<String>) -> Self {
        self.foundry_project = Some(endpoint.into());
        self
    }

    /// A builder for a Foundry project filled from the environment: the project endpoint from
    /// `FOUNDRY_PROJECT_ENDPOINT` (or `AZURE_AI_PROJECT_ENDPOINT`) and the model deployment
    /// from `FOUNDRY_MODEL_DEPLOYMENT_NAME` (or `AZURE_AI_MODEL_DEPLOYMENT_NAME`). Unset and
    /// empty variables are skipped; set the credential on the result.
    pub fn foundry_from_env() -> Self {
        Self::foundry_from_vars(|name| std::env::var(name).ok())
    }

    /// [`foundry_from_env`](Self::foundry_from_env) with the variables read through `var`.
    pub fn foundry_from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let mut builder = Self::default();
        builder.foundry_project =
            get("FOUNDRY_PROJECT_ENDPOINT").or_else(|| get("AZURE_AI_PROJECT_ENDPOINT"));
        if let Some(deployment) =
            get("FOUNDRY_MODEL_DEPLOYMENT_NAME").or_else(|| get("AZURE_AI_MODEL_DEPLOYMENT_NAME"))
        {
            builder = builder.model(deployment);
        }
        builder
    }

    /// Whether a Foundry project endpoint is set (e.g. by
    /// [`foundry_from_env`](Self::foundry_from_env)).
    pub fn has_foundry_project(&self) -> bool {
        self.foundry_project.is_some()
    }

    /// Turns a Foundry project endpoint into the base URL of its OpenAI v1 API; whether one
    /// was set.
    pub(crate) fn apply_foundry_project(&mut self) -> Result<bool, ChatError> {
        let Some(project) = self.foundry_project.take() else { return Ok(false) };
        if self.has_base_url_or_azure() {
            return Err(config_error(
                "a Foundry project endpoint was set together with a base URL or an Azure endpoint: set one",
            ));
        }
        let project = project.trim().trim_end_matches('/');
        let project = project.strip_suffix("/openai/v1").unwrap_or(project);
        self.set_base_url(format!("{project}/openai/v1"));
        Ok(true)
    }

    /// The scope of the bearer token, when a credential is set; checks that an API key is not
    /// set too.
    pub(crate) fn bearer_scope(&self, foundry: bool) -> Result<Option<String>, ChatError> {
        let Some(_) = &self.credential else {
            if self.token_scope.is_some() {
                return Err(config_error("a token scope was set without a token credential"));
            }
            return Ok(None);
        };
        if self.has_api_key() {
            return Err(config_error(
                "both an API key and a token credential were set: use one (unset AZURE_OPENAI_API_KEY \
                 to sign in with Microsoft Entra ID)",
            ));
        }
        let scope = match (&self.token_scope, foundry, self.has_base_url_or_azure()) {
            (Some(scope), _, _) => scope.clone(),
            (None, true, _) => FOUNDRY_SCOPE.to_string(),
            (None, false, true) if self.is_azure_builder() => AZURE_OPENAI_SCOPE.to_string(),
            (None, false, _) => {
                return Err(config_error(
                    "a token credential needs a scope for this server: set OpenAIBuilder::token_scope",
                ));
            }
        };
        Ok(Some(scope))
    }
}

impl OpenAI {
    /// Builds for a Microsoft Foundry project from the environment (see
    /// [`OpenAIBuilder::foundry_from_env`]), signing requests with `credential`. Fails with a
    /// [`Configuration`](weft_core::ChatErrorKind::Configuration) error when neither
    /// `FOUNDRY_PROJECT_ENDPOINT` nor `AZURE_AI_PROJECT_ENDPOINT` is set.
    pub fn foundry_from_env(credential: Arc<dyn TokenCredential>) -> Result<Self, ChatError> {
        let builder = OpenAIBuilder::foundry_from_env();
        if !builder.has_foundry_project() {
            return Err(config_error("FOUNDRY_PROJECT_ENDPOINT (or AZURE_AI_PROJECT_ENDPOINT) is not set"));
        }
        builder.token_credential(credential).build()
    }
}
